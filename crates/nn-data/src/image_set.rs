//! Labelled grey-scale images kept as bytes, turned into `f32` one mini-batch column at a time.

use std::ops::{Bound, RangeBounds};

use nn_core::Examples;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::DataError;
use crate::idx::IdxArray;

/// `column[i] = x/255` for each byte x of `image` (of 255 − x when `inverted`), compiled for
/// AVX-512 or AVX2 when the workspace's kernel ([`nn_core::kernel::Kernel::active`]) is one:
/// 16 or 8 pixels per correctly rounded vector division, the same value on every path.
fn to_unit_interval(image: &[u8], inverted: bool, column: &mut [f32]) {
    #[inline(always)]
    fn convert(image: &[u8], inverted: bool, column: &mut [f32]) {
        let flip = if inverted { 255 } else { 0 };
        for (c, &p) in column.iter_mut().zip(image) {
            *c = f32::from(p ^ flip) / 255.0;
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512bw")]
        fn avx512(image: &[u8], inverted: bool, column: &mut [f32]) {
            convert(image, inverted, column)
        }
        #[target_feature(enable = "avx2")]
        fn avx2(image: &[u8], inverted: bool, column: &mut [f32]) {
            convert(image, inverted, column)
        }
        use nn_core::kernel::Kernel;
        match Kernel::active() {
            // SAFETY: the kernel is supported, so the processor has AVX-512F and BW.
            Kernel::Avx512 => return unsafe { avx512(image, inverted, column) },
            // SAFETY: the kernel is supported, so the processor has AVX2.
            Kernel::Avx2 => return unsafe { avx2(image, inverted, column) },
            _ => {}
        }
    }
    convert(image, inverted, column)
}

/// Labelled images of `rows x cols` bytes each (0 = background, 255 = ink for MNIST).
///
/// The fields are public so that augmentation can refill a set in place; keep them consistent:
/// `pixels.len() == labels.len() * rows * cols` and every label below `classes`.
///
/// ```
/// use nn_core::Examples;
/// use nn_data::{IdxArray, ImageSet};
///
/// // Four 2x2 images of classes 0, 1, 1, 2.
/// let images = IdxArray { dims: vec![4, 2, 2], data: (0..16).map(|v| v * 17).collect() };
/// let labels = IdxArray { dims: vec![4], data: vec![0, 1, 1, 2] };
/// let set = ImageSet::from_idx(images, labels, ("images", "labels"))?;
/// assert_eq!((set.len(), set.classes, set.class_counts()), (4, 3, vec![1, 2, 1]));
/// assert_eq!(set.first_per_class(1).labels, [0, 1, 2]);
/// // The network sees x/255, or 1 − x/255 for an inverted set; the target is one-hot.
/// let mut input = [0.0; 4];
/// set.write_input(3, &mut input);
/// assert_eq!(input[3], 1.0);
/// set.clone().inverted(true).write_input(3, &mut input);
/// assert_eq!(input[3], 0.0);
/// let mut target = [0.0; 3];
/// set.write_target(3, &mut target);
/// assert_eq!(target, [0.0, 0.0, 1.0]);
/// # Ok::<(), nn_data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    /// All images, row-major, one after the other.
    pub pixels: Vec<u8>,
    /// Rows of each image.
    pub rows: usize,
    /// Columns of each image.
    pub cols: usize,
    /// The label of each image.
    pub labels: Vec<u8>,
    /// Number of classes: the length of the one-hot target.
    pub classes: usize,
    /// When true, the network sees `1 - x/255` instead of `x/255` (dark ink on light paper).
    pub inverted: bool,
}

impl ImageSet {
    /// Builds a set from an image array `N x rows x cols` and a label array `N`; the classes
    /// are `0..k` with `k` one more than the largest label (10 for MNIST). `names` are the two
    /// files' names for error messages.
    pub fn from_idx(
        images: IdxArray,
        labels: IdxArray,
        names: (&str, &str),
    ) -> Result<Self, DataError> {
        let classes = labels.data.iter().max().map_or(1, |&l| usize::from(l) + 1);
        Self::from_idx_with_classes(images, labels, classes, names)
    }

    /// Like [`ImageSet::from_idx`], with the labels validated against `classes`.
    ///
    /// # Errors
    /// [`DataError::Shape`] for arrays of the wrong rank or whose data does not fill their
    /// dimensions, [`DataError::CountMismatch`], [`DataError::LabelOutOfRange`].
    pub fn from_idx_with_classes(
        images: IdxArray,
        labels: IdxArray,
        classes: usize,
        names: (&str, &str),
    ) -> Result<Self, DataError> {
        let (images_file, labels_file) = names;
        let &[count, rows, cols] = images.dims.as_slice() else {
            return Err(DataError::Shape {
                file: images_file.to_string(),
                expected: "3 dimensions (images x rows x columns)",
                dims: images.dims,
            });
        };
        let &[label_count] = labels.dims.as_slice() else {
            return Err(DataError::Shape {
                file: labels_file.to_string(),
                expected: "1 dimension (one label per image)",
                dims: labels.dims,
            });
        };
        let filled = |array: &IdxArray| {
            array
                .dims
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                == Some(array.data.len())
        };
        for (array, file) in [(&images, images_file), (&labels, labels_file)] {
            if !filled(array) {
                return Err(DataError::Shape {
                    file: file.to_string(),
                    expected: "data filling the dimensions exactly",
                    dims: array.dims.clone(),
                });
            }
        }
        if count != label_count {
            return Err(DataError::CountMismatch {
                images_file: images_file.to_string(),
                images: count,
                labels_file: labels_file.to_string(),
                labels: label_count,
            });
        }
        if let Some((index, &label)) = labels
            .data
            .iter()
            .enumerate()
            .find(|&(_, &l)| usize::from(l) >= classes)
        {
            return Err(DataError::LabelOutOfRange {
                file: labels_file.to_string(),
                index,
                label,
                classes,
            });
        }
        Ok(Self {
            pixels: images.data,
            rows,
            cols,
            labels: labels.data,
            classes,
            inverted: false,
        })
    }

    /// An empty set of images of the same shape and classes.
    pub fn empty_like(&self) -> Self {
        Self {
            pixels: Vec::new(),
            labels: Vec::new(),
            ..*self
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes per image: `rows * cols`.
    pub fn image_len(&self) -> usize {
        self.rows * self.cols
    }

    /// The pixels of image `i`, row-major.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The label of image `i`.
    pub fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }

    /// The images in `range`, e.g. `set.subset(..1000)` for the first thousand.
    pub fn subset(&self, range: impl RangeBounds<usize>) -> Self {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s + 1,
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e + 1,
            Bound::Excluded(&e) => e,
            Bound::Unbounded => self.len(),
        };
        let n = self.image_len();
        Self {
            pixels: self.pixels[start * n..end * n].to_vec(),
            labels: self.labels[start..end].to_vec(),
            ..*self
        }
    }

    /// The images at `indices`, in that order (repetitions allowed).
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_len());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        Self {
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            ..*self
        }
    }

    /// The first `per_class` images of each class, in their original order (all of a class's
    /// images when it has fewer): a class-balanced few-shot set, e.g. one image per digit.
    pub fn first_per_class(&self, per_class: usize) -> Self {
        let mut taken = vec![0usize; self.classes];
        let chosen: Vec<usize> = (0..self.len())
            .filter(|&i| {
                let count = &mut taken[usize::from(self.labels[i])];
                *count += 1;
                *count <= per_class
            })
            .collect();
        self.select(&chosen)
    }

    /// A class-balanced sample: `per_class` images of each class drawn at random with `seed`
    /// (all of a class's images when it has fewer), kept in their original order.
    pub fn few_shot(&self, per_class: usize, seed: u64) -> Self {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        let mut taken = vec![0usize; self.classes];
        let mut chosen: Vec<usize> = order
            .into_iter()
            .filter(|&i| {
                let count = &mut taken[usize::from(self.labels[i])];
                *count += 1;
                *count <= per_class
            })
            .collect();
        chosen.sort_unstable();
        self.select(&chosen)
    }

    /// The same set, seen inverted (`1 - x/255`) by [`Examples::write_input`] when `inverted`.
    pub fn inverted(self, inverted: bool) -> Self {
        Self { inverted, ..self }
    }

    /// The first `n` images and the rest.
    pub fn split_at(&self, n: usize) -> (Self, Self) {
        (self.subset(..n), self.subset(n..))
    }

    /// Number of images of each class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }
}

impl Examples for ImageSet {
    fn len(&self) -> usize {
        self.labels.len()
    }

    fn input_len(&self) -> usize {
        self.image_len()
    }

    fn output_len(&self) -> usize {
        self.classes
    }

    fn write_input(&self, index: usize, column: &mut [f32]) {
        to_unit_interval(self.image(index), self.inverted, column);
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    /// Asks the processor to start loading the image's cache lines. Shuffled mini-batches read
    /// images from random places in a 39 MB buffer, and without the hint the loader waits on
    /// main memory for each of them. On x86-64 a prefetch instruction per line; WebAssembly
    /// has none, so on `wasm32` one byte of each line is read and dropped: the reads do not
    /// depend on each other, so the processor has them all in flight at once while the
    /// current mini-batch is computed. Elsewhere the hint is dropped.
    fn prefetch(&self, index: usize) {
        #[cfg(target_arch = "x86_64")]
        for line in self.image(index).chunks(64) {
            // SAFETY: prefetching has no effect on memory and cannot fault; the pointer comes
            // from a live slice.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    line.as_ptr().cast(),
                );
            }
        }
        #[cfg(target_arch = "wasm32")]
        for line in self.image(index).chunks(64) {
            // SAFETY: the pointer is the first byte of a live slice; volatile, so that the
            // read whose value is dropped is still made.
            unsafe { std::ptr::read_volatile(line.as_ptr()) };
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "wasm32")))]
        let _ = index;
    }

    fn write_target(&self, index: usize, column: &mut [f32]) {
        column.fill(0.0);
        column[usize::from(self.labels[index])] = 1.0;
    }

    fn class(&self, index: usize) -> Option<usize> {
        Some(usize::from(self.labels[index]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> ImageSet {
        let n = 30;
        ImageSet::from_idx(
            IdxArray {
                dims: vec![n, 2, 3],
                data: (0..n * 6).map(|i| (i % 256) as u8).collect(),
            },
            IdxArray {
                dims: vec![n],
                data: (0..n).map(|i| (i % 10) as u8).collect(),
            },
            ("imgs", "labels"),
        )
        .unwrap()
    }

    #[test]
    fn subsets_and_selections() {
        let s = set();
        assert_eq!(s.subset(..4).len(), 4);
        assert_eq!(s.subset(28..).labels, vec![8, 9]);
        assert_eq!(s.subset(1..=2).image(1), s.image(2));
        let (a, b) = s.split_at(25);
        assert_eq!((a.len(), b.len()), (25, 5));
        assert_eq!(b.image(0), s.image(25));
        let picked = s.select(&[3, 3, 0]);
        assert_eq!(picked.labels, vec![3, 3, 0]);
        assert_eq!(picked.image(1), s.image(3));
    }

    #[test]
    fn few_shot_is_balanced_and_seeded() {
        let s = set();
        let one = s.few_shot(1, 7);
        assert_eq!(one.len(), 10);
        assert_eq!(one.class_counts(), vec![1; 10]);
        assert_eq!(one, s.few_shot(1, 7));
        assert_eq!(s.few_shot(5, 1).len(), 30);
    }

    #[test]
    fn first_per_class_takes_the_earliest_images_of_each_class() {
        let s = set();
        let one = s.first_per_class(1);
        assert_eq!(one.class_counts(), vec![1; 10]);
        let firsts: Vec<usize> = (0..10)
            .map(|c| {
                (0..s.len())
                    .find(|&i| usize::from(s.label(i)) == c)
                    .unwrap()
            })
            .collect();
        for i in 0..one.len() {
            let original = firsts[usize::from(one.label(i))];
            assert_eq!(one.image(i), s.image(original));
        }
        assert_eq!(s.first_per_class(5).len(), s.few_shot(5, 1).len());
    }

    #[test]
    fn write_input_and_target() {
        let s = set();
        let mut x = vec![0.0; 6];
        s.write_input(1, &mut x);
        assert_eq!(x[0], 6.0 / 255.0);
        let s = s.inverted(true);
        s.write_input(1, &mut x);
        assert_eq!(x[0], 249.0 / 255.0);
        let mut y = vec![7.0; 10];
        s.write_target(13, &mut y);
        assert_eq!(y.iter().sum::<f32>(), 1.0);
        assert_eq!(y[3], 1.0);
        assert_eq!(s.class(13), Some(3));
    }

    #[test]
    fn shape_count_and_label_faults() {
        let images = IdxArray {
            dims: vec![2, 1, 1],
            data: vec![0, 0],
        };
        let labels = |data: Vec<u8>| IdxArray {
            dims: vec![data.len()],
            data,
        };
        let err = ImageSet::from_idx(images.clone(), labels(vec![1]), ("i", "l")).unwrap_err();
        assert!(matches!(err, DataError::CountMismatch { .. }), "{err}");
        assert_eq!(err.to_string(), "i holds 2 images but l holds 1 labels");
        let err =
            ImageSet::from_idx_with_classes(images.clone(), labels(vec![1, 10]), 10, ("i", "l"))
                .unwrap_err();
        assert!(
            matches!(
                err,
                DataError::LabelOutOfRange {
                    index: 1,
                    label: 10,
                    ..
                }
            ),
            "{err}"
        );
        let flat = IdxArray {
            dims: vec![2],
            data: vec![0, 0],
        };
        let err = ImageSet::from_idx(flat, labels(vec![1, 1]), ("i", "l")).unwrap_err();
        assert!(matches!(err, DataError::Shape { .. }), "{err}");
        let s =
            ImageSet::from_idx_with_classes(images.clone(), labels(vec![1, 10]), 11, ("i", "l"));
        assert_eq!(s.unwrap().classes, 11);
        let s = ImageSet::from_idx(images, labels(vec![3, 1]), ("i", "l")).unwrap();
        assert_eq!(s.classes, 4, "classes are inferred from the largest label");
        let short = IdxArray {
            dims: vec![2, 2, 2],
            data: vec![0; 7],
        };
        let err = ImageSet::from_idx(short, labels(vec![0, 1]), ("i", "l")).unwrap_err();
        assert!(matches!(err, DataError::Shape { .. }), "{err}");
    }
}

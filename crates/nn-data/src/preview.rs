//! PNG grids of digits: previews of distortions, or any list of images (e.g. misclassified
//! digits).

use std::io::Cursor;
use std::path::Path;

use image::{GrayImage, ImageFormat, Luma};

use crate::augment::{ImageTransform, image_rng};
use crate::{DataError, ImageSet};

/// Each image pixel becomes a square of this many pixels.
const SCALE: usize = 3;

/// Pixels between cells, and around the grid.
const GUTTER: usize = 2;

/// Grey level of the gutters.
const GUTTER_GREY: u8 = 128;

/// The largest grid drawn, in pixels per side: a PNG wider or taller is refused rather than
/// allocated (images of an IDX file may be up to a gigapixel).
const MAX_SIDE: usize = 16_384;

/// Writes a PNG with one row per image of the first `count` images of `set`: the original, then
/// the result of each of `transforms` (drawing from [`image_rng`]`(seed, i)` for image `i`).
/// Images are shown as the network sees them (inverted when the set is), scaled 3x, with a
/// 2-pixel grey gutter. The file is written atomically.
pub fn preview_grid(
    set: &ImageSet,
    count: usize,
    transforms: &[Box<dyn ImageTransform>],
    seed: u64,
    path: &Path,
) -> Result<(), DataError> {
    let (rows, cols) = (set.rows, set.cols);
    let mut images = Vec::new();
    for i in 0..count.min(set.len()) {
        let src = set.image(i);
        images.push((src.to_vec(), rows, cols));
        let mut rng = image_rng(seed, i);
        for t in transforms {
            let mut dst = vec![0; src.len()];
            t.apply(src, rows, cols, &mut rng, &mut dst);
            images.push((dst, rows, cols));
        }
    }
    if set.inverted {
        for (pixels, _, _) in &mut images {
            pixels.iter_mut().for_each(|p| *p = 255 - *p);
        }
    }
    image_grid(&images, transforms.len() + 1, path)
}

/// Writes a PNG grid of grey-scale images `(pixels, rows, cols)`, `columns` per row, each scaled
/// 3x in a cell as large as the largest image, with a 2-pixel grey gutter. The file is written
/// atomically.
///
/// # Errors
/// [`DataError::Shape`] when an image's pixel count is not `rows * cols` or `columns` is 0;
/// encoding and I/O errors otherwise.
pub fn image_grid(
    images: &[(Vec<u8>, usize, usize)],
    columns: usize,
    path: &Path,
) -> Result<(), DataError> {
    let name = path.display().to_string();
    if let Some((pixels, rows, cols)) = images.iter().find(|(p, r, c)| p.len() != r * c) {
        return Err(DataError::Shape {
            file: name,
            expected: "rows x cols pixels for every image of the grid",
            dims: vec![pixels.len(), *rows, *cols],
        });
    }
    if columns == 0 {
        return Err(DataError::Shape {
            file: name,
            expected: "at least one column",
            dims: vec![images.len(), columns],
        });
    }
    let cell_rows = images.iter().map(|i| i.1).max().unwrap_or(0) * SCALE;
    let cell_cols = images.iter().map(|i| i.2).max().unwrap_or(0) * SCALE;
    let grid_rows = images.len().div_ceil(columns);
    let grid_cols = columns.min(images.len());
    let side = |cells: usize, cell: usize| {
        cell.checked_add(GUTTER)
            .and_then(|c| c.checked_mul(cells))
            .and_then(|s| s.checked_add(GUTTER))
            .filter(|&s| s <= MAX_SIDE)
    };
    let (Some(width), Some(height)) = (side(grid_cols, cell_cols), side(grid_rows, cell_rows))
    else {
        return Err(DataError::Shape {
            file: name,
            expected: "a grid of at most 16384 x 16384 pixels (fewer or smaller images)",
            dims: vec![images.len(), cell_rows / SCALE, cell_cols / SCALE],
        });
    };
    let mut canvas = GrayImage::from_pixel(width as u32, height as u32, Luma([GUTTER_GREY]));
    for (k, (pixels, rows, cols)) in images.iter().enumerate() {
        let top = GUTTER + (k / columns) * (cell_rows + GUTTER);
        let left = GUTTER + (k % columns) * (cell_cols + GUTTER);
        for y in 0..cell_rows {
            for x in 0..cell_cols {
                let (r, c) = (y / SCALE, x / SCALE);
                let value = if r < *rows && c < *cols {
                    pixels[r * cols + c]
                } else {
                    0
                };
                canvas.put_pixel((left + x) as u32, (top + y) as u32, Luma([value]));
            }
        }
    }
    let mut png = Vec::new();
    canvas
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|source| DataError::Image { file: name, source })?;
    nn_core::atomic::write_bytes(path, &png).map_err(|e| DataError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::{RandomRotation, RandomShift};
    use crate::idx::IdxArray;

    #[test]
    fn preview_has_one_row_per_image_and_one_column_per_transform() {
        let n = 4;
        let set = ImageSet::from_idx(
            IdxArray {
                dims: vec![n, 8, 8],
                data: (0..n * 64).map(|i| (i * 5 % 256) as u8).collect(),
            },
            IdxArray {
                dims: vec![n],
                data: vec![0, 1, 2, 3],
            },
            ("i", "l"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preview.png");
        let transforms: Vec<Box<dyn ImageTransform>> = vec![
            Box::new(RandomShift::default()),
            Box::new(RandomRotation::default()),
        ];
        preview_grid(&set, 3, &transforms, 1, &path).unwrap();
        let png = image::open(&path).unwrap().to_luma8();
        let cell = 8 * SCALE + GUTTER;
        assert_eq!(
            png.dimensions(),
            ((3 * cell + GUTTER) as u32, (3 * cell + GUTTER) as u32)
        );
        // The original of the second image, pixel (1, 2), scaled.
        let (x, y) = (GUTTER + 2 * SCALE, GUTTER + cell + SCALE);
        assert_eq!(png.get_pixel(x as u32, y as u32)[0], set.image(1)[8 + 2]);
        assert_eq!(png.get_pixel(0, 0)[0], GUTTER_GREY);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn mismatched_images_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.png");
        let err = image_grid(&[(vec![0; 5], 2, 2)], 1, &path).unwrap_err();
        assert!(matches!(err, DataError::Shape { .. }), "{err}");
        let err = image_grid(&[(vec![0; 6000], 1, 6000)], 1, &path).unwrap_err();
        assert!(matches!(err, DataError::Shape { .. }), "{err}");
        assert!(!path.exists());
    }
}

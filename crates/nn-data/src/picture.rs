//! Pictures of handwritten digits prepared the way MNIST's digits were, for any square input
//! size, and how a set of images frames its digits ([`measure_framing`]).
//!
//! MNIST's digits are bright ink on a dark background, size-normalised to fit a 20x20 box with
//! their aspect ratio kept, and placed in a 28x28 frame so that their centre of mass is at the
//! centre. With the crate's `png` feature, `prepare_png` brings any PNG to that form (or to
//! the framing a set measured), scaled to a frame of `side x side` pixels (the box is 20/28 of
//! the frame):
//!
//! 1. the PNG is decoded row by row, whatever its colour type (grey, grey with alpha, RGB, RGBA,
//!    palette) and bit depth (1 to 16); each row becomes 8-bit grey (luma 0.299 R + 0.587 G +
//!    0.114 B) with transparency composited on **white** paper, and is shrunk on the fly into a
//!    working picture of at most `WORK_SIDE` pixels a side (box averages), so memory stays
//!    bounded whatever the picture's size;
//! 2. the picture is inverted when its border is light (dark ink on paper), the ink is cropped
//!    to its bounding box, scaled into the box and centred in the frame by its centre of mass.
//!
//! Limits: at most `MAX_SIDE` pixels a side and `MAX_PIXELS` pixels in all; interlaced PNGs,
//! which cannot be read row by row, at most `MAX_INTERLACED_BYTES` of decoded data.
//!
//! [`measure_framing`] needs no codec and is there whatever the features: it reads the ink of
//! an [`ImageSet`]'s images as the preparation crops it.

use nn_core::{Centring, Framing};

use crate::ImageSet;

#[cfg(feature = "png")]
mod classify;
mod find;
#[cfg(feature = "png")]
mod prepare;

#[cfg(feature = "png")]
pub use classify::{ClassifyError, Prediction, classify_png};
pub use find::{NoPicture, find_pictures};

#[cfg(feature = "png")]
pub use prepare::{
    MAX_INTERLACED_BYTES, MAX_PIXELS, MAX_SIDE, PictureError, WORK_SIDE, frame_side, prepare_file,
    prepare_png, prepare_rgba,
};

/// Largest frame side drawn or measured (a 1024 x 1024 input layer).
pub const MAX_FRAME: usize = 1024;
/// Peak ink contrast (out of 255) below which a picture is taken as blank.
const MIN_CONTRAST: f32 = 16.0;

/// A picture's ink, bright on dark, and its bounding box.
struct Ink {
    /// Ink per pixel, 0 for background, row-major `width x height`.
    values: Vec<f32>,
    /// The brightest ink (the preparation scales by it).
    #[cfg(feature = "png")]
    peak: f32,
    /// The bounding box `(x0, y0, x1, y1)` (inclusive) of the pixels with at least 20% of
    /// the peak.
    bounds: (u32, u32, u32, u32),
}

impl Ink {
    /// The ink of a `width x height` grey picture: the background is the border's mean,
    /// and a light background is inverted. `None` for a picture without ink (peak contrast
    /// under [`MIN_CONTRAST`]).
    fn find(grey: &[f32], w: u32, h: u32) -> Option<Self> {
        let border = (0..w * h).filter(|i| {
            let (x, y) = (i % w, i / w);
            x == 0 || y == 0 || x + 1 == w || y + 1 == h
        });
        let count = border.clone().count().max(1);
        let background = border.map(|i| grey[i as usize]).sum::<f32>() / count as f32;
        let values: Vec<f32> = if background > 127.5 {
            grey.iter().map(|v| (background - v).max(0.0)).collect()
        } else {
            grey.iter().map(|v| (v - background).max(0.0)).collect()
        };
        let peak = values.iter().copied().fold(0.0f32, f32::max);
        if peak < MIN_CONTRAST {
            return None;
        }
        let threshold = 0.2 * peak;
        let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
        for (i, &v) in values.iter().enumerate() {
            if v >= threshold {
                let (x, y) = (i as u32 % w, i as u32 / w);
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
        }
        Some(Self {
            values,
            #[cfg(feature = "png")]
            peak,
            bounds: (x0, y0, x1, y1),
        })
    }

    /// The width and height of the bounding box.
    fn box_size(&self) -> (u32, u32) {
        let (x0, y0, x1, y1) = self.bounds;
        (x1 - x0 + 1, y1 - y0 + 1)
    }
}

/// The centre of mass of ink `values` in a picture `width` pixels wide (pixel centres at
/// `x + 0.5`), `None` for no ink.
fn centre_of_mass(values: impl Iterator<Item = f32>, width: u32) -> Option<(f32, f32)> {
    let (mut mass, mut mx, mut my) = (0.0f32, 0.0f32, 0.0f32);
    for (i, v) in values.enumerate() {
        let (x, y) = ((i as u32 % width) as f32, (i as u32 / width) as f32);
        mass += v;
        mx += v * (x + 0.5);
        my += v * (y + 0.5);
    }
    (mass > 0.0).then(|| (mx / mass, my / mass))
}

/// The most training images [`measure_framing`] looks at (the first ones).
pub const FRAMING_SAMPLE: usize = 10_000;

/// How far, as a fraction of the frame, a mass-centred set's measured box may be from MNIST's
/// 20/28 and still be taken as MNIST's procedure.
const MNIST_BOX_TOLERANCE: f32 = 0.1;

/// Measures how a set of square images frames its digits (up to its first
/// [`FRAMING_SAMPLE`] images):
///
/// - the box fraction is the median, over the images, of the larger side of the ink's
///   bounding box (pixels with at least 20% of the image's peak ink, as `prepare_png` crops)
///   over the frame's side;
/// - the centring is the one that puts the digits closer to the frame's centre on average
///   (mean squared distance of the centre of mass, or of the bounding box's centre).
///
/// A mass-centred set whose box is within 10% of the frame of 20/28 is MNIST-like and gets
/// exactly [`Framing::MNIST`]. `None` for images that are not square or hold no ink.
///
/// ```
/// use nn_core::{Centring, Framing};
/// use nn_data::{ImageSet, picture::measure_framing};
///
/// // 8x8 digits whose ink fills the frame from edge to edge.
/// let image: Vec<u8> = (0..64).map(|i| if i % 8 == 0 || i % 8 == 7 { 255 } else { 0 }).collect();
/// let set = ImageSet {
///     pixels: image.repeat(3), rows: 8, cols: 8, labels: vec![0, 1, 2], classes: 3,
///     inverted: false,
/// };
/// let framing = measure_framing(&set).unwrap();
/// assert_eq!(framing.box_fraction(), 1.0);
/// assert_eq!(framing.centring(), Centring::Box);
/// ```
pub fn measure_framing(set: &ImageSet) -> Option<Framing> {
    let side = set.rows;
    if side != set.cols || !(2..=MAX_FRAME).contains(&side) {
        return None;
    }
    let frame = side as u32;
    let middle = frame as f32 / 2.0;
    let distance = |(x, y): (f32, f32)| (x - middle).powi(2) + (y - middle).powi(2);
    let (mut sides, mut by_mass, mut by_box) = (Vec::new(), 0.0f64, 0.0f64);
    let mut grey = vec![0.0f32; side * side];
    for i in 0..set.len().min(FRAMING_SAMPLE) {
        for (g, &p) in grey.iter_mut().zip(set.image(i)) {
            *g = f32::from(p);
        }
        let Some(ink) = Ink::find(&grey, frame, frame) else {
            continue;
        };
        let (x0, y0, x1, y1) = ink.bounds;
        let Some(mass) = centre_of_mass(ink.values.iter().copied(), frame) else {
            continue;
        };
        let (w, h) = ink.box_size();
        sides.push(w.max(h));
        by_mass += f64::from(distance(mass));
        by_box += f64::from(distance((
            (x0 + x1 + 1) as f32 / 2.0,
            (y0 + y1 + 1) as f32 / 2.0,
        )));
    }
    if sides.is_empty() {
        return None;
    }
    sides.sort_unstable();
    let fraction = sides[sides.len() / 2] as f32 / frame as f32;
    let centring = if by_mass <= by_box {
        Centring::Mass
    } else {
        Centring::Box
    };
    let mnist_like = centring == Centring::Mass
        && (fraction - Framing::MNIST.box_fraction()).abs() <= MNIST_BOX_TOLERANCE;
    if mnist_like {
        Some(Framing::MNIST)
    } else {
        Framing::new(fraction, centring).ok()
    }
}

//! Loading the data set for the subcommands and splitting it as the book does, and drawing
//! grids of images.

use std::io::Cursor;
use std::path::Path;

use anyhow::{Context, Result, bail};
use image::{Rgb, RgbImage};
use nn_data::{IdxFiles, ImageSet, MnistSplits, default_holdout, load_data_set, split_holdout};

use crate::data_source::DataSource;

/// A loaded data set: the training file split into training and held-out images, and the test
/// images.
#[derive(Debug)]
pub struct DataSet {
    /// Where the files came from, for messages.
    pub origin: String,
    /// The four files.
    pub files: IdxFiles,
    /// Images of the whole training file.
    pub training_file_len: usize,
    /// Images held out from the end of the training file for validation.
    pub holdout: usize,
    /// The training images (the first of the training file), the held-out images (its last
    /// `holdout`, for validation) and the test images.
    pub splits: MnistSplits,
}

/// Loads the data set `source` names and holds out the last `--holdout` training images (by
/// default MNIST's 10,000, or a sixth of any other training file) for validation.
pub fn load(source: &DataSource) -> Result<DataSet> {
    let located = source.locate()?;
    let files = located.files;
    let (full, test) = load_data_set(&files)?;
    let n = full.len();
    let file = files.train_images.display();
    let holdout = match source.holdout {
        Some(0) => bail!("--holdout 0: hold out at least 1 image for validation"),
        Some(h) if h >= n => bail!(
            "--holdout {h}: {file} holds {n} training images; hold out at most {} so that some \
             remain for training",
            n - 1
        ),
        Some(h) => h,
        None if default_holdout(n) == 0 => bail!(
            "{file} holds only {n} training images, too few to hold out a sixth for validation; \
             give --holdout N with 1 <= N < {n}"
        ),
        None => default_holdout(n),
    };
    let (training, validation) = split_holdout(&full, holdout, &files.train_images)?;
    Ok(DataSet {
        origin: located.origin,
        files,
        training_file_len: n,
        holdout,
        splits: MnistSplits {
            training,
            validation,
            test,
        },
    })
}

impl DataSet {
    /// Number of held-out images.
    pub fn holdout(&self) -> usize {
        self.splits.validation.len()
    }

    /// The training images a run uses: the first `--train-size` images left after the
    /// hold-out, then, with `--per-class N`, the first N images of each class among them.
    pub fn training_images(
        &self,
        train_size: Option<usize>,
        per_class: Option<usize>,
    ) -> Result<ImageSet> {
        let available = self.splits.training.len();
        let first = match train_size {
            Some(n) if n > available => bail!(
                "--train-size {n}: {} holds {} training images, of which the last {} are held \
                 out for validation (--holdout), leaving {available}; use at most {available}",
                self.files.train_images.display(),
                self.training_file_len,
                self.holdout()
            ),
            _ => first(&self.splits.training, train_size, "--train-size")?,
        };
        match per_class {
            None => Ok(first),
            Some(0) => bail!("--per-class 0: use at least 1 image of each class"),
            Some(n) => Ok(first.first_per_class(n)),
        }
    }

    /// The images monitored during training: the first `--validation-size` held-out images.
    pub fn validation_images(&self, validation_size: Option<usize>) -> Result<ImageSet> {
        let held = self.holdout();
        match validation_size {
            Some(n) if n > held => bail!(
                "--validation-size {n}: only {held} images are held out for validation \
                 (--holdout {held}); use at most {held}, or hold out more with --holdout"
            ),
            _ => first(
                &self.splits.validation,
                validation_size,
                "--validation-size",
            ),
        }
    }
}

/// The first `n` images of `set`, or an error naming `flag` when it holds fewer.
pub fn first(set: &ImageSet, n: Option<usize>, flag: &str) -> Result<ImageSet> {
    match n {
        None => Ok(set.clone()),
        Some(0) => bail!("{flag} 0: use at least 1 image"),
        Some(n) if n > set.len() => bail!(
            "{flag} {n}: only {} images are available; use at most {}",
            set.len(),
            set.len()
        ),
        Some(n) => Ok(set.subset(..n)),
    }
}

/// Each pixel of a digit becomes a `ZOOM x ZOOM` square.
const ZOOM: u32 = 2;
/// Gap between tiles.
const GAP: u32 = 4;

/// One image of a grid, with up to two labels drawn under it in the given colours.
pub struct Tile<'a> {
    /// `rows x cols` grey pixels (the grid's shape), ink bright.
    pub pixels: &'a [u8],
    /// Labels drawn under the digit, left to right.
    pub labels: Vec<(u8, Rgb<u8>)>,
}

/// Tiles of `rows x cols` images laid out in rows of `columns`, each image enlarged and shown
/// dark on light, with its labels in a small pixel font underneath.
pub fn grid(tiles: &[Tile<'_>], columns: usize, shape: (usize, usize)) -> RgbImage {
    let (image_rows, image_cols) = (shape.0 as u32, shape.1 as u32);
    let columns = columns.clamp(1, tiles.len().max(1)) as u32;
    let rows = (tiles.len() as u32).div_ceil(columns).max(1);
    let has_labels = tiles.iter().any(|t| !t.labels.is_empty());
    let label_height = if has_labels { GLYPH_H * ZOOM + GAP } else { 0 };
    // Wide enough for the labels under small images.
    let cell_w = (image_cols * ZOOM).max(2 * (GLYPH_W + 2) * ZOOM) + GAP;
    let cell_h = image_rows * ZOOM + label_height + GAP;
    let mut out = RgbImage::from_pixel(
        columns * cell_w + GAP,
        rows * cell_h + GAP,
        Rgb([255, 255, 255]),
    );
    for (i, tile) in tiles.iter().enumerate() {
        let (x0, y0) = (
            GAP + (i as u32 % columns) * cell_w,
            GAP + (i as u32 / columns) * cell_h,
        );
        for (p, &v) in tile.pixels.iter().enumerate().take(shape.0 * shape.1) {
            let (px, py) = (p as u32 % image_cols, p as u32 / image_cols);
            let shade = 255 - v;
            fill(
                &mut out,
                x0 + px * ZOOM,
                y0 + py * ZOOM,
                ZOOM,
                Rgb([shade, shade, shade]),
            );
        }
        let mut x = x0;
        for &(digit, colour) in &tile.labels {
            draw_digit(&mut out, x, y0 + image_rows * ZOOM + GAP / 2, digit, colour);
            x += (GLYPH_W + 2) * ZOOM;
        }
    }
    out
}

/// Width of a glyph of the pixel font.
const GLYPH_W: u32 = 3;
/// Height of a glyph of the pixel font.
const GLYPH_H: u32 = 5;

/// A 3x5 pixel font for the digits: one row per entry, bit 2 the leftmost pixel.
const FONT: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

fn draw_digit(out: &mut RgbImage, x: u32, y: u32, digit: u8, colour: Rgb<u8>) {
    let Some(glyph) = FONT.get(usize::from(digit)) else {
        return;
    };
    for (row, bits) in glyph.iter().enumerate() {
        for col in 0..GLYPH_W {
            if bits & (0b100 >> col) != 0 {
                fill(out, x + col * ZOOM, y + row as u32 * ZOOM, ZOOM, colour);
            }
        }
    }
}

fn fill(out: &mut RgbImage, x: u32, y: u32, side: u32, colour: Rgb<u8>) {
    for dy in 0..side {
        for dx in 0..side {
            if x + dx < out.width() && y + dy < out.height() {
                out.put_pixel(x + dx, y + dy, colour);
            }
        }
    }
}

/// Saves a grid as PNG, atomically, naming the file in any error.
pub fn save_png(image: &RgbImage, path: &Path) -> Result<()> {
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .with_context(|| format!("cannot encode {}", path.display()))?;
    nn_core::atomic::write_bytes(path, &png)
        .with_context(|| format!("cannot write {}", path.display()))
}

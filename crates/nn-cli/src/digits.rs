//! Finding and loading MNIST for the subcommands, and drawing grids of digits.

use std::path::Path;

use anyhow::{Context, Result, bail};
use image::{Rgb, RgbImage};
use nn_data::{DataLocation, ImageSet, MnistSplits};

/// Images of the book's validation set: the last 10,000 of MNIST's training file.
pub const VALIDATION_IMAGES: usize = 10_000;

/// Where the MNIST files are: `--data DIR` when given (which must then hold them), else the
/// usual search of nn-data (`$MNIST_DIR`, `./data/mnist`, `../shared/data/mnist`, the cache).
pub fn locate(explicit: Option<&Path>) -> Result<DataLocation> {
    Ok(nn_data::locate_mnist(explicit)?)
}

/// The book's three sets from the located directory: the last 10,000 training images validate.
pub fn load(explicit: Option<&Path>) -> Result<(DataLocation, MnistSplits)> {
    let location = locate(explicit)?;
    let splits = nn_data::load_splits(&location.dir, Some(VALIDATION_IMAGES))
        .with_context(|| format!("cannot load MNIST from {}", location.dir.display()))?;
    Ok((location, splits))
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

/// The training images a run uses: the first `--train-size` images, then, with
/// `--per-class N`, the first N images of each digit among them.
pub fn training_images(
    set: &ImageSet,
    train_size: Option<usize>,
    per_class: Option<usize>,
) -> Result<ImageSet> {
    let first = first(set, train_size, "--train-size")?;
    match per_class {
        None => Ok(first),
        Some(0) => bail!("--per-class 0: use at least 1 image of each digit"),
        Some(n) => Ok(first.first_per_class(n)),
    }
}

/// Side of a digit's tile in a grid, in pixels of the original image.
const DIGIT_SIDE: u32 = 28;
/// Each pixel of a digit becomes a `ZOOM x ZOOM` square.
const ZOOM: u32 = 2;
/// Gap between tiles.
const GAP: u32 = 4;

/// One digit of a grid, with up to two labels drawn under it in the given colours.
pub struct Tile<'a> {
    /// `28 x 28` grey pixels, ink bright.
    pub pixels: &'a [u8],
    /// Labels drawn under the digit, left to right.
    pub labels: Vec<(u8, Rgb<u8>)>,
}

/// Tiles laid out in rows of `columns`, each digit enlarged and shown dark on light, with its
/// labels in a small pixel font underneath.
pub fn grid(tiles: &[Tile<'_>], columns: usize) -> RgbImage {
    let columns = columns.clamp(1, tiles.len().max(1)) as u32;
    let rows = (tiles.len() as u32).div_ceil(columns).max(1);
    let has_labels = tiles.iter().any(|t| !t.labels.is_empty());
    let label_height = if has_labels { GLYPH_H * ZOOM + GAP } else { 0 };
    let cell_w = DIGIT_SIDE * ZOOM + GAP;
    let cell_h = DIGIT_SIDE * ZOOM + label_height + GAP;
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
        for (p, &v) in tile.pixels.iter().enumerate().take(784) {
            let (px, py) = (p as u32 % DIGIT_SIDE, p as u32 / DIGIT_SIDE);
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
            draw_digit(&mut out, x, y0 + DIGIT_SIDE * ZOOM + GAP / 2, digit, colour);
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

/// Saves a grid as PNG atomically (encoded in memory first), naming the file in any error.
pub fn save_png(image: &RgbImage, path: &Path) -> Result<()> {
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .context("cannot encode the PNG")?;
    nn_core::atomic::write_bytes(path, &png)
        .with_context(|| format!("cannot write {}", path.display()))
}

//! Loading the data set for the subcommands (split as the book does by nn-train's [`DataSet`]),
//! and drawing grids of images.

use std::io::Cursor;
use std::path::Path;

use anyhow::{Context, Result};
use image::{Rgb, RgbImage};

use crate::data_source::DataSource;

pub use nn_train::DataSet;
pub use nn_train::data::first;

/// Loads the data set `source` names and holds out the last `--holdout` training images (by
/// default MNIST's 10,000, or a sixth of any other training file) for validation.
pub fn load(source: &DataSource) -> Result<DataSet> {
    let located = source.locate()?;
    Ok(DataSet::load(
        located.files,
        located.origin,
        source.holdout,
    )?)
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

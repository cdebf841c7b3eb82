//! PNG grids of images: previews of distortions ([`preview_grid`]) and any list of images, each
//! with numbers written under it in colour ([`image_grid`]; `nn eval --gallery` draws the
//! misclassified digits this way, predicted and true class under each).

use std::borrow::Cow;
use std::io::Cursor;
use std::path::Path;

use image::{ImageFormat, Rgb, RgbImage};

use crate::augment::{ImageTransform, image_rng};
use crate::{DataError, ImageSet};

/// Each image pixel becomes a square of this many pixels (and so does each dot of the labels'
/// font).
const SCALE: usize = 3;

/// Pixels between cells, and around the grid.
const GUTTER: usize = 2;

/// Grey level of the gutters.
const GUTTER_GREY: u8 = 128;

/// The largest grid drawn, in pixels per side: a PNG wider or taller is refused rather than
/// allocated (images of an IDX file may be up to a gigapixel).
pub const MAX_SIDE: usize = 16_384;

/// The largest grid drawn, in pixels (192 MiB of RGB): a grid of more is refused.
pub const MAX_PIXELS: usize = 1 << 26;

/// One cell of a grid: an image and the numbers written under it.
///
/// ```
/// use std::borrow::Cow;
/// use nn_data::preview::{Tile, image_grid};
///
/// // Two 2x2 images, the second with its predicted (red) and true (green) class under it.
/// let tiles = [
///     Tile { pixels: Cow::Owned(vec![0, 255, 255, 0]), labels: Vec::new() },
///     Tile { pixels: Cow::Owned(vec![255; 4]), labels: vec![(3, [200, 0, 0]), (8, [0, 140, 0])] },
/// ];
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("grid.png");
/// image_grid(&tiles, (2, 2), 2, &path)?;
/// let png = image::open(&path)?.to_rgb8();
/// // Each pixel drawn 3x3; the cells are as wide as the labels "3 8" need.
/// assert_eq!(png.get_pixel(2 + 3, 2).0, [255; 3]);
/// assert!(png.pixels().any(|p| p.0 == [200, 0, 0]) && png.pixels().any(|p| p.0 == [0, 140, 0]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Tile<'a> {
    /// The image's grey levels, row by row (0 black, 255 white), drawn as given.
    pub pixels: Cow<'a, [u8]>,
    /// Numbers written left to right under the image, each in its RGB colour (e.g. a predicted
    /// class in red, then the true class in green).
    pub labels: Vec<(usize, [u8; 3])>,
}

impl<'a> Tile<'a> {
    /// A tile of image `i` of `set` as the network sees it (inverted when the set is), with
    /// `labels` under it.
    pub fn of(set: &'a ImageSet, i: usize, labels: Vec<(usize, [u8; 3])>) -> Self {
        Tile {
            pixels: as_seen(Cow::Borrowed(set.image(i)), set.inverted),
            labels,
        }
    }
}

/// Pixels of an image of a set as the network sees them: inverted (255 − p) when the set is.
fn as_seen(pixels: Cow<'_, [u8]>, inverted: bool) -> Cow<'_, [u8]> {
    if inverted {
        Cow::Owned(pixels.iter().map(|p| 255 - p).collect())
    } else {
        pixels
    }
}

/// Writes a PNG with one row per image of the first `count` images of `set`: the original, then
/// the result of each of `transforms` (drawing from [`image_rng`]`(seed, i)` for image `i`).
/// Images are shown as the network sees them (inverted when the set is), laid out by
/// [`image_grid`]. The file is written atomically.
///
/// # Errors
/// As [`image_grid`].
pub fn preview_grid(
    set: &ImageSet,
    count: usize,
    transforms: &[Box<dyn ImageTransform>],
    seed: u64,
    path: &Path,
) -> Result<(), DataError> {
    let (rows, cols) = (set.rows, set.cols);
    let mut tiles = Vec::new();
    for i in 0..count.min(set.len()) {
        tiles.push(Tile::of(set, i, Vec::new()));
        let mut rng = image_rng(seed, i);
        for t in transforms {
            let mut dst = vec![0; rows * cols];
            t.apply(set.image(i), rows, cols, &mut rng, &mut dst);
            tiles.push(Tile {
                pixels: as_seen(Cow::Owned(dst), set.inverted),
                labels: Vec::new(),
            });
        }
    }
    image_grid(&tiles, (rows, cols), transforms.len() + 1, path)
}

/// Writes a PNG grid of `tiles`, images of `shape` = (rows, cols) laid out `columns` to a row:
/// each image scaled 3x, its labels written under it in a 3x5 dot font on a white strip (the
/// strip only when some tile has labels), 2-pixel grey gutters between the cells and around the
/// grid. A cell is as wide as the wider of its image and the longest line of labels. The file is
/// written through [`nn_core::atomic`], so an interrupted write leaves no partial file.
///
/// # Errors
/// [`DataError::Shape`] when a tile's pixel count is not rows x cols, when `columns` is 0, and
/// when the grid would be wider or taller than [`MAX_SIDE`] or hold more than [`MAX_PIXELS`]
/// pixels (nothing is allocated for it then); encoding and I/O errors otherwise.
pub fn image_grid(
    tiles: &[Tile<'_>],
    shape: (usize, usize),
    columns: usize,
    path: &Path,
) -> Result<(), DataError> {
    let name = path.display().to_string();
    let (rows, cols) = shape;
    if let Some(tile) = tiles
        .iter()
        .find(|t| rows.checked_mul(cols) != Some(t.pixels.len()))
    {
        return Err(DataError::Shape {
            file: name,
            expected: "rows x cols pixels for every image of the grid",
            dims: vec![tile.pixels.len(), rows, cols],
        });
    }
    if columns == 0 {
        return Err(DataError::Shape {
            file: name,
            expected: "at least one column",
            dims: vec![tiles.len(), columns],
        });
    }
    let strip = if tiles.iter().any(|t| !t.labels.is_empty()) {
        (GLYPH_H + 2) * SCALE
    } else {
        0
    };
    let widest_labels = tiles.iter().map(|t| label_width(&t.labels)).max();
    let cell = (
        rows.checked_mul(SCALE).and_then(|r| r.checked_add(strip)),
        cols.checked_mul(SCALE)
            .map(|c| c.max(widest_labels.unwrap_or(0))),
    );
    let side = |cells: usize, cell: Option<usize>| {
        cell?
            .checked_add(GUTTER)
            .and_then(|c| c.checked_mul(cells))
            .and_then(|s| s.checked_add(GUTTER))
            .filter(|&s| s <= MAX_SIDE)
    };
    let (grid_rows, grid_cols) = (tiles.len().div_ceil(columns), columns.min(tiles.len()));
    let (Some(height), Some(width)) = (side(grid_rows, cell.0), side(grid_cols, cell.1)) else {
        return Err(too_large(name, tiles.len(), shape));
    };
    if width * height > MAX_PIXELS {
        return Err(too_large(name, tiles.len(), shape));
    }
    let (cell_rows, cell_cols) = (cell.0.unwrap_or(0), cell.1.unwrap_or(0));
    let mut canvas = RgbImage::from_pixel(width as u32, height as u32, Rgb([GUTTER_GREY; 3]));
    for (k, tile) in tiles.iter().enumerate() {
        let top = GUTTER + (k / columns) * (cell_rows + GUTTER);
        let left = GUTTER + (k % columns) * (cell_cols + GUTTER);
        for (p, &value) in tile.pixels.iter().enumerate() {
            let (y, x) = (top + (p / cols) * SCALE, left + (p % cols) * SCALE);
            fill(&mut canvas, (x, y), (SCALE, SCALE), [value; 3]);
        }
        if strip > 0 {
            let y = top + rows * SCALE;
            fill(&mut canvas, (left, y), (cell_cols, strip), [255; 3]);
            write_labels(&mut canvas, (left + SCALE, y + SCALE), &tile.labels);
        }
    }
    let mut png = Vec::new();
    canvas
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|source| DataError::Image {
            file: name,
            source: source.into(),
        })?;
    nn_core::atomic::write_bytes(path, &png).map_err(|e| DataError::io(path, e))
}

fn too_large(file: String, tiles: usize, (rows, cols): (usize, usize)) -> DataError {
    DataError::Shape {
        file,
        expected: "a grid of at most 16384 pixels a side and 2^26 pixels in all (fewer or smaller \
                   images)",
        dims: vec![tiles, rows, cols],
    }
}

/// Dots of the font a glyph takes across.
const GLYPH_W: usize = 3;
/// Dots of the font a glyph takes down.
const GLYPH_H: usize = 5;
/// Dots from one digit of a number to the next.
const DIGIT_ADVANCE: usize = GLYPH_W + 1;
/// Dots from the end of one number to the next.
const LABEL_GAP: usize = 2;

/// A 3x5 dot font for the digits: one row per entry, bit 2 the leftmost dot.
const FONT: [[u8; GLYPH_H]; 10] = [
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

/// Width in pixels of a line of labels with its margins (0 for none).
fn label_width(labels: &[(usize, [u8; 3])]) -> usize {
    let dots: usize = labels
        .iter()
        .map(|(number, _)| number.to_string().len() * DIGIT_ADVANCE + LABEL_GAP)
        .sum();
    if dots == 0 { 0 } else { (dots + 1) * SCALE }
}

/// Writes `labels` as decimal numbers from `(x, y)` rightwards, each in its colour.
fn write_labels(canvas: &mut RgbImage, (mut x, y): (usize, usize), labels: &[(usize, [u8; 3])]) {
    for (number, colour) in labels {
        for digit in number.to_string().bytes() {
            let glyph = FONT[usize::from(digit - b'0')];
            for (row, bits) in glyph.iter().enumerate() {
                for col in (0..GLYPH_W).filter(|col| bits & (0b100 >> col) != 0) {
                    let dot = (x + col * SCALE, y + row * SCALE);
                    fill(canvas, dot, (SCALE, SCALE), *colour);
                }
            }
            x += DIGIT_ADVANCE * SCALE;
        }
        x += LABEL_GAP * SCALE;
    }
}

/// Paints the `(width, height)` rectangle whose top-left corner is `(x, y)`.
fn fill(
    canvas: &mut RgbImage,
    (x, y): (usize, usize),
    (width, height): (usize, usize),
    colour: [u8; 3],
) {
    for dy in 0..height {
        for dx in 0..width {
            canvas.put_pixel((x + dx) as u32, (y + dy) as u32, Rgb(colour));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::{RandomRotation, RandomShift};
    use crate::idx::IdxArray;

    /// `n` images of 8x8 pixels with distinct grey levels, labelled 0..n.
    fn set(n: usize) -> ImageSet {
        ImageSet::from_idx(
            IdxArray {
                dims: vec![n, 8, 8],
                data: (0..n * 64).map(|i| (i * 5 % 256) as u8).collect(),
            },
            IdxArray {
                dims: vec![n],
                data: (0..n as u8).collect(),
            },
            ("i", "l"),
        )
        .unwrap()
    }

    fn pixel(png: &RgbImage, x: usize, y: usize) -> [u8; 3] {
        png.get_pixel(x as u32, y as u32).0
    }

    #[test]
    fn preview_has_one_row_per_image_and_one_column_per_transform() {
        let set = set(4);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preview.png");
        let transforms: Vec<Box<dyn ImageTransform>> = vec![
            Box::new(RandomShift::default()),
            Box::new(RandomRotation::default()),
        ];
        preview_grid(&set, 3, &transforms, 1, &path).unwrap();
        let png = image::open(&path).unwrap().to_rgb8();
        let cell = 8 * SCALE + GUTTER;
        assert_eq!(
            png.dimensions(),
            ((3 * cell + GUTTER) as u32, (3 * cell + GUTTER) as u32)
        );
        // The original of the second image, pixel (1, 2), scaled.
        let (x, y) = (GUTTER + 2 * SCALE, GUTTER + cell + SCALE);
        assert_eq!(pixel(&png, x, y), [set.image(1)[8 + 2]; 3]);
        assert_eq!(pixel(&png, 0, 0), [GUTTER_GREY; 3]);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_inverted_set_is_shown_as_the_network_sees_it() {
        let mut set = set(1);
        set.inverted = true;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preview.png");
        preview_grid(&set, 1, &[], 1, &path).unwrap();
        let png = image::open(&path).unwrap().to_rgb8();
        let (x, y) = (GUTTER + 3 * SCALE, GUTTER + 2 * SCALE);
        assert_eq!(pixel(&png, x, y), [255 - set.image(0)[2 * 8 + 3]; 3]);
    }

    #[test]
    fn labels_are_written_under_each_image_in_their_colours() {
        let set = set(3);
        let (red, green) = ([200, 0, 0], [0, 140, 0]);
        let tiles: Vec<Tile<'_>> = (0..3)
            .map(|i| Tile::of(&set, i, vec![(7, red), (25, green)]))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gallery.png");
        image_grid(&tiles, (8, 8), 2, &path).unwrap();
        let png = image::open(&path).unwrap().to_rgb8();
        // Three digits and two gaps, wider than the 8x8 image: the cell takes the labels' width.
        let cell_w = (1 + 3 * DIGIT_ADVANCE + 2 * LABEL_GAP) * SCALE;
        assert!(cell_w > 8 * SCALE);
        let cell_h = 8 * SCALE + (GLYPH_H + 2) * SCALE;
        assert_eq!(
            png.dimensions(),
            (
                (2 * (cell_w + GUTTER) + GUTTER) as u32,
                (2 * (cell_h + GUTTER) + GUTTER) as u32
            )
        );
        // The third tile starts the second row: its strip, its 7's top bar in red and the first
        // dot of its 2 (after the 7 and a gap) in green.
        let (left, strip) = (GUTTER, GUTTER + cell_h + GUTTER + 8 * SCALE);
        assert_eq!(pixel(&png, left, strip), [255; 3]);
        assert_eq!(pixel(&png, left + SCALE, strip + SCALE), red);
        let two = left + SCALE + (DIGIT_ADVANCE + LABEL_GAP) * SCALE;
        assert_eq!(pixel(&png, two, strip + SCALE), green);
        assert_eq!(pixel(&png, two - 1, strip + SCALE), [255; 3]);
        // Beside the image, where the cell is wider, the gutter's grey.
        assert_eq!(pixel(&png, left + 8 * SCALE, GUTTER), [GUTTER_GREY; 3]);
        // The image itself, unscaled pixel (0, 0) of the first tile.
        assert_eq!(pixel(&png, GUTTER, GUTTER), [set.image(0)[0]; 3]);
    }

    #[test]
    fn mismatched_images_and_zero_columns_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.png");
        let five = Tile {
            pixels: Cow::Owned(vec![0; 5]),
            labels: Vec::new(),
        };
        let err = image_grid(&[five], (2, 2), 1, &path).unwrap_err();
        assert!(err.to_string().contains("rows x cols pixels"), "{err}");
        let four = Tile {
            pixels: Cow::Owned(vec![0; 4]),
            labels: Vec::new(),
        };
        let err = image_grid(&[four], (2, 2), 0, &path).unwrap_err();
        assert!(err.to_string().contains("at least one column"), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn grids_past_the_side_or_pixel_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.png");
        let tile = |side: usize| Tile {
            pixels: Cow::Owned(vec![0; side * side]),
            labels: Vec::new(),
        };
        // The side limit: one image 5462 pixels wide is 16390 pixels scaled, with gutters.
        let wide = Tile {
            pixels: Cow::Owned(vec![0; 5462]),
            labels: Vec::new(),
        };
        let err = image_grid(&[wide], (1, 5462), 1, &path).unwrap_err();
        assert!(err.to_string().contains("16384 pixels a side"), "{err}");
        // The pixel limit: 4 x 4 images of 700 x 700 pixels (8410 pixels a side, scaled, with
        // gutters) fit each side but not 2^26 pixels in all; 2 x 2 of them do.
        let big = tile(700);
        let err = image_grid(&vec![big.clone(); 16], (700, 700), 4, &path).unwrap_err();
        assert!(err.to_string().contains("2^26 pixels"), "{err}");
        assert!(!path.exists());
        image_grid(&vec![big; 4], (700, 700), 2, &path).unwrap();
        let png = image::open(&path).unwrap();
        assert!((png.width() * png.height()) as usize <= MAX_PIXELS);
    }
}

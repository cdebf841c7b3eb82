//! Decoding a PNG and preparing it as a digit (the `png` feature): see [`super`].

use std::io::{BufRead, BufReader, Seek};
use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{GrayImage, Luma};
use nn_core::{Centring, Framing};

use super::{Ink, MAX_FRAME, centre_of_mass};

/// Largest width or height of a picture.
pub const MAX_SIDE: u32 = 50_000;
/// Largest number of pixels of a picture (a 10,000 x 10,000 picture).
pub const MAX_PIXELS: u64 = 100_000_000;
/// Largest decoded size of an interlaced PNG, which is decoded whole.
pub const MAX_INTERLACED_BYTES: usize = 64 << 20;
/// Largest side of the working picture the rows are shrunk into.
pub const WORK_SIDE: u32 = 1024;
/// A picture that cannot be prepared as a digit.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    /// The file cannot be opened.
    #[error("{path}: {source}")]
    Io {
        /// The picture.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The file is not a PNG the decoder can read.
    #[error("not a readable PNG picture ({0}); give a PNG picture of one digit")]
    Decode(#[from] png::DecodingError),
    /// The picture is larger than the limits.
    #[error(
        "the picture is {width}x{height} pixels, larger than the limit of {MAX_SIDE} pixels a \
         side and {MAX_PIXELS} pixels in all{extra}; scale it down"
    )]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// A note for interlaced pictures.
        extra: &'static str,
    },
    /// RGBA bytes that are not four per pixel of the picture.
    #[error(
        "{bytes} bytes of RGBA for a {width}x{height} picture, which needs 4 per pixel; give a \
         canvas's ImageData"
    )]
    RgbaSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The bytes given.
        bytes: usize,
    },
    /// The picture holds no ink.
    #[error("no digit found (the picture is almost uniform); give a picture of one digit")]
    Blank,
    /// The frame size asked for is not a square number of inputs or is too large.
    #[error(
        "the model has {0} inputs, not a square number of pixels up to {MAX_FRAME}x{MAX_FRAME}; \
         pictures need a model with a square input layer such as 784 (28x28)"
    )]
    NotSquare(usize),
}

/// The side of the square frame a model with `inputs` input neurons reads, e.g. 28 for 784.
pub fn frame_side(inputs: usize) -> Result<usize, PictureError> {
    let side = (inputs as f64).sqrt().round() as usize;
    if side == 0 || side > MAX_FRAME || side * side != inputs {
        return Err(PictureError::NotSquare(inputs));
    }
    Ok(side)
}

/// Reads the PNG at `path` and prepares it as `framing` says, in a `side x side` frame (see
/// [`prepare_png`]).
pub fn prepare_file(path: &Path, side: usize, framing: Framing) -> Result<GrayImage, PictureError> {
    let file = nn_core::atomic::open_to_read(path).map_err(|source| PictureError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    prepare_png(BufReader::new(file), side, framing)
}

/// Decodes a PNG and prepares it as a set framed by `framing` frames its digits: a
/// `side x side` grey image, ink bright on black, the digit fitted into a box of
/// [`Framing::box_side`] pixels and centred by mass or by box ([`Framing::MNIST`]: into the
/// middle 20/28 of the frame, centred by mass). Memory stays bounded (a few MB) whatever the
/// picture's size, within the module's limits.
pub fn prepare_png(
    reader: impl BufRead + Seek,
    side: usize,
    framing: Framing,
) -> Result<GrayImage, PictureError> {
    if side == 0 || side > MAX_FRAME {
        return Err(PictureError::NotSquare(side.saturating_mul(side)));
    }
    let grey = decode_shrunk(reader)?;
    centre(&grey, side as u32, framing)
}

/// Prepares an RGBA picture of `width x height` pixels (a canvas's `ImageData`, row-major,
/// four bytes a pixel) as [`prepare_png`] prepares a decoded PNG: grey with transparency
/// composited on white paper, shrunk to at most [`WORK_SIDE`] a side, inverted when its border
/// is light, cropped, fitted and centred as `framing` says in a `side x side` frame.
///
/// ```
/// use nn_core::Framing;
/// use nn_data::picture::prepare_rgba;
/// // A black bar drawn on a transparent 40x40 canvas.
/// let rgba: Vec<u8> = (0..40 * 40 * 4)
///     .map(|i| {
///         let (x, y) = (i / 4 % 40, i / 160);
///         let ink = (16..24).contains(&x) && (8..32).contains(&y);
///         if i % 4 == 3 && ink { 255 } else { 0 }
///     })
///     .collect();
/// let digit = prepare_rgba(&rgba, 40, 40, 28, Framing::MNIST)?;
/// assert_eq!(digit.dimensions(), (28, 28));
/// assert!(digit.get_pixel(14, 14)[0] > 200 && digit.get_pixel(0, 0)[0] == 0);
/// assert!(prepare_rgba(&rgba, 41, 40, 28, Framing::MNIST).is_err());
/// # Ok::<(), nn_data::picture::PictureError>(())
/// ```
pub fn prepare_rgba(
    rgba: &[u8],
    width: u32,
    height: u32,
    side: usize,
    framing: Framing,
) -> Result<GrayImage, PictureError> {
    if side == 0 || side > MAX_FRAME {
        return Err(PictureError::NotSquare(side.saturating_mul(side)));
    }
    let pixels = u64::from(width) * u64::from(height);
    if width > MAX_SIDE || height > MAX_SIDE || pixels > MAX_PIXELS {
        return Err(PictureError::TooLarge {
            width,
            height,
            extra: "",
        });
    }
    if width == 0 || height == 0 || rgba.len() as u64 != 4 * pixels {
        return Err(PictureError::RgbaSize {
            width,
            height,
            bytes: rgba.len(),
        });
    }
    let factor = width.max(height).div_ceil(WORK_SIDE).max(1);
    let mut shrunk = Shrinker::new(width, height, factor);
    for (y, row) in rgba.chunks_exact(4 * width as usize).enumerate() {
        shrunk.add_row(y as u32, row, 4);
    }
    centre(&shrunk.finish(), side as u32, framing)
}

/// A grey picture with `f32` values in 0..=255.
struct Grey {
    width: u32,
    height: u32,
    values: Vec<f32>,
}

/// Decodes the PNG row by row into grey, shrunk by box averages to at most [`WORK_SIDE`] a side.
fn decode_shrunk(reader: impl BufRead + Seek) -> Result<Grey, PictureError> {
    let mut decoder = png::Decoder::new(reader);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let header = decoder.read_header_info()?;
    let (width, height) = (header.width, header.height);
    let interlaced = header.interlaced;
    let too_large = |extra| PictureError::TooLarge {
        width,
        height,
        extra,
    };
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_large(""));
    }
    let mut reader = decoder.read_info()?;
    let (colour, _) = reader.output_color_type();
    let channels = colour.samples();
    let factor = width.max(height).div_ceil(WORK_SIDE).max(1);
    let mut shrunk = Shrinker::new(width, height, factor);
    if interlaced {
        let size = reader
            .output_buffer_size()
            .filter(|&s| s <= MAX_INTERLACED_BYTES)
            .ok_or_else(|| too_large(" (interlaced pictures: 64 MB decoded)"))?;
        let mut frame = vec![0u8; size];
        let info = reader.next_frame(&mut frame)?;
        for (y, row) in frame.chunks_exact(info.line_size).enumerate() {
            shrunk.add_row(y as u32, row, channels);
        }
    } else {
        let mut y = 0;
        while let Some(row) = reader.next_row()? {
            if y < height {
                shrunk.add_row(y, row.data(), channels);
            }
            y += 1;
        }
    }
    Ok(shrunk.finish())
}

/// Accumulates grey rows into cells of `factor x factor` pixels.
struct Shrinker {
    width: u32,
    height: u32,
    factor: u32,
    columns: u32,
    sums: Vec<f32>,
}

impl Shrinker {
    fn new(width: u32, height: u32, factor: u32) -> Self {
        let columns = width.div_ceil(factor);
        let rows = height.div_ceil(factor);
        Self {
            width,
            height,
            factor,
            columns,
            sums: vec![0.0; columns as usize * rows as usize],
        }
    }

    /// Adds row `y`, 8-bit samples with `channels` per pixel (grey, grey+alpha, RGB or RGBA).
    fn add_row(&mut self, y: u32, row: &[u8], channels: usize) {
        let start = (y / self.factor) as usize * self.columns as usize;
        let cells = &mut self.sums[start..start + self.columns as usize];
        for (x, pixel) in row
            .chunks_exact(channels)
            .take(self.width as usize)
            .enumerate()
        {
            cells[x / self.factor as usize] += grey(pixel);
        }
    }

    /// The average of every cell (edge cells may hold fewer pixels).
    fn finish(self) -> Grey {
        let rows = self.height.div_ceil(self.factor);
        let span = |i: u32, total: u32| (total - i * self.factor).min(self.factor) as f32;
        let mut values = self.sums;
        for cy in 0..rows {
            for cx in 0..self.columns {
                let area = span(cx, self.width) * span(cy, self.height);
                values[(cy * self.columns + cx) as usize] /= area;
            }
        }
        Grey {
            width: self.columns,
            height: rows,
            values,
        }
    }
}

/// One pixel's grey value, transparency composited on white.
fn grey(pixel: &[u8]) -> f32 {
    let f = |i: usize| f32::from(pixel[i]);
    let (luma, alpha) = match pixel.len() {
        1 => (f(0), 255.0),
        2 => (f(0), f(1)),
        3 => (0.299 * f(0) + 0.587 * f(1) + 0.114 * f(2), 255.0),
        _ => (0.299 * f(0) + 0.587 * f(1) + 0.114 * f(2), f(3)),
    };
    let alpha = alpha / 255.0;
    luma * alpha + 255.0 * (1.0 - alpha)
}

/// Prepares a grey picture as `framing` says: ink bright, cropped, fitted into the box and
/// centred (by mass or by box) in a `frame x frame` image.
fn centre(picture: &Grey, frame: u32, framing: Framing) -> Result<GrayImage, PictureError> {
    let Grey {
        width: w,
        height: h,
        values: grey,
    } = picture;
    let w = *w;
    let ink = Ink::find(grey, w, *h).ok_or(PictureError::Blank)?;
    let (x0, y0, _, _) = ink.bounds;
    let (cw, ch) = ink.box_size();
    let cropped = GrayImage::from_fn(cw, ch, |x, y| {
        let v = ink.values[((y0 + y) * w + x0 + x) as usize] / ink.peak * 255.0;
        Luma([v.round().clamp(0.0, 255.0) as u8])
    });
    let boxed = framing.box_side(frame);
    let scale = boxed as f32 / cw.max(ch) as f32;
    let (sw, sh) = (
        ((cw as f32 * scale).round() as u32).clamp(1, boxed),
        ((ch as f32 * scale).round() as u32).clamp(1, boxed),
    );
    let scaled = image::imageops::resize(&cropped, sw, sh, FilterType::Triangle);
    let box_centre = (sw as f32 / 2.0, sh as f32 / 2.0);
    let (cx, cy) = match framing.centring() {
        Centring::Mass => {
            centre_of_mass(scaled.pixels().map(|p| f32::from(p[0])), sw).unwrap_or(box_centre)
        }
        Centring::Box => box_centre,
    };
    let place = |centre: f32, size: u32| -> i64 {
        let offset = (frame as f32 / 2.0 - centre).round() as i64;
        offset.clamp(0, i64::from(frame - size))
    };
    let mut out = GrayImage::new(frame, frame);
    image::imageops::overlay(&mut out, &scaled, place(cx, sw), place(cy, sh));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Cursor;

    /// A PNG of `width x height` with the given colour type and depth, samples from `sample`.
    fn png(
        width: u32,
        height: u32,
        colour: png::ColorType,
        depth: png::BitDepth,
        sample: impl Fn(usize) -> u8,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(colour);
        encoder.set_depth(depth);
        if colour == png::ColorType::Indexed {
            encoder.set_palette((0..768).map(|i| (i * 7 % 256) as u8).collect::<Vec<u8>>());
            encoder.set_trns(vec![0u8, 128, 255]);
        }
        let bits = colour.samples() * depth as usize;
        let line = (width as usize * bits).div_ceil(8);
        let data: Vec<u8> = (0..line * height as usize).map(sample).collect();
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        out
    }

    /// A white 8-bit grey picture with a black bar in the middle.
    fn bar(width: u32, height: u32) -> Vec<u8> {
        let (w, h) = (width as usize, height as usize);
        png(
            width,
            height,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            |i| {
                let (x, y) = (i % w, i / w);
                if x >= w * 2 / 5 && x < w * 3 / 5 && y >= h / 5 && y < h * 4 / 5 {
                    0
                } else {
                    255
                }
            },
        )
    }

    #[test]
    fn a_dark_bar_on_white_paper_becomes_a_bright_centred_bar() {
        let digit = prepare_png(Cursor::new(bar(300, 300)), 28, Framing::MNIST).unwrap();
        assert_eq!(digit.dimensions(), (28, 28));
        assert!(digit.get_pixel(14, 14)[0] > 200, "ink is bright");
        assert_eq!(digit.get_pixel(0, 0)[0], 0, "background is black");
        let rows = (0..28).filter(|&y| digit.get_pixel(14, y)[0] > 100).count();
        assert!(
            (18..=21).contains(&rows),
            "the bar fills the 20-pixel box: {rows}"
        );
    }

    #[test]
    fn transparency_is_white_paper() {
        // Black ink, opaque, on fully transparent black: the paper is taken as white.
        let data = png(40, 40, png::ColorType::Rgba, png::BitDepth::Eight, |i| {
            let (x, y) = (i / 4 % 40, i / 160);
            let ink = (16..24).contains(&x) && (8..32).contains(&y);
            if i % 4 == 3 && ink { 255 } else { 0 }
        });
        let digit = prepare_png(Cursor::new(data), 28, Framing::MNIST).unwrap();
        assert!(digit.get_pixel(14, 14)[0] > 200);
        assert_eq!(digit.get_pixel(0, 0)[0], 0);
    }

    #[test]
    fn a_box_framing_fills_its_box_and_centres_the_box() {
        // An off-centre bar whose top half is heavier: by mass it would sit low.
        let w = 60usize;
        let data = png(
            60,
            60,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            |i| {
                let (x, y) = (i % w, i / w);
                let ink = (30..36).contains(&x) && (5..45).contains(&y);
                let heavy = ink && (10..36).contains(&x.wrapping_add(y)) && y < 15;
                if heavy || (ink && x < 32) { 0 } else { 255 }
            },
        );
        let framing = Framing::new(1.0, Centring::Box).unwrap();
        let digit = prepare_png(Cursor::new(data), 12, framing).unwrap();
        let rows: Vec<u32> = (0..12)
            .filter(|&y| (0..12).any(|x| digit.get_pixel(x, y)[0] > 100))
            .collect();
        assert_eq!(rows.len(), 12, "the digit spans the whole frame: {rows:?}");
        let columns: Vec<u32> = (0..12)
            .filter(|&x| (0..12).any(|y| digit.get_pixel(x, y)[0] > 40))
            .collect();
        let middle = (columns[0] + columns[columns.len() - 1] + 1) as f32 / 2.0;
        assert!((middle - 6.0).abs() <= 0.5, "box centred: {columns:?}");
    }

    #[cfg(feature = "gzip")]
    #[test]
    fn mnist_measures_as_mnist_and_a_frame_filling_set_as_itself() {
        use crate::ImageSet;
        use crate::picture::measure_framing;

        let dir = nn_testdata::mnist_dir();
        let test = crate::mnist::load_test(dir).unwrap().subset(..2_000);
        assert_eq!(measure_framing(&test), Some(Framing::MNIST));
        // The same digits cropped to their ink box and scaled to fill 12x12.
        let mut filled = test.clone();
        filled.rows = 12;
        filled.cols = 12;
        filled.pixels = (0..test.len())
            .flat_map(|i| {
                let grey: Vec<f32> = test.image(i).iter().map(|&p| f32::from(p)).collect();
                let picture = Grey {
                    width: 28,
                    height: 28,
                    values: grey,
                };
                let framing = Framing::new(1.0, Centring::Box).unwrap();
                centre(&picture, 12, framing).unwrap().into_raw()
            })
            .collect();
        let framing = measure_framing(&filled).unwrap();
        assert_eq!(framing.centring(), Centring::Box);
        assert!(framing.box_fraction() >= 11.0 / 12.0, "{framing}");
        let small = ImageSet {
            rows: 3,
            cols: 4,
            pixels: vec![0; 12],
            ..filled.subset(..1)
        };
        assert_eq!(measure_framing(&small), None, "not square");
    }

    #[test]
    fn the_frame_follows_the_model_side() {
        let digit = prepare_png(Cursor::new(bar(64, 64)), 8, Framing::MNIST).unwrap();
        assert_eq!(digit.dimensions(), (8, 8));
        assert!(digit.get_pixel(4, 4)[0] > 100);
    }

    #[test]
    fn a_large_picture_is_shrunk_while_reading() {
        let digit = prepare_png(Cursor::new(bar(3000, 2500)), 28, Framing::MNIST).unwrap();
        assert!(digit.get_pixel(14, 14)[0] > 200);
    }

    #[test]
    fn frame_side_takes_square_numbers_only() {
        assert_eq!(frame_side(784).unwrap(), 28);
        assert_eq!(frame_side(1).unwrap(), 1);
        assert!(matches!(frame_side(785), Err(PictureError::NotSquare(785))));
        assert!(frame_side(0).is_err());
        assert!(frame_side(usize::MAX).is_err());
        assert!(frame_side((MAX_FRAME + 1) * (MAX_FRAME + 1)).is_err());
    }

    #[test]
    fn a_uniform_picture_is_blank() {
        let data = png(50, 50, png::ColorType::Rgb, png::BitDepth::Eight, |_| 200);
        assert!(matches!(
            prepare_png(Cursor::new(data), 28, Framing::MNIST),
            Err(PictureError::Blank)
        ));
    }

    #[test]
    fn a_header_beyond_the_limits_is_refused_before_decoding() {
        // A valid 1x1 picture whose header is rewritten to claim 60,000 x 60,000 pixels.
        let mut data = bar(1, 1);
        data[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        data[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let crc = crc32(&data[12..29]);
        data[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            prepare_png(Cursor::new(data), 28, Framing::MNIST),
            Err(PictureError::TooLarge { .. })
        ));
    }

    /// The PNG of an 8-bit grey picture, interlaced with Adam7 (which the encoder cannot write).
    #[cfg(feature = "gzip")]
    fn interlaced(width: usize, height: usize, pixels: &[u8]) -> Vec<u8> {
        use std::io::Write;
        const PASSES: [(usize, usize, usize, usize); 7] = [
            (0, 0, 8, 8),
            (4, 0, 8, 8),
            (0, 4, 4, 8),
            (2, 0, 4, 4),
            (0, 2, 2, 4),
            (1, 0, 2, 2),
            (0, 1, 1, 2),
        ];
        let mut raw = Vec::new();
        for (x0, y0, dx, dy) in PASSES {
            if x0 >= width || y0 >= height {
                continue;
            }
            for y in (y0..height).step_by(dy) {
                raw.push(0);
                raw.extend((x0..width).step_by(dx).map(|x| pixels[y * width + x]));
            }
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&raw).unwrap();
        let chunk = |out: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
            out.extend((data.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend(kind);
            out.extend(data);
            let crc = crc32(&out[start..]);
            out.extend(crc.to_be_bytes());
        };
        let mut header = Vec::new();
        header.extend((width as u32).to_be_bytes());
        header.extend((height as u32).to_be_bytes());
        header.extend([8, 0, 0, 0, 1]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut out, b"IHDR", &header);
        chunk(&mut out, b"IDAT", &z.finish().unwrap());
        chunk(&mut out, b"IEND", &[]);
        out
    }

    #[cfg(feature = "gzip")]
    #[test]
    fn an_interlaced_picture_gives_the_same_digit_as_a_plain_one() {
        let (w, h) = (61, 45);
        let pixels: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if (20..35).contains(&x) && (5..40).contains(&y) {
                    10
                } else {
                    250
                }
            })
            .collect();
        let plain = png(
            w as u32,
            h as u32,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            |i| pixels[i],
        );
        let a = prepare_png(Cursor::new(plain), 28, Framing::MNIST).unwrap();
        let b = prepare_png(Cursor::new(interlaced(w, h, &pixels)), 28, Framing::MNIST).unwrap();
        assert_eq!(a, b);
    }

    /// The CRC-32 of PNG chunks.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn colour_and_depth() -> impl Strategy<Value = (png::ColorType, png::BitDepth)> {
        use png::BitDepth::*;
        use png::ColorType::*;
        prop_oneof![
            Just((Grayscale, One)),
            Just((Grayscale, Two)),
            Just((Grayscale, Four)),
            Just((Grayscale, Eight)),
            Just((Grayscale, Sixteen)),
            Just((GrayscaleAlpha, Eight)),
            Just((GrayscaleAlpha, Sixteen)),
            Just((Rgb, Eight)),
            Just((Rgb, Sixteen)),
            Just((Rgba, Eight)),
            Just((Rgba, Sixteen)),
            Just((Indexed, One)),
            Just((Indexed, Two)),
            Just((Indexed, Four)),
            Just((Indexed, Eight)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_png_gives_a_digit_or_an_error(
            (width, height) in prop_oneof![
                (1u32..40, 1u32..40),
                (1u32..4, 500u32..3000),
                (500u32..3000, 1u32..4),
            ],
            (colour, depth) in colour_and_depth(),
            seed in any::<u32>(),
            side in 1usize..40,
        ) {
            let data = png(width, height, colour, depth, |i| {
                (i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed).rotate_left(7) as u8
            });
            if let Ok(digit) = prepare_png(Cursor::new(data), side, Framing::MNIST) {
                prop_assert_eq!(digit.dimensions(), (side as u32, side as u32));
            }
        }

        #[test]
        fn garbage_gives_an_error(
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
            cut in any::<usize>(),
        ) {
            // A PNG cut short anywhere between its signature and its last chunk (IEND, 12
            // bytes, which decoders do not need), then random bytes: an error of one line,
            // never a digit (the chunks' CRCs make random bytes invalid).
            let clean = bar(5, 5);
            let keep = 8 + cut % (clean.len() - 12 - 8);
            let mut data = clean[..keep].to_vec();
            data.extend(&bytes);
            let error = prepare_png(Cursor::new(data), 28, Framing::MNIST).unwrap_err();
            let message = error.to_string();
            prop_assert!(!message.is_empty() && !message.contains('\n'), "{}", message);
            // The whole PNG with the random bytes after its end: what follows IEND is ignored.
            let mut whole = clean.clone();
            whole.extend(&bytes);
            let digit = prepare_png(Cursor::new(whole), 28, Framing::MNIST).unwrap();
            let want = prepare_png(Cursor::new(clean), 28, Framing::MNIST).unwrap();
            prop_assert!(digit == want);
        }
    }
}

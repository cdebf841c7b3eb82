//! `nn predict`: classify a picture of a digit, prepared the way MNIST's digits were.
//!
//! MNIST's digits are bright ink on a dark background, size-normalised to fit a 20x20 box with
//! their aspect ratio kept, and placed in a 28x28 frame so that their centre of mass is at the
//! centre. Any PNG is brought to that form: grey-scale (transparency composited on white),
//! inverted when its border is light, cropped to the ink, scaled into 20x20 and centred by mass.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use image::imageops::FilterType;
use image::{GrayImage, Luma};

use crate::eval::load_mnist_model;

/// Examples shown by `nn predict --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn predict model.json digit.png     prints the digit and the probability of each class
Any size and colour of PNG works: dark ink on light paper is inverted, the digit is cropped,
scaled into 20x20 and centred in 28x28 by its centre of mass, as MNIST's digits were.";

/// The flags of `nn predict`.
#[derive(Debug, Clone, clap::Args)]
pub struct PredictArgs {
    /// The model (saved by `nn train --save` or by network2.py)
    #[arg(value_name = "MODEL.json")]
    pub model: PathBuf,
    /// The picture of one handwritten digit
    #[arg(value_name = "IMAGE.png")]
    pub image: PathBuf,
}

/// Side of MNIST's frame.
const FRAME: u32 = 28;
/// Side of the box the digit is scaled into.
const BOX: u32 = 20;

/// Runs `nn predict`.
pub fn run(args: &PredictArgs) -> Result<()> {
    let model = load_mnist_model(&args.model)?;
    let digit = prepare(&args.image)?;
    let input: Vec<f32> = digit.pixels().map(|p| f32::from(p[0]) / 255.0).collect();
    let output = model.network.feedforward(&input);
    let softmax = model
        .network
        .activations()
        .last()
        .is_some_and(|a| a.spec().starts_with("softmax"));
    let total: f32 = output.iter().sum();
    let probabilities: Vec<f32> = if softmax || total <= 0.0 {
        output.clone()
    } else {
        output.iter().map(|a| a / total).collect()
    };
    let best = nn_core::argmax(&output);
    say!("Digit: {best}");
    if softmax {
        say!("Probabilities (softmax outputs):");
    } else {
        say!("Probabilities (sigmoid outputs normalised to sum to 1):");
    }
    for (d, p) in probabilities.iter().enumerate() {
        let bar = "#".repeat((p * 40.0).round() as usize);
        say!("  {d}: {p:.4} {bar}");
    }
    Ok(())
}

/// Reads a PNG and prepares it as MNIST's digits were: a 28x28 grey image, ink bright.
pub fn prepare(path: &Path) -> Result<GrayImage> {
    let picture = image::open(path)
        .with_context(|| {
            format!(
                "cannot read {} as an image; give a PNG picture of one digit",
                path.display()
            )
        })?
        .to_rgba8();
    let (w, h) = picture.dimensions();
    // Grey-scale with transparency composited on white paper.
    let grey: Vec<f32> = picture
        .pixels()
        .map(|p| {
            let [r, g, b, a] = p.0.map(f32::from);
            let luma = 0.299 * r + 0.587 * g + 0.114 * b;
            let alpha = a / 255.0;
            luma * alpha + 255.0 * (1.0 - alpha)
        })
        .collect();
    let border: Vec<f32> = (0..w * h)
        .filter(|i| {
            let (x, y) = (i % w, i / w);
            x == 0 || y == 0 || x + 1 == w || y + 1 == h
        })
        .map(|i| grey[i as usize])
        .collect();
    let background = border.iter().sum::<f32>() / border.len().max(1) as f32;
    // Ink bright on dark: invert a light background, then stretch the ink to 0..255.
    let ink: Vec<f32> = if background > 127.5 {
        grey.iter().map(|v| (background - v).max(0.0)).collect()
    } else {
        grey.iter().map(|v| (v - background).max(0.0)).collect()
    };
    let peak = ink.iter().copied().fold(0.0f32, f32::max);
    if peak < 16.0 {
        bail!(
            "{}: no digit found (the picture is almost uniform); give a picture of one digit",
            path.display()
        );
    }
    let threshold = 0.2 * peak;
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for (i, &v) in ink.iter().enumerate() {
        if v >= threshold {
            let (x, y) = (i as u32 % w, i as u32 / w);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    let (cw, ch) = (x1 - x0 + 1, y1 - y0 + 1);
    let cropped = GrayImage::from_fn(cw, ch, |x, y| {
        let v = ink[((y0 + y) * w + x0 + x) as usize] / peak * 255.0;
        Luma([v.round().clamp(0.0, 255.0) as u8])
    });
    let scale = BOX as f32 / cw.max(ch) as f32;
    let (sw, sh) = (
        ((cw as f32 * scale).round() as u32).clamp(1, BOX),
        ((ch as f32 * scale).round() as u32).clamp(1, BOX),
    );
    let scaled = image::imageops::resize(&cropped, sw, sh, FilterType::Triangle);
    // Centre of mass of the scaled digit, placed at the centre of the frame.
    let (mut mass, mut mx, mut my) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y, p) in scaled.enumerate_pixels() {
        let v = f32::from(p[0]);
        mass += v;
        mx += v * (x as f32 + 0.5);
        my += v * (y as f32 + 0.5);
    }
    let (cx, cy) = if mass > 0.0 {
        (mx / mass, my / mass)
    } else {
        (sw as f32 / 2.0, sh as f32 / 2.0)
    };
    let place = |centre: f32, size: u32| -> i64 {
        let offset = (FRAME as f32 / 2.0 - centre).round() as i64;
        offset.clamp(0, i64::from(FRAME - size))
    };
    let mut frame = GrayImage::new(FRAME, FRAME);
    image::imageops::overlay(&mut frame, &scaled, place(cx, sw), place(cy, sh));
    Ok(frame)
}

//! `nn predict`: classify a picture of a digit, prepared the way the model's training images
//! framed their digits (see [`nn_data::picture`]; MNIST's way for network2.py's files) in a
//! frame of the model's input size (28x28 for 784 inputs).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use nn_core::{Framing, load_model};
use nn_data::picture;

/// Examples shown by `nn predict --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn predict model.json digit.png     prints the digit and the probability of each class
Any colour of PNG works, up to 50,000 pixels a side and 100,000,000 in all (transparency is
taken as white paper): dark ink on light paper is inverted, the digit is cropped, scaled and
centred as the model's training images framed their digits (measured by `nn train` and kept
in the model). For a model without that record (network2.py's) and with --framing mnist, as
MNIST's digits were: scaled into 20x20 and centred in 28x28 by its centre of mass (for
another square input size, in proportion).";

/// The flags of `nn predict`.
#[derive(Debug, Clone, clap::Args)]
pub struct PredictArgs {
    /// The model (saved by `nn train --save` or by network2.py)
    #[arg(value_name = "MODEL.json")]
    pub model: PathBuf,
    /// The picture of one handwritten digit
    #[arg(value_name = "IMAGE.png")]
    pub image: PathBuf,
    /// How to frame the digit: as the model's training images did (the model's record, or
    /// MNIST's for a model without one), or as MNIST's digits whatever the model says
    #[arg(long, value_enum, default_value_t = FramingChoice::Model)]
    pub framing: FramingChoice,
}

/// Where `nn predict` takes the framing of a picture from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FramingChoice {
    /// The model's record of its training images, MNIST's when it has none.
    Model,
    /// MNIST's: a box of 20/28 of the frame, centred by mass.
    Mnist,
}

/// Runs `nn predict`.
pub fn run(args: &PredictArgs) -> Result<()> {
    let model = load_model(&args.model)?;
    let side = picture::frame_side(model.network.input_size())
        .with_context(|| format!("cannot use {} on a picture", args.model.display()))?;
    let framing = match args.framing {
        FramingChoice::Model => model.network.framing().unwrap_or(Framing::MNIST),
        FramingChoice::Mnist => Framing::MNIST,
    };
    let digit = picture::prepare_file(&args.image, side, framing)
        .with_context(|| format!("cannot read {}", args.image.display()))?;
    let input: Vec<f32> = digit.pixels().map(|p| f32::from(p[0]) / 255.0).collect();
    let output = model.network.feedforward(&input);
    if let Some(bad) = output.iter().position(|v| !v.is_finite()) {
        bail!(
            "{}: output {bad} of the model is {} for this picture; the model is unusable (its \
             weights are too large)",
            args.model.display(),
            output[bad]
        );
    }
    let best = nn_core::argmax(&output);
    let output: Vec<f64> = output.into_iter().map(f64::from).collect();
    let last = model
        .network
        .activations()
        .last()
        .map(|a| a.spec())
        .unwrap_or_default();
    let (probabilities, how) = if last.starts_with("softmax") {
        (output, "softmax outputs")
    } else if last == "sigmoid" && output.iter().sum::<f64>() > 0.0 {
        let total: f64 = output.iter().sum();
        (
            output.iter().map(|a| a / total).collect(),
            "sigmoid outputs normalised to sum to 1",
        )
    } else {
        (softmax(&output), "softmax of the outputs")
    };
    say!("Digit: {best}");
    say!("Probabilities ({how}):");
    for (d, p) in probabilities.iter().enumerate() {
        let p = p.clamp(0.0, 1.0);
        let bar = "#".repeat((p * 40.0).round() as usize);
        say!("  {d}: {p:.4} {bar}");
    }
    Ok(())
}

/// The softmax of `values`, computed with the largest value subtracted so that no term
/// overflows.
fn softmax(values: &[f64]) -> Vec<f64> {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = values.iter().map(|v| (v - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|e| e / total).collect()
}

#[cfg(test)]
mod tests {
    use super::softmax;

    #[test]
    fn softmax_of_huge_outputs_is_finite_and_sums_to_one() {
        let p = softmax(&[1e20, 1e20 + 1e5, -1e30, 0.0]);
        assert!(p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(p[1], 1.0);
    }
}

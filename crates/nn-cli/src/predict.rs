//! `nn predict`: classify a picture of a digit, prepared the way the model's training images
//! framed their digits (see [`nn_data::picture`]; MNIST's way for network2.py's files) in a
//! frame of the model's input size (28x28 for 784 inputs).

use std::path::PathBuf;

use std::io::BufReader;

use anyhow::{Context, Result};
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
    // A model that does not read square pictures is refused before the picture is read.
    picture::frame_side(model.network.input_size())
        .with_context(|| format!("cannot use {} on a picture", args.model.display()))?;
    let framing = match args.framing {
        FramingChoice::Model => model.network.framing().unwrap_or(Framing::MNIST),
        FramingChoice::Mnist => Framing::MNIST,
    };
    let file = nn_core::atomic::open_to_read(&args.image)
        .with_context(|| format!("cannot read {}", args.image.display()))?;
    let prediction =
        nn_serve::classify(&model.network, BufReader::new(file), framing).map_err(|e| match e {
            nn_serve::PredictError::Unusable { .. } => {
                anyhow::anyhow!("{}: {e}", args.model.display())
            }
            e => anyhow::Error::new(e).context(format!("cannot read {}", args.image.display())),
        })?;
    let (best, probabilities, how) = (prediction.digit, prediction.probabilities, prediction.how);
    say!("Digit: {best}");
    say!("Probabilities ({how}):");
    for (d, p) in probabilities.iter().enumerate() {
        let p = p.clamp(0.0, 1.0);
        let bar = "#".repeat((p * 40.0).round() as usize);
        say!("  {d}: {p:.4} {bar}");
    }
    Ok(())
}

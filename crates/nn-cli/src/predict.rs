//! `nn predict`: classify pictures of digits, each prepared the way the model's training
//! images framed their digits (see [`nn_data::picture`]; MNIST's way for network2.py's files)
//! in a frame of the model's input size (28x28 for 784 inputs). One picture prints its digit
//! and every class's probability; many (several files, or folders searched for `.png` files)
//! print a line each, or a JSON object each with `--json`, and a summary. A picture that cannot
//! be read is reported and skipped, and makes the command fail at the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use nn_core::{Framing, Network};
use nn_data::picture::{self, ClassifyError, Prediction};
use rayon::prelude::*;

/// Examples shown by `nn predict --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn predict model.json digit.png     prints the digit and the probability of each class
  nn predict model.json a.png b.png scans/
                                      a line per picture (the .png files of scans/ and its
                                      subfolders too) and a summary
  nn predict model.json scans/ --json one JSON object per picture per line:
                                      {\"path\", \"digit\", \"probabilities\"}
A picture that cannot be read gets an error line (and with --json an object {\"path\",
\"error\"}), the others are classified all the same, and nn exits with status 1 at the end.
Any colour of PNG works, up to 50,000 pixels a side and 100,000,000 in all (transparency is
taken as white paper): dark ink on light paper is inverted, the digit is cropped, scaled and
centred as the model's training images framed their digits (measured by `nn train` and kept
in the model). For a model without that record (network2.py's) and with --framing mnist, as
MNIST's digits were: scaled into 20x20 and centred in 28x28 by its centre of mass (for
another square input size, in proportion).";

/// The flags of `nn predict`.
#[derive(Debug, Clone, clap::Args)]
pub struct PredictArgs {
    /// The model: nn's or network2.py's JSON, ONNX or safetensors (told apart by content)
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// Pictures of one handwritten digit each (PNG), and folders whose .png files (in
    /// subfolders too, symbolic links to folders left out) are classified in name order
    #[arg(value_name = "PICTURE", required = true, num_args = 1..)]
    pub pictures: Vec<PathBuf>,
    /// How to frame the digit: as the model's training images did (the model's record, or
    /// MNIST's for a model without one), or as MNIST's digits whatever the model says
    #[arg(long, value_enum, default_value_t = FramingChoice::Model)]
    pub framing: FramingChoice,
    /// One JSON object per picture per line on standard output: `path`, `digit` and
    /// `probabilities` (one per class), or `path` and `error`; the summary goes to standard error
    #[arg(long)]
    pub json: bool,
}

/// Where `nn predict` takes the framing of a picture from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FramingChoice {
    /// The model's record of its training images, MNIST's when it has none.
    Model,
    /// MNIST's: a box of 20/28 of the frame, centred by mass.
    Mnist,
}

/// Pictures prepared and classified at once, on every core, between two checks for Ctrl-C.
const CHUNK: usize = 64;

/// `nn predict` has reported every picture it could not classify on its own `error:` line:
/// the command fails without another message.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} pictures could not be classified")]
pub struct Reported {
    /// The pictures that failed.
    pub failed: usize,
    /// All the pictures.
    pub total: usize,
}

/// Runs `nn predict`.
pub fn run(args: &PredictArgs) -> Result<()> {
    let model = nn_export::load_any(&args.model)?;
    let classifier = Classifier::new(&model.network, &args.model, args.framing)?;
    match args.pictures.as_slice() {
        [one] if !args.json && !one.is_dir() => {
            let prediction = classifier.classify(one)?;
            say!("Digit: {}", prediction.digit);
            say!("Probabilities ({}):", prediction.how);
            for (d, p) in prediction.probabilities.iter().enumerate() {
                let bar = "#".repeat((p * 40.0).round() as usize);
                say!("  {d}: {p:.4} {bar}");
            }
            Ok(())
        }
        _ => batch(&classifier, args),
    }
}

/// Classifies every picture of `args`, one line or JSON object each, then the summary.
fn batch(classifier: &Classifier, args: &PredictArgs) -> Result<()> {
    let pictures = picture::find_pictures(&args.pictures);
    let total = pictures.len();
    let mut failed = 0;
    let mut digits: BTreeMap<usize, usize> = BTreeMap::new();
    for (done, chunk) in pictures.chunks(CHUNK).enumerate() {
        crate::interrupt::check(|| {
            format!("{} of the {total} pictures were classified", done * CHUNK)
        })?;
        let results: Vec<Result<Prediction>> = chunk
            .par_iter()
            .map(|picture| match picture {
                Ok(path) => classifier.classify(path),
                Err(e) => Err(anyhow!("{e:#}")),
            })
            .collect();
        for (picture, result) in chunk.iter().zip(results) {
            let path = match picture {
                Ok(path) | Err(picture::NoPicture { path, .. }) => path,
            };
            match result {
                Ok(prediction) => {
                    *digits.entry(prediction.digit).or_default() += 1;
                    if args.json {
                        say!(
                            "{}",
                            serde_json::json!({
                                "path": path.to_string_lossy(),
                                "digit": prediction.digit,
                                "probabilities": prediction.probabilities,
                            })
                        );
                    } else {
                        say!(
                            "{}: {} ({:.4})",
                            path.display(),
                            prediction.digit,
                            prediction.probabilities[prediction.digit]
                        );
                    }
                }
                Err(e) => {
                    failed += 1;
                    let message = nn_core::error::message_chain(e.as_ref());
                    tell!("error: {message}");
                    if args.json {
                        say!(
                            "{}",
                            serde_json::json!({
                                "path": path.to_string_lossy(),
                                "error": message,
                            })
                        );
                    }
                }
            }
        }
    }
    let counts: Vec<String> = digits.iter().map(|(d, n)| format!("{d}: {n}")).collect();
    let mut summary = format!("Classified {} of {total} pictures", total - failed);
    if failed > 0 {
        summary.push_str(&format!(" ({failed} could not be read)"));
    }
    if !counts.is_empty() {
        summary.push_str(&format!("; digits {}", counts.join(", ")));
    }
    if args.json {
        tell!("{summary}");
    } else {
        say!("{summary}");
    }
    if failed > 0 {
        return Err(Reported { failed, total }.into());
    }
    Ok(())
}

/// A model ready to classify pictures.
struct Classifier<'m> {
    network: &'m Network,
    model_path: &'m Path,
    framing: Framing,
}

impl<'m> Classifier<'m> {
    fn new(network: &'m Network, model_path: &'m Path, choice: FramingChoice) -> Result<Self> {
        picture::frame_side(network.input_size())
            .with_context(|| format!("cannot use {} on a picture", model_path.display()))?;
        let framing = match choice {
            FramingChoice::Model => network.framing().unwrap_or(Framing::MNIST),
            FramingChoice::Mnist => Framing::MNIST,
        };
        Ok(Self {
            network,
            model_path,
            framing,
        })
    }

    /// Prepares the picture at `path` and classifies it.
    fn classify(&self, path: &Path) -> Result<Prediction> {
        let cannot_read = || format!("cannot read {}", path.display());
        let file = nn_core::atomic::open_to_read(path).with_context(cannot_read)?;
        match picture::classify_png(self.network, std::io::BufReader::new(file), self.framing) {
            Ok(prediction) => Ok(prediction),
            Err(ClassifyError::Picture(e)) => Err(anyhow!(e).context(cannot_read())),
            Err(unusable) => bail!(
                "{}: {unusable} ({})",
                self.model_path.display(),
                path.display()
            ),
        }
    }
}

//! `nn predict`: classify pictures of digits, each prepared the way the model's training
//! images framed their digits (see [`nn_data::picture`]; MNIST's way for network2.py's files)
//! in a frame of the model's input size (28x28 for 784 inputs). One picture prints its digit
//! and every class's probability; many (several files, or folders searched for `.png` files)
//! print a line each, or a JSON object each with `--json`, and a summary. A picture that cannot
//! be read is reported and skipped, and makes the command fail at the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use nn_core::{Framing, Network, load_model};
use nn_data::picture;
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
    /// The model (saved by `nn train --save` or by network2.py)
    #[arg(value_name = "MODEL.json")]
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
    let model = load_model(&args.model)?;
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
    let pictures = gather(&args.pictures);
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
                Ok(path) | Err(Gathered { path, .. }) => path,
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

/// A place that yields no picture: a folder that cannot be read or holds no `.png` file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
struct Gathered {
    path: PathBuf,
    problem: String,
}

/// The pictures `paths` name, in order: each file as it is, each folder's `.png` files (any
/// case of the extension; in subfolders too, not through symbolic links to folders, so that
/// no link can make a loop) sorted by name.
fn gather(paths: &[PathBuf]) -> Vec<Result<PathBuf, Gathered>> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(Ok(path.clone()));
            continue;
        }
        let before = out.len();
        walk(path, &mut out);
        if out.len() == before {
            out.push(Err(Gathered {
                path: path.clone(),
                problem: "no .png picture in this folder or its subfolders".to_string(),
            }));
        }
    }
    out
}

/// Appends the `.png` files under `dir` to `out` (see [`gather`]).
fn walk(dir: &Path, out: &mut Vec<Result<PathBuf, Gathered>>) {
    let entries = std::fs::read_dir(dir).and_then(|entries| {
        let mut paths = entries
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<Vec<_>>>()?;
        paths.sort();
        Ok(paths)
    });
    let entries = match entries {
        Ok(entries) => entries,
        Err(e) => {
            out.push(Err(Gathered {
                path: dir.to_path_buf(),
                problem: format!("cannot read this folder: {e}"),
            }));
            return;
        }
    };
    for path in entries {
        let linked_dir = path.is_symlink() && path.is_dir();
        if path.is_dir() && !linked_dir {
            walk(&path, out);
        } else if path.is_file() && is_png(&path) {
            out.push(Ok(path));
        }
    }
}

/// Whether `path` is named as a PNG picture.
fn is_png(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
}

/// A model ready to classify pictures.
struct Classifier<'m> {
    network: &'m Network,
    model_path: &'m Path,
    side: usize,
    framing: Framing,
}

/// The class of one picture.
struct Prediction {
    digit: usize,
    /// Each class's probability, finite and in [0, 1].
    probabilities: Vec<f64>,
    /// What the probabilities are.
    how: &'static str,
}

impl<'m> Classifier<'m> {
    fn new(network: &'m Network, model_path: &'m Path, choice: FramingChoice) -> Result<Self> {
        let side = picture::frame_side(network.input_size())
            .with_context(|| format!("cannot use {} on a picture", model_path.display()))?;
        let framing = match choice {
            FramingChoice::Model => network.framing().unwrap_or(Framing::MNIST),
            FramingChoice::Mnist => Framing::MNIST,
        };
        Ok(Self {
            network,
            model_path,
            side,
            framing,
        })
    }

    /// Prepares the picture at `path` and classifies it.
    fn classify(&self, path: &Path) -> Result<Prediction> {
        let digit = picture::prepare_file(path, self.side, self.framing)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let input: Vec<f32> = digit.pixels().map(|p| f32::from(p[0]) / 255.0).collect();
        let output = self.network.feedforward(&input);
        if let Some(bad) = output.iter().position(|v| !v.is_finite()) {
            bail!(
                "{}: output {bad} of the model is {} for {}; the model is unusable (its \
                 weights are too large)",
                self.model_path.display(),
                output[bad],
                path.display()
            );
        }
        let best = nn_core::argmax(&output);
        let output: Vec<f64> = output.into_iter().map(f64::from).collect();
        let last = self
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
        Ok(Prediction {
            digit: best,
            probabilities: probabilities.iter().map(|p| p.clamp(0.0, 1.0)).collect(),
            how,
        })
    }
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

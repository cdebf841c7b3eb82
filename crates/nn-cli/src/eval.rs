//! `nn eval`: a saved model's accuracy on the test or validation images, its confusion matrix,
//! and a gallery of the digits it gets wrong.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nn_core::{Examples, Network, predicted_class};
use nn_data::ImageSet;
use nn_data::preview::{Tile, image_grid};
use rayon::prelude::*;

use crate::data_source::DataSource;
use crate::digits;
use crate::options::EvalSet;
use nn_train::compose;
use nn_train::destination::{self, Destination};

/// Examples shown by `nn eval --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn eval model.json                         accuracy on the 10,000 test images
  nn eval model.json --set validation --confusion
  nn eval model.json --gallery mistakes.png  the misclassified digits, predicted label in red,
                                             true label in green
  nn eval network2-model.json                files saved by network2.py load too";

/// Colour of the predicted label in the gallery.
const PREDICTED: [u8; 3] = [200, 0, 0];
/// Colour of the true label in the gallery.
const TRUE: [u8; 3] = [0, 140, 0];
/// Digits per row of the gallery.
const GALLERY_COLUMNS: usize = 20;

/// The flags of `nn eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// The model: nn's or network2.py's JSON, ONNX or safetensors (told apart by content)
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// The images to classify
    #[arg(long, value_enum, default_value = "test")]
    pub set: EvalSet,
    /// Print the confusion matrix (rows: true digit, columns: predicted digit)
    #[arg(long)]
    pub confusion: bool,
    /// Draw the misclassified digits into this PNG
    #[arg(long, value_name = "FILE.png")]
    pub gallery: Option<PathBuf>,
    /// Most digits drawn in the gallery
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub gallery_count: usize,
    /// The data set.
    #[command(flatten)]
    pub data: DataSource,
}

/// The predicted class of every image of `set`; `None` where an output of the network is NaN or
/// infinite, so that no class can be read from it.
fn predictions(network: &Network, set: &ImageSet) -> Vec<Option<usize>> {
    (0..set.len())
        .into_par_iter()
        .map_init(
            || vec![0.0; set.input_len()],
            |column, i| {
                set.write_input(i, column);
                predicted_class(&network.feedforward(column))
            },
        )
        .collect()
}

/// Runs `nn eval`.
pub fn run(args: &EvalArgs) -> Result<()> {
    let model = nn_export::load_any(&args.model)?;
    let data = digits::load(&args.data)?;
    let set = match args.set {
        EvalSet::Test => data.splits.test,
        EvalSet::Validation => data.splits.validation,
    };
    compose::check_data(
        &model.network,
        &set,
        &format!("the {} images", args.set.name()),
    )
    .with_context(|| format!("cannot evaluate {}", args.model.display()))?;
    if let Some(path) = &args.gallery {
        let mut inputs = destination::data_files(&data.files);
        inputs.push(args.model.clone());
        let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        destination::check(&[Destination::file("--gallery", path, &["png"])], &inputs)?;
    }
    if set.is_empty() {
        bail!("the {} set holds no images", args.set.name());
    }
    let predicted = predictions(&model.network, &set);
    let classes = set.classes;
    let mut confusion = vec![vec![0usize; classes]; classes];
    for (i, p) in predicted.iter().enumerate() {
        if let (Some(p), Some(row)) = (p, confusion.get_mut(usize::from(set.label(i)))) {
            row[*p] += 1;
        }
    }
    let correct: usize = (0..classes).map(|d| confusion[d][d]).sum();
    let n = set.len();
    let unreadable = predicted.iter().filter(|p| p.is_none()).count();
    if unreadable > 0 {
        tell!(
            "warning: the model's outputs are NaN or infinite for {unreadable} of the {n} images; \
             they count as wrong"
        );
    }
    say!(
        "Accuracy on the {} set: {correct} / {n} ({:.2}%)",
        args.set.name(),
        100.0 * correct as f64 / n as f64
    );
    match compose::cost_of_model(&model.cost) {
        Some(cost) => {
            let e = model.network.evaluate(&set, cost);
            if e.cost_sum.is_finite() {
                say!(
                    "{}: {:.4} per image (without regularization)",
                    cost.name(),
                    e.cost_sum / n as f64
                );
            } else {
                say!("{}: not finite (the outputs overflow)", cost.name());
            }
        }
        None => say!("cost '{}' is unknown: cost not computed", model.cost),
    }
    if args.confusion {
        say!("{}", confusion_table(&confusion).trim_end());
    }
    if let Some(path) = &args.gallery {
        let wrong: Vec<Tile<'_>> = predicted
            .iter()
            .enumerate()
            .filter(|&(i, &p)| p != Some(usize::from(set.label(i))))
            .take(args.gallery_count)
            .map(|(i, &p)| {
                let labels = p.map(|p| (p, PREDICTED)).into_iter();
                let labels = labels.chain([(usize::from(set.label(i)), TRUE)]).collect();
                Tile::of(&set, i, labels)
            })
            .collect();
        image_grid(&wrong, (set.rows, set.cols), GALLERY_COLUMNS, path)?;
        say!(
            "Wrote {} of {} misclassified digits to {} (under each: predicted in red, true in green)",
            wrong.len(),
            n - correct,
            path.display()
        );
    }
    Ok(())
}

/// The confusion matrix as a table: rows true digits, columns predicted digits.
fn confusion_table(confusion: &[Vec<usize>]) -> String {
    let mut out = String::from("Confusion matrix (rows: true digit, columns: predicted digit)\n");
    out.push_str("true\\pred");
    for d in 0..confusion.len() {
        out.push_str(&format!("{d:>6}"));
    }
    out.push_str(" | recall\n");
    for (t, row) in confusion.iter().enumerate() {
        out.push_str(&format!("{t:>9}"));
        for v in row {
            out.push_str(&format!("{v:>6}"));
        }
        let total: usize = row.iter().sum();
        let recall = if total == 0 {
            0.0
        } else {
            100.0 * row[t] as f64 / total as f64
        };
        out.push_str(&format!(" | {recall:5.1}%\n"));
    }
    out
}

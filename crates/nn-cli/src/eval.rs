//! `nn eval`: a saved model's accuracy on the test or validation images, its confusion matrix,
//! and a gallery of the digits it gets wrong.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use image::Rgb;
use nn_core::{Examples, Model, Network, argmax, load_model};
use nn_data::ImageSet;
use rayon::prelude::*;

use crate::compose;
use crate::data_source::DataSource;
use crate::digits::{self, Tile};
use crate::options::EvalSet;

/// Examples shown by `nn eval --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn eval model.json                         accuracy on the 10,000 test images
  nn eval model.json --set validation --confusion
  nn eval model.json --gallery mistakes.png  the misclassified digits, predicted label in red,
                                             true label in green
  nn eval network2-model.json                files saved by network2.py load too";

/// Colour of the predicted label in the gallery.
const PREDICTED: Rgb<u8> = Rgb([200, 0, 0]);
/// Colour of the true label in the gallery.
const TRUE: Rgb<u8> = Rgb([0, 140, 0]);
/// Digits per row of the gallery.
const GALLERY_COLUMNS: usize = 20;

/// The flags of `nn eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// The model (saved by `nn train --save` or by network2.py)
    #[arg(value_name = "MODEL.json")]
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

/// Loads a model and checks that it classifies 28x28 digits into 10 classes.
pub fn load_mnist_model(path: &Path) -> Result<Model> {
    let model = load_model(path)?;
    let sizes = model.network.sizes();
    if model.network.input_size() != 784 || model.network.output_size() != 10 {
        bail!(
            "{}: the model's layers are {}, but MNIST needs an input layer of 784 and an output \
             layer of 10; give a model trained on MNIST",
            path.display(),
            compose::join(sizes)
        );
    }
    Ok(model)
}

/// The predicted class of every image of `set`.
fn predictions(network: &Network, set: &ImageSet) -> Vec<usize> {
    (0..set.len())
        .into_par_iter()
        .map_init(
            || vec![0.0; set.input_len()],
            |column, i| {
                set.write_input(i, column);
                argmax(&network.feedforward(column))
            },
        )
        .collect()
}

/// Runs `nn eval`.
pub fn run(args: &EvalArgs) -> Result<()> {
    if let Some(path) = &args.gallery
        && !path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        bail!(
            "--gallery {}: use a file name ending in .png",
            path.display()
        );
    }
    let model = load_mnist_model(&args.model)?;
    let splits = digits::load(&args.data)?.splits;
    let set = match args.set {
        EvalSet::Test => splits.test,
        EvalSet::Validation => splits.validation,
    };
    let predicted = predictions(&model.network, &set);
    let mut confusion = [[0usize; 10]; 10];
    for (i, &p) in predicted.iter().enumerate() {
        confusion[usize::from(set.label(i))][p] += 1;
    }
    let correct: usize = (0..10).map(|d| confusion[d][d]).sum();
    let n = set.len();
    say!(
        "Accuracy on the {} set: {correct} / {n} ({:.2}%)",
        args.set.name(),
        100.0 * correct as f64 / n as f64
    );
    match compose::cost_of_model(&model.cost) {
        Some(cost) => {
            let e = model.network.evaluate(&set, cost);
            say!(
                "{}: {:.4} per image (without regularization)",
                cost.name(),
                e.cost_sum / n as f64
            );
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
            .filter(|&(i, &p)| p != usize::from(set.label(i)))
            .take(args.gallery_count)
            .map(|(i, &p)| Tile {
                pixels: set.image(i),
                labels: vec![(p as u8, PREDICTED), (set.label(i), TRUE)],
            })
            .collect();
        digits::save_png(
            &digits::grid(&wrong, GALLERY_COLUMNS, (set.rows, set.cols)),
            path,
        )?;
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
fn confusion_table(confusion: &[[usize; 10]; 10]) -> String {
    let mut out = String::from("Confusion matrix (rows: true digit, columns: predicted digit)\n");
    out.push_str("true\\pred");
    for d in 0..10 {
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

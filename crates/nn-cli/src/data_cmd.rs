//! `nn data`: where the MNIST files are and whether they are intact, a preview of the
//! distortions used to expand the training data, and writing an expanded copy of MNIST.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use nn_data::augment::image_rng;
use nn_data::mnist::{TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS, find_file};
use nn_data::{IdxArray, ImageSet, augment_set, verify_dir, write_idx};

use crate::compose::image_transforms;
use crate::digits::{self, Tile};
use crate::options::TransformName;

/// Examples shown by `nn data --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn data info                                  where the files were found, with checksums
  nn data verify --data ~/mnist                 check the files' SHA-256 (non-zero exit if bad)
  nn data preview --out preview.png --transforms rotate,elastic --count 8
  nn data expand --out mnist-expanded --copies 4
  nn train --data mnist-expanded                train on the expanded set";

/// The flags of `nn data`.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// What to do with the data.
    #[command(subcommand)]
    pub action: DataAction,
}

/// The actions of `nn data`.
#[derive(Debug, Clone, Subcommand)]
pub enum DataAction {
    /// Show where the MNIST files were found and their checksums.
    Info(DirArgs),
    /// Check the SHA-256 of each MNIST file against the published values.
    Verify(DirArgs),
    /// Draw training digits beside distorted copies of them.
    Preview(PreviewArgs),
    /// Write MNIST with the training images expanded by distorted copies, as IDX files.
    Expand(ExpandArgs),
}

/// Where the data is.
#[derive(Debug, Clone, clap::Args)]
pub struct DirArgs {
    /// Directory holding the MNIST files [default: $MNIST_DIR, ./data/mnist, ../shared/data/mnist]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

/// The flags of `nn data preview`.
#[derive(Debug, Clone, clap::Args)]
pub struct PreviewArgs {
    /// The PNG to write
    #[arg(long, value_name = "FILE.png")]
    pub out: PathBuf,
    /// Distortions shown, one column each, comma-separated
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "TRANSFORMS",
        default_value = "shift,rotate,skew,elastic"
    )]
    pub transforms: Vec<TransformName>,
    /// Number of digits (rows)
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub count: usize,
    /// Seed of the distortions
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Directory holding the MNIST files
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

/// The flags of `nn data expand`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExpandArgs {
    /// Directory to write the expanded MNIST files into
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Distortions drawn from for each copy, comma-separated
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "TRANSFORMS",
        default_value = "shift,rotate,skew,elastic"
    )]
    pub transforms: Vec<TransformName>,
    /// Distorted copies of each of the 50,000 training images
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub copies: usize,
    /// Seed of the distortions
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Directory holding the MNIST files
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

/// Runs `nn data`.
pub fn run(args: &DataArgs) -> Result<()> {
    match &args.action {
        DataAction::Info(a) => info(a.data.as_deref()),
        DataAction::Verify(a) => verify(a.data.as_deref()),
        DataAction::Preview(a) => preview(a),
        DataAction::Expand(a) => expand(a),
    }
}

fn info(data: Option<&Path>) -> Result<()> {
    let location = digits::locate(data)?;
    say!(
        "MNIST found in {} (source: {:?})",
        location.dir.display(),
        location.source
    );
    for report in verify_dir(&location.dir)? {
        say!(
            "  {}: sha256 {} ({})",
            report.path.display(),
            report.sha256,
            if report.ok { "ok" } else { "MISMATCH" }
        );
    }
    Ok(())
}

fn verify(data: Option<&Path>) -> Result<()> {
    let location = digits::locate(data)?;
    let reports = verify_dir(&location.dir)?;
    for report in &reports {
        if report.ok {
            say!("ok        {}  {}", report.sha256, report.path.display());
        } else {
            say!(
                "MISMATCH  {}  {} (expected {})",
                report.sha256,
                report.path.display(),
                report.expected
            );
        }
    }
    let bad: Vec<String> = reports
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.path.display().to_string())
        .collect();
    if !bad.is_empty() {
        bail!(
            "{} does not match the published SHA-256; replace it with a fresh copy of MNIST",
            bad.join(", ")
        );
    }
    say!("All {} files match the published checksums", reports.len());
    Ok(())
}

fn preview(args: &PreviewArgs) -> Result<()> {
    if args.count == 0 {
        bail!("--count 0: show at least 1 digit");
    }
    let (_, splits) = digits::load(args.data.as_deref())?;
    let set = digits::first(&splits.training, Some(args.count), "--count")?;
    let transforms = image_transforms(&args.transforms);
    let n = set.image_len();
    let mut distorted = vec![0u8; n * set.len() * transforms.len()];
    for (k, chunk) in distorted.chunks_mut(n).enumerate() {
        let (i, t) = (k / transforms.len(), k % transforms.len());
        let mut rng = image_rng(args.seed, k);
        transforms[t].apply(set.image(i), set.rows, set.cols, &mut rng, chunk);
    }
    let mut tiles = Vec::new();
    for i in 0..set.len() {
        tiles.push(Tile {
            pixels: set.image(i),
            labels: Vec::new(),
        });
        for t in 0..transforms.len() {
            let k = i * transforms.len() + t;
            tiles.push(Tile {
                pixels: &distorted[k * n..(k + 1) * n],
                labels: Vec::new(),
            });
        }
    }
    digits::save_png(&digits::grid(&tiles, transforms.len() + 1), &args.out)?;
    let names: Vec<String> = transforms.iter().map(|t| t.describe()).collect();
    say!(
        "Wrote {}: {} digits (rows); columns: original, {}",
        args.out.display(),
        set.len(),
        names.join(", ")
    );
    Ok(())
}

fn expand(args: &ExpandArgs) -> Result<()> {
    let (location, splits) = digits::load(args.data.as_deref())?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let transforms = image_transforms(&args.transforms);
    let training = &splits.training;
    let mut images = training.pixels.clone();
    let mut labels = training.labels.clone();
    let mut copy = training.empty_like();
    for k in 0..args.copies {
        let seed = args
            .seed
            .wrapping_add((k as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
        augment_set(training, &transforms, 0.0, seed, &mut copy);
        images.extend_from_slice(&copy.pixels);
        labels.extend_from_slice(&copy.labels);
    }
    let ImageSet {
        pixels,
        labels: validation_labels,
        ..
    } = &splits.validation;
    images.extend_from_slice(pixels);
    labels.extend_from_slice(validation_labels);
    let total = labels.len();
    let out = |name: &str| args.out.join(format!("{name}.gz"));
    write_idx(
        &out(TRAIN_IMAGES.name),
        &IdxArray {
            dims: vec![total, training.rows, training.cols],
            data: images,
        },
        true,
    )?;
    write_idx(
        &out(TRAIN_LABELS.name),
        &IdxArray {
            dims: vec![total],
            data: labels,
        },
        true,
    )?;
    for file in [TEST_IMAGES, TEST_LABELS] {
        let source = find_file(&location.dir, &file)
            .with_context(|| format!("{} is missing from {}", file.name, location.dir.display()))?;
        let name = source
            .file_name()
            .context("an MNIST file always has a name")?;
        let target = args.out.join(name);
        if target.exists() {
            std::fs::remove_file(&target)
                .with_context(|| format!("cannot replace {}", target.display()))?;
        }
        std::fs::copy(&source, &target).with_context(|| {
            format!("cannot copy {} to {}", source.display(), args.out.display())
        })?;
    }
    say!(
        "Wrote {}: {} training images ({} originals + {} x {} distorted copies) followed by the \
         {} validation images, and the test images; train on it with nn train --data {}",
        args.out.display(),
        total - splits.validation.len(),
        training.len(),
        args.copies,
        training.len(),
        splits.validation.len(),
        args.out.display()
    );
    Ok(())
}

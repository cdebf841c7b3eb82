//! `nn data`: where the data set's files are and what they are (MNIST's, another IDX set, or
//! broken), a preview of the distortions used to expand the training data, and writing an
//! expanded copy of the set.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use nn_data::mnist::{TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};
use nn_data::{
    FileReport, FileStatus, IdxArray, ImageSet, MAX_PAYLOAD_BYTES, default_holdout,
    expand_by_copies, preview_grid, verify_files, write_idx,
};

use crate::data_source::DataSource;
use crate::digits;
use crate::interrupt;
use crate::options::TransformName;
use nn_train::compose::image_transforms;
use nn_train::destination::{self, Destination};

/// Examples shown by `nn data --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn data info                                  where the files were found, with checksums
  nn data verify --data ~/mnist                 is each file MNIST's, another IDX file, or broken?
  nn data info --train-images emnist/emnist-letters-train-images-idx3-ubyte.gz \\
      --train-labels emnist/emnist-letters-train-labels-idx1-ubyte.gz \\
      --test-images emnist/emnist-letters-test-images-idx3-ubyte.gz \\
      --test-labels emnist/emnist-letters-test-labels-idx1-ubyte.gz
  nn data preview --out preview.png --transforms rotate,elastic --count 8
  nn data expand --out mnist-expanded --copies 4
  nn train --data mnist-expanded --holdout 10000   train on it, validating on MNIST's 10,000";

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
    /// Show where the data set's files are, their checksums, sizes and classes.
    Info(DataSource),
    /// Check every file: MNIST's (published SHA-256), another valid IDX set, or broken.
    Verify(DataSource),
    /// Draw training images beside distorted copies of them.
    Preview(PreviewArgs),
    /// Write the data set with the training images expanded by distorted copies, as IDX files.
    Expand(ExpandArgs),
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
    /// Number of images (rows)
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub count: usize,
    /// Seed of the distortions
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The data set.
    #[command(flatten)]
    pub data: DataSource,
}

/// The flags of `nn data expand`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExpandArgs {
    /// Directory to write the expanded set into (MNIST's file names); never the data's own
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
    /// Distorted copies of each training image (MNIST: of the 50,000 not held out)
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub copies: usize,
    /// Seed of the distortions
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The data set.
    #[command(flatten)]
    pub data: DataSource,
}

/// Runs `nn data`.
pub fn run(args: &DataArgs) -> Result<()> {
    match &args.action {
        DataAction::Info(source) => info(source),
        DataAction::Verify(source) => verify(source),
        DataAction::Preview(a) => preview(a),
        DataAction::Expand(a) => expand(a),
    }
}

/// `N x rows x cols`.
fn dims_text(dims: &[usize]) -> String {
    dims.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" x ")
}

/// One line on a file: what it is, its SHA-256 and its path.
fn report_line(report: &FileReport) -> String {
    let sha = report.sha256.as_deref().unwrap_or("-");
    let path = report.path.display();
    match &report.status {
        FileStatus::Mnist => format!("ok         {sha}  {path}"),
        FileStatus::Other { dims } => format!(
            "not MNIST  {sha}  {path} ({}; MNIST's {} has SHA-256 {})",
            dims_text(dims),
            report.name,
            report.expected
        ),
        FileStatus::Broken(e) => format!("broken     {sha}  {e}"),
    }
}

/// The set's sizes in one line, e.g. `50000 training images of 28x28 pixels, ...`.
fn summary(data: &digits::DataSet) -> String {
    let s = &data.splits;
    format!(
        "{} training images of {}x{} pixels (the last {} held out for validation), {} test \
         images, {} classes",
        data.training_file_len,
        s.training.rows,
        s.training.cols,
        data.holdout,
        s.test.len(),
        s.training.classes
    )
}

fn info(source: &DataSource) -> Result<()> {
    let located = source.locate()?;
    say!("Data set: {}", located.origin);
    for report in verify_files(&located.files) {
        say!("  {}", report_line(&report));
    }
    let data = digits::load(source)?;
    say!("  {}", summary(&data));
    Ok(())
}

fn verify(source: &DataSource) -> Result<()> {
    let located = source.locate()?;
    let reports = verify_files(&located.files);
    for report in &reports {
        say!("{}", report_line(report));
    }
    let paths = |keep: fn(&FileReport) -> bool| {
        reports
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.path.display().to_string())
            .collect::<Vec<_>>()
    };
    let broken = paths(|r| matches!(r.status, FileStatus::Broken(_)));
    if !broken.is_empty() {
        bail!(
            "{} of the 4 files cannot be used: {} (see above)",
            broken.len(),
            broken.join(", ")
        );
    }
    let mnist = paths(FileReport::is_mnist);
    if mnist.len() == reports.len() {
        say!("All 4 files match MNIST's published checksums");
        return Ok(());
    }
    if !mnist.is_empty() {
        let other = paths(|r| !r.is_mnist());
        bail!(
            "{} {} not match MNIST's published SHA-256 while {} {}: replace {} with a fresh \
             copy of MNIST",
            other.join(", "),
            if other.len() == 1 { "does" } else { "do" },
            mnist.join(", "),
            if mnist.len() == 1 {
                "is MNIST's"
            } else {
                "are MNIST's"
            },
            if other.len() == 1 { "it" } else { "them" }
        );
    }
    let data = digits::load(source)?;
    say!(
        "These are not the MNIST files (none matches MNIST's published SHA-256) but a valid IDX \
         data set: {}",
        summary(&data)
    );
    Ok(())
}

fn preview(args: &PreviewArgs) -> Result<()> {
    if args.count == 0 {
        bail!("--count 0: show at least 1 image");
    }
    let data = digits::load(&args.data)?;
    let inputs = destination::data_files(&data.files);
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    destination::check(&[Destination::file("--out", &args.out, &["png"])], &inputs)?;
    let available = data.splits.training.len();
    if args.count > available {
        bail!(
            "--count {}: only {available} images are available; use at most {available}",
            args.count
        );
    }
    let set = data.splits.training.subset(..args.count);
    let transforms = image_transforms(&args.transforms);
    preview_grid(&set, set.len(), &transforms, args.seed, &args.out)?;
    let names: Vec<String> = transforms.iter().map(|t| t.describe()).collect();
    say!(
        "Wrote {}: {} images of {}x{} pixels (rows); columns: original, {}",
        args.out.display(),
        set.len(),
        set.rows,
        set.cols,
        names.join(", ")
    );
    Ok(())
}

/// Refuses an output directory that is, or resolves to, a directory holding an input file
/// (where it is named, or where a symbolic link of that name leads), or an input file itself:
/// writing there could replace the data being expanded.
fn check_out_dir(out: &Path, inputs: &[&Path]) -> Result<()> {
    for input in inputs {
        let named_in = match input.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let lives_in = input.canonicalize().ok();
        let lives_in = lives_in.as_deref().and_then(Path::parent);
        if destination::same_place(out, input)
            || destination::same_place(out, named_in)
            || lives_in.is_some_and(|dir| destination::same_place(out, dir))
        {
            bail!(
                "--out {}: that is where the data is read from ({}); write the expanded set into \
                 another directory",
                out.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// Copies `source` to `target` atomically (temporary file, fsync, rename).
fn copy_atomically(source: &Path, target: &Path) -> Result<()> {
    let mut input = nn_core::atomic::open_to_read(source)
        .with_context(|| format!("cannot read {}", source.display()))?;
    nn_core::atomic::write_with(target, |file| io::copy(&mut input, file).map(|_| ()))
        .with_context(|| format!("cannot copy {} to {}", source.display(), target.display()))
}

/// Refuses, before any copy is made, `copies` distorted copies of `training` that would make
/// the expanded training file (the originals, the copies, then `validation`) hold more than
/// [`MAX_PAYLOAD_BYTES`] of pixels: no IDX reader would take it, and the copies are kept in
/// memory until it is written.
fn check_expanded_size(training: &ImageSet, validation: &ImageSet, copies: usize) -> Result<()> {
    let bytes_of = |set: &ImageSet| set.pixels.len() as u64;
    let (once, kept) = (bytes_of(training), bytes_of(validation));
    let bytes = (copies as u64)
        .checked_add(1)
        .and_then(|n| n.checked_mul(once))
        .and_then(|b| b.checked_add(kept));
    if bytes.is_none_or(|b| b > MAX_PAYLOAD_BYTES) {
        let most = (MAX_PAYLOAD_BYTES.saturating_sub(kept) / once.max(1)).saturating_sub(1);
        bail!(
            "--copies {copies}: the expanded training file would hold {} bytes of pixels, more \
             than the limit of {MAX_PAYLOAD_BYTES} for an IDX file; use at most {most} copies",
            bytes.map_or_else(|| format!("more than {}", u64::MAX), |b| b.to_string())
        );
    }
    Ok(())
}

fn expand(args: &ExpandArgs) -> Result<()> {
    let located = args.data.locate()?;
    let files = &located.files;
    check_out_dir(
        &args.out,
        &[
            &files.train_images,
            &files.train_labels,
            &files.test_images,
            &files.test_labels,
        ],
    )?;
    let data = digits::load(&args.data)?;
    let splits = &data.splits;
    let training = &splits.training;
    check_expanded_size(training, &splits.validation, args.copies)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let _lock = destination::lock(&[Destination::dir("--out", &args.out)])?;
    let transforms = image_transforms(&args.transforms);
    let ImageSet {
        pixels: mut images,
        mut labels,
        ..
    } = expand_by_copies(training, &transforms, args.copies, args.seed)?;
    // Once the first file is written, all four are, so that the set is complete or absent.
    interrupt::check(|| {
        format!(
            "interrupted before the expanded set was written; nothing in {} was changed",
            args.out.display()
        )
    })?;
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
    for (source, file) in [
        (&files.test_images, TEST_IMAGES),
        (&files.test_labels, TEST_LABELS),
    ] {
        // The bytes are kept as they are, so MNIST's test files still verify; the name says
        // whether they are compressed.
        let gzip = source.extension().is_some_and(|e| e == "gz");
        let name = if gzip {
            format!("{}.gz", file.name)
        } else {
            file.name.to_string()
        };
        let other = if gzip {
            file.name.to_string()
        } else {
            format!("{}.gz", file.name)
        };
        copy_atomically(source, &args.out.join(name))?;
        // A stale copy under the other spelling would be found first or second: remove it.
        let stale = args.out.join(other);
        if stale.is_file() {
            std::fs::remove_file(&stale)
                .with_context(|| format!("cannot remove the stale {}", stale.display()))?;
        }
    }
    let holdout = data.holdout;
    let holdout_flag = if default_holdout(total) == holdout {
        String::new()
    } else {
        format!(" --holdout {holdout}")
    };
    say!(
        "Wrote {}: {} training images ({} originals + {} x {} distorted copies) followed by the \
         {holdout} held-out images, and the test images; train on it with nn train --data {}{}",
        args.out.display(),
        total - holdout,
        training.len(),
        args.copies,
        training.len(),
        args.out.display(),
        holdout_flag
    );
    interrupt::check(|| {
        "the signal came while the expanded set was written; it was written completely".to_string()
    })?;
    Ok(())
}

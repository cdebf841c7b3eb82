//! The three ways of making an offline expansion give the same images, byte for byte, for the
//! same seed and distortions: `nn data expand` (written to IDX files), `nn train --expand
//! --expand-copies N` (nn-train's `compose::expansion`, i.e. nn-data's
//! `DataExpansion::offline`) and nn-data's `expand_by_copies`. Checked on 600 MNIST digits
//! (500 expanded, the last 100 held out) with every distortion `nn` knows.

mod common;

use common::{data_dir, ok, run};

use nn_data::{IdxArray, ImageSet, expand_by_copies, load_image_set, write_idx};
use nn_train::compose::{expansion, image_transforms};
use nn_train::{RunOptions, TransformName};
use tempfile::TempDir;

const IMAGES: usize = 600;
/// A sixth of a set that is not MNIST's 60,000 images is held out.
const TRAINING: usize = IMAGES - IMAGES / 6;
const COPIES: usize = 2;
const SEED: u64 = 23;

/// The first `IMAGES` MNIST training digits, written in `dir` under MNIST's file names (the
/// test files are the same digits: `nn data expand` only copies them).
fn digits(dir: &std::path::Path) -> ImageSet {
    let mnist = data_dir();
    let set = load_image_set(
        &mnist.join("train-images-idx3-ubyte.gz"),
        &mnist.join("train-labels-idx1-ubyte.gz"),
    )
    .unwrap()
    .subset(..IMAGES);
    std::fs::create_dir_all(dir).unwrap();
    for prefix in ["train", "t10k"] {
        let images = IdxArray {
            dims: vec![IMAGES, set.rows, set.cols],
            data: set.pixels.clone(),
        };
        let labels = IdxArray {
            dims: vec![IMAGES],
            data: set.labels.clone(),
        };
        write_idx(
            &dir.join(format!("{prefix}-images-idx3-ubyte.gz")),
            &images,
            true,
        )
        .unwrap();
        write_idx(
            &dir.join(format!("{prefix}-labels-idx1-ubyte.gz")),
            &labels,
            true,
        )
        .unwrap();
    }
    set
}

#[test]
fn nn_data_expand_nn_train_and_the_library_make_the_same_images_for_a_seed() {
    let tmp = TempDir::new().unwrap();
    let set = digits(&tmp.path().join("set"));
    let names = [
        TransformName::Shift,
        TransformName::Rotate,
        TransformName::Skew,
        TransformName::Scale,
        TransformName::Elastic,
        TransformName::AffineElastic,
    ];
    ok(run(
        tmp.path(),
        &[
            "data",
            "expand",
            "--data",
            "set",
            "--out",
            "expanded",
            "--copies",
            &COPIES.to_string(),
            "--seed",
            &SEED.to_string(),
            "--transforms",
            "shift,rotate,skew,scale,elastic,affine-elastic",
        ],
    ));
    let out = tmp.path().join("expanded");
    let written = load_image_set(
        &out.join("train-images-idx3-ubyte.gz"),
        &out.join("train-labels-idx1-ubyte.gz"),
    )
    .unwrap();
    let training = set.subset(..TRAINING);
    let expanded = (1 + COPIES) * TRAINING;
    assert_eq!(written.len(), expanded + (IMAGES - TRAINING));
    // The held-out digits follow the copies unchanged.
    assert_eq!(
        written.subset(expanded..).pixels,
        set.subset(TRAINING..).pixels
    );
    let written = written.subset(..expanded);

    let library = expand_by_copies(&training, &image_transforms(&names), COPIES, SEED).unwrap();

    let options = RunOptions {
        expand: names.to_vec(),
        expand_copies: Some(COPIES),
        seed: SEED,
        ..RunOptions::default()
    };
    let mut trainer_side = expansion(&options, &training)
        .unwrap()
        .expect("--expand given");
    let examples = trainer_side.epoch_examples(0, SEED, &training).unwrap();
    let trained_on = examples
        .as_any()
        .and_then(|e| e.downcast_ref::<ImageSet>())
        .expect("an offline expansion trains on images");

    for (what, set) in [("expand_by_copies", &library), ("nn train", trained_on)] {
        assert_eq!(set.labels, written.labels, "{what}: labels");
        let pixels = training.rows * training.cols;
        let first_difference = (0..expanded).find(|&i| {
            set.pixels[i * pixels..(i + 1) * pixels] != written.pixels[i * pixels..(i + 1) * pixels]
        });
        assert_eq!(
            first_difference, None,
            "{what}: first image unlike nn data expand's"
        );
    }
    // The copies are distortions, not the originals again.
    for k in 1..=COPIES {
        let copy = written.subset(k * TRAINING..(k + 1) * TRAINING);
        assert_ne!(copy.pixels, training.pixels, "copy {k}");
    }
}

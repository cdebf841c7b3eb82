//! Artificial expansion of the training data: the book's 5x shifts, k distorted copies, and
//! fresh distortions every epoch.

use std::sync::OnceLock;

use nn_core::{EpochTransform, Examples};
use nn_data::{
    DataError, DataExpansion, Elastic, ImageSet, ImageTransform, RandomRotation, RandomShift,
    load_splits,
};

fn images(n: usize) -> ImageSet {
    static DATA: OnceLock<ImageSet> = OnceLock::new();
    DATA.get_or_init(|| {
        load_splits(nn_testdata::mnist_dir(), None)
            .expect("MNIST loads")
            .training
            .subset(..1000)
    })
    .subset(..n)
}

/// Every input of a set, one example after the other.
fn inputs(set: &dyn Examples) -> Vec<Vec<f32>> {
    (0..set.len())
        .map(|i| {
            let mut x = vec![0.0; set.input_len()];
            set.write_input(i, &mut x);
            x
        })
        .collect()
}

fn distortions() -> Vec<Box<dyn ImageTransform>> {
    vec![
        Box::new(Elastic::default()),
        Box::new(RandomRotation::default()),
    ]
}

#[test]
fn offline_shifts_give_five_times_the_examples() {
    let base = images(50);
    let mut expansion = DataExpansion::offline_shifts(&base);
    let expanded = expansion.epoch_examples(0, 1, &base).unwrap();
    assert_eq!(expanded.len(), 5 * base.len());
    let (original, grown) = (inputs(&base), inputs(expanded));
    for i in 0..base.len() {
        assert_eq!(grown[5 * i], original[i]);
        for k in 1..5 {
            assert_eq!(expanded.class(5 * i + k), base.class(i));
            assert_ne!(grown[5 * i + k], original[i], "image {i}, shift {k}");
        }
    }
    // Offline means the same set every epoch.
    let again = inputs(expansion.epoch_examples(7, 99, &base).unwrap());
    assert_eq!(again, grown);
    assert_eq!(
        expansion.describe(),
        "offline shifts(1px, 5x)",
        "{expansion:?}"
    );
}

#[test]
fn offline_copies_follow_the_originals() {
    let base = images(40);
    let mut expansion = DataExpansion::offline(&base, &distortions(), 2, 5).unwrap();
    let expanded = inputs(expansion.epoch_examples(0, 0, &base).unwrap());
    let original = inputs(&base);
    assert_eq!(expanded.len(), 3 * base.len());
    assert_eq!(&expanded[..base.len()], &original[..]);
    for copy in 1..3 {
        let start = copy * base.len();
        let changed = (0..base.len())
            .filter(|&i| expanded[start + i] != original[i])
            .count();
        assert!(changed >= base.len() - 1, "copy {copy}: {changed} changed");
    }
    assert_ne!(
        &expanded[base.len()..2 * base.len()],
        &expanded[2 * base.len()..]
    );
    assert!(matches!(
        DataExpansion::offline(&base, &[], 2, 5).unwrap_err(),
        DataError::NoTransforms
    ));
}

#[test]
fn fresh_distortions_change_every_epoch_and_repeat_with_the_seed() {
    let base = images(200);
    let original = inputs(&base);
    let mut expansion = DataExpansion::fresh(distortions(), 0.25).unwrap();
    let first = inputs(expansion.epoch_examples(0, 11, &base).unwrap());
    let second = inputs(expansion.epoch_examples(1, 12, &base).unwrap());
    assert_eq!(first.len(), base.len());
    assert_ne!(first, second);
    assert_eq!(
        inputs(expansion.epoch_examples(0, 11, &base).unwrap()),
        first
    );
    let mut other = DataExpansion::fresh(distortions(), 0.25).unwrap();
    assert_eq!(inputs(other.epoch_examples(5, 11, &base).unwrap()), first);
    // About a quarter of the images are the originals, the rest distorted.
    let kept = first.iter().zip(&original).filter(|(a, b)| a == b).count();
    assert!((30..=70).contains(&kept), "kept {kept} of 200");
    // keep_original = 1 trains on the base set itself.
    let mut none = DataExpansion::fresh(distortions(), 1.0).unwrap();
    assert_eq!(inputs(none.epoch_examples(0, 3, &base).unwrap()), original);
    assert!(expansion.describe().starts_with("fresh elastic("));
}

#[test]
fn fresh_expansion_validates_its_mix() {
    let err = DataExpansion::fresh(distortions(), 1.5).unwrap_err();
    assert!(
        matches!(err, DataError::KeepOriginal { fraction: 1.5 }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "fraction of original images 1.5 must be in [0, 1]"
    );
    assert!(DataExpansion::fresh(distortions(), f32::NAN).is_err());
    assert_eq!(
        DataExpansion::fresh(Vec::new(), 0.5)
            .unwrap_err()
            .to_string(),
        "data expansion needs at least one image transform"
    );
}

#[test]
fn shift_transform_mixes_with_others() {
    let base = images(100);
    let mix: Vec<Box<dyn ImageTransform>> = vec![
        Box::new(RandomShift::default()),
        Box::new(Elastic::default()),
    ];
    let mut expansion = DataExpansion::fresh(mix, 0.0).unwrap();
    let distorted = inputs(expansion.epoch_examples(0, 4, &base).unwrap());
    let original = inputs(&base);
    let changed = distorted
        .iter()
        .zip(&original)
        .filter(|(a, b)| a != b)
        .count();
    // A shift by (0, 0) leaves an image as it was: 1 in 25 of the shifted half.
    assert!(changed >= 90, "only {changed} of 100 distorted");
}

#[test]
fn fresh_distortions_are_drawn_from_the_set_given_and_refuse_data_that_are_not_images() {
    let (first, second) = (images(30), images(50));
    let mut expansion = DataExpansion::fresh(distortions(), 0.0).unwrap();
    assert_eq!(expansion.epoch_examples(0, 3, &first).unwrap().len(), 30);
    assert_eq!(expansion.epoch_examples(1, 3, &second).unwrap().len(), 50);
    let dense = nn_core::DenseExamples::classification(vec![vec![0.0; 4]; 3], vec![0, 1, 0], 2);
    let Err(error) = expansion.epoch_examples(2, 3, &dense) else {
        panic!("dense examples were expanded as images");
    };
    assert!(
        matches!(&error, nn_core::TrainError::TransformInput { needs, .. } if needs.contains("ImageSet")),
        "{error:?}"
    );
}

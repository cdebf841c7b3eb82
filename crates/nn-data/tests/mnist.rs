//! The real MNIST files (found as `nn` finds them) and a synthetic 8x8 set written, read back
//! and used end to end.

use std::path::Path;

use nn_core::Examples;
use nn_data::idx::{IdxArray, read_idx, write_idx};
use nn_data::mnist::{load_test, load_training};
use nn_data::{
    DataError, FileStatus, IdxFiles, ImageSet, default_holdout, load_data_set, load_image_set,
    load_splits, verify_dir, verify_files,
};
use nn_testdata::mnist_dir;

#[test]
fn first_labels_of_each_file() {
    let train = load_training(mnist_dir()).unwrap();
    assert_eq!(train.len(), 60_000);
    assert_eq!((train.rows, train.cols), (28, 28));
    assert_eq!(train.labels[..8], [5, 0, 4, 1, 9, 2, 1, 3]);
    let test = load_test(mnist_dir()).unwrap();
    assert_eq!(test.len(), 10_000);
    assert_eq!(test.labels[..8], [7, 2, 1, 0, 4, 1, 4, 9]);
    assert_eq!(test.class_counts().iter().sum::<usize>(), 10_000);
}

#[test]
fn book_split_and_custom_validation_sizes() {
    let splits = load_splits(mnist_dir(), None).unwrap();
    assert_eq!(splits.training.len(), 50_000);
    assert_eq!(splits.validation.len(), 10_000);
    assert_eq!(splits.test.len(), 10_000);
    assert_eq!(splits.training.labels[..3], [5, 0, 4]);
    let full = load_training(mnist_dir()).unwrap();
    assert_eq!(splits.validation.image(0), full.image(50_000));

    let custom = load_splits(mnist_dir(), Some(5_000)).unwrap();
    assert_eq!(
        (custom.training.len(), custom.validation.len()),
        (55_000, 5_000)
    );
    let err = load_splits(mnist_dir(), Some(60_000)).unwrap_err();
    assert!(matches!(err, DataError::BadSplit { .. }), "{err}");
}

#[test]
fn pixels_are_in_unit_range() {
    let test = load_test(mnist_dir()).unwrap();
    let mut column = vec![0.0f32; test.input_len()];
    let (mut lo, mut hi) = (f32::MAX, f32::MIN);
    for i in 0..test.len() {
        test.write_input(i, &mut column);
        for &x in &column {
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    assert_eq!((lo, hi), (0.0, 1.0));
    assert_eq!(test.output_len(), 10);
}

#[test]
fn shared_copy_verifies() {
    let reports = verify_dir(mnist_dir()).unwrap();
    assert_eq!(reports.len(), 4);
    assert!(reports.iter().all(|r| r.is_mnist()), "{reports:?}");
}

#[test]
fn synthetic_8x8_set_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let n = 40;
    let images = IdxArray {
        dims: vec![n, 8, 8],
        data: (0..n * 64).map(|i| (i * 7 % 256) as u8).collect(),
    };
    let labels = IdxArray {
        dims: vec![n],
        data: (0..n).map(|i| (i % 10) as u8).collect(),
    };
    let (ip, lp) = (dir.path().join("img.gz"), dir.path().join("lab"));
    write_idx(&ip, &images, true).unwrap();
    write_idx(&lp, &labels, false).unwrap();
    assert_eq!(read_idx(&ip).unwrap(), images);

    let set = load_image_set(&ip, &lp).unwrap();
    assert_eq!((set.len(), set.input_len(), set.output_len()), (n, 64, 10));
    let mut x = vec![0.0; 64];
    set.write_input(3, &mut x);
    assert_eq!(x[1], f32::from(images.data[3 * 64 + 1]) / 255.0);
    let mut y = vec![0.0; 10];
    set.write_target(13, &mut y);
    assert_eq!(y[3], 1.0);
    assert_eq!(set.class(13), Some(3));
    let few = set.few_shot(1, 3);
    assert_eq!(few.len(), 10);
    let mut sorted = few.labels.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..10).collect::<Vec<u8>>());

    let bad = ImageSet::from_idx(
        images,
        IdxArray {
            dims: vec![1],
            data: vec![0],
        },
        ("i", "l"),
    );
    assert!(matches!(bad, Err(DataError::CountMismatch { .. })));
}

/// Writes a set of `n` images of `rows x cols` with labels `label(i)` as MNIST-named files in
/// `dir`: training when `train`, else test.
fn write_set(
    dir: &Path,
    train: bool,
    n: usize,
    shape: (usize, usize),
    label: impl Fn(usize) -> u8,
) {
    let (images, labels) = if train {
        ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
    } else {
        ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte")
    };
    let len = n * shape.0 * shape.1;
    write_idx(
        &dir.join(images),
        &IdxArray {
            dims: vec![n, shape.0, shape.1],
            data: (0..len).map(|i| (i * 31 % 256) as u8).collect(),
        },
        true,
    )
    .unwrap();
    write_idx(
        &dir.join(labels),
        &IdxArray {
            dims: vec![n],
            data: (0..n).map(label).collect(),
        },
        labels.ends_with(".gz"),
    )
    .unwrap();
}

#[test]
fn any_idx_set_loads_with_the_classes_of_its_training_labels() {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), true, 60, (5, 7), |i| (i % 4) as u8);
    write_set(dir.path(), false, 12, (5, 7), |i| (i % 3) as u8);
    let files = IdxFiles::in_dir(dir.path()).unwrap();
    let (training, test) = load_data_set(&files).unwrap();
    assert_eq!((training.rows, training.cols, training.classes), (5, 7, 4));
    assert_eq!(test.classes, 4, "the test set shares the training classes");
    assert_eq!(test.output_len(), 4);

    let splits = load_splits(dir.path(), None).unwrap();
    assert_eq!((splits.training.len(), splits.validation.len()), (50, 10));
    assert_eq!(splits.validation.image(0), training.image(50));
    assert_eq!(default_holdout(60_000), 10_000);
    assert_eq!(default_holdout(1_500), 250);
    for holdout in [0, 60] {
        let err = load_splits(dir.path(), Some(holdout)).unwrap_err();
        assert!(matches!(err, DataError::BadSplit { .. }), "{err}");
        assert!(err.to_string().contains("at most 59"), "{err}");
    }

    // Files that are not MNIST's are reported as such, each with its dimensions.
    let reports = verify_files(&files);
    assert_eq!(reports.len(), 4);
    assert!(
        reports
            .iter()
            .all(|r| matches!(r.status, FileStatus::Other { .. }) && r.sha256.is_some()),
        "{reports:?}"
    );
    assert!(matches!(&reports[0].status, FileStatus::Other { dims } if dims == &[60, 5, 7]));
}

#[test]
fn a_test_set_of_other_classes_or_sizes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), true, 30, (4, 4), |i| (i % 3) as u8);
    write_set(dir.path(), false, 6, (4, 4), |i| if i == 4 { 3 } else { 0 });
    let err = load_data_set(&IdxFiles::in_dir(dir.path()).unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::UnknownTestClass {
                index: 4,
                label: 3,
                classes: 3,
                ..
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("t10k-labels-idx1-ubyte") && message.contains("train-labels-idx1-ubyte"),
        "{message}"
    );

    write_set(dir.path(), false, 6, (4, 5), |_| 0);
    let err = load_data_set(&IdxFiles::in_dir(dir.path()).unwrap()).unwrap_err();
    assert!(matches!(err, DataError::ImageSizeMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("4x4") && err.to_string().contains("4x5"),
        "{err}"
    );

    std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte")).unwrap();
    let err = IdxFiles::in_dir(dir.path()).unwrap_err();
    assert!(matches!(err, DataError::IncompleteDir { .. }), "{err}");
    assert!(
        err.to_string().contains("missing t10k-labels-idx1-ubyte"),
        "{err}"
    );
}

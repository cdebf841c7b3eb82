//! Every fault of a corrupt file gives its typed error, and no input makes the reader panic.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use flate2::Compression;
use flate2::write::GzEncoder;
use nn_data::locate::require_verified;
use nn_data::mnist::MNIST_FILES;
use nn_data::{DataError, load_image_set, parse_idx, read_idx, verify_dir};
use proptest::prelude::*;

/// A case of [`file_faults_are_typed_and_named`]: file name, content, expected error.
type Case = (&'static str, Vec<u8>, fn(&DataError) -> bool);

fn idx(type_code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, type_code, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn file_faults_are_typed_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = vec![
        ("magic", b"\x89PNG\r\n\x1a\n".to_vec(), |e| {
            matches!(e, DataError::BadMagic { .. })
        }),
        ("type", idx(0x0C, &[1], &[0, 0, 0, 1]), |e| {
            matches!(e, DataError::UnsupportedType { .. })
        }),
        ("truncated", idx(8, &[10, 28, 28], &[0; 1000]), |e| {
            matches!(e, DataError::Truncated { .. })
        }),
        ("trailing", idx(8, &[2], &[1, 2, 3]), |e| {
            matches!(e, DataError::TrailingBytes { .. })
        }),
        ("zero", idx(8, &[0, 28, 28], &[]), |e| {
            matches!(e, DataError::ZeroDimension { .. })
        }),
        ("overflow", idx(8, &[u32::MAX; 4], &[]), |e| {
            matches!(e, DataError::Overflow { .. })
        }),
    ];
    for (name, bytes, is_expected) in cases {
        for (file, content) in [
            (name.to_string(), bytes.clone()),
            (format!("{name}.gz"), gzip(&bytes)),
        ] {
            let path = write(dir.path(), &file, &content);
            let err = read_idx(&path).unwrap_err();
            assert!(is_expected(&err), "{file}: {err}");
            let message = err.to_string();
            assert!(
                message.starts_with(&path.display().to_string()),
                "{message}"
            );
            assert!(!message.contains('\n'));
        }
    }
}

#[test]
fn huge_lying_header_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let header = idx(8, &[1 << 31, 1 << 31], &[7; 64]);
    for (file, content) in [("huge", header.clone()), ("huge.gz", gzip(&header))] {
        let path = write(dir.path(), file, &content);
        let start = Instant::now();
        let err = read_idx(&path).unwrap_err();
        assert!(matches!(err, DataError::Truncated { .. }), "{err}");
        assert!(start.elapsed().as_secs_f64() < 0.5);
    }
}

#[test]
fn count_and_label_faults() {
    let dir = tempfile::tempdir().unwrap();
    let images = write(dir.path(), "i", &idx(8, &[3, 2, 2], &[0; 12]));
    let two = write(dir.path(), "l2", &idx(8, &[2], &[1, 2]));
    let err = load_image_set(&images, &two).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::CountMismatch {
                images: 3,
                labels: 2,
                ..
            }
        ),
        "{err}"
    );
    let bad = write(dir.path(), "l3", &idx(8, &[3], &[1, 12, 2]));
    let err = load_image_set(&images, &bad).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::LabelOutOfRange {
                index: 1,
                label: 12,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn checksum_mismatch_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    for f in MNIST_FILES {
        write(
            dir.path(),
            &format!("{}.gz", f.name),
            &gzip(&idx(8, &[1], &[0])),
        );
    }
    let reports = verify_dir(dir.path()).unwrap();
    assert!(reports.iter().all(|r| !r.ok && r.expected.len() == 64));
    let err = require_verified(dir.path()).unwrap_err();
    assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{err}");
}

proptest! {
    #[test]
    fn truncations_are_errors(
        dims in prop::collection::vec(1u32..5, 1..4),
        cut in 0.0f64..1.0,
        zipped in any::<bool>(),
    ) {
        let len: u32 = dims.iter().product();
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let full = idx(8, &dims, &data);
        let bytes = if zipped { gzip(&full) } else { full };
        let keep = ((bytes.len() as f64) * cut) as usize;
        prop_assert!(parse_idx(&bytes[..keep], "t").is_err());
        prop_assert!(parse_idx(&bytes, "t").is_ok());
    }

    #[test]
    fn mutations_never_panic(
        dims in prop::collection::vec(1u32..6, 1..4),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        zipped in any::<bool>(),
    ) {
        let len: u32 = dims.iter().product();
        let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let full = idx(8, &dims, &data);
        let mut bytes = if zipped { gzip(&full) } else { full };
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(array) = parse_idx(&bytes, "m") {
            prop_assert_eq!(array.dims.iter().product::<usize>(), array.data.len());
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_idx(&bytes, "r");
    }
}

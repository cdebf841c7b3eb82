//! Every fault of a corrupt or hostile file gives its typed error, and no input makes the reader
//! panic or allocate beyond the size limit: mutated valid files, lying headers, gzip bombs.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use nn_data::mnist::MNIST_FILES;
use nn_data::{
    DataError, FileStatus, ImageSet, MAX_PAYLOAD_BYTES, load_image_set, parse_idx, read_idx,
    verify_dir,
};
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
fn a_header_beyond_the_limit_is_refused_before_reading_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let header = idx(8, &[1 << 31, 1 << 31], &[7; 64]);
    for (file, content) in [("huge", header.clone()), ("huge.gz", gzip(&header))] {
        let path = write(dir.path(), file, &content);
        let err = read_idx(&path).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::TooLarge {
                    limit: MAX_PAYLOAD_BYTES,
                    ..
                }
            ),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
        assert!(message.contains("1073741824"), "{message}");
    }
}

/// `copies` gzip members of 16 MiB of zeros each, after a first member holding `header`: a
/// file of about 16 KiB per copy that decompresses to `copies * 16` MiB more.
fn gzip_bomb(header: &[u8], copies: usize) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&vec![0u8; 16 << 20]).unwrap();
    let member = encoder.finish().unwrap();
    let mut bomb = gzip(header);
    for _ in 0..copies {
        bomb.extend_from_slice(&member);
    }
    bomb
}

#[test]
fn gzip_bombs_are_refused_without_decompressing_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    // 2 GiB of zeros follow each header once decompressed; the file is 4 MB at most.
    let announced = write(
        dir.path(),
        "announced.gz",
        &gzip_bomb(&idx(8, &[2048, 1024, 1024], &[]), 128),
    );
    assert!(std::fs::metadata(&announced).unwrap().len() < 4 << 20);
    let err = read_idx(&announced).unwrap_err();
    assert!(matches!(err, DataError::TooLarge { .. }), "{err}");

    let small = write(
        dir.path(),
        "small.gz",
        &gzip_bomb(&idx(8, &[10, 28, 28], &[]), 128),
    );
    let err = read_idx(&small).unwrap_err();
    assert!(
        matches!(err, DataError::TrailingBytes { at_least: true, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("more than"), "{err}");

    // Verification hashes the content only up to the limit, and still reports every file.
    std::fs::rename(&small, dir.path().join("train-images-idx3-ubyte.gz")).unwrap();
    for f in &MNIST_FILES[1..] {
        write(dir.path(), f.name, &idx(8, &[2], &[1, 2]));
    }
    let reports = verify_dir(dir.path()).unwrap();
    assert_eq!(reports.len(), 4);
    assert!(
        matches!(
            reports[0].status,
            FileStatus::Broken(DataError::ContentTooLarge { .. })
        ),
        "{:?}",
        reports[0]
    );
    assert!(
        reports[1..]
            .iter()
            .all(|r| matches!(r.status, FileStatus::Other { .. })),
        "{reports:?}"
    );
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
    let bad = read_idx(&write(dir.path(), "l3", &idx(8, &[3], &[1, 12, 2]))).unwrap();
    let err = ImageSet::from_idx_with_classes(read_idx(&images).unwrap(), bad, 10, ("i", "l3"))
        .unwrap_err();
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
fn verification_reports_every_file_not_only_the_first_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let contents = [
        gzip(&idx(8, &[1, 2, 2], &[0; 4])),
        gzip(&idx(8, &[5], &[0; 3])),
        b"not gzip, not idx".to_vec(),
        gzip(&idx(8, &[1], &[0])),
    ];
    for (f, content) in MNIST_FILES.iter().zip(&contents) {
        write(dir.path(), &format!("{}.gz", f.name), content);
    }
    let reports = verify_dir(dir.path()).unwrap();
    assert_eq!(reports.len(), 4);
    assert!(
        reports
            .iter()
            .all(|r| !r.is_mnist() && r.expected.len() == 64)
    );
    assert!(matches!(&reports[0].status, FileStatus::Other { dims } if dims == &[1, 2, 2]));
    assert!(matches!(
        reports[1].status,
        FileStatus::Broken(DataError::Truncated { .. })
    ));
    assert!(matches!(
        reports[2].status,
        FileStatus::Broken(DataError::BadMagic { .. })
    ));
    assert!(matches!(&reports[3].status, FileStatus::Other { dims } if dims == &[1]));
}

/// One change to a valid IDX file.
#[derive(Debug, Clone)]
enum Mutation {
    /// Dimension `index` (of the header's) becomes `value`.
    Dim(prop::sample::Index, u32),
    /// The dimension count becomes this.
    Ndims(u8),
    /// A byte of the header becomes this.
    HeaderByte(prop::sample::Index, u8),
    /// The file is cut before this byte.
    Truncate(prop::sample::Index),
    /// These bytes are appended.
    Append(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let dim_value = prop_oneof![
        Just(0u32),
        1u32..9,
        Just(u32::MAX),
        Just(1 << 31),
        Just(1 << 30),
        any::<u32>(),
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), dim_value).prop_map(|(i, v)| Mutation::Dim(i, v)),
        any::<u8>().prop_map(Mutation::Ndims),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, v)| Mutation::HeaderByte(i, v)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        prop::collection::vec(any::<u8>(), 1..40).prop_map(Mutation::Append),
    ]
}

/// What reading a valid file with `dims` must give after `mutation`: `None` when anything but a
/// panic or an inconsistent array is acceptable.
fn expected_fault(dims: &[u32], mutation: &Mutation) -> Option<fn(&DataError) -> bool> {
    match mutation {
        Mutation::Dim(index, value) => {
            let i = index.index(dims.len());
            if *value == dims[i] {
                return None;
            }
            let old: u128 = dims.iter().map(|&d| u128::from(d)).product();
            let new = old / u128::from(dims[i]) * u128::from(*value);
            Some(if *value == 0 {
                |e| matches!(e, DataError::ZeroDimension { .. })
            } else if new > u128::from(MAX_PAYLOAD_BYTES) {
                |e| matches!(e, DataError::TooLarge { .. } | DataError::Overflow { .. })
            } else if new > old {
                |e| matches!(e, DataError::Truncated { .. })
            } else {
                |e| matches!(e, DataError::TrailingBytes { .. })
            })
        }
        Mutation::Truncate(_) => Some(|e| matches!(e, DataError::Truncated { .. })),
        Mutation::Append(_) => Some(|e| matches!(e, DataError::TrailingBytes { .. })),
        Mutation::Ndims(_) | Mutation::HeaderByte(..) => None,
    }
}

fn apply(bytes: &mut Vec<u8>, dims: &[u32], mutation: &Mutation) {
    let header_len = 4 + 4 * dims.len();
    match mutation {
        Mutation::Dim(index, value) => {
            let at = 4 + 4 * index.index(dims.len());
            bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
        }
        Mutation::Ndims(n) => bytes[3] = *n,
        Mutation::HeaderByte(index, value) => bytes[index.index(header_len)] = *value,
        Mutation::Truncate(index) => bytes.truncate(index.index(bytes.len())),
        Mutation::Append(extra) => bytes.extend_from_slice(extra),
    }
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
    fn mutated_valid_files_give_the_fault_they_contain(
        dims in prop::collection::vec(1u32..7, 1..4),
        mutation in mutation(),
        zipped in any::<bool>(),
    ) {
        let len: u32 = dims.iter().product();
        let data: Vec<u8> = (0..len).map(|i| (i * 11) as u8).collect();
        let mut bytes = idx(8, &dims, &data);
        apply(&mut bytes, &dims, &mutation);
        // The lie sits inside the file's content: gzip only compresses it.
        let input = if zipped { gzip(&bytes) } else { bytes };
        match (parse_idx(&input, "m"), expected_fault(&dims, &mutation)) {
            (Ok(array), None) => {
                prop_assert_eq!(array.dims.iter().product::<usize>(), array.data.len());
            }
            (Ok(array), Some(_)) => prop_assert!(false, "accepted {:?}", array.dims),
            (Err(e), Some(is_expected)) => prop_assert!(is_expected(&e), "{}", e),
            (Err(e), None) => prop_assert!(!e.to_string().contains('\n')),
        }
    }

    #[test]
    fn damaged_gzip_streams_are_errors(
        dims in prop::collection::vec(1u32..7, 1..4),
        cut in any::<prop::sample::Index>(),
        garbage in prop::collection::vec(any::<u8>(), 1..40),
    ) {
        let len: u32 = dims.iter().product();
        let data: Vec<u8> = (0..len).map(|i| (i * 5) as u8).collect();
        let zipped = gzip(&idx(8, &dims, &data));
        let keep = cut.index(zipped.len());
        prop_assert!(parse_idx(&zipped[..keep], "cut").is_err());
        let mut appended = zipped.clone();
        appended.extend_from_slice(&garbage);
        prop_assert!(parse_idx(&appended, "garbage").is_err());
    }

    #[test]
    fn labels_beyond_the_classes_are_errors(
        labels in prop::collection::vec(0u8..12, 1..30),
        classes in 1usize..12,
    ) {
        let n = labels.len();
        let images = nn_data::IdxArray { dims: vec![n, 2, 2], data: vec![0; 4 * n] };
        let array = nn_data::IdxArray { dims: vec![n], data: labels.clone() };
        let result = ImageSet::from_idx_with_classes(images, array, classes, ("i", "l"));
        let first_bad = labels.iter().position(|&l| usize::from(l) >= classes);
        match (result, first_bad) {
            (Ok(set), None) => prop_assert_eq!(set.classes, classes),
            (Err(DataError::LabelOutOfRange { index, .. }), Some(bad)) => {
                prop_assert_eq!(index, bad)
            }
            (other, _) => prop_assert!(false, "{:?}", other.map(|s| s.classes)),
        }
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

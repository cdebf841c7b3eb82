//! The IDX file format of MNIST: a big-endian magic number `0x00 0x00 type ndims`, one big-endian
//! `u32` per dimension, then the elements in row-major order. Only unsigned bytes (type `0x08`)
//! are supported. Files may be gzip-compressed; gzip is recognised by its `0x1f 0x8b` magic.
//! Without the crate's `gzip` feature, gzip input and output are refused with
//! [`DataError::GzipUnsupported`].
//!
//! Every reader checks the header against the data before allocating for it: the product of the
//! dimensions is computed with checked arithmetic and must not exceed [`MAX_PAYLOAD_BYTES`], raw
//! input is compared with its known length, and gzip input is read through a limit derived from
//! the header, so a lying header fails fast and a gzip bomb is never decompressed in full.

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

#[cfg(feature = "gzip")]
use flate2::{Compression, read::MultiGzDecoder, write::GzEncoder};

use crate::DataError;

/// The IDX type code of unsigned bytes.
const U8_TYPE: u8 = 0x08;

/// Initial buffer size when the data length is only known from an untrusted header.
const INITIAL_CAPACITY_LIMIT: u64 = 1 << 24;

/// The largest amount of data (bytes after the header, decompressed) an IDX file may hold:
/// 1 GiB, room for the largest EMNIST split (698k images of 28x28, 547 MB) and refusing, before
/// anything is allocated, a header or a gzip stream promising more. With the format's own
/// bounds (at most 255 dimensions, each below 2^32) this is the whole size limit of a file:
/// header plus data, at most `MAX_PAYLOAD_BYTES + 4 + 4 * 255` bytes.
pub const MAX_PAYLOAD_BYTES: u64 = 1 << 30;

/// The longest content an IDX file may have: the largest header plus [`MAX_PAYLOAD_BYTES`].
pub(crate) const MAX_CONTENT_BYTES: u64 = MAX_PAYLOAD_BYTES + 4 + 4 * 255;

/// Trailing bytes after the data are counted up to this many before giving up.
const TRAILING_COUNT_LIMIT: u64 = 1 << 20;

/// A decoded IDX array of unsigned bytes.
///
/// ```
/// use nn_data::{DataError, parse_idx};
///
/// // Magic number 0x00000801 (unsigned bytes, one dimension), the dimension 3, the data.
/// let bytes = [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9];
/// let array = parse_idx(&bytes, "labels")?;
/// assert_eq!((array.dims, array.data), (vec![3], vec![7, 8, 9]));
/// // A header that promises more data than the file holds is refused, not trusted.
/// let lying = [0, 0, 8, 1, 0, 0, 0, 4, 7, 8, 9];
/// assert!(matches!(parse_idx(&lying, "labels"), Err(DataError::Truncated { .. })));
/// # Ok::<(), DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// The elements in row-major order; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

/// True when `bytes` start with the gzip magic number.
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// A reader of the gzip stream `compressed` (which holds several members or one), or, without
/// the `gzip` feature, [`DataError::GzipUnsupported`] naming `name`.
#[cfg(feature = "gzip")]
pub(crate) fn gunzip<R: Read>(compressed: R, _name: &str) -> Result<impl Read, DataError> {
    Ok(MultiGzDecoder::new(compressed))
}

/// A reader of the gzip stream `compressed`, or, without the `gzip` feature,
/// [`DataError::GzipUnsupported`] naming `name`.
#[cfg(not(feature = "gzip"))]
pub(crate) fn gunzip<R: Read>(_compressed: R, name: &str) -> Result<io::Empty, DataError> {
    Err(DataError::GzipUnsupported {
        file: name.to_string(),
    })
}

/// Reads an IDX file, gzip-compressed (with the `gzip` feature) or raw.
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let name = path.display().to_string();
    let file = nn_core::atomic::open_to_read(path).map_err(|e| DataError::io(path, e))?;
    let len = file.metadata().map_err(|e| DataError::io(path, e))?.len();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut magic = [0u8; 2];
    let got = read_full(&mut reader, &mut magic).map_err(|e| DataError::io(path, e))?;
    let head = io::Cursor::new(magic[..got].to_vec());
    if is_gzip(&magic[..got]) {
        let decoder = gunzip(head.chain(reader), &name)?;
        read_stream(decoder, &name, None, true)
    } else {
        read_stream(head.chain(reader), &name, Some(len), false)
    }
}

/// Parses an IDX array from memory; `name` is used in error messages. Gzip-compressed bytes
/// are decompressed (with the `gzip` feature; [`DataError::GzipUnsupported`] without it).
pub fn parse_idx(bytes: &[u8], name: &str) -> Result<IdxArray, DataError> {
    if is_gzip(bytes) {
        read_stream(gunzip(bytes, name)?, name, None, true)
    } else {
        read_stream(bytes, name, Some(bytes.len() as u64), false)
    }
}

/// Writes `array` as an IDX file, gzip-compressed when `gzip` is true. The file is written
/// atomically ([`nn_core::atomic::write_with`]), so a reader never sees half a file.
///
/// # Errors
/// [`DataError::Shape`] when `data.len()` is not the product of `dims`, when there are no or more
/// than 255 dimensions, or when a dimension does not fit in a `u32`;
/// [`DataError::GzipUnsupported`] for `gzip` without the crate's `gzip` feature (nothing is
/// written); I/O errors otherwise.
pub fn write_idx(path: &Path, array: &IdxArray, gzip: bool) -> Result<(), DataError> {
    let name = path.display().to_string();
    let product = array
        .dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let dims_fit = array.dims.iter().all(|&d| u32::try_from(d).is_ok());
    if array.dims.is_empty()
        || array.dims.len() > 255
        || !dims_fit
        || product != Some(array.data.len())
    {
        return Err(DataError::Shape {
            file: name,
            expected: "1 to 255 dimensions, each below 2^32, whose product is the data length",
            dims: array.dims.clone(),
        });
    }
    if gzip && cfg!(not(feature = "gzip")) {
        return Err(DataError::GzipUnsupported { file: name });
    }
    let mut header = vec![0, 0, U8_TYPE, array.dims.len() as u8];
    for &d in &array.dims {
        header.extend_from_slice(&(d as u32).to_be_bytes());
    }
    nn_core::atomic::write_with(path, |file| {
        let mut out = BufWriter::with_capacity(1 << 16, file);
        #[cfg(feature = "gzip")]
        if gzip {
            let mut encoder = GzEncoder::new(out, Compression::default());
            encoder.write_all(&header)?;
            encoder.write_all(&array.data)?;
            return encoder.finish()?.flush();
        }
        out.write_all(&header)?;
        out.write_all(&array.data)?;
        out.flush()
    })
    .map_err(|e| DataError::io(path, e))
}

/// Reads as many bytes as available into `buf`, up to its length; returns the count.
pub(crate) fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Maps a read error: failures of a gzip decoder are corruption, an early end is truncation.
fn read_error(
    name: &str,
    gzip: bool,
    what: &'static str,
    expected: u64,
    actual: u64,
    e: io::Error,
) -> DataError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        DataError::Truncated {
            file: name.to_string(),
            what,
            expected,
            actual,
        }
    } else if gzip {
        DataError::Decompress {
            file: name.to_string(),
            source: e,
        }
    } else {
        DataError::Io {
            file: name.to_string(),
            source: e,
        }
    }
}

/// Reads the header of an IDX stream and returns its dimensions; `known_len` is the total
/// length when the input is raw.
fn read_header(
    reader: &mut impl Read,
    name: &str,
    known_len: Option<u64>,
    gzip: bool,
) -> Result<Vec<usize>, DataError> {
    const HEADER: &str = "the header takes";
    let mut magic = [0u8; 4];
    let got = read_full(reader, &mut magic).map_err(|e| read_error(name, gzip, HEADER, 4, 0, e))?;
    if got < 4 {
        return Err(DataError::Truncated {
            file: name.to_string(),
            what: HEADER,
            expected: 4,
            actual: got as u64,
        });
    }
    if magic[0] != 0 || magic[1] != 0 || magic[3] == 0 {
        return Err(DataError::BadMagic {
            file: name.to_string(),
            found: u32::from_be_bytes(magic),
        });
    }
    if magic[2] != U8_TYPE {
        return Err(DataError::UnsupportedType {
            file: name.to_string(),
            type_code: magic[2],
        });
    }
    let ndims = usize::from(magic[3]);
    let header_len = 4 + 4 * ndims;
    let mut raw = vec![0u8; 4 * ndims];
    let got = read_full(reader, &mut raw)
        .map_err(|e| read_error(name, gzip, HEADER, header_len as u64, 4, e))?;
    if got < raw.len() {
        return Err(DataError::Truncated {
            file: name.to_string(),
            what: HEADER,
            expected: header_len as u64,
            actual: known_len.unwrap_or(4 + got as u64),
        });
    }
    let dims: Vec<usize> = raw
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    if let Some(index) = dims.iter().position(|&d| d == 0) {
        return Err(DataError::ZeroDimension {
            file: name.to_string(),
            index,
            dims,
        });
    }
    Ok(dims)
}

/// Reads a whole IDX stream (already decompressed when `gzip`), validating before allocating.
fn read_stream(
    mut reader: impl Read,
    name: &str,
    known_len: Option<u64>,
    gzip: bool,
) -> Result<IdxArray, DataError> {
    const DATA: &str = "header says the data takes";
    let dims = read_header(&mut reader, name, known_len, gzip)?;
    let header_len = 4 + 4 * dims.len() as u64;
    let overflow = || DataError::Overflow {
        file: name.to_string(),
        dims: dims.clone(),
    };
    let data_len = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(overflow)?;
    if data_len > MAX_PAYLOAD_BYTES {
        return Err(DataError::TooLarge {
            file: name.to_string(),
            dims,
            bytes: data_len,
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    let total = header_len + data_len;
    if let Some(len) = known_len {
        if len < total {
            return Err(DataError::Truncated {
                file: name.to_string(),
                what: DATA,
                expected: data_len,
                actual: len - header_len,
            });
        }
        if len > total {
            return Err(DataError::TrailingBytes {
                file: name.to_string(),
                expected: total,
                actual: len,
                at_least: false,
            });
        }
    }
    let mut data = Vec::with_capacity(data_len.min(INITIAL_CAPACITY_LIMIT) as usize);
    let got = reader.by_ref().take(data_len).read_to_end(&mut data);
    let got = got.map_err(|e| read_error(name, gzip, DATA, data_len, data.len() as u64, e))?;
    if (got as u64) < data_len {
        return Err(DataError::Truncated {
            file: name.to_string(),
            what: DATA,
            expected: data_len,
            actual: got as u64,
        });
    }
    let mut probe = [0u8; 1];
    let extra = read_full(&mut reader, &mut probe)
        .map_err(|e| read_error(name, gzip, DATA, data_len, data_len, e))?;
    if extra > 0 {
        let rest = io::copy(&mut reader.take(TRAILING_COUNT_LIMIT), &mut io::sink())
            .map_err(|e| read_error(name, gzip, DATA, data_len, data_len, e))?;
        return Err(DataError::TrailingBytes {
            file: name.to_string(),
            expected: total,
            actual: total + 1 + rest,
            at_least: rest == TRAILING_COUNT_LIMIT,
        });
    }
    Ok(IdxArray { dims, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(type_code: u8, dims: &[u32]) -> Vec<u8> {
        let mut bytes = vec![0, 0, type_code, dims.len() as u8];
        for d in dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes
    }

    /// `bytes` gzip-compressed, when the crate reads gzip.
    #[cfg(feature = "gzip")]
    fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        Some(encoder.finish().unwrap())
    }

    /// `bytes` gzip-compressed, when the crate reads gzip: it does not.
    #[cfg(not(feature = "gzip"))]
    fn gzip(_bytes: &[u8]) -> Option<Vec<u8>> {
        None
    }

    /// `bytes` as they are and, when the crate reads gzip, compressed.
    fn encodings(bytes: &[u8]) -> Vec<Vec<u8>> {
        std::iter::once(bytes.to_vec()).chain(gzip(bytes)).collect()
    }

    #[test]
    fn parses_raw_and_gzip() {
        let mut bytes = header(8, &[2, 3]);
        bytes.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        let expected = IdxArray {
            dims: vec![2, 3],
            data: vec![1, 2, 3, 4, 5, 6],
        };
        for input in encodings(&bytes) {
            assert_eq!(parse_idx(&input, "x").unwrap(), expected);
        }
    }

    #[test]
    fn truncated_payload_names_counts() {
        let mut bytes = header(8, &[10, 28, 28]);
        bytes.extend_from_slice(&[0; 1000]);
        for input in encodings(&bytes) {
            let err = parse_idx(&input, "imgs").unwrap_err();
            assert!(
                matches!(
                    err,
                    DataError::Truncated {
                        expected: 7840,
                        actual: 1000,
                        ..
                    }
                ),
                "{err}"
            );
            assert_eq!(
                err.to_string(),
                "imgs: truncated: header says the data takes 7840 bytes, file has 1000"
            );
        }
    }

    #[test]
    fn huge_lying_header_fails_without_allocating() {
        let mut bytes = header(8, &[1 << 31, 1 << 31, 1 << 31]);
        bytes.extend_from_slice(&[0; 16]);
        let err = parse_idx(&bytes, "x").unwrap_err();
        assert!(matches!(err, DataError::Overflow { .. }), "{err}");
        let bytes = header(8, &[1 << 31, 1 << 31]);
        for input in encodings(&bytes) {
            let err = parse_idx(&input, "x").unwrap_err();
            assert!(matches!(err, DataError::TooLarge { .. }), "{err}");
        }
    }

    #[test]
    fn the_size_limit_is_checked_from_the_header() {
        // Exactly at the limit: accepted by the header check, then found short of data.
        let at_limit = header(8, &[1 << 10, 1 << 10, 1 << 10]);
        for input in encodings(&at_limit) {
            let err = parse_idx(&input, "x").unwrap_err();
            assert!(matches!(err, DataError::Truncated { .. }), "{err}");
        }
        let over = header(8, &[(1 << 30) + 1]);
        let err = parse_idx(&over, "big.idx").unwrap_err();
        assert!(
            matches!(err, DataError::TooLarge { bytes, limit: MAX_PAYLOAD_BYTES, .. } if bytes == (1 << 30) + 1),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "big.idx: the header announces 1073741825 bytes of data (dimensions [1073741825]), \
             more than the limit of 1073741824 bytes for an IDX file"
        );
    }

    #[test]
    fn header_faults_are_typed() {
        let err = parse_idx(&[0, 0], "x").unwrap_err();
        assert!(
            matches!(err, DataError::Truncated { expected: 4, .. }),
            "{err}"
        );
        let err = parse_idx(&[0, 1, 8, 1, 0, 0, 0, 1, 0], "x").unwrap_err();
        assert!(matches!(err, DataError::BadMagic { .. }), "{err}");
        let err = parse_idx(&[0, 0, 8, 0], "x").unwrap_err();
        assert!(matches!(err, DataError::BadMagic { .. }), "{err}");
        let err = parse_idx(&header(0x0D, &[1]), "x").unwrap_err();
        assert!(
            matches!(
                err,
                DataError::UnsupportedType {
                    type_code: 0x0D,
                    ..
                }
            ),
            "{err}"
        );
        let err = parse_idx(&header(8, &[3, 0]), "x").unwrap_err();
        assert!(
            matches!(err, DataError::ZeroDimension { index: 1, .. }),
            "{err}"
        );
        let err = parse_idx(&header(8, &[3, 2])[..9], "x").unwrap_err();
        assert!(
            matches!(err, DataError::Truncated { expected: 12, .. }),
            "{err}"
        );
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = header(8, &[2]);
        bytes.extend_from_slice(&[1, 2, 3]);
        for input in encodings(&bytes) {
            let err = parse_idx(&input, "x").unwrap_err();
            assert!(
                matches!(
                    err,
                    DataError::TrailingBytes {
                        expected: 10,
                        actual: 11,
                        at_least: false,
                        ..
                    }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let array = IdxArray {
            dims: vec![3, 2, 2],
            data: (0..12).collect(),
        };
        let mut files = vec![("a.idx", false)];
        if cfg!(feature = "gzip") {
            files.push(("a.idx.gz", true));
        }
        for (file, gz) in files {
            let path = dir.path().join(file);
            write_idx(&path, &array, gz).unwrap();
            assert_eq!(read_idx(&path).unwrap(), array);
        }
        let bad = IdxArray {
            dims: vec![3],
            data: vec![1],
        };
        let err = write_idx(&dir.path().join("bad"), &bad, false).unwrap_err();
        assert!(matches!(err, DataError::Shape { .. }), "{err}");
        assert!(!dir.path().join("bad").exists());
    }

    #[cfg(not(feature = "gzip"))]
    #[test]
    fn without_the_gzip_feature_gzip_is_a_typed_error() {
        // The gzip magic number, then anything: refused as gzip, before reading further.
        let compressed = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0];
        let err = parse_idx(&compressed, "labels.gz").unwrap_err();
        assert!(matches!(&err, DataError::GzipUnsupported { file } if file == "labels.gz"));
        assert!(err.to_string().contains("`gzip` feature"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.gz");
        std::fs::write(&path, compressed).unwrap();
        let err = read_idx(&path).unwrap_err();
        assert!(matches!(err, DataError::GzipUnsupported { .. }), "{err}");
        let array = IdxArray {
            dims: vec![1],
            data: vec![7],
        };
        let target = dir.path().join("written.gz");
        let err = write_idx(&target, &array, true).unwrap_err();
        assert!(matches!(err, DataError::GzipUnsupported { .. }), "{err}");
        assert!(!target.exists(), "nothing is written");
    }
}

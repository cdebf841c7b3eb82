//! SHA-256 of a file's decompressed content.

use std::io::{self, BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::DataError;
use crate::idx::{MAX_CONTENT_BYTES, gunzip, is_gzip, read_full};

/// The lower-case hex SHA-256 of the content of `path`, decompressed first when it is gzip.
///
/// # Errors
/// I/O and gzip errors ([`DataError::GzipUnsupported`] for gzip without the `gzip` feature), and [`DataError::ContentTooLarge`] when the content is longer than an
/// IDX file may be: a gzip bomb is hashed only up to that bound.
pub(crate) fn sha256_of_content(path: &Path) -> Result<String, DataError> {
    let file = nn_core::atomic::open_to_read(path).map_err(|e| DataError::io(path, e))?;
    sha256_of_reader(file, &path.display().to_string(), MAX_CONTENT_BYTES)
}

/// The SHA-256 of the content read from `reader` (decompressed when it starts as gzip), at most
/// `limit` bytes of it; `name` names the source in errors.
pub(crate) fn sha256_of_reader(
    reader: impl Read,
    name: &str,
    limit: u64,
) -> Result<String, DataError> {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut magic = [0u8; 2];
    let got = read_full(&mut reader, &mut magic).map_err(|source| DataError::Io {
        file: name.to_string(),
        source,
    })?;
    let head = io::Cursor::new(magic[..got].to_vec());
    let mut hasher = Sha256::new();
    let copied = if is_gzip(&magic[..got]) {
        let decoder = gunzip(head.chain(reader), name)?;
        io::copy(&mut decoder.take(limit + 1), &mut hasher).map_err(|source| {
            DataError::Decompress {
                file: name.to_string(),
                source,
            }
        })?
    } else {
        io::copy(&mut head.chain(reader).take(limit + 1), &mut hasher).map_err(|source| {
            DataError::Io {
                file: name.to_string(),
                source,
            }
        })?
    };
    if copied > limit {
        return Err(DataError::ContentTooLarge {
            file: name.to_string(),
            limit,
        });
    }
    Ok(to_hex(&hasher.finalize()))
}

/// Lower-case hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(all(test, feature = "gzip"))]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    #[test]
    fn hashing_stops_at_the_limit() {
        let zeros = vec![0u8; 4096];
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(&zeros).unwrap();
        let gz = encoder.finish().unwrap();
        for input in [&zeros[..], &gz[..]] {
            let err = sha256_of_reader(input, "bomb", 4095).unwrap_err();
            assert!(
                matches!(err, DataError::ContentTooLarge { limit: 4095, .. }),
                "{err}"
            );
            assert_eq!(
                sha256_of_reader(input, "ok", 4096).unwrap(),
                to_hex(&Sha256::digest(&zeros))
            );
        }
    }
}

//! SHA-256 of a file's decompressed content.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::DataError;
use crate::idx::is_gzip;

/// The lower-case hex SHA-256 of the content of `path`, decompressed first when it is gzip.
pub(crate) fn sha256_of_content(path: &Path) -> Result<String, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut magic = [0u8; 2];
    let got = reader
        .read(&mut magic)
        .map_err(|e| DataError::io(path, e))?;
    let head = io::Cursor::new(magic[..got].to_vec());
    let mut hasher = Sha256::new();
    if is_gzip(&magic[..got]) {
        let mut decoder = MultiGzDecoder::new(head.chain(reader));
        io::copy(&mut decoder, &mut hasher).map_err(|e| DataError::Decompress {
            file: path.display().to_string(),
            source: e,
        })?;
    } else {
        io::copy(&mut head.chain(reader), &mut hasher).map_err(|e| DataError::io(path, e))?;
    }
    Ok(to_hex(&hasher.finalize()))
}

/// Lower-case hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

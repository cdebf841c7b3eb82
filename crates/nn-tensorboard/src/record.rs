//! TFRecord framing, the container of TensorBoard's event files: each record is
//!
//! | bytes | what |
//! |---|---|
//! | 8 | the length n of the data, little-endian `u64` |
//! | 4 | the [masked CRC-32C](masked_crc) of those 8 bytes, little-endian |
//! | n | the data (here an encoded `Event`) |
//! | 4 | the masked CRC-32C of the data, little-endian |
//!
//! Readers (TensorBoard's among them) check both checksums, so a record cut short by a crash is
//! recognised and skipped rather than misread.

use std::io::{self, Write};

/// What TFRecord adds to a CRC-32C so that a checksum of data holding checksums is not itself
/// a likely value.
const MASK_DELTA: u32 = 0xa282_ead8;

/// The CRC-32C (Castagnoli) of `data`, rotated right by 15 bits plus `0xa282ead8`: the
/// checksum TFRecord stores.
///
/// ```
/// // An event file's record `Event { file_version: "CRC test, one two" }`, from a file
/// // TensorFlow wrote.
/// assert_eq!(nn_tensorboard::record::masked_crc(b"\x1a\x11CRC test, one two"), 0x5794_d08a);
/// ```
pub fn masked_crc(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
        .rotate_right(15)
        .wrapping_add(MASK_DELTA)
}

/// `data` framed as one TFRecord: length, checksum of the length, data, checksum of the data.
///
/// ```
/// let record = nn_tensorboard::record::frame(b"abc");
/// assert_eq!(record.len(), 8 + 4 + 3 + 4);
/// assert_eq!(&record[..8], &3u64.to_le_bytes());
/// assert_eq!(&record[12..15], b"abc");
/// ```
pub fn frame(data: &[u8]) -> Vec<u8> {
    let length = (data.len() as u64).to_le_bytes();
    let mut record = Vec::with_capacity(data.len() + 16);
    record.extend_from_slice(&length);
    record.extend_from_slice(&masked_crc(&length).to_le_bytes());
    record.extend_from_slice(data);
    record.extend_from_slice(&masked_crc(data).to_le_bytes());
    record
}

/// Writes `data` to `out` as one TFRecord ([`frame`]) in a single write, so that a reader of a
/// growing file never sees a record's header without its data for longer than one write.
pub fn write(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    out.write_all(&frame(data))
}

/// The records of `bytes` (a whole file) in order, the reading side of [`frame`]: the data of
/// every record up to the first that is cut short or fails a checksum, and where that one
/// starts, if there is one. Like TensorBoard's reader, nothing after it is read: a file's last
/// record may be cut short by a crash, or still being written.
///
/// ```
/// use nn_tensorboard::record::{frame, read};
/// let mut file = [frame(b"first"), frame(b"second")].concat();
/// assert_eq!(read(&file), (vec![&b"first"[..], b"second"], None));
/// file.truncate(file.len() - 1);
/// assert_eq!(read(&file), (vec![&b"first"[..]], Some(21)));
/// ```
pub fn read(bytes: &[u8]) -> (Vec<&[u8]>, Option<usize>) {
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match one_record(&bytes[at..]) {
            Some(data) => {
                records.push(data);
                at += data.len() + 16;
            }
            None => return (records, Some(at)),
        }
    }
    (records, None)
}

/// The data of the record `bytes` starts with, if it is whole and both checksums agree.
fn one_record(bytes: &[u8]) -> Option<&[u8]> {
    let length = bytes.get(..8)?;
    if masked_crc(length).to_le_bytes() != *bytes.get(8..12)? {
        return None;
    }
    let n = usize::try_from(u64::from_le_bytes(length.try_into().ok()?)).ok()?;
    let end = n.checked_add(12)?;
    let data = bytes.get(12..end)?;
    if masked_crc(data).to_le_bytes() != *bytes.get(end..end.checked_add(4)?)? {
        return None;
    }
    Some(data)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The records of `bytes`, each checked (`None` for a bad checksum or a record cut
    /// short): [`read`] of a whole, sound file, for tests.
    pub(crate) fn records(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
        match read(bytes) {
            (records, None) => Some(records.into_iter().map(<[u8]>::to_vec).collect()),
            (_, Some(_)) => None,
        }
    }

    #[test]
    fn crc32c_is_castagnolis() {
        // The check value of CRC-32C, and RFC 3720's (iSCSI) example of 32 zero bytes.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c::crc32c(&[0; 32]), 0x8a91_36aa);
        // Not the common CRC-32 (IEEE), whose check value this is.
        assert_ne!(crc32c::crc32c(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn the_mask_rotates_and_adds_the_delta() {
        // ((0x8a9136aa >> 15) | (0x8a9136aa << 17)) + 0xa282ead8, modulo 2^32, worked out
        // by hand from TFRecord's definition.
        assert_eq!(masked_crc(&[0; 32]), 0x0fd7_fffa);
        // From a real TensorFlow event file (TensorBoard's own reader tests use it).
        assert_eq!(masked_crc(b"\x1a\x11CRC test, one two"), 0x5794_d08a);
        assert_ne!(masked_crc(b"\x1a\x11CRC test, one twO"), 0x5794_d08a);
    }

    #[test]
    fn frames_read_back_and_a_flipped_bit_is_caught() {
        let mut file = Vec::new();
        write(&mut file, b"first").unwrap();
        write(&mut file, b"").unwrap();
        write(&mut file, &[7; 300]).unwrap();
        assert_eq!(
            records(&file),
            Some(vec![b"first".to_vec(), Vec::new(), vec![7; 300]])
        );
        // The empty record (after the 21 bytes of the first): its length's checksum is that of
        // eight zero bytes, and its data's that of nothing.
        assert_eq!(file[29..33], masked_crc(&[0; 8]).to_le_bytes());
        assert_eq!(file[33..37], masked_crc(&[]).to_le_bytes());
        for byte in [3, 9, 14, 19, 40] {
            let mut bad = file.clone();
            bad[byte] ^= 1;
            assert_eq!(records(&bad), None, "a flipped bit in byte {byte}");
        }
        assert_eq!(records(&file[..file.len() - 1]), None);
        // Reading stops at the bad record, keeping those before it.
        let mut bad = file.clone();
        bad[40] ^= 1;
        assert_eq!(read(&bad), (vec![&b"first"[..], b""], Some(37)));
    }
}

//! The one error type of the crate: every message is a single line naming the file and the fault.

use std::path::{Path, PathBuf};

/// Everything that can go wrong while reading, verifying, downloading or writing data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// An operating-system error while reading or writing `file`.
    #[error("{file}: {source}")]
    Io {
        /// The file or directory involved.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The gzip stream of `file` is corrupt.
    #[error("{file}: corrupt gzip stream: {source}")]
    Decompress {
        /// The compressed file.
        file: String,
        /// The decoder's error.
        #[source]
        source: std::io::Error,
    },

    /// The first four bytes are not an IDX magic number (`0x00 0x00 type ndims`, `ndims >= 1`).
    #[error(
        "{file}: bad magic number {found:#010x}: an IDX file starts with two zero bytes, a type \
         byte and a dimension count of at least 1"
    )]
    BadMagic {
        /// The file.
        file: String,
        /// The first four bytes, big-endian.
        found: u32,
    },

    /// The IDX element type is not unsigned bytes (`0x08`), the only type this crate reads.
    #[error("{file}: unsupported IDX element type {type_code:#04x} ({}); only unsigned bytes (0x08) are supported", idx_type_name(*.type_code))]
    UnsupportedType {
        /// The file.
        file: String,
        /// The type byte of the magic number.
        type_code: u8,
    },

    /// The file ends before the header or the data it announces.
    #[error("{file}: truncated: {what} {expected} bytes, file has {actual}")]
    Truncated {
        /// The file.
        file: String,
        /// Which part is cut short, worded to precede the byte count.
        what: &'static str,
        /// Bytes needed.
        expected: u64,
        /// Bytes present (after decompression for a gzip file).
        actual: u64,
    },

    /// Bytes follow the data the header announces.
    #[error("{file}: trailing bytes: header and data take {expected} bytes, file has {actual}")]
    TrailingBytes {
        /// The file.
        file: String,
        /// Header plus data length announced by the header.
        expected: u64,
        /// Actual length (after decompression for a gzip file).
        actual: u64,
    },

    /// One of the dimensions in the header is zero.
    #[error("{file}: dimension {index} of {dims:?} is zero")]
    ZeroDimension {
        /// The file.
        file: String,
        /// Position of the zero dimension.
        index: usize,
        /// All dimensions.
        dims: Vec<usize>,
    },

    /// The dimensions multiply to more bytes than can be addressed.
    #[error("{file}: dimensions {dims:?} overflow: their product does not fit in memory")]
    Overflow {
        /// The file.
        file: String,
        /// All dimensions.
        dims: Vec<usize>,
    },

    /// The array has the wrong number of dimensions for its role.
    #[error("{file}: expected {expected}, found dimensions {dims:?}")]
    Shape {
        /// The file.
        file: String,
        /// What was expected, e.g. `"3 dimensions (images x rows x columns)"`.
        expected: &'static str,
        /// The dimensions found.
        dims: Vec<usize>,
    },

    /// An image file and its label file hold different numbers of items.
    #[error("{images_file} holds {images} images but {labels_file} holds {labels} labels")]
    CountMismatch {
        /// The image file.
        images_file: String,
        /// Number of images.
        images: usize,
        /// The label file.
        labels_file: String,
        /// Number of labels.
        labels: usize,
    },

    /// A label is not a valid class.
    #[error("{file}: label {label} at index {index} is out of range: classes are 0..{classes}")]
    LabelOutOfRange {
        /// The label file.
        file: String,
        /// Position of the label.
        index: usize,
        /// The label.
        label: u8,
        /// Number of classes.
        classes: usize,
    },

    /// The SHA-256 of a file's decompressed content differs from the published value.
    #[error("{file}: SHA-256 of the decompressed content is {actual}, expected {expected}")]
    ChecksumMismatch {
        /// The file.
        file: String,
        /// The published digest (hex).
        expected: String,
        /// The computed digest (hex).
        actual: String,
    },

    /// The requested split leaves no training image.
    #[error(
        "{file}: a validation set of {validation} images leaves no training image out of {available}"
    )]
    BadSplit {
        /// The training image file.
        file: String,
        /// Requested validation size.
        validation: usize,
        /// Training images available.
        available: usize,
    },

    /// The directory the user named does not hold the four MNIST files.
    #[error(
        "{}: {reason}; the directory given must hold the four MNIST files \
         (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, \
         t10k-labels-idx1-ubyte, each gzipped or not)",
        .dir.display()
    )]
    IncompleteDir {
        /// The directory given.
        dir: PathBuf,
        /// What is missing.
        reason: String,
    },

    /// No directory holds the four MNIST files and they could not be downloaded.
    #[error(
        "MNIST files not found; looked in: {}; {download}; provide the four files with --data DIR, \
         the MNIST_DIR environment variable, or ./data/mnist",
        .looked.join("; ")
    )]
    NotFound {
        /// Every place looked, each with the reason it did not qualify.
        looked: Vec<String>,
        /// What happened when downloading was tried.
        download: String,
    },

    /// Every mirror failed to deliver a verified copy of `file`.
    #[error("{file}: download failed: {}", .attempts.join("; "))]
    Download {
        /// The file being fetched.
        file: String,
        /// One entry per mirror tried: URL and reason.
        attempts: Vec<String>,
    },

    /// Encoding a PNG failed.
    #[error("{file}: PNG: {source}")]
    Image {
        /// The PNG file.
        file: String,
        /// The encoder's error.
        #[source]
        source: image::ImageError,
    },
}

impl DataError {
    /// An [`DataError::Io`] for `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            file: path.display().to_string(),
            source,
        }
    }
}

/// The name of an IDX element type code, for error messages.
fn idx_type_name(code: u8) -> &'static str {
    match code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "short",
        0x0C => "int",
        0x0D => "float",
        0x0E => "double",
        _ => "not an IDX type",
    }
}

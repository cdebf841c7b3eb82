//! The one error type of the crate: every message is a single line naming the file and the fault.

use std::path::{Path, PathBuf};

use nn_core::error::list_text;

/// Everything that can go wrong while reading, verifying, downloading, writing or expanding
/// data.
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

    /// `file` is gzip-compressed (or was to be written so), and the crate is built without its
    /// `gzip` feature.
    #[error(
        "{file}: a gzip-compressed IDX file, and this build of nn-data has no gzip (its `gzip` \
         feature is off); use the uncompressed file (gunzip it) or turn the feature on"
    )]
    GzipUnsupported {
        /// The file.
        file: String,
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
    #[error(
        "{file}: trailing bytes: header and data take {expected} bytes, file has {}{actual}",
        if *.at_least { "more than " } else { "" }
    )]
    TrailingBytes {
        /// The file.
        file: String,
        /// Header plus data length announced by the header.
        expected: u64,
        /// Actual length (after decompression for a gzip file), or the count at which counting
        /// stopped when `at_least`.
        actual: u64,
        /// True when the file is longer still: trailing bytes are counted only up to a bound,
        /// so that a gzip stream that decompresses without end cannot keep the reader busy.
        at_least: bool,
    },

    /// The header announces more data than an IDX file may hold
    /// ([`crate::idx::MAX_PAYLOAD_BYTES`]); nothing is allocated for it.
    #[error(
        "{file}: the header announces {bytes} bytes of data (dimensions {}), more than \
         the limit of {limit} bytes for an IDX file",
        list_text(dims)
    )]
    TooLarge {
        /// The file.
        file: String,
        /// All dimensions.
        dims: Vec<usize>,
        /// Bytes of data the header announces.
        bytes: u64,
        /// The limit.
        limit: u64,
    },

    /// The (decompressed) content of a file is longer than any IDX file may be.
    #[error(
        "{file}: the content is longer than {limit} bytes, the limit for an IDX file \
         (a gzip file that decompresses without end?)"
    )]
    ContentTooLarge {
        /// The file.
        file: String,
        /// The limit, in bytes of decompressed content.
        limit: u64,
    },

    /// One of the dimensions in the header is zero.
    #[error("{file}: dimension {index} of {} is zero", list_text(dims))]
    ZeroDimension {
        /// The file.
        file: String,
        /// Position of the zero dimension.
        index: usize,
        /// All dimensions.
        dims: Vec<usize>,
    },

    /// The dimensions multiply to more bytes than can be addressed.
    #[error(
        "{file}: dimensions {} overflow: their product does not fit in memory",
        list_text(dims)
    )]
    Overflow {
        /// The file.
        file: String,
        /// All dimensions.
        dims: Vec<usize>,
    },

    /// The array has the wrong number of dimensions for its role.
    #[error("{file}: expected {expected}, found dimensions {}", list_text(dims))]
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

    /// A test label names a class that the training labels do not have.
    #[error(
        "{test_file}: label {label} at index {index} is not a class of the training labels in \
         {train_file}, which are 0..{classes}"
    )]
    UnknownTestClass {
        /// The test label file.
        test_file: String,
        /// Position of the label.
        index: usize,
        /// The label.
        label: u8,
        /// The training label file.
        train_file: String,
        /// Number of classes of the training labels.
        classes: usize,
    },

    /// The training and test images differ in size.
    #[error(
        "{train_file} holds images of {}x{} pixels but {test_file} holds images of {}x{} pixels",
        .train_size.0, .train_size.1, .test_size.0, .test_size.1
    )]
    ImageSizeMismatch {
        /// The training image file.
        train_file: String,
        /// Rows and columns of its images.
        train_size: (usize, usize),
        /// The test image file.
        test_file: String,
        /// Rows and columns of its images.
        test_size: (usize, usize),
    },

    /// The requested split holds out no image, or every image.
    #[error(
        "{file}: cannot hold out {holdout} of its {available} training images: hold out at least \
         1 and at most {}",
        .available.saturating_sub(1)
    )]
    BadSplit {
        /// The training image file.
        file: String,
        /// Requested number of held-out images.
        holdout: usize,
        /// Training images available.
        available: usize,
    },

    /// The directory the user named does not hold the four files of an IDX data set.
    #[error(
        "{}: {reason}; the directory given must hold the four MNIST files \
         (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, \
         t10k-labels-idx1-ubyte, each gzipped or not), or another IDX data set's under those \
         names",
        .dir.display()
    )]
    IncompleteDir {
        /// The directory given.
        dir: PathBuf,
        /// What is missing.
        reason: String,
    },

    /// No directory holds the four MNIST files and they could not be downloaded (or the crate
    /// is built without its `download` feature).
    #[error(
        "MNIST files not found; looked in: {}; {download}; provide the four files with `data` DIR, \
         the MNIST_DIR environment variable, ./data/mnist or ../shared/data/mnist{}",
        .looked.join("; "),
        DOWNLOAD_HINT
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
        /// The encoder's error (an `image::ImageError`: the variant is there whatever the
        /// crate's features, the codec only with `png`).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An offline expansion whose images would not fit in memory.
    #[error("{copies} distorted copies of {images} images do not fit in memory; use fewer copies")]
    ExpansionTooLarge {
        /// Images in the base set.
        images: usize,
        /// Copies asked for.
        copies: usize,
    },

    /// A fraction of original images, for a fresh [`crate::DataExpansion`], outside [0, 1].
    #[error("fraction of original images {fraction} must be in [0, 1]")]
    KeepOriginal {
        /// The value given.
        fraction: f32,
    },

    /// A [`crate::DataExpansion`] asked to distort images without any transform to do it with.
    #[error("data expansion needs at least one image transform")]
    NoTransforms,
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

/// The end of [`DataError::NotFound`]'s advice: downloading, when the crate can.
#[cfg(feature = "download")]
const DOWNLOAD_HINT: &str = ", or let them be downloaded: allow network access, or set \
                             NN_MNIST_MIRROR to the base URL of a mirror serving the four .gz \
                             files";
/// The end of [`DataError::NotFound`]'s advice: nothing, without the `download` feature.
#[cfg(not(feature = "download"))]
const DOWNLOAD_HINT: &str = "";

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

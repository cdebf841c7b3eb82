//! Downloading the MNIST files from a mirror, verified before they take their final name.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::DataError;
use crate::digest::{sha256_of_content, sha256_of_reader};
use crate::idx::MAX_CONTENT_BYTES;
use crate::mnist::MNIST_FILES;

/// The mirrors tried by default, in order (the original yann.lecun.com host now refuses
/// anonymous downloads).
pub const DEFAULT_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// Environment variable overriding the mirror list: base URLs separated by commas or spaces.
pub const MIRROR_ENV: &str = "NN_MNIST_MIRROR";

/// Largest response accepted for one file (the biggest MNIST file is about 10 MB compressed).
const MAX_DOWNLOAD_BYTES: u64 = 64 << 20;

/// The mirror list: [`MIRROR_ENV`] when set and non-empty, else [`DEFAULT_MIRRORS`].
pub fn mirrors() -> Vec<String> {
    let from_env: Vec<String> = std::env::var(MIRROR_ENV)
        .unwrap_or_default()
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if from_env.is_empty() {
        DEFAULT_MIRRORS.iter().map(|s| s.to_string()).collect()
    } else {
        from_env
    }
}

/// Downloads the four gzip-compressed MNIST files into `dest` (created when missing), trying
/// `mirrors` (base URLs) in order for each file. Files already present and verified are kept.
///
/// Each file is fetched, its decompressed content checked against the published SHA-256, and only
/// then written to a temporary file in `dest`, synced and renamed to its final name: a truncated
/// or corrupted download never appears under the final name, and processes downloading into the
/// same directory at once each leave a whole, verified file.
pub fn download_mnist(dest: &Path, mirrors: &[&str]) -> Result<(), DataError> {
    let files: Vec<(String, &str)> = MNIST_FILES
        .iter()
        .map(|f| (format!("{}.gz", f.name), f.sha256))
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    download_files(dest, mirrors, &files)
}

/// Downloads each `(file name, SHA-256 of its decompressed content)` of `files` into `dest`
/// from the first of `mirrors` that serves a verified copy; see [`download_mnist`].
pub fn download_files(
    dest: &Path,
    mirrors: &[&str],
    files: &[(&str, &str)],
) -> Result<(), DataError> {
    fs::create_dir_all(dest).map_err(|e| DataError::io(dest, e))?;
    for &(name, sha256) in files {
        let target = dest.join(name);
        if target.is_file() && sha256_of_content(&target).is_ok_and(|s| s == sha256) {
            continue;
        }
        let mut attempts = Vec::new();
        let mut done = false;
        for mirror in mirrors {
            let url = if mirror.ends_with('/') {
                format!("{mirror}{name}")
            } else {
                format!("{mirror}/{name}")
            };
            match fetch_verified(&url, &target, sha256) {
                Ok(()) => {
                    done = true;
                    break;
                }
                Err(reason) => attempts.push(format!("{url}: {reason}")),
            }
        }
        if !done {
            if attempts.is_empty() {
                attempts.push("no mirror given".to_string());
            }
            return Err(DataError::Download {
                file: target.display().to_string(),
                attempts,
            });
        }
    }
    Ok(())
}

/// Fetches `url`, verifies the content and writes it to `target` atomically (temporary file,
/// fsync, rename: [`nn_core::atomic::write_bytes`]), so concurrent downloads into one cache
/// never leave a partial file under the final name; the error is a one-line reason.
fn fetch_verified(url: &str, target: &Path, sha256: &str) -> Result<(), String> {
    let body = get(url).map_err(|e| e.to_string())?;
    let actual = sha256_of_reader(&body[..], url, MAX_CONTENT_BYTES).map_err(|e| match e {
        DataError::Decompress { source, .. } => format!("corrupt gzip stream: {source}"),
        other => other.to_string(),
    })?;
    if actual != sha256 {
        return Err(format!(
            "SHA-256 of the decompressed content is {actual}, expected {sha256}"
        ));
    }
    nn_core::atomic::write_bytes(target, &body).map_err(|e| format!("{}: {e}", target.display()))
}

/// True for URLs on the loopback interface, which must never go through a proxy.
fn is_loopback(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    ["127.", "localhost", "[::1]"]
        .iter()
        .any(|p| rest.starts_with(p))
}

/// The body of `url`, at most [`MAX_DOWNLOAD_BYTES`] long.
fn get(url: &str) -> Result<Vec<u8>, ureq::Error> {
    let mut config = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(Duration::from_secs(600)));
    if is_loopback(url) {
        config = config.proxy(None);
    }
    let agent: ureq::Agent = config.build().into();
    let response = agent.get(url).call()?;
    response
        .into_body()
        .into_with_config()
        .limit(MAX_DOWNLOAD_BYTES)
        .read_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_detection() {
        assert!(is_loopback("http://127.0.0.1:80/x"));
        assert!(is_loopback("http://localhost/x"));
        assert!(!is_loopback("https://storage.googleapis.com/"));
    }
}

//! Downloads from a small HTTP server on the loopback interface: a good file is verified and
//! kept; truncated, corrupted or cut-off files are refused and never appear under their final
//! name; a failing mirror falls back to the next.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use nn_data::{DataError, download_files};
use sha2::{Digest, Sha256};

const NAME: &str = "digits-idx3-ubyte.gz";

/// A tiny IDX file, its gzip form and the SHA-256 of the uncompressed bytes.
fn payload() -> (Vec<u8>, Vec<u8>, String) {
    let mut raw = vec![0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 5];
    raw.extend((0..100u32).map(|i| (i * 13 % 256) as u8));
    let sha = Sha256::digest(&raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (raw.clone(), gzip(&raw), sha)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Serves at most `max_requests` requests on 127.0.0.1, then stops (also after 30 s):
/// `/good/` the gzip file, `/trunc/` its first half, `/corrupt/` a valid gzip of other bytes,
/// `/short/` the file under a Content-Length 100 bytes too large; anything else is a 404.
fn serve(max_requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let (raw, good, _) = payload();
    let mut other = raw.clone();
    other[40] ^= 0xff;
    let corrupt = gzip(&other);
    thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut served = 0;
        while served < max_requests && Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                thread::sleep(Duration::from_millis(5));
                continue;
            };
            served += 1;
            stream.set_nonblocking(false).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            let (status, body, declared) = if path.starts_with("/good/") {
                ("200 OK", good.clone(), good.len())
            } else if path.starts_with("/trunc/") {
                let half = good[..good.len() / 2].to_vec();
                let n = half.len();
                ("200 OK", half, n)
            } else if path.starts_with("/corrupt/") {
                ("200 OK", corrupt.clone(), corrupt.len())
            } else if path.starts_with("/short/") {
                ("200 OK", good.clone(), good.len() + 100)
            } else {
                ("404 Not Found", b"no".to_vec(), 2)
            };
            let mut stream = stream;
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    base
}

fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn good_file_downloads_and_verifies() {
    let base = serve(1);
    let dest = tempfile::tempdir().unwrap();
    let (raw, _, sha) = payload();
    download_files(dest.path(), &[&format!("{base}/good/")], &[(NAME, &sha)]).unwrap();
    let read = nn_data::read_idx(&dest.path().join(NAME)).unwrap();
    assert_eq!(read.dims, vec![4, 5, 5]);
    assert_eq!(read.data, raw[16..]);
    assert_eq!(names_in(dest.path()), vec![NAME.to_string()]);
    // Already present and verified: kept without a request (the server has stopped).
    download_files(dest.path(), &[&format!("{base}/good/")], &[(NAME, &sha)]).unwrap();
}

#[test]
fn bad_downloads_are_refused_and_leave_no_file() {
    let base = serve(3);
    let (_, _, sha) = payload();
    for (kind, needle) in [
        ("trunc", "gzip"),
        ("corrupt", "SHA-256"),
        ("short", base.as_str()),
    ] {
        let dest = tempfile::tempdir().unwrap();
        let mirror = format!("{base}/{kind}/");
        let err = download_files(dest.path(), &[&mirror], &[(NAME, &sha)]).unwrap_err();
        assert!(matches!(err, DataError::Download { .. }), "{kind}: {err}");
        assert!(err.to_string().contains(needle), "{kind}: {err}");
        assert!(names_in(dest.path()).is_empty(), "{kind} left files behind");
    }
}

#[test]
fn falls_back_to_the_next_mirror() {
    let base = serve(2);
    let dest = tempfile::tempdir().unwrap();
    let (_, _, sha) = payload();
    let mirrors = [format!("{base}/missing/"), format!("{base}/good/")];
    let mirrors: Vec<&str> = mirrors.iter().map(String::as_str).collect();
    download_files(dest.path(), &mirrors, &[(NAME, &sha)]).unwrap();
    assert!(dest.path().join(NAME).is_file());
}

#[test]
fn closed_port_is_an_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dest = tempfile::tempdir().unwrap();
    let mirror = format!("http://127.0.0.1:{port}/");
    let err = download_files(dest.path(), &[&mirror], &[(NAME, "00")]).unwrap_err();
    assert!(err.to_string().contains(&mirror), "{err}");
    assert!(names_in(dest.path()).is_empty());
}

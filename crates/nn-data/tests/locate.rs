//! Locating the MNIST files: the resolution order (explicit directory, `MNIST_DIR`,
//! `data/mnist`, `../shared/data/mnist`, the cache, a download from a mirror), relative places
//! resolved against a base directory, and the one-line error when nothing works. Environment
//! variables are process-wide, so every test touching them lives in one test function of this
//! separate test binary.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use nn_data::locate::{candidate_dirs, locate_in};
use nn_data::mnist::MNIST_FILES;
use nn_data::{DataError, Source, locate_mnist, locate_mnist_from, verify_dir};

/// The real MNIST directory, located before any test changes the environment.
fn mnist() -> PathBuf {
    nn_testdata::mnist_dir().to_path_buf()
}

/// A loopback URL on which nothing listens.
fn closed_mirror() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/")
}

/// A mirror on the loopback interface serving the `.gz` files of `dir` by name (404 for anything
/// else) until the test process ends; returns its URL and the count of requests served.
fn serve_dir(dir: &Path) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let dir = dir.to_path_buf();
    let served = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&served);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let name = request
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .trim_start_matches('/');
            let body = (!name.contains('/') && name.ends_with(".gz"))
                .then(|| std::fs::read(dir.join(name)).ok())
                .flatten();
            let (status, body) = match body {
                Some(body) => ("200 OK", body),
                None => ("404 Not Found", b"no".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (url, served)
}

/// Makes `dir` look like an MNIST directory: the four names, as symbolic links to the real files.
fn fake_mnist(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let real = mnist();
    for f in MNIST_FILES {
        let name = format!("{}.gz", f.name);
        std::os::unix::fs::symlink(real.join(&name), dir.join(&name)).unwrap();
    }
    dir.to_path_buf()
}

/// Sets (or with `None` removes) an environment variable.
fn set(var: &str, value: Option<&std::ffi::OsStr>) {
    // SAFETY: this is the only test of this binary touching the environment; the other test
    // only reads the located directory, which it fixes before this test can change anything.
    unsafe {
        match value {
            Some(v) => std::env::set_var(var, v),
            None => std::env::remove_var(var),
        }
    }
}

#[test]
fn resolution_order_cache_download_and_not_found() {
    let real = mnist();
    let root = tempfile::tempdir().unwrap();
    let project = root.path().join("project");
    let cache = root.path().join("cache");
    std::fs::create_dir_all(&project).unwrap();
    set("MNIST_DIR", None);
    set("XDG_CACHE_HOME", Some(cache.as_os_str()));
    let (mirror, served) = serve_dir(&real);
    set("NN_MNIST_MIRROR", Some(mirror.as_ref()));

    // Nothing beside the project: downloaded from the mirror into the cache, verified.
    let found = locate_mnist_from(&project, None).unwrap();
    assert_eq!(found.source, Source::Downloaded);
    assert_eq!(found.dir, cache.join("nn/mnist"));
    assert!(verify_dir(&found.dir).unwrap().iter().all(|r| r.is_mnist()));
    assert_eq!(served.load(Ordering::SeqCst), 4);
    // The next search finds the cache without a request.
    assert_eq!(
        locate_mnist_from(&project, None).unwrap().source,
        Source::Cache
    );
    assert_eq!(served.load(Ordering::SeqCst), 4);

    // Each earlier place wins over the later ones, relative ones taken from the base.
    let shared = fake_mnist(&root.path().join("shared/data/mnist"));
    let found = locate_mnist_from(&project, None).unwrap();
    assert_eq!(
        (found.source, found.dir),
        (Source::Shared, project.join("../shared/data/mnist"))
    );
    let local = fake_mnist(&project.join("data/mnist"));
    let found = locate_mnist_from(&project, None).unwrap();
    assert_eq!((found.source, found.dir), (Source::Local, local));
    let env = fake_mnist(&project.join("elsewhere"));
    set("MNIST_DIR", Some("elsewhere".as_ref()));
    let found = locate_mnist_from(&project, None).unwrap();
    assert_eq!((found.source, found.dir), (Source::Env, env));
    let found = locate_mnist_from(&project, Some(&shared)).unwrap();
    assert_eq!((found.source, found.dir), (Source::Explicit, shared));
    let candidates = candidate_dirs(&project, Some(Path::new("x")));
    assert_eq!(candidates[0], (project.join("x"), Source::Explicit));
    assert_eq!(candidates[1], (project.join("elsewhere"), Source::Env));

    // An incomplete explicit directory is an error, never a quiet fall-back to other data.
    let empty = tempfile::tempdir().unwrap();
    let err = locate_mnist(Some(empty.path())).unwrap_err();
    assert!(matches!(err, DataError::IncompleteDir { .. }), "{err}");
    assert!(
        err.to_string().contains("missing train-images-idx3-ubyte"),
        "{err}"
    );

    // Processes and threads downloading into one cache at once each leave whole files.
    let fresh = root.path().join("fresh-cache");
    set("XDG_CACHE_HOME", Some(fresh.as_os_str()));
    let lonely = root.path().join("far/away");
    std::fs::create_dir_all(&lonely).unwrap();
    set("MNIST_DIR", None);
    let results: Vec<_> = (0..3)
        .map(|_| {
            let lonely = lonely.clone();
            thread::spawn(move || locate_mnist_from(&lonely, None).map(|l| l.dir))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    for dir in results {
        assert_eq!(dir.unwrap(), fresh.join("nn/mnist"));
    }
    assert!(
        verify_dir(&fresh.join("nn/mnist"))
            .unwrap()
            .iter()
            .all(|r| r.is_mnist())
    );
    assert_eq!(
        std::fs::read_dir(fresh.join("nn/mnist")).unwrap().count(),
        4,
        "no temporary file is left behind"
    );

    // No data and the mirror down: one line naming every place and every way to provide them.
    set("XDG_CACHE_HOME", Some(empty.path().as_os_str()));
    set("MNIST_DIR", Some(lonely.as_os_str()));
    let down = closed_mirror();
    set("NN_MNIST_MIRROR", Some(down.as_ref()));
    let err = locate_mnist_from(&lonely, None).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, DataError::NotFound { .. }), "{message}");
    for place in [
        lonely.display().to_string(),
        lonely.join("data/mnist").display().to_string(),
        lonely.join("../shared/data/mnist").display().to_string(),
        empty.path().join("nn/mnist").display().to_string(),
        "`data` DIR".to_string(),
        "MNIST_DIR".to_string(),
        "../shared/data/mnist".to_string(),
        "NN_MNIST_MIRROR".to_string(),
        "network".to_string(),
        down.clone(),
    ] {
        assert!(message.contains(&place), "{place} missing from: {message}");
    }
    assert!(!message.contains('\n'));
}

#[test]
fn locate_in_prefers_the_first_complete_directory() {
    let real = mnist();
    let empty = tempfile::tempdir().unwrap();
    let candidates = vec![
        (empty.path().to_path_buf(), Source::Local),
        (PathBuf::from("/nonexistent/mnist"), Source::Env),
        (real, Source::Shared),
    ];
    let found = locate_in(&candidates, None, &[]).unwrap();
    assert_eq!(found.source, Source::Shared);

    let err = locate_in(&candidates[..2], None, &[]).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("/nonexistent/mnist (Env: no such directory)"),
        "{message}"
    );
    assert!(
        message.contains("missing train-images-idx3-ubyte"),
        "{message}"
    );

    let cache = tempfile::tempdir().unwrap();
    let mirror = closed_mirror();
    let err = locate_in(&candidates[..2], Some(cache.path()), &[&mirror]).unwrap_err();
    assert!(err.to_string().contains(&mirror), "{err}");
}

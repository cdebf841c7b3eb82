//! Locating the MNIST files. Environment variables are process-wide, so every test touching
//! them lives in one test function of this separate test binary.

use std::net::TcpListener;
use std::path::PathBuf;

use nn_data::locate::{candidate_dirs, locate_in};
use nn_data::{DataError, Source, locate_mnist};

fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist")
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

#[test]
fn explicit_env_and_not_found() {
    let empty = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // SAFETY: this is the only test of this binary touching the environment, and nothing else
    // in it runs concurrently with these calls reading it.
    unsafe {
        std::env::set_var("NN_MNIST_MIRROR", closed_mirror());
        std::env::set_var("XDG_CACHE_HOME", cache.path());
        std::env::set_var("MNIST_DIR", shared_dir());
    }
    let found = locate_mnist(None).unwrap();
    assert_eq!(found.source, Source::Env);
    assert_eq!(found.dir, shared_dir());

    let found = locate_mnist(Some(&shared_dir())).unwrap();
    assert_eq!(found.source, Source::Explicit);

    // An incomplete explicit directory is an error, never a quiet fall-back to other data.
    let err = locate_mnist(Some(empty.path())).unwrap_err();
    assert!(matches!(err, DataError::IncompleteDir { .. }), "{err}");
    assert!(
        err.to_string().contains("missing train-images-idx3-ubyte"),
        "{err}"
    );

    // SAFETY: as above.
    unsafe { std::env::set_var("MNIST_DIR", empty.path()) };
    let candidates = candidate_dirs(Some(empty.path()));
    assert_eq!(candidates[0].1, Source::Explicit);
    assert_eq!(candidates[1].1, Source::Env);
    let err = locate_mnist(None).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, DataError::NotFound { .. }), "{message}");
    for place in [
        empty.path().display().to_string(),
        "data/mnist".to_string(),
        "../shared/data/mnist".to_string(),
        cache.path().join("nn/mnist").display().to_string(),
        "--data DIR".to_string(),
        "MNIST_DIR".to_string(),
        "127.0.0.1".to_string(),
    ] {
        assert!(message.contains(&place), "{place} missing from: {message}");
    }
    assert!(!message.contains('\n'));
}

#[test]
fn locate_in_prefers_the_first_complete_directory() {
    let empty = tempfile::tempdir().unwrap();
    let candidates = vec![
        (empty.path().to_path_buf(), Source::Local),
        (PathBuf::from("/nonexistent/mnist"), Source::Env),
        (shared_dir(), Source::Shared),
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

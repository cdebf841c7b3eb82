//! The MNIST files for the tests and benchmarks of the workspace, found exactly as `nn` finds
//! them ([`nn_data::locate_mnist_from`]): `$MNIST_DIR`, `data/mnist`, `../shared/data/mnist`,
//! the user cache, then a verified download from the default mirrors or `NN_MNIST_MIRROR` when
//! nn-data is built with its `download` feature (as in `cargo test --workspace`, where nn-cli
//! turns it on).
//! Relative places are resolved against the workspace root, since cargo runs each test binary
//! in its crate's directory.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nn_core::kernel::Kernel;

/// The root of the workspace (the folder holding the top `Cargo.toml`).
pub fn workspace_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        root.canonicalize().unwrap_or(root)
    })
}

/// The directory holding the four MNIST files, located (and if need be downloaded) once per
/// process however many test threads ask at once.
///
/// # Panics
/// When MNIST can be neither found nor downloaded, with a one-line message naming every place
/// looked and how to provide the files.
pub fn mnist_dir() -> &'static Path {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = DIR.get_or_init(|| {
        nn_data::locate_mnist_from(workspace_root(), None)
            .map(|location| location.dir)
            .map_err(|e| e.to_string())
    });
    match found {
        Ok(dir) => dir,
        Err(e) => panic!("this test needs MNIST: {e}"),
    }
}

/// The kernels (instruction sets) `NN_REQUIRE_KERNELS` says this machine must run, a
/// comma-separated list of [`Kernel::name`]s such as `avx2,avx512` (CI sets it).
///
/// # Panics
/// When a listed name is not a kernel.
pub fn required_kernels() -> Vec<Kernel> {
    let names = std::env::var("NN_REQUIRE_KERNELS").unwrap_or_default();
    names
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            Kernel::ALL
                .into_iter()
                .find(|kernel| kernel.name() == name)
                .unwrap_or_else(|| panic!("NN_REQUIRE_KERNELS: {name} is not a kernel"))
        })
        .collect()
}

/// Every kernel the processor supports, best first, for the tests that compare them. A kernel
/// the processor lacks is named on standard error (which cargo shows only for a failing
/// test), and fails the test when [`required_kernels`] lists it, so that CI on a machine
/// without it cannot pass unseen.
///
/// # Panics
/// When a required kernel is not supported here.
pub fn kernels_under_test() -> Vec<Kernel> {
    let required = required_kernels();
    Kernel::ALL
        .into_iter()
        .filter(|&kernel| {
            let supported = kernel.is_supported();
            if !supported {
                assert!(
                    !required.contains(&kernel),
                    "NN_REQUIRE_KERNELS asks for the {} kernel, which this processor lacks",
                    kernel.name()
                );
                eprintln!(
                    "SKIPPED: the {} kernel, which this processor does not support",
                    kernel.name()
                );
            }
            supported
        })
        .collect()
}

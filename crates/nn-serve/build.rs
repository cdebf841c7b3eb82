//! Rebuilds the crate when the page (the workspace's `web/`, embedded by rust-embed) changes,
//! e.g. after `scripts/build-web` writes `web/pkg/`.

fn main() {
    println!("cargo::rerun-if-changed=../../web");
}

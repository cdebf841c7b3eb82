//! The native engine's figures the wasm engine is checked against (web/test/engine.test.mjs)
//! and timed beside (web/bench/epoch.mjs): nn-train's `Run`, the path of `nn train`, on one
//! thread (this crate builds nn-core without `parallel`).
//!
//! `native_reference TRAIN TEST SEED` trains the book's 784,30,10 cross-entropy network (η 0.5,
//! λ 5, mini-batch 10) from SEED for one epoch on MNIST's first TRAIN training images, and
//! prints as JSON the classes it gives MNIST's first TEST test images and its mean cost on
//! them, before and after the epoch, with the epoch's seconds.

use std::time::Instant;

use nn_core::{Network, Silent};
use nn_data::ImageSet;
use nn_train::{DataSet, Run, RunOptions};

/// The classes and the mean cost of `network` on `images`.
fn figures(network: &Network, images: &ImageSet, options: &RunOptions) -> serde_json::Value {
    let cost = options.cost.cost();
    let evaluation = network.evaluate(images, cost);
    let classes: Vec<Option<usize>> = network.predict(images);
    serde_json::json!({
        "predictions": classes,
        "cost": evaluation.cost_sum / evaluation.count as f64,
        "accuracy": evaluation.accuracy(),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [train, test, seed] = args.as_slice() else {
        return Err("usage: native_reference TRAIN TEST SEED".into());
    };
    let (train, test, seed): (usize, usize, u64) = (train.parse()?, test.parse()?, seed.parse()?);
    let data = DataSet::mnist()?;
    if test > data.splits.test.len() {
        return Err(format!("at most {} test images", data.splits.test.len()).into());
    }
    let images = data.splits.test.subset(..test);
    let options = RunOptions {
        train_size: Some(train),
        epochs: 1,
        seed,
        monitor: Vec::new(),
        ..RunOptions::default()
    };
    let mut run = Run::new(options.clone(), &data)?;
    let before = figures(run.trainer().network(), &images, &options);
    let started = Instant::now();
    run.epoch(&mut Silent)?;
    let seconds = started.elapsed().as_secs_f64();
    let after = figures(run.trainer().network(), &images, &options);
    let report = serde_json::json!({
        "kernel": nn_core::kernel::Kernel::active().name(),
        "before": before,
        "after": after,
        "seconds": seconds,
    });
    println!("{report}");
    Ok(())
}

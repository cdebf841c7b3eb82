//! Times nn's batch evaluation of MNIST's 10,000 test images: the outputs of every image, their
//! cost and the count of correct labels (`Network::evaluate`, what `nn train` monitors), for
//! each model given, as many times as asked; one line of JSON per model on standard output.
//! `scripts/onnx-speed.py` runs it beside onnxruntime.
//!
//! ```sh
//! cargo run --release -p nn-benches --example evaluate_test_set -- DIR REPEATS MODEL.json...
//! ```
//!
//! The images stay bytes in memory and are converted per chunk, as everywhere in nn; the
//! threads are rayon's global pool (`RAYON_NUM_THREADS`).

use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: evaluate_test_set MNIST_DIR REPEATS MODEL.json...";
    let dir = PathBuf::from(args.next().ok_or(usage)?);
    let repeats: usize = args.next().ok_or(usage)?.parse()?;
    let test = nn_data::load_splits(&dir, None)?.test;
    for path in args {
        let model = nn_core::load_model(path.as_ref())?;
        let cost = nn_costs::cost_by_name(&model.cost).ok_or("a model of an unknown cost")?;
        let network = model.network;
        // The first evaluation warms the caches and the thread pool.
        let correct = network.evaluate(&test, cost).correct;
        let mut times: Vec<f64> = (0..repeats)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(network.evaluate(&test, cost));
                start.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let list: Vec<String> = times.iter().map(|t| format!("{t:.6}")).collect();
        println!(
            "{{\"model\": {path:?}, \"correct\": {correct}, \"seconds\": [{}]}}",
            list.join(", ")
        );
    }
    Ok(())
}

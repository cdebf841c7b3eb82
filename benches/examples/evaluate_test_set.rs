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
//! threads are rayon's global pool (`RAYON_NUM_THREADS`). Each round's wall-clock time and
//! the processor time of all the process's threads are printed.

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
        let (mut wall, mut processor) = (Vec::new(), Vec::new());
        for _ in 0..repeats {
            let (start, start_processor) = (Instant::now(), processor_time());
            std::hint::black_box(network.evaluate(&test, cost));
            wall.push(start.elapsed().as_secs_f64());
            processor.push(processor_time() - start_processor);
        }
        println!(
            "{{\"model\": {path:?}, \"correct\": {correct}, \"seconds\": {}, \
             \"processor_seconds\": {}}}",
            list(&wall),
            list(&processor)
        );
    }
    Ok(())
}

/// Seconds as a JSON list.
fn list(seconds: &[f64]) -> String {
    let items: Vec<String> = seconds.iter().map(|t| format!("{t:.6}")).collect();
    format!("[{}]", items.join(", "))
}

/// The processor time of all this process's threads so far, in seconds
/// (`CLOCK_PROCESS_CPUTIME_ID`).
fn processor_time() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9
}

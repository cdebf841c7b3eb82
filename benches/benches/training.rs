//! Backpropagation per mini-batch and whole training epochs of the chapter's networks.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use nn_benches::{mnist_training, sigmoid_network};
use nn_core::{Sgd, Silent, TrainConfig, Trainer, Workspace};
use nn_costs::CrossEntropyCost;

fn backprop_per_batch(c: &mut Criterion) {
    let data = mnist_training();
    let network = sigmoid_network(&[784, 30, 10]);
    let mut group = c.benchmark_group("backprop [784,30,10]");
    for batch in [1usize, 10, 100] {
        let mut workspace = Workspace::new(&network, batch).unwrap();
        let indices: Vec<usize> = (0..batch).collect();
        let mut gradient = vec![0.0; network.params().len()];
        group.bench_with_input(
            BenchmarkId::new("mini-batch", batch),
            &batch,
            |b, &batch| {
                b.iter(|| {
                    workspace.load_indices(&data, &indices);
                    network.backprop(&mut workspace, batch, &CrossEntropyCost, &mut gradient);
                })
            },
        );
    }
    group.finish();
}

fn epoch(c: &mut Criterion) {
    let data = mnist_training();
    assert_eq!(data.len(), 50_000);
    let mut group = c.benchmark_group("epoch of 50,000 images, mini-batch 10");
    group.sample_size(10);
    for hidden in [30usize, 100] {
        group.bench_function(format!("[784,{hidden},10]"), |b| {
            let config = TrainConfig {
                epochs: 1,
                ..TrainConfig::default()
            };
            let mut trainer = Trainer::new(
                sigmoid_network(&[784, hidden, 10]),
                &CrossEntropyCost,
                Box::new(Sgd),
                Vec::new(),
                config,
            )
            .expect("valid configuration");
            b.iter(|| trainer.run_epoch(&data, None, &mut Silent).expect("trains"));
        });
    }
    group.finish();
}

/// The best recipe's network (sigmoid here; the products are the same) on mini-batches of 100:
/// products of 0.8 to 64 million multiply-adds (those of at least 4 million split in two
/// blocks), on one core and on two.
fn wide_network_on_one_and_two_cores(c: &mut Criterion) {
    let data = mnist_training();
    let network = sigmoid_network(&[784, 800, 800, 10]);
    let batch = 100;
    let indices: Vec<usize> = (0..batch).collect();
    let mut group = c.benchmark_group("backprop [784,800,800,10], mini-batch 100");
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        let mut workspace = Workspace::new(&network, batch).unwrap();
        let mut gradient = vec![0.0; network.params().len()];
        group.bench_function(BenchmarkId::new("threads", threads), |b| {
            pool.install(|| {
                b.iter(|| {
                    workspace.load_indices(&data, &indices);
                    network.backprop(&mut workspace, batch, &CrossEntropyCost, &mut gradient);
                })
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    backprop_per_batch,
    epoch,
    wide_network_on_one_and_two_cores
);
criterion_main!(benches);

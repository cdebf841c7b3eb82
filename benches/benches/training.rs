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

/// One epoch of training (shuffle, mini-batches, updates; no monitoring) of the three
/// targets: [784,30,10] and [784,100,10] with mini-batches of 10, [784,800,10] with 100, on
/// as many threads as rayon's global pool has (both cores here).
fn epoch(c: &mut Criterion) {
    let data = mnist_training();
    assert_eq!(data.len(), 50_000);
    let mut group = c.benchmark_group("epoch of 50,000 images");
    group.sample_size(10);
    for (hidden, batch_size) in [(30usize, 10usize), (100, 10), (800, 100)] {
        group.bench_function(format!("[784,{hidden},10], mini-batch {batch_size}"), |b| {
            let config = TrainConfig {
                epochs: 1,
                batch_size,
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

/// Cost and accuracy of a [784,100,10] network on 10,000 images, as monitored after every
/// epoch (the validation set of `nn train`).
fn evaluation(c: &mut Criterion) {
    let subset = mnist_training().subset(..10_000);
    let network = sigmoid_network(&[784, 100, 10]);
    c.bench_function("evaluation of 10,000 images, [784,100,10]", |b| {
        b.iter(|| network.evaluate(&subset, &CrossEntropyCost))
    });
}

/// The best recipe's network (sigmoid here; the products are the same) on mini-batches of 100:
/// products of 0.8 to 64 million multiply-adds, each cut at a column of the weights between
/// the two cores, and element-wise passes of 80,000 numbers per hidden layer cut by examples;
/// on one core and on two.
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
    evaluation,
    wide_network_on_one_and_two_cores
);
criterion_main!(benches);

//! Augmentation of the 50,000 MNIST training images: elastic distortion (alone and with
//! Ciresan et al.'s rotation and scaling) and random shifts through `augment_set`, and the
//! book's shift expansion.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use nn_benches::mnist_training;
use nn_data::{AffineElastic, Elastic, ImageTransform, RandomShift, augment_set, expand_by_shifts};

fn augmentation(c: &mut Criterion) {
    let training = mnist_training();
    let mut out = training.empty_like();
    let mut group = c.benchmark_group("augment_50k");
    group.sample_size(10);

    let elastic: Vec<Box<dyn ImageTransform>> = vec![Box::new(Elastic::default())];
    let mut seed = 0u64;
    group.bench_function("elastic", |b| {
        b.iter(|| {
            seed += 1;
            augment_set(black_box(&training), &elastic, 0.0, seed, &mut out);
        })
    });

    let affine_elastic: Vec<Box<dyn ImageTransform>> = vec![Box::new(AffineElastic::default())];
    group.bench_function("affine_elastic", |b| {
        b.iter(|| {
            seed += 1;
            augment_set(black_box(&training), &affine_elastic, 0.0, seed, &mut out);
        })
    });

    let shifts: Vec<Box<dyn ImageTransform>> = vec![Box::new(RandomShift::default())];
    group.bench_function("random_shift", |b| {
        b.iter(|| {
            seed += 1;
            augment_set(black_box(&training), &shifts, 0.0, seed, &mut out);
        })
    });

    group.bench_function("expand_by_shifts", |b| {
        b.iter(|| expand_by_shifts(black_box(&training)))
    });
    group.finish();
}

criterion_group!(benches, augmentation);
criterion_main!(benches);

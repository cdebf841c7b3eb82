//! Augmentation of the 50,000 MNIST training images: elastic distortion (alone and with
//! Ciresan et al.'s rotation and scaling) and random shifts through `augment_set`, and the
//! book's shift expansion.
//!
//! How many images each distortion went through is printed at the end, so that the processor
//! time per image can be read off `perf stat` (the time of a run filtered to one benchmark,
//! less that of a run filtered to none, which only loads MNIST), e.g.
//! `perf stat -e task-clock target/release/deps/augment-* --bench 'elastic$' --profile-time 10`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use nn_benches::mnist_training;
use nn_data::{AffineElastic, Elastic, ImageTransform, RandomShift, augment_set, expand_by_shifts};

fn augmentation(c: &mut Criterion) {
    let training = mnist_training();
    let mut out = training.empty_like();
    let mut group = c.benchmark_group("augment_50k");
    group.sample_size(10);

    let transforms: [(&str, Box<dyn ImageTransform>); 3] = [
        ("elastic", Box::new(Elastic::default())),
        ("affine_elastic", Box::new(AffineElastic::default())),
        ("random_shift", Box::new(RandomShift::default())),
    ];
    let mut seed = 0u64;
    let mut counts = Vec::new();
    for (name, transform) in transforms {
        let transform = [transform];
        let mut sets = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                seed += 1;
                sets += 1;
                augment_set(black_box(&training), &transform, 0.0, seed, &mut out);
            })
        });
        counts.push((name, sets * training.len()));
    }

    group.bench_function("expand_by_shifts", |b| {
        b.iter(|| expand_by_shifts(black_box(&training)))
    });
    group.finish();
    for (name, images) in counts.into_iter().filter(|&(_, n)| n > 0) {
        eprintln!("{name}: {images} images distorted");
    }
}

criterion_group!(benches, augmentation);
criterion_main!(benches);

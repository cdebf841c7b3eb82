//! The small-batch kernels: every kernel the processor supports agrees with a sum in f64, the
//! best one is chosen, and the row split between two cores changes no bit of training.

use nn_core::kernel::{self, Kernel, MAX_COLUMNS};
use nn_core::{DenseExamples, Initializer, Network, Sgd, Silent, TrainConfig, Trainer};
use nn_costs::CrossEntropyCost;

/// Deterministic numbers in [-1, 1).
fn numbers(count: usize, seed: usize) -> Vec<f32> {
    (0..count)
        .map(|i| (((i + 1) * 7919 + seed * 104_729) % 2001) as f32 / 1000.0 - 1.0)
        .collect()
}

/// Asserts `got` equals `exact` within float rounding: a sum of `terms` products rounded in
/// f32 is off by at most about (terms + 1)·2⁻²⁴ times the sum of |terms| (`magnitude`), the
/// classic bound of recursive summation; a term left out or counted twice is far beyond it.
fn assert_close(got: &[f32], exact: &[f64], magnitude: &[f64], terms: usize, what: &str) {
    let epsilon = f64::from(f32::EPSILON) / 2.0;
    for (i, ((&g, &e), &size)) in got.iter().zip(exact).zip(magnitude).enumerate() {
        let bound = (terms + 2) as f64 * epsilon * size.max(1e-30);
        assert!(
            (g as f64 - e).abs() <= bound,
            "{what}: element {i} is {g}, exactly {e} (bound {bound})"
        );
    }
}

/// Runs `check` with every kernel the processor supports, and says by name on standard error
/// which kernels it could not run.
fn for_each_supported_kernel(mut check: impl FnMut(Kernel)) {
    for kernel in Kernel::ALL {
        if kernel.is_supported() {
            check(kernel);
        } else {
            eprintln!(
                "SKIPPED: the {} kernel, which this processor does not support",
                kernel.name()
            );
        }
    }
}

/// Row counts around the vector widths (8 and 16) and their pairs, and the chapter's layers.
const ROWS: [usize; 9] = [1, 7, 8, 10, 16, 30, 33, 48, 100];

#[test]
fn every_supported_kernel_multiplies_within_rounding_of_an_exact_sum() {
    for_each_supported_kernel(|kernel| {
        for m in ROWS {
            for k in [1, 37, 784] {
                for n in 1..=MAX_COLUMNS {
                    let (a, b, c0) = (numbers(m * k, 1), numbers(k * n, 2), numbers(m * n, 3));
                    let mut bt = vec![0.0; k * n];
                    kernel::interleave(k, n, &b, &mut bt);
                    for accumulate in [false, true] {
                        let mut c = c0.clone();
                        kernel::multiply(kernel, m, k, n, &a, &bt, &mut c, accumulate);
                        let (mut exact, mut size) = (vec![0.0; m * n], vec![0.0; m * n]);
                        for (col, i) in (0..n).flat_map(|col| (0..m).map(move |i| (col, i))) {
                            let start = if accumulate {
                                c0[col * m + i] as f64
                            } else {
                                0.0
                            };
                            exact[col * m + i] = start;
                            size[col * m + i] = start.abs();
                            for j in 0..k {
                                let term = a[j * m + i] as f64 * b[col * k + j] as f64;
                                exact[col * m + i] += term;
                                size[col * m + i] += term.abs();
                            }
                        }
                        let what = format!("{} multiply {m}x{k}x{n} {accumulate}", kernel.name());
                        assert_close(&c, &exact, &size, k + 1, &what);
                    }
                }
            }
        }
    });
}

#[test]
fn every_supported_kernel_takes_outer_products_within_rounding_of_an_exact_sum() {
    for_each_supported_kernel(|kernel| {
        for m in ROWS {
            for k in [1, 37, 784] {
                for n in 1..=MAX_COLUMNS {
                    let (d, b) = (numbers(m * n, 4), numbers(k * n, 5));
                    let mut bt = vec![0.0; k * n];
                    kernel::interleave(k, n, &b, &mut bt);
                    let alpha = 1.0 / n as f32;
                    let mut g = vec![f32::NAN; m * k];
                    kernel::outer(kernel, m, k, n, alpha, &d, &bt, &mut g);
                    let (mut exact, mut size) = (vec![0.0; m * k], vec![0.0; m * k]);
                    for (j, i) in (0..k).flat_map(|j| (0..m).map(move |i| (j, i))) {
                        for col in 0..n {
                            let term = alpha as f64 * d[col * m + i] as f64 * b[col * k + j] as f64;
                            exact[j * m + i] += term;
                            size[j * m + i] += term.abs();
                        }
                    }
                    let what = format!("{} outer {m}x{k}x{n}", kernel.name());
                    assert_close(&g, &exact, &size, n + 1, &what);
                }
            }
        }
    });
}

#[test]
fn the_kernels_agree_with_each_other_within_rounding() {
    let (m, k, n) = (100, 784, 10);
    let (a, b) = (numbers(m * k, 6), numbers(k * n, 7));
    let mut bt = vec![0.0; k * n];
    kernel::interleave(k, n, &b, &mut bt);
    let mut results = Vec::new();
    for_each_supported_kernel(|kernel| {
        let mut c = vec![0.0; m * n];
        kernel::multiply(kernel, m, k, n, &a, &bt, &mut c, false);
        results.push((kernel, c));
    });
    let (_, portable) = results.last().expect("the portable kernel always runs");
    for (kernel, c) in &results {
        for (x, y) in c.iter().zip(portable) {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                "{} gives {x}, portable {y}",
                kernel.name()
            );
        }
    }
}

#[test]
fn the_best_kernel_is_the_widest_the_processor_supports() {
    #[cfg(target_arch = "x86_64")]
    {
        let expected = if std::arch::is_x86_feature_detected!("avx512f") {
            Kernel::Avx512
        } else if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            Kernel::Avx2
        } else {
            Kernel::Portable
        };
        assert_eq!(Kernel::best(), expected);
        eprintln!("the best kernel here is {}", expected.name());
    }
    #[cfg(not(target_arch = "x86_64"))]
    assert_eq!(Kernel::best(), Kernel::Portable);
    match std::env::var("NN_KERNEL") {
        Ok(name) => assert_eq!(Ok(Kernel::active()), Kernel::from_name(&name)),
        Err(_) => assert_eq!(Kernel::active(), Kernel::best()),
    }
}

#[test]
fn nn_kernel_names_are_checked() {
    assert_eq!(Kernel::from_name("portable"), Ok(Kernel::Portable));
    for kernel in Kernel::ALL {
        let named = Kernel::from_name(kernel.name());
        assert_eq!(named.is_ok(), kernel.is_supported(), "{named:?}");
    }
    let error = Kernel::from_name("sse9").unwrap_err();
    assert!(error.contains("avx512, avx2 or portable"), "{error}");
}

#[test]
fn training_split_between_two_cores_is_bit_identical_to_one_core() {
    let sizes = [784, 100, 10];
    let batch = 10;
    assert!(
        kernel::split_point(100, 784 * 100 * batch) > 0,
        "this shape must take the two-core path"
    );
    let inputs: Vec<Vec<f32>> = (0..300).map(|i| numbers(784, i + 10)).collect();
    let classes = (0..300).map(|i| i % 10).collect();
    let data = DenseExamples::classification(inputs, classes, 10);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let network = Network::sigmoid(&sizes, Initializer::Default, 5).unwrap();
            let config = TrainConfig {
                epochs: 2,
                batch_size: batch,
                eta: 0.1,
                ..TrainConfig::default()
            };
            let trainer = Trainer::new(
                network,
                &CrossEntropyCost,
                Box::new(Sgd),
                Vec::new(),
                config,
            )
            .unwrap();
            let (network, _) = trainer.train(&data, None, &mut Silent).unwrap();
            network
                .params()
                .iter()
                .map(|p| p.to_bits())
                .collect::<Vec<u32>>()
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    let start = Network::sigmoid(&sizes, Initializer::Default, 5).unwrap();
    assert_ne!(
        one,
        start
            .params()
            .iter()
            .map(|p| p.to_bits())
            .collect::<Vec<u32>>(),
        "training must move the weights"
    );
}

//! The small-batch kernels: every kernel the processor supports agrees with a sum in f64, the
//! best one is chosen, and the row split between two cores changes no bit of training.

use nn_core::kernel::{self, Kernel, MAX_COLUMNS, Store};
use nn_core::optimizer::{MomentumUpdate, SgdUpdate};
use nn_core::{
    DenseExamples, FusedStep, Initializer, Momentum, Network, Optimizer, OptimizerState,
    Regularizer, Sgd, Silent, TrainConfig, TrainError, Trainer, Workspace,
};
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

/// Runs `check` with every kernel the processor supports ([`nn_testdata::kernels_under_test`]:
/// one it lacks fails the test when `NN_REQUIRE_KERNELS` names it).
fn for_each_supported_kernel(check: impl FnMut(Kernel)) {
    nn_testdata::kernels_under_test()
        .into_iter()
        .for_each(check);
}

#[test]
fn the_kernels_nn_require_kernels_names_are_supported() {
    for kernel in nn_testdata::required_kernels() {
        assert!(kernel.is_supported(), "{} is not supported", kernel.name());
    }
}

/// Mini-batches wider than the registers hold: in chunks (forward) or tiles (weight gradient).
const WIDE: [usize; 3] = [17, 29, 100];

/// Row counts around the vector widths (8 and 16) and their pairs, and the chapter's layers.
const ROWS: [usize; 9] = [1, 7, 8, 10, 16, 30, 33, 48, 100];

#[test]
fn every_supported_kernel_multiplies_within_rounding_of_an_exact_sum() {
    for_each_supported_kernel(|kernel| {
        for m in ROWS {
            for k in [1, 37, 784] {
                for n in (1..=MAX_COLUMNS).chain(WIDE) {
                    let (a, b, c0) = (numbers(m * k, 1), numbers(k * n, 2), numbers(m * n, 3));
                    let mut partial = vec![f32::NAN; m * n];
                    for accumulate in [false, true] {
                        let mut c = c0.clone();
                        kernel::multiply(kernel, m, k, n, &a, &b, &mut c, accumulate, &mut partial);
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
fn a_wide_product_is_bit_identical_to_its_columns_taken_a_few_at_a_time() {
    // The wide path's chunks, panels and depth blocks must not change any element's sequence
    // of multiply-adds: each group of up to MAX_COLUMNS columns is what the small-batch kernel
    // gives for it (cut between the cores at the same column of the weights).
    for_each_supported_kernel(|kernel| {
        for (m, k, n) in [(30, 784, 500), (800, 784, 37), (10, 300, 17)] {
            let (a, b, c0) = (numbers(m * k, 4), numbers(k * n, 5), numbers(m * n, 6));
            let mut partial = vec![f32::NAN; m * n];
            for accumulate in [false, true] {
                let mut wide = c0.clone();
                kernel::multiply(kernel, m, k, n, &a, &b, &mut wide, accumulate, &mut partial);
                for first in (0..n).step_by(MAX_COLUMNS) {
                    let columns = first..(first + MAX_COLUMNS).min(n);
                    let width = columns.len();
                    assert_eq!(
                        kernel::split_point(k, m * k * width),
                        kernel::split_point(k, m * k * n)
                    );
                    let mut few = c0[first * m..columns.end * m].to_vec();
                    let inputs = &b[first * k..columns.end * k];
                    let mut scratch = vec![f32::NAN; m * width];
                    kernel::multiply(
                        kernel,
                        m,
                        k,
                        width,
                        &a,
                        inputs,
                        &mut few,
                        accumulate,
                        &mut scratch,
                    );
                    let same = few
                        .iter()
                        .zip(&wide[first * m..])
                        .all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(
                        same,
                        "{} {m}x{k}x{n} columns {columns:?} {accumulate}",
                        kernel.name()
                    );
                }
            }
        }
    });
}

/// What the outer-product tests ask of [`kernel::outer`].
#[derive(Debug, Clone, Copy)]
enum Mode {
    Store,
    Step,
    Momentum { nesterov: bool },
}

#[test]
fn every_supported_kernel_takes_outer_products_and_sgd_and_momentum_steps_within_rounding() {
    let (eta, decay, mu) = (0.5f32, 1e-4f32, 0.9f32);
    let modes = [
        Mode::Store,
        Mode::Step,
        Mode::Momentum { nesterov: false },
        Mode::Momentum { nesterov: true },
    ];
    for_each_supported_kernel(|kernel| {
        for m in ROWS {
            for k in [1, 37, 784] {
                for n in (1..=MAX_COLUMNS).chain(WIDE) {
                    let (d, b, w) = (numbers(m * n, 4), numbers(k * n, 5), numbers(m * k, 6));
                    let v0 = numbers(m * k, 7);
                    let alpha = 1.0 / n as f32;
                    for mode in modes {
                        let mut g = match mode {
                            Mode::Store => vec![f32::NAN; m * k],
                            _ => w.clone(),
                        };
                        let mut velocity = v0.clone();
                        let (d, b, g) = (&d[..], &b[..], &mut g[..]);
                        match mode {
                            Mode::Store => kernel::outer(kernel, m, k, n, alpha, d, b, g, Store),
                            Mode::Step => {
                                let step = SgdUpdate::new(eta, decay);
                                kernel::outer(kernel, m, k, n, alpha, d, b, g, step)
                            }
                            Mode::Momentum { nesterov } => {
                                let step =
                                    MomentumUpdate::new(eta, decay, mu, nesterov, &mut velocity);
                                kernel::outer(kernel, m, k, n, alpha, d, b, g, step)
                            }
                        }
                        let mut exact = vec![(0.0, 0.0); m * k];
                        let mut exact_velocity = vec![(0.0, 0.0); m * k];
                        for (j, i) in (0..k).flat_map(|j| (0..m).map(move |i| (j, i))) {
                            let e = j * m + i;
                            // The gradient α Σ d b and the sum of its terms' sizes.
                            let (mut sum, mut size) = (0.0f64, 0.0f64);
                            for col in 0..n {
                                let term = f64::from(alpha)
                                    * f64::from(d[col * m + i])
                                    * f64::from(b[col * k + j]);
                                sum += term;
                                size += term.abs();
                            }
                            let (w0, eta, decay, mu) = (
                                f64::from(w[e]),
                                f64::from(eta),
                                f64::from(decay),
                                f64::from(mu),
                            );
                            let previous = f64::from(v0[e]);
                            exact[e] = match mode {
                                Mode::Store => (sum, size),
                                Mode::Step => {
                                    let keep = (1.0 - eta * decay) * w0;
                                    (keep - eta * sum, keep.abs() + eta * size)
                                }
                                Mode::Momentum { nesterov } => {
                                    let g = sum + decay * w0;
                                    let now = mu * previous - eta * g;
                                    let now_size =
                                        mu * previous.abs() + eta * (size + decay * w0.abs());
                                    exact_velocity[e] = (now, now_size);
                                    if nesterov {
                                        (
                                            w0 - mu * previous + (1.0 + mu) * now,
                                            w0.abs() + mu * previous.abs() + (1.0 + mu) * now_size,
                                        )
                                    } else {
                                        (w0 + now, w0.abs() + now_size)
                                    }
                                }
                            };
                        }
                        let name = format!("{} {mode:?} {m}x{k}x{n}", kernel.name());
                        let (value, size): (Vec<f64>, Vec<f64>) = exact.into_iter().unzip();
                        assert_close(g, &value, &size, n + 8, &name);
                        if let Mode::Momentum { .. } = mode {
                            let (value, size): (Vec<f64>, Vec<f64>) =
                                exact_velocity.into_iter().unzip();
                            assert_close(&velocity, &value, &size, n + 8, &name);
                        } else {
                            assert_eq!(velocity, v0, "{name}: only momentum moves velocities");
                        }
                    }
                }
            }
        }
    });
}

#[test]
fn every_supported_kernel_carries_errors_down_through_transposed_weights_within_rounding() {
    for_each_supported_kernel(|kernel| {
        // Rows below and above FEW_ROWS (transposed copy or lane sums), tails of every kind.
        for m in [1, 10, 31, 32, 33, 100, 800] {
            for k in [1, 5, 37, 784] {
                for n in [1, 3, 10, 17, 100] {
                    let (a, d) = (numbers(m * k, 8), numbers(m * n, 9));
                    let mut e = vec![f32::NAN; k * n];
                    let mut scratch = vec![f32::NAN; m * k];
                    kernel::transposed(kernel, m, k, n, &a, &d, &mut e, &mut scratch);
                    let (mut exact, mut size) = (vec![0.0; k * n], vec![0.0; k * n]);
                    for (c, j) in (0..n).flat_map(|c| (0..k).map(move |j| (c, j))) {
                        for i in 0..m {
                            let term = f64::from(a[j * m + i]) * f64::from(d[c * m + i]);
                            exact[c * k + j] += term;
                            size[c * k + j] += term.abs();
                        }
                    }
                    let what = format!("{} transposed {m}x{k}x{n}", kernel.name());
                    assert_close(&e, &exact, &size, m + 1, &what);
                }
            }
        }
    });
}

#[test]
fn the_kernels_agree_with_each_other_within_rounding() {
    let (m, k, n) = (100, 784, 10);
    let (a, b) = (numbers(m * k, 6), numbers(k * n, 7));
    let mut results = Vec::new();
    for_each_supported_kernel(|kernel| {
        let mut c = vec![0.0; m * n];
        kernel::multiply(
            kernel,
            m,
            k,
            n,
            &a,
            &b,
            &mut c,
            false,
            &mut vec![0.0; m * n],
        );
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
        let expected = if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("fma")
        {
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
    {
        let simd128 = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));
        let expected = if simd128 {
            Kernel::Simd128
        } else {
            Kernel::Portable
        };
        assert_eq!(Kernel::best(), expected);
    }
    #[cfg(target_arch = "x86_64")]
    assert!(!Kernel::Simd128.is_supported());
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
    assert!(
        error.contains("avx512, avx2, simd128 or portable"),
        "{error}"
    );
}

#[cfg(feature = "parallel")]
#[test]
fn training_split_between_two_cores_is_bit_identical_to_one_core() {
    let sizes = [784, 100, 10];
    let batch = 10;
    assert!(
        kernel::split_point(784, 784 * 100 * batch) > 0,
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

/// A mini-batch of 100 through 400 hidden neurons (40,000 numbers per pass) has its biases,
/// activations and σ' computed in two halves of columns on the two cores; two mini-batches
/// of 50 (20,000) are not cut. The cut batch's gradient must be the mean of the halves'.
#[test]
fn a_mini_batch_cut_between_the_cores_has_the_mean_gradient_of_its_halves() {
    let sizes = [784, 400, 10];
    let inputs: Vec<Vec<f32>> = (0..100).map(|i| numbers(784, i + 20)).collect();
    let data = DenseExamples::classification(inputs, (0..100).map(|i| i % 10).collect(), 10);
    let network = Network::sigmoid(&sizes, Initializer::Default, 9).unwrap();
    let count = network.params().len();
    let gradient = |indices: &[usize]| {
        let mut ws = Workspace::new(&network, indices.len()).unwrap();
        ws.load_indices(&data, indices);
        let mut gradient = vec![0.0; count];
        network.backprop(&mut ws, indices.len(), &CrossEntropyCost, &mut gradient);
        gradient
    };
    let all: Vec<usize> = (0..100).collect();
    let whole = gradient(&all);
    let (first, second) = (gradient(&all[..50]), gradient(&all[50..]));
    let largest = whole.iter().fold(0f32, |m, g| m.max(g.abs()));
    assert!(largest > 1e-3, "the gradient must not vanish");
    for (i, ((&w, &a), &b)) in whole.iter().zip(&first).zip(&second).enumerate() {
        let mean = (a + b) / 2.0;
        assert!(
            (w - mean).abs() <= 1e-4 * largest,
            "parameter {i}: {w} for the whole batch, {mean} from its halves"
        );
    }
}

/// L2 regularization, (λ/2n) Σ w² (eq. 85), written here since nn-regularize depends on
/// nn-core.
#[derive(Debug)]
struct Decay(f32);

impl Regularizer for Decay {
    fn describe(&self) -> String {
        format!("decay({})", self.0)
    }
    fn add_weight_gradient(&self, weights: &[f32], n: usize, gradient: &mut [f32]) {
        for (g, &w) in gradient.iter_mut().zip(weights) {
            *g += self.0 / n as f32 * w;
        }
    }
    fn weight_decay(&self, n: usize) -> Option<f32> {
        Some(self.0 / n as f32)
    }
}

/// Plain SGD that does not say so, so the trainer takes the step after backpropagation.
#[derive(Debug)]
struct UnfusedSgd;

impl Optimizer for UnfusedSgd {
    fn describe(&self) -> String {
        "unfused sgd".into()
    }
    fn prepare(&mut self, count: usize) -> Result<(), TrainError> {
        Sgd.prepare(count)
    }
    fn step(&mut self, params: &mut [f32], gradient: &[f32], eta: f32) -> Result<(), TrainError> {
        Sgd.step(params, gradient, eta)
    }
    fn state(&self) -> OptimizerState {
        Sgd.state()
    }
    fn restore(&mut self, state: OptimizerState) -> Result<(), TrainError> {
        Sgd.restore(state)
    }
}

#[test]
fn sgd_taken_inside_backpropagation_matches_the_separate_step_within_rounding() {
    let inputs: Vec<Vec<f32>> = (0..200).map(|i| numbers(784, i + 20)).collect();
    let classes = (0..200).map(|i| i % 10).collect();
    let data = DenseExamples::classification(inputs, classes, 10);
    // Mini-batches of 10 take the fused kernel, of 20 the general product.
    for batch_size in [10, 20] {
        let run = |optimizer: Box<dyn Optimizer>| {
            let network = Network::sigmoid(&[784, 30, 10], Initializer::Default, 2).unwrap();
            let config = TrainConfig {
                epochs: 1,
                batch_size,
                eta: 0.5,
                ..TrainConfig::default()
            };
            let decay: Vec<Box<dyn Regularizer>> = vec![Box::new(Decay(5.0))];
            let trainer =
                Trainer::new(network, &CrossEntropyCost, optimizer, decay, config).unwrap();
            trainer.train(&data, None, &mut Silent).unwrap().0
        };
        let (fused, separate) = (run(Box::new(Sgd)), run(Box::new(UnfusedSgd)));
        let start = Network::sigmoid(&[784, 30, 10], Initializer::Default, 2).unwrap();
        let mut moved = 0;
        for ((f, s), w0) in fused
            .params()
            .iter()
            .zip(separate.params())
            .zip(start.params())
        {
            assert!((f - s).abs() <= 1e-4 * (1.0 + s.abs()), "{f} against {s}");
            moved += usize::from(f != w0);
        }
        assert!(
            moved > fused.params().len() / 2,
            "training must move the weights"
        );
    }
}

/// Momentum that does not offer its step element by element, so the trainer stores the
/// gradient, adds the L2 term and calls `step`.
#[derive(Debug)]
struct UnfusedMomentum(Momentum);

impl Optimizer for UnfusedMomentum {
    fn describe(&self) -> String {
        "unfused momentum".into()
    }
    fn prepare(&mut self, count: usize) -> Result<(), TrainError> {
        self.0.prepare(count)
    }
    fn step(&mut self, params: &mut [f32], gradient: &[f32], eta: f32) -> Result<(), TrainError> {
        self.0.step(params, gradient, eta)
    }
    fn state(&self) -> OptimizerState {
        self.0.state()
    }
    fn restore(&mut self, state: OptimizerState) -> Result<(), TrainError> {
        self.0.restore(state)
    }
}

#[test]
fn momentum_taken_inside_backpropagation_is_the_separate_step_bit_for_bit() {
    let inputs: Vec<Vec<f32>> = (0..200).map(|i| numbers(784, i + 30)).collect();
    let classes = (0..200).map(|i| i % 10).collect();
    let data = DenseExamples::classification(inputs, classes, 10);
    let momentum = |nesterov: bool| {
        if nesterov {
            Momentum::nesterov(0.9).unwrap()
        } else {
            Momentum::new(0.9).unwrap()
        }
    };
    assert!(matches!(
        momentum(false).fused(),
        Some(FusedStep::Momentum { .. })
    ));
    // Mini-batches of 10 take the small-batch kernel, of 20 the wide one.
    for (batch_size, nesterov) in [(10, false), (20, false), (10, true), (20, true)] {
        let run = |optimizer: Box<dyn Optimizer>| {
            let network = Network::sigmoid(&[784, 30, 10], Initializer::Default, 3).unwrap();
            let config = TrainConfig {
                epochs: 2,
                batch_size,
                eta: 0.1,
                ..TrainConfig::default()
            };
            let decay: Vec<Box<dyn Regularizer>> = vec![Box::new(Decay(5.0))];
            let trainer =
                Trainer::new(network, &CrossEntropyCost, optimizer, decay, config).unwrap();
            trainer.train(&data, None, &mut Silent).unwrap().0
        };
        let fused = run(Box::new(momentum(nesterov)));
        let separate = run(Box::new(UnfusedMomentum(momentum(nesterov))));
        let start = Network::sigmoid(&[784, 30, 10], Initializer::Default, 3).unwrap();
        let moved = fused
            .params()
            .iter()
            .zip(start.params())
            .filter(|(f, w0)| f != w0)
            .count();
        assert!(
            moved > fused.params().len() / 2,
            "training must move the weights"
        );
        for (f, s) in fused.params().iter().zip(separate.params()) {
            assert_eq!(
                f.to_bits(),
                s.to_bits(),
                "{f} against {s} (batch {batch_size})"
            );
        }
    }
}

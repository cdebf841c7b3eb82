//! A fully-connected feedforward network and matrix-based backpropagation over a mini-batch.
//!
//! All parameters live in one flat `Vec<f32>`: for each layer its weight matrix `w` (`rows ×
//! cols`, where `rows` is the layer's size and `cols` the previous layer's, column-major), then its
//! bias vector `b`. Optimizers and regularizers work on that flat vector (or on one layer's
//! weights) without knowing the network's shape.

use std::ops::Range;
use std::sync::Arc;

use nalgebra::{DMatrixView, DVectorView};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal, StandardNormal};
#[cfg(feature = "parallel")]
use rayon::prelude::*;

use crate::kernel::{self, Kernel};
use crate::optimizer::{MomentumUpdate, SgdUpdate, momentum_rule};
use crate::pair::{self, ColumnWork};
use crate::{
    Activation, Cost, Examples, Framing, FusedStep, NetworkError, Sigmoid, Standardization,
    TrainError,
};

/// The most weights and biases a network may have: 2²⁸, 1 GiB of 32-bit numbers.
///
/// Training holds several vectors of this length (parameters, gradient, the optimizer's state,
/// the best and the averaged weights): about 7 GiB at the limit, which a machine with 16-24 GiB
/// can honour, while layer sizes that are typing mistakes (a hidden layer of 3·10¹⁵) are refused
/// before anything is allocated. The chapter's largest network, [784, 100, 10], has 79 510.
pub const MAX_PARAMETERS: usize = 1 << 28;

/// The most weighted layers a network may have: 1,000.
///
/// The chapter's networks have two or three; the limit is far beyond any useful depth, and it
/// bounds the bookkeeping per layer (shapes, activations, buffers), which a file of a million
/// one-neuron layers would otherwise make hundreds of times larger than the file itself.
pub const MAX_LAYERS: usize = 1_000;

/// The most bytes the buffers of one mini-batch ([`Workspace`]) may take: 2 GiB.
///
/// Per example the buffers hold the inputs and targets, z and σ(z) of every weighted layer,
/// a dropout mask and its product for the input and every hidden layer, and two columns of
/// errors as wide as the widest layer, all 4-byte floats; [`Network::workspace_bytes`] counts
/// them. 2 GiB holds a mini-batch of 131 909 MNIST examples for [784, 30, 10] and of 51 711
/// for [784, 800, 800, 10], far more than any useful mini-batch, yet it is small beside a
/// 16-24 GiB machine's memory.
pub const MAX_WORKSPACE_BYTES: usize = 1 << 31;

/// How the weights and biases of a new network are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Initializer {
    /// Weights from N(0, 1/n_in), i.e. standard deviation 1/√n_in, and biases from N(0, 1): the
    /// chapter's improved initialization, which keeps z = Σ w x + b from saturating.
    #[default]
    Default,
    /// Weights and biases from N(0, 1): chapter 1's initialization
    /// (network2.py's `large_weight_initializer`).
    Large,
}

impl std::str::FromStr for Initializer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "default" => Ok(Self::Default),
            "large" => Ok(Self::Large),
            _ => Err(format!("unknown initializer '{s}': use default or large")),
        }
    }
}

/// Where one weighted layer's parameters sit in the flat parameter vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerShape {
    /// Neurons in this layer (rows of `w`).
    pub rows: usize,
    /// Neurons in the previous layer (columns of `w`).
    pub cols: usize,
    /// Range of the weights (column-major `rows × cols`).
    pub weights: Range<usize>,
    /// Range of the biases.
    pub biases: Range<usize>,
}

/// A feedforward network of any layer sizes.
///
/// ```
/// use nn_core::{DenseExamples, Initializer, Network};
/// use nn_costs::QuadraticCost;
///
/// // The book's main network: 784 inputs, 30 hidden sigmoid neurons, 10 sigmoid outputs.
/// let network = Network::sigmoid(&[784, 30, 10], Initializer::Default, 1)?;
/// assert_eq!(network.params().len(), 784 * 30 + 30 + 30 * 10 + 10);
/// let data = DenseExamples::classification(vec![vec![0.0; 784]; 2], vec![3, 7], 10);
/// let evaluation = network.evaluate(&data, &QuadraticCost);
/// assert_eq!(evaluation.count, 2);
/// # Ok::<(), nn_core::NetworkError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Network {
    sizes: Vec<usize>,
    activations: Vec<Arc<dyn Activation>>,
    layers: Vec<LayerShape>,
    params: Vec<f32>,
    standardization: Standardization,
    framing: Option<Framing>,
}

impl Network {
    /// A network with the given layer sizes (input first) and one activation per weighted layer,
    /// initialised from `seed`.
    pub fn new(
        sizes: &[usize],
        activations: Vec<Arc<dyn Activation>>,
        init: Initializer,
        seed: u64,
    ) -> Result<Self, NetworkError> {
        let mut network = Self::zeros(sizes, activations)?;
        let mut rng = StdRng::seed_from_u64(seed);
        for layer in &network.layers {
            let std_dev = match init {
                Initializer::Default => 1.0 / (layer.cols as f32).sqrt(),
                Initializer::Large => 1.0,
            };
            let normal = Normal::new(0.0, std_dev).expect("positive standard deviation");
            for w in &mut network.params[layer.weights.clone()] {
                *w = normal.sample(&mut rng);
            }
            for b in &mut network.params[layer.biases.clone()] {
                *b = StandardNormal.sample(&mut rng);
            }
        }
        Ok(network)
    }

    /// A network of sigmoid neurons in every layer, as network2.py builds.
    pub fn sigmoid(sizes: &[usize], init: Initializer, seed: u64) -> Result<Self, NetworkError> {
        let count = sizes.len().saturating_sub(1);
        let sigmoid: Vec<Arc<dyn Activation>> =
            (0..count).map(|_| Arc::new(Sigmoid) as _).collect();
        Self::new(sizes, sigmoid, init, seed)
    }

    /// A network with every parameter zero; [`Network::params_mut`] fills it in.
    pub fn zeros(
        sizes: &[usize],
        activations: Vec<Arc<dyn Activation>>,
    ) -> Result<Self, NetworkError> {
        Self::check_sizes(sizes)?;
        if activations.len() != sizes.len() - 1 {
            return Err(NetworkError::ActivationCount {
                given: activations.len(),
                layers: sizes.len() - 1,
            });
        }
        let mut offset = 0;
        let layers = sizes
            .windows(2)
            .map(|pair| {
                let (cols, rows) = (pair[0], pair[1]);
                let weights = offset..offset + rows * cols;
                let biases = weights.end..weights.end + rows;
                offset = biases.end;
                LayerShape {
                    rows,
                    cols,
                    weights,
                    biases,
                }
            })
            .collect();
        Ok(Self {
            sizes: sizes.to_vec(),
            activations,
            layers,
            params: vec![0.0; offset],
            standardization: Standardization::default(),
            framing: None,
        })
    }

    /// Checks layer sizes before anything is allocated for them (every constructor and model
    /// loading check them here): at least two, none zero, at most [`MAX_LAYERS`] weighted layers, at most [`MAX_PARAMETERS`] weights and biases, and
    /// buffers for one example within [`MAX_WORKSPACE_BYTES`].
    ///
    /// ```
    /// use nn_core::Network;
    /// assert!(Network::check_sizes(&[784, 30, 10]).is_ok());
    /// assert!(Network::check_sizes(&[784, 3_000_000_000_000_000, 10]).is_err());
    /// assert!(Network::check_sizes(&vec![1; 100_000]).is_err());
    /// ```
    pub fn check_sizes(sizes: &[usize]) -> Result<(), NetworkError> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(NetworkError::InvalidSizes(sizes.to_vec()));
        }
        if sizes.len() - 1 > MAX_LAYERS {
            return Err(NetworkError::TooManyLayers {
                layers: sizes.len() - 1,
                limit: MAX_LAYERS,
            });
        }
        let too_many = |count| NetworkError::TooManyParameters {
            sizes: sizes.to_vec(),
            count,
            limit: MAX_PARAMETERS,
        };
        let count = Self::parameter_count(sizes).ok_or_else(|| too_many(None))?;
        if count > MAX_PARAMETERS {
            return Err(too_many(Some(count)));
        }
        check_workspace(sizes, 1)
    }

    /// The weights and biases of a network with these layer sizes, Σ (n_in·n_out + n_out) over
    /// its layers, or `None` when the count overflows `usize`.
    ///
    /// ```
    /// assert_eq!(nn_core::Network::parameter_count(&[784, 30, 10]), Some(23_860));
    /// assert_eq!(nn_core::Network::parameter_count(&[usize::MAX, 2]), None);
    /// ```
    pub fn parameter_count(sizes: &[usize]) -> Option<usize> {
        sizes.windows(2).try_fold(0usize, |total, pair| {
            let layer = pair[0].checked_mul(pair[1])?.checked_add(pair[1])?;
            total.checked_add(layer)
        })
    }

    /// The input standardization applied before the first layer (none unless one was set).
    pub fn standardization(&self) -> &Standardization {
        &self.standardization
    }

    /// Makes every forward pass standardize its inputs with `standardization` (see
    /// [`Standardization::fit`]); refuses per-input statistics for another input size.
    pub fn set_standardization(
        &mut self,
        standardization: Standardization,
    ) -> Result<(), NetworkError> {
        standardization.check_input_size(self.input_size())?;
        self.standardization = standardization;
        Ok(())
    }

    /// How the training images framed their digits, for preparing a new picture as they were
    /// (`None` when unknown, as in network2.py's files: MNIST's [`Framing::MNIST`] is then
    /// the right guess for a 784-input network).
    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    /// Records how the training images framed their digits (see [`Framing`]).
    pub fn set_framing(&mut self, framing: Option<Framing>) {
        self.framing = framing;
    }

    /// The bytes a [`Workspace`] for mini-batches of `batch` examples takes with these layer
    /// sizes, `None` when the count overflows `usize`.
    pub fn workspace_bytes(sizes: &[usize], batch: usize) -> Option<usize> {
        workspace_floats_per_example(sizes)?
            .checked_mul(batch)?
            .checked_mul(size_of::<f32>())
    }

    /// The largest mini-batch whose [`Workspace`] stays within [`MAX_WORKSPACE_BYTES`]
    /// (at least 1: [`Network::zeros`] refuses networks for which not even one example fits).
    pub fn max_batch(&self) -> usize {
        max_batch(&self.sizes)
    }

    /// Layer sizes, input layer first.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Size of the input layer.
    pub fn input_size(&self) -> usize {
        self.sizes[0]
    }

    /// Size of the output layer.
    pub fn output_size(&self) -> usize {
        *self.sizes.last().expect("at least two layers")
    }

    /// The activation of each weighted layer.
    pub fn activations(&self) -> &[Arc<dyn Activation>] {
        &self.activations
    }

    /// Where each weighted layer's parameters sit in [`Network::params`].
    pub fn layers(&self) -> &[LayerShape] {
        &self.layers
    }

    /// All weights and biases, layer by layer.
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// All weights and biases, mutable.
    pub fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }

    /// Calls `f` with each weighted layer's shape and mutable weights.
    pub fn for_each_weights_mut(&mut self, mut f: impl FnMut(&LayerShape, &mut [f32])) {
        for shape in &self.layers {
            f(shape, &mut self.params[shape.weights.clone()]);
        }
    }

    /// The weight matrix of weighted layer `layer` (0 = first hidden layer).
    pub fn weights(&self, layer: usize) -> DMatrixView<'_, f32> {
        let shape = &self.layers[layer];
        DMatrixView::from_slice(&self.params[shape.weights.clone()], shape.rows, shape.cols)
    }

    /// The bias vector of weighted layer `layer`.
    pub fn biases(&self, layer: usize) -> DVectorView<'_, f32> {
        DVectorView::from_slice(
            &self.params[self.layers[layer].biases.clone()],
            self.layers[layer].rows,
        )
    }

    /// True when every parameter is finite.
    pub fn is_finite(&self) -> bool {
        self.params.iter().all(|p| p.is_finite())
    }

    /// The output activations for one input vector (standardized first, when the network
    /// carries a [`Standardization`]).
    ///
    /// # Panics
    /// When `input` does not have one value per input neuron ([`Network::input_size`]).
    pub fn feedforward(&self, input: &[f32]) -> Vec<f32> {
        let mut workspace = Workspace::allocate(self, 1);
        workspace.inputs.copy_from_slice(input);
        let rows = input.len();
        workspace
            .standardization
            .apply(&mut workspace.inputs[..rows], rows);
        self.forward(&mut workspace, 1);
        workspace.acts.last().expect("output layer").clone()
    }

    /// Checks that a data set's input and output sizes fit this network.
    pub fn check_shape(&self, data: &dyn Examples, what: &str) -> Result<(), TrainError> {
        if data.input_len() != self.input_size() || data.output_len() != self.output_size() {
            return Err(TrainError::ShapeMismatch {
                what: what.to_string(),
                inputs: data.input_len(),
                classes: data.output_len(),
                sizes: self.sizes.clone(),
            });
        }
        Ok(())
    }

    /// Forward pass of the first `m` columns of `workspace.inputs`, storing every layer's `z`
    /// and `a = σ(z)`; inputs to a layer are taken through its dropout mask when one is active.
    pub(crate) fn forward(&self, ws: &mut Workspace, m: usize) {
        let Workspace {
            inputs,
            zs,
            acts,
            masks,
            masked,
            mask_active,
            kernel,
            back,
            ..
        } = ws;
        if mask_active[0] {
            let size = self.sizes[0] * m;
            let masking = Masking {
                values: &inputs[..size],
                mask: &masks[0][..size],
                out: &mut masked[0][..size],
                rows: self.sizes[0],
            };
            pair::by_column_halves(masking, self.sizes[0], m);
        }
        for (index, shape) in self.layers.iter().enumerate() {
            let (rows, size) = (shape.rows, shape.rows * m);
            let (before, after) = acts.split_at_mut(index);
            let input = layer_input(index, inputs, before, masked, mask_active);
            let z = &mut zs[index][..size];
            let biases = Biases {
                z: &mut *z,
                biases: &self.params[shape.biases.clone()],
            };
            pair::by_column_halves(biases, rows, m);
            let weights = &self.params[shape.weights.clone()];
            // `back` is free until the backward pass: the second core's partial sums.
            let partial = &mut back[..];
            kernel::multiply(
                *kernel, rows, shape.cols, m, weights, input, z, true, partial,
            );
            let dropout = (index + 1 < self.layers.len() && mask_active[index + 1])
                .then(|| (&masks[index + 1][..size], &mut masked[index + 1][..size]));
            let activate = Activate {
                activation: self.activations[index].as_ref(),
                z,
                a: &mut after[0][..size],
                dropout,
                rows,
            };
            pair::by_column_halves(activate, rows, m);
        }
    }

    /// Backpropagation over the first `m` columns of the workspace (filled by
    /// [`Workspace::load_indices`]) (the chapter's fully
    /// matrix-based approach): writes the gradient of the average cost, (1/m) Σₓ ∇Cₓ, into
    /// `gradient`, laid out like [`Network::params`].
    ///
    /// BP1: δᴸ = ∂C/∂zᴸ from the cost; BP2: δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ'(zˡ) (and ⊙ the dropout
    /// mask); BP3: ∂C/∂b = δ; BP4: ∂C/∂w = δ (aˡ⁻¹)ᵀ, summed over the batch's columns.
    pub fn backprop(&self, ws: &mut Workspace, m: usize, cost: &dyn Cost, gradient: &mut [f32]) {
        self.forward(ws, m);
        let target = Backward::Gradient {
            params: &self.params,
            gradient,
        };
        backward(&self.layers, &self.activations, target, ws, m, cost);
    }

    /// Backpropagation as [`Network::backprop`] followed by the optimizer's step `step` with
    /// weight decay: for plain SGD, eq. 93, w → (1 − η·decay) w − η ∂C₀/∂w and
    /// b → b − η ∂C₀/∂b; for momentum, the step of [`crate::Momentum`] on the gradient
    /// ∂C₀/∂w + decay·w; decay = λ/n for L2 and 0 without it. Each layer is updated in the pass
    /// that computes its gradient, once its error has been carried down through the old
    /// weights, and the weight gradient is never stored ([`kernel::Update`]).
    pub(crate) fn backprop_step(
        &mut self,
        ws: &mut Workspace,
        m: usize,
        cost: &dyn Cost,
        eta: f32,
        decay: f32,
        step: FusedStep<'_>,
    ) {
        self.forward(ws, m);
        let target = Backward::Step {
            params: &mut self.params,
            eta,
            decay,
            step,
        };
        backward(&self.layers, &self.activations, target, ws, m, cost);
    }

    /// Total cost (without any regularization term) and number of correct classifications over
    /// a data set, computed in chunks (in parallel with the `parallel` feature) whose results
    /// are added in a fixed order, so the figures do not depend on the number of threads. An example whose outputs are not all
    /// finite counts as wrong and is counted in [`Evaluation::non_finite`].
    pub fn evaluate(&self, data: &dyn Examples, cost: &dyn Cost) -> Evaluation {
        let chunk = self.max_batch().min(500);
        let chunks: Vec<Range<usize>> = (0..data.len())
            .step_by(chunk)
            .map(|start| start..(start + chunk).min(data.len()))
            .collect();
        // One group of chunks, and one workspace, per thread: a workspace of a wide network
        // is tens of megabytes, and a fresh one per chunk cost more in page faults than the
        // evaluation itself.
        let groups = pair::threads().clamp(1, chunks.len().max(1));
        let per_group = chunks.len().div_ceil(groups).max(1);
        let evaluate_group = |group: &[Range<usize>]| {
            let mut ws = Workspace::allocate(self, chunk);
            group
                .iter()
                .map(|range| self.evaluate_columns(&mut ws, data, cost, range.clone()))
                .collect::<Vec<_>>()
        };
        #[cfg(feature = "parallel")]
        let partial: Vec<(f64, usize, usize)> = chunks
            .par_chunks(per_group)
            .flat_map_iter(evaluate_group)
            .collect();
        #[cfg(not(feature = "parallel"))]
        let partial: Vec<(f64, usize, usize)> =
            chunks.chunks(per_group).flat_map(evaluate_group).collect();
        Evaluation {
            cost_sum: partial.iter().map(|p| p.0).sum(),
            correct: partial.iter().map(|p| p.1).sum(),
            count: data.len(),
            non_finite: partial.iter().map(|p| p.2).sum(),
        }
    }

    /// The cost summed over the examples `range` of `data`, and how many of them are classified
    /// right and how many have outputs that are not all finite; one forward pass of `ws`.
    fn evaluate_columns(
        &self,
        ws: &mut Workspace,
        data: &dyn Examples,
        cost: &dyn Cost,
        range: Range<usize>,
    ) -> (f64, usize, usize) {
        let m = range.len();
        ws.load(data, range.clone());
        self.forward(ws, m);
        let rows = self.output_size();
        let (z, a) = (
            &ws.zs.last().unwrap()[..rows * m],
            &ws.acts.last().unwrap()[..rows * m],
        );
        let output = self.activations.last().unwrap().as_ref();
        let total = cost.total(z, a, &ws.targets[..rows * m], rows, output);
        let (mut correct, mut non_finite) = (0, 0);
        for (i, column) in range.zip(a.chunks_exact(rows)) {
            match predicted_class(column) {
                None => non_finite += 1,
                Some(class) => correct += usize::from(data.class(i) == Some(class)),
            }
        }
        (total, correct, non_finite)
    }

    /// The predicted class of every example of `data` (see [`predicted_class`]): `None` for
    /// one whose outputs are not all finite. The forward passes are matrix products over
    /// chunks of up to 500 examples, in one workspace allocated once.
    ///
    /// ```
    /// use nn_core::{DenseExamples, Initializer, Network};
    ///
    /// let network = Network::sigmoid(&[2, 3, 2], Initializer::Default, 1)?;
    /// let data = DenseExamples::classification(vec![vec![0.1, 0.9]; 1_200], vec![0; 1_200], 2);
    /// let classes = network.predict(&data);
    /// assert_eq!(classes.len(), 1_200);
    /// assert!(classes.iter().all(|&c| c == network.classify(&[0.1, 0.9])));
    /// # Ok::<(), nn_core::NetworkError>(())
    /// ```
    pub fn predict(&self, data: &dyn Examples) -> Vec<Option<usize>> {
        let chunk = self.max_batch().clamp(1, 500);
        let mut ws = Workspace::allocate(self, chunk.min(data.len()).max(1));
        let rows = self.output_size();
        let mut classes = Vec::with_capacity(data.len());
        for start in (0..data.len()).step_by(chunk) {
            let range = start..(start + chunk).min(data.len());
            let m = range.len();
            ws.load(data, range);
            self.forward(&mut ws, m);
            let outputs = &ws.acts.last().expect("a weighted layer")[..rows * m];
            classes.extend(outputs.chunks_exact(rows).map(predicted_class));
        }
        classes
    }

    /// The predicted class of one input (see [`predicted_class`]): `None` when the network's
    /// outputs for it are not all finite.
    ///
    /// # Panics
    /// When `input` does not have one value per input neuron ([`Network::input_size`]).
    pub fn classify(&self, input: &[f32]) -> Option<usize> {
        predicted_class(&self.feedforward(input))
    }
}

/// The class an output column predicts: the index of its largest value (the first on ties),
/// or `None` when any value is NaN or infinite, so that a broken network is never credited with
/// an answer.
pub fn predicted_class(outputs: &[f32]) -> Option<usize> {
    outputs
        .iter()
        .all(|v| v.is_finite())
        .then(|| argmax(outputs))
}

/// The floats a [`Workspace`] holds per example, `None` on overflow (see
/// [`MAX_WORKSPACE_BYTES`] for what they are).
fn workspace_floats_per_example(sizes: &[usize]) -> Option<usize> {
    let sum = |s: &[usize]| s.iter().try_fold(0usize, |t, &n| t.checked_add(n));
    let (first, last) = (*sizes.first()?, *sizes.last()?);
    let weighted = sum(&sizes[1..])?;
    let masked = sum(&sizes[..sizes.len() - 1])?;
    let widest = sizes.iter().copied().max()?;
    [
        first, last, weighted, weighted, masked, masked, widest, widest,
    ]
    .iter()
    .try_fold(0usize, |t, &n| t.checked_add(n))
}

/// Refuses mini-batches of `batch` examples whose buffers would exceed [`MAX_WORKSPACE_BYTES`].
fn check_workspace(sizes: &[usize], batch: usize) -> Result<(), NetworkError> {
    let bytes = Network::workspace_bytes(sizes, batch);
    if bytes.is_some_and(|b| b <= MAX_WORKSPACE_BYTES) {
        return Ok(());
    }
    Err(NetworkError::WorkspaceTooLarge {
        sizes: sizes.to_vec(),
        batch,
        bytes,
        limit: MAX_WORKSPACE_BYTES,
        max_batch: max_batch(sizes),
    })
}

/// The largest mini-batch whose buffers fit [`MAX_WORKSPACE_BYTES`] with these layer sizes.
fn max_batch(sizes: &[usize]) -> usize {
    Network::workspace_bytes(sizes, 1)
        .and_then(|per_example| MAX_WORKSPACE_BYTES.checked_div(per_example))
        .unwrap_or(0)
}

/// Index of the largest value (the first one on ties); NaN values are passed over, and a column
/// of NaN gives 0. Use [`predicted_class`] to classify outputs that may not be finite.
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

/// What weighted layer `index` reads: the inputs or the previous layer's activations, through
/// that layer's dropout mask when one is in force.
fn layer_input<'a>(
    index: usize,
    inputs: &'a [f32],
    acts: &'a [Vec<f32>],
    masked: &'a [Vec<f32>],
    mask_active: &[bool],
) -> &'a [f32] {
    if mask_active[index] {
        &masked[index]
    } else if index == 0 {
        inputs
    } else {
        &acts[index - 1]
    }
}

/// `out = values ⊙ mask` over the columns of a mini-batch: the inputs of a layer through its
/// dropout mask.
struct Masking<'a> {
    values: &'a [f32],
    mask: &'a [f32],
    out: &'a mut [f32],
    rows: usize,
}

impl ColumnWork for Masking<'_> {
    fn split_at(self, column: usize) -> (Self, Self) {
        let at = column * self.rows;
        let (v0, v1) = self.values.split_at(at);
        let (k0, k1) = self.mask.split_at(at);
        let (o0, o1) = self.out.split_at_mut(at);
        let rows = self.rows;
        let half = |values, mask, out| Masking {
            values,
            mask,
            out,
            rows,
        };
        (half(v0, k0, o0), half(v1, k1, o1))
    }

    fn run(self) {
        self.out
            .iter_mut()
            .zip(self.values)
            .zip(self.mask)
            .for_each(|((o, v), k)| *o = v * k);
    }
}

/// Each column of a layer's `z` set to its biases, before `w a` is added (eq. 25 of chapter 2).
struct Biases<'a> {
    z: &'a mut [f32],
    biases: &'a [f32],
}

impl ColumnWork for Biases<'_> {
    fn split_at(self, column: usize) -> (Self, Self) {
        let (z0, z1) = self.z.split_at_mut(column * self.biases.len());
        let biases = self.biases;
        (Biases { z: z0, biases }, Biases { z: z1, biases })
    }

    fn run(self) {
        for column in self.z.chunks_exact_mut(self.biases.len()) {
            column.copy_from_slice(self.biases);
        }
    }
}

/// `a = σ(z)` over the columns of a mini-batch, then `a ⊙ mask` into `out` when the next
/// layer takes its inputs through a dropout mask (`dropout` = `(mask, out)`).
struct Activate<'a> {
    activation: &'a dyn Activation,
    z: &'a [f32],
    a: &'a mut [f32],
    dropout: Option<(&'a [f32], &'a mut [f32])>,
    rows: usize,
}

impl ColumnWork for Activate<'_> {
    fn split_at(self, column: usize) -> (Self, Self) {
        let at = column * self.rows;
        let (z0, z1) = self.z.split_at(at);
        let (a0, a1) = self.a.split_at_mut(at);
        let (d0, d1) = match self.dropout {
            Some((mask, out)) => {
                let ((k0, k1), (o0, o1)) = (mask.split_at(at), out.split_at_mut(at));
                (Some((k0, o0)), Some((k1, o1)))
            }
            None => (None, None),
        };
        let (activation, rows) = (self.activation, self.rows);
        let half = |z, a, dropout| Activate {
            activation,
            z,
            a,
            dropout,
            rows,
        };
        (half(z0, a0, d0), half(z1, a1, d1))
    }

    fn run(self) {
        self.activation.forward(self.z, self.a, self.rows);
        if let Some((mask, out)) = self.dropout {
            let rows = self.rows;
            Masking {
                values: self.a,
                mask,
                out,
                rows,
            }
            .run();
        }
    }
}

/// BP2 after `wᵀ δ`: `below` (the error carried down into the layer below, `rows` neurons) times
/// the dropout mask the layer's outputs went through, then times σ'(z) of that layer.
struct CarryDown<'a> {
    activation: &'a dyn Activation,
    z: &'a [f32],
    a: &'a [f32],
    mask: Option<&'a [f32]>,
    below: &'a mut [f32],
    rows: usize,
}

impl ColumnWork for CarryDown<'_> {
    fn split_at(self, column: usize) -> (Self, Self) {
        let at = column * self.rows;
        let ((z0, z1), (a0, a1)) = (self.z.split_at(at), self.a.split_at(at));
        let (b0, b1) = self.below.split_at_mut(at);
        let (k0, k1) = match self.mask {
            Some(mask) => {
                let (k0, k1) = mask.split_at(at);
                (Some(k0), Some(k1))
            }
            None => (None, None),
        };
        let (activation, rows) = (self.activation, self.rows);
        let half = |z, a, mask, below| CarryDown {
            activation,
            z,
            a,
            mask,
            below,
            rows,
        };
        (half(z0, a0, k0, b0), half(z1, a1, k1, b1))
    }

    fn run(self) {
        if let Some(mask) = self.mask {
            self.below.iter_mut().zip(mask).for_each(|(g, k)| *g *= k);
        }
        self.activation
            .backward(self.z, self.a, self.rows, self.below);
    }
}

/// What [`backward`] does with each layer's gradient.
enum Backward<'a> {
    /// Writes it into `gradient`.
    Gradient {
        params: &'a [f32],
        gradient: &'a mut [f32],
    },
    /// Takes the optimizer's step with weight decay on `params` ([`Network::backprop_step`])
    /// in the product that computes each layer's weight gradient.
    Step {
        params: &'a mut [f32],
        eta: f32,
        decay: f32,
        step: FusedStep<'a>,
    },
}

impl Backward<'_> {
    fn params(&self) -> &[f32] {
        match self {
            Backward::Gradient { params, .. } => params,
            Backward::Step { params, .. } => params,
        }
    }
}

/// The backward pass of [`Network::backprop`] and [`Network::backprop_step`] after the
/// forward pass: BP1 to BP4 layer by layer from the output, each layer's error carried down
/// through its weights before `target` takes the layer's gradient.
fn backward(
    layers: &[LayerShape],
    activations: &[Arc<dyn Activation>],
    mut target: Backward<'_>,
    ws: &mut Workspace,
    m: usize,
    cost: &dyn Cost,
) {
    let last = layers.len() - 1;
    let Workspace {
        inputs,
        targets,
        zs,
        acts,
        masks,
        masked,
        mask_active,
        delta,
        back,
        flipped,
        bias_sums,
        kernel,
        ..
    } = ws;
    let rows = layers[last].rows;
    cost.delta(
        &zs[last][..rows * m],
        &acts[last][..rows * m],
        &targets[..rows * m],
        rows,
        activations[last].as_ref(),
        &mut delta[..rows * m],
    );
    let scale = 1.0 / m as f32;
    for (index, shape) in layers.iter().enumerate().rev() {
        let d = &delta[..shape.rows * m];
        if index > 0 {
            let below = &mut back[..shape.cols * m];
            let weights = &target.params()[shape.weights.clone()];
            let (rows, cols) = (shape.rows, shape.cols);
            kernel::transposed(*kernel, rows, cols, m, weights, d, below, flipped);
            let carry = CarryDown {
                activation: activations[index - 1].as_ref(),
                z: &zs[index - 1][..cols * m],
                a: &acts[index - 1][..cols * m],
                mask: mask_active[index].then(|| &masks[index][..cols * m]),
                below,
                rows: cols,
            };
            pair::by_column_halves(carry, cols, m);
        }
        // BP3, Σₓ δ over the mini-batch's columns, added column after column in the order of
        // the examples.
        let sums = &mut bias_sums[..shape.rows];
        sums.fill(-0.0);
        for column in d.chunks_exact(shape.rows) {
            sums.iter_mut().zip(column).for_each(|(s, &x)| *s += x);
        }
        let bias_gradient = |row: usize| scale * sums[row];
        let input = layer_input(index, inputs, acts, masked, mask_active);
        let (rows, cols) = (shape.rows, shape.cols);
        match &mut target {
            Backward::Gradient { gradient, .. } => {
                let g = &mut gradient[shape.weights.clone()];
                let store = kernel::Store;
                kernel::outer(*kernel, rows, cols, m, scale, d, input, g, store);
                for (g, row) in gradient[shape.biases.clone()].iter_mut().zip(0..) {
                    *g = bias_gradient(row);
                }
            }
            Backward::Step {
                params,
                eta,
                decay,
                step,
            } => {
                let (eta, decay) = (*eta, *decay);
                let w = &mut params[shape.weights.clone()];
                match step {
                    FusedStep::Sgd => {
                        let step = SgdUpdate::new(eta, decay);
                        kernel::outer(*kernel, rows, cols, m, scale, d, input, w, step);
                        for (b, row) in params[shape.biases.clone()].iter_mut().zip(0..) {
                            *b -= eta * bias_gradient(row);
                        }
                    }
                    &mut FusedStep::Momentum {
                        mu,
                        nesterov,
                        ref mut velocity,
                    } => {
                        let weight_velocity = &mut velocity[shape.weights.clone()];
                        let step = MomentumUpdate::new(eta, decay, mu, nesterov, weight_velocity);
                        kernel::outer(*kernel, rows, cols, m, scale, d, input, w, step);
                        let biases = &mut params[shape.biases.clone()];
                        let bias_velocity = &mut velocity[shape.biases.clone()];
                        for ((b, v), row) in biases.iter_mut().zip(bias_velocity).zip(0..) {
                            momentum_rule(mu, nesterov, eta, b, v, bias_gradient(row));
                        }
                    }
                }
            }
        }
        std::mem::swap(delta, back);
    }
}

/// Cost and accuracy of a network on a data set.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Evaluation {
    /// The cost summed over the examples.
    pub cost_sum: f64,
    /// Examples whose class the network got right.
    pub correct: usize,
    /// Examples evaluated.
    pub count: usize,
    /// Examples whose outputs were not all finite (NaN or infinite); they count as wrong.
    pub non_finite: usize,
}

impl Evaluation {
    /// Correct classifications as a fraction in [0, 1].
    pub fn accuracy(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.correct as f64 / self.count as f64
        }
    }
}

/// Buffers for mini-batches of up to a capacity, reused for every batch: the trainer allocates
/// one per run, [`Network::evaluate`] one per thread and call, [`Network::feedforward`] one
/// per call.
#[derive(Debug)]
pub struct Workspace {
    capacity: usize,
    /// Inputs, one example per column (the activations of layer 0).
    pub(crate) inputs: Vec<f32>,
    /// Desired outputs, one example per column.
    pub(crate) targets: Vec<f32>,
    zs: Vec<Vec<f32>>,
    acts: Vec<Vec<f32>>,
    /// Dropout masks of the input and hidden layers (index 0 = input layer).
    pub(crate) masks: Vec<Vec<f32>>,
    /// Which of `masks` are in force for the current batch.
    pub(crate) mask_active: Vec<bool>,
    masked: Vec<Vec<f32>>,
    delta: Vec<f32>,
    back: Vec<f32>,
    /// The weights of a layer of fewer than [`kernel::FEW_ROWS`] neurons, transposed for
    /// [`kernel::transposed`]; empty when there is no such layer below another.
    flipped: Vec<f32>,
    /// BP3's sums of a layer's errors over the mini-batch, one per neuron.
    bias_sums: Vec<f32>,
    /// The kernels' instruction set.
    kernel: Kernel,
    /// The network's input standardization, applied to every column loaded.
    standardization: Standardization,
}

impl Workspace {
    /// Buffers for batches of up to `capacity` examples; refuses a capacity whose buffers would
    /// exceed [`MAX_WORKSPACE_BYTES`] (see [`Network::max_batch`]) before allocating anything.
    pub fn new(network: &Network, capacity: usize) -> Result<Self, NetworkError> {
        check_workspace(&network.sizes, capacity)?;
        Ok(Self::allocate(network, capacity))
    }

    /// The buffers, for a capacity already known to fit.
    fn allocate(network: &Network, capacity: usize) -> Self {
        debug_assert!(capacity <= network.max_batch());
        let sizes = &network.sizes;
        let widest = sizes.iter().copied().max().unwrap_or(0) * capacity;
        let hidden_and_input = &sizes[..sizes.len() - 1];
        Self {
            capacity,
            inputs: vec![0.0; sizes[0] * capacity],
            targets: vec![0.0; network.output_size() * capacity],
            zs: sizes[1..].iter().map(|n| vec![0.0; n * capacity]).collect(),
            acts: sizes[1..].iter().map(|n| vec![0.0; n * capacity]).collect(),
            masks: hidden_and_input
                .iter()
                .map(|n| vec![1.0; n * capacity])
                .collect(),
            mask_active: vec![false; hidden_and_input.len()],
            masked: hidden_and_input
                .iter()
                .map(|n| vec![0.0; n * capacity])
                .collect(),
            delta: vec![0.0; widest],
            back: vec![0.0; widest],
            flipped: vec![
                0.0;
                network
                    .layers
                    .iter()
                    .skip(1)
                    .filter(|shape| shape.rows < kernel::FEW_ROWS)
                    .map(|shape| shape.rows * shape.cols)
                    .max()
                    .unwrap_or(0)
            ],
            bias_sums: vec![0.0; sizes[1..].iter().copied().max().unwrap_or(0)],
            kernel: Kernel::active(),
            standardization: network.standardization.clone(),
        }
    }

    /// Copies the examples `indices` into the input and target columns, standardizing the
    /// inputs when the network carries a [`Standardization`].
    pub fn load_indices(&mut self, data: &dyn Examples, indices: &[usize]) {
        self.load(data, indices.iter().copied());
    }

    /// Loads the examples `indices` yields, in order, as columns 0, 1, … of the batch.
    fn load(&mut self, data: &dyn Examples, indices: impl ExactSizeIterator<Item = usize>) {
        debug_assert!(indices.len() <= self.capacity);
        let Self {
            inputs,
            targets,
            standardization,
            ..
        } = self;
        load_columns(data, indices, inputs, targets, standardization);
    }

    /// [`Workspace::load_indices`] on one core while `draw` sets the dropout masks of the input
    /// and hidden layers (the masks, and whether each is in force) on the other, when the
    /// mini-batch is large enough to pay for the second core. `draw` sees the same masks
    /// either way.
    pub(crate) fn load_and_draw_masks(
        &mut self,
        data: &dyn Examples,
        indices: &[usize],
        draw: impl FnOnce(&mut [Vec<f32>], &mut [bool]) + Send,
    ) {
        debug_assert!(indices.len() <= self.capacity);
        let Self {
            inputs,
            targets,
            standardization,
            masks,
            mask_active,
            ..
        } = self;
        pair::join_once(
            pair::worth_two_cores(indices.len() * data.input_len()),
            || {
                let indices = indices.iter().copied();
                load_columns(data, indices, inputs, targets, standardization);
            },
            || draw(masks, mask_active),
        );
    }
}

/// Writes the examples `indices` yields, in order, as columns 0, 1, … of `inputs` and
/// `targets`, and standardizes the inputs.
fn load_columns(
    data: &dyn Examples,
    indices: impl ExactSizeIterator<Item = usize>,
    inputs: &mut [f32],
    targets: &mut [f32],
    standardization: &Standardization,
) {
    let (n_in, n_out, m) = (data.input_len(), data.output_len(), indices.len());
    for (column, i) in indices.enumerate() {
        data.write_input(i, &mut inputs[column * n_in..(column + 1) * n_in]);
        data.write_target(i, &mut targets[column * n_out..(column + 1) * n_out]);
    }
    standardization.apply(&mut inputs[..n_in * m], n_in);
}

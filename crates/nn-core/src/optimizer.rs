//! Update rules that turn a gradient into a step in parameter space.
//!
//! Every optimizer sees the network's parameters and the gradient of the (regularized) cost as
//! flat vectors. Regularization enters as a term of that gradient, so with momentum and Adam the
//! weight decay of L2 is a gradient term (as in eq. 93 for plain SGD), not a decoupled decay.

use std::fmt::Debug;

use nalgebra::{DMatrix, DVector};

use crate::TrainError;
use crate::error::{HyperParameterError, OptimizerError, ResumeError};
use crate::kernel::{Simd, Slot, Update};

/// Gives the gradient of the current mini-batch's cost at any point: the Hessian technique
/// needs it to measure curvature.
///
/// ```
/// use nn_core::{Curvature, Newton, Optimizer};
///
/// // The cost ½(w₀² + 10 w₁²): gradient (w₀, 10 w₁), Hessian diag(1, 10).
/// struct Bowl;
/// impl Curvature for Bowl {
///     fn gradient_at(&mut self, w: &[f32], gradient: &mut [f32]) {
///         gradient[0] = w[0];
///         gradient[1] = 10.0 * w[1];
///     }
/// }
/// let mut newton = Newton::new(0.0)?;
/// newton.prepare(2)?;
/// let mut w = [0.5f32, 0.5];
/// let mut gradient = [0.0; 2];
/// Bowl.gradient_at(&w, &mut gradient);
/// // Δw = −H⁻¹∇C (eq. 106): on a quadratic cost one full step lands on the minimum (here
/// // within the first trust radius, 1, so the step is not shortened).
/// newton.curvature_step(&mut w, &gradient, 1.0, &mut Bowl)?;
/// assert!(w.iter().all(|w| w.abs() < 1e-3), "{w:?}");
/// # Ok::<(), nn_core::TrainError>(())
/// ```
pub trait Curvature {
    /// Writes ∇C(params) for the current mini-batch into `gradient`.
    fn gradient_at(&mut self, params: &[f32], gradient: &mut [f32]);
}

/// An update rule.
///
/// ```
/// use nn_core::{Momentum, Optimizer, OptimizerState};
///
/// // v' = μv − η∇C, w' = w + v' (eqs. 107-108), twice with the same gradient.
/// let mut momentum = Momentum::new(0.5)?;
/// momentum.prepare(1)?;
/// let mut w = [1.0f32];
/// momentum.step(&mut w, &[1.0], 0.1)?;
/// momentum.step(&mut w, &[1.0], 0.1)?;
/// assert!((w[0] - (1.0 - 0.1 - 0.15)).abs() < 1e-6);
/// assert_eq!(momentum.state(), OptimizerState::Momentum { velocity: vec![-0.15] });
/// # Ok::<(), nn_core::TrainError>(())
/// ```
pub trait Optimizer: Send + Debug {
    /// A short description for logs, e.g. `"momentum(mu=0.9)"`.
    fn describe(&self) -> String;

    /// Sizes the optimizer's state for `parameter_count` parameters, or refuses the network.
    fn prepare(&mut self, parameter_count: usize) -> Result<(), TrainError>;

    /// Moves `params` one step, given the gradient at `params` and the learning rate `eta`.
    fn step(&mut self, params: &mut [f32], gradient: &[f32], eta: f32) -> Result<(), TrainError>;

    /// The step as a rule applied element by element, when it is one ([`FusedStep`]): the
    /// trainer may then take it inside backpropagation, in the pass that computes each layer's
    /// gradient, instead of storing the gradient and calling [`Optimizer::step`]. `None` (the
    /// default) for any other optimizer.
    fn fused(&mut self) -> Option<FusedStep<'_>> {
        None
    }

    /// True for optimizers that measure the cost's curvature: the trainer then calls
    /// [`Optimizer::curvature_step`] instead of [`Optimizer::step`].
    fn needs_curvature(&self) -> bool {
        false
    }

    /// A step that may probe the gradient elsewhere through `curvature` (the Hessian technique);
    /// by default the plain [`Optimizer::step`].
    fn curvature_step(
        &mut self,
        params: &mut [f32],
        gradient: &[f32],
        eta: f32,
        _curvature: &mut dyn Curvature,
    ) -> Result<(), TrainError> {
        self.step(params, gradient, eta)
    }

    /// The optimizer's state (velocities, moments, step count), for checkpoints.
    fn state(&self) -> OptimizerState;

    /// Restores a state returned by [`Optimizer::state`], refusing one of another optimizer or
    /// another network.
    fn restore(&mut self, state: OptimizerState) -> Result<(), TrainError>;
}

/// An optimizer's step as an element-by-element rule ([`Optimizer::fused`]), each parameter p
/// with its gradient g.
#[derive(Debug, PartialEq)]
pub enum FusedStep<'a> {
    /// Plain SGD, p → p − η g (eq. 93).
    Sgd,
    /// Momentum, v → μ v − η g and p → p + v (eqs. 107-108), or with Nesterov's look-ahead
    /// p → p − μ v_old + (1 + μ) v.
    Momentum {
        /// The coefficient μ.
        mu: f32,
        /// Nesterov's variant.
        nesterov: bool,
        /// The velocities, laid out like the parameters.
        velocity: &'a mut [f32],
    },
}

/// One parameter p's momentum step with gradient g and velocity v (eqs. 107-108):
/// v → μ v − η g, then p → p + v, or with Nesterov's look-ahead p → p − μ v_old + (1 + μ) v.
/// [`Momentum::step`] and the biases of a fused step ([`FusedStep::Momentum`]) take it; the
/// weights' kernel makes the same roundings in the same order.
#[inline]
pub(crate) fn momentum_rule(mu: f32, nesterov: bool, eta: f32, p: &mut f32, v: &mut f32, g: f32) {
    let previous = *v;
    *v = mu * previous - eta * g;
    *p += if nesterov {
        -mu * previous + (1.0 + mu) * *v
    } else {
        *v
    };
}

/// The fused SGD step on a layer's weights, taken by [`crate::kernel::outer`] as it computes
/// their gradient g = α D Bᵀ: `w ← (1 − η·decay) w − η g`, eq. 93 with decay = λ/n for L2 (0
/// without it); the gradient itself is not kept.
///
/// ```
/// use nn_core::kernel::{self, Kernel};
/// use nn_core::optimizer::SgdUpdate;
/// // One weight 1.0, gradient 1·2 = 2, η = 0.5, no decay: 1 − 0.5·2 = 0.
/// let mut w = [1.0];
/// kernel::outer(Kernel::active(), 1, 1, 1, 1.0, &[1.0], &[2.0], &mut w, SgdUpdate::new(0.5, 0.0));
/// assert_eq!(w, [0.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdUpdate {
    minus_eta: f32,
    keep: f32,
}

impl SgdUpdate {
    /// The step with learning rate `eta` and decay rate `decay` (λ/n for L2, 0 without it).
    pub fn new(eta: f32, decay: f32) -> Self {
        SgdUpdate {
            minus_eta: -eta,
            keep: 1.0 - eta * decay,
        }
    }
}

// SAFETY: it reads and writes only the weights at the slot.
unsafe impl Update for SgdUpdate {
    fn covers(&self, _: usize) -> bool {
        true
    }

    unsafe fn at_offset(self, _: usize) -> Self {
        self
    }

    #[inline(always)]
    unsafe fn apply<S: Simd>(self, g: *mut f32, slot: &Slot<S>, product: S::V) -> S::V {
        // SAFETY: the kernel keeps the slot inside the weights.
        unsafe {
            let old = slot.load(g);
            S::mul_add(
                product,
                S::splat(self.minus_eta),
                S::mul(old, S::splat(self.keep)),
            )
        }
    }
}

/// The fused momentum step on a layer's weights, taken by [`crate::kernel::outer`] as it
/// computes the gradient: with g = α D Bᵀ + decay·w, `v ← μ v − η g`, then `w ← w + v` (eqs.
/// 107 and 108), or Nesterov's `w ← w − μ v_old + (1 + μ) v`. Each element is the same
/// sequence of roundings as [`Momentum`]'s separate step after an L2 term (the rule of
/// `momentum_rule`), so the results are identical.
///
/// ```
/// use nn_core::kernel::{self, Kernel};
/// use nn_core::optimizer::MomentumUpdate;
/// // w = 1, v = 1, g = 2, η = 0.5, μ = 0.5: v = 0.5 − 1 = −0.5, w = 0.5.
/// let (mut w, mut v) = ([1.0], [1.0]);
/// let step = MomentumUpdate::new(0.5, 0.0, 0.5, false, &mut v);
/// kernel::outer(Kernel::active(), 1, 1, 1, 1.0, &[1.0], &[2.0], &mut w, step);
/// assert_eq!((w, v), ([0.5], [-0.5]));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MomentumUpdate<'v> {
    eta: f32,
    decay: f32,
    mu: f32,
    nesterov: bool,
    velocity: *mut f32,
    len: usize,
    /// The velocities stay borrowed while the step exists (a shared marker, so that the step
    /// is `Copy` for the two cores; each writes only its own columns).
    _velocity: std::marker::PhantomData<&'v [f32]>,
}

impl<'v> MomentumUpdate<'v> {
    /// The step with learning rate `eta`, decay rate `decay` (λ/n for L2, 0 without it),
    /// coefficient `mu`, Nesterov's variant or not, on `velocity` (laid out like the weights).
    pub fn new(eta: f32, decay: f32, mu: f32, nesterov: bool, velocity: &'v mut [f32]) -> Self {
        MomentumUpdate {
            eta,
            decay,
            mu,
            nesterov,
            velocity: velocity.as_mut_ptr(),
            len: velocity.len(),
            _velocity: std::marker::PhantomData,
        }
    }
}

// SAFETY: the velocity is used as the weights are: each core writes only its own columns.
unsafe impl Send for MomentumUpdate<'_> {}
unsafe impl Sync for MomentumUpdate<'_> {}

// SAFETY: it reads and writes the weights and the velocity at the slot only, and covers
// the velocity's length.
unsafe impl Update for MomentumUpdate<'_> {
    fn covers(&self, elements: usize) -> bool {
        self.len >= elements
    }

    unsafe fn at_offset(self, offset: usize) -> Self {
        MomentumUpdate {
            // SAFETY: the caller keeps the offset inside the velocities.
            velocity: unsafe { self.velocity.add(offset) },
            len: self.len - offset,
            ..self
        }
    }

    #[inline(always)]
    unsafe fn apply<S: Simd>(self, g: *mut f32, slot: &Slot<S>, product: S::V) -> S::V {
        let MomentumUpdate {
            eta,
            decay,
            mu,
            nesterov,
            velocity,
            ..
        } = self;
        // SAFETY: the kernel keeps the slot inside the weights and the velocities.
        unsafe {
            let w = slot.load(g);
            let previous = slot.load(velocity);
            let g = S::add(product, S::mul(S::splat(decay), w));
            let now = S::sub(S::mul(S::splat(mu), previous), S::mul(S::splat(eta), g));
            slot.store(velocity, now);
            let moved = if nesterov {
                S::add(
                    S::mul(S::splat(-mu), previous),
                    S::mul(S::splat(1.0 + mu), now),
                )
            } else {
                now
            };
            S::add(w, moved)
        }
    }
}

/// What an optimizer carries from one step to the next.
#[derive(Debug, Clone, PartialEq)]
pub enum OptimizerState {
    /// Nothing: plain SGD and the Hessian technique.
    Stateless,
    /// The velocity v of momentum or Nesterov momentum.
    Momentum {
        /// One velocity per parameter.
        velocity: Vec<f32>,
    },
    /// Adam's step count and moment estimates.
    Adam {
        /// Steps taken so far.
        steps: u64,
        /// The first-moment estimate m.
        first: Vec<f32>,
        /// The second-moment estimate v.
        second: Vec<f32>,
    },
}

/// The largest step count [`OptimizerState::to_vectors`] stores exactly as an `f32` (2²⁴).
const MAX_EXACT_STEPS: u64 = 1 << 24;

impl OptimizerState {
    /// The state as `f32` vectors, the form checkpoint files store bit for bit: none for
    /// [`OptimizerState::Stateless`], `[velocity]` for momentum, `[[steps], first, second]`
    /// for Adam.
    pub fn to_vectors(&self) -> Vec<Vec<f32>> {
        match self {
            Self::Stateless => Vec::new(),
            Self::Momentum { velocity } => vec![velocity.clone()],
            Self::Adam {
                steps,
                first,
                second,
            } => vec![vec![*steps as f32], first.clone(), second.clone()],
        }
    }

    /// Reads the form [`OptimizerState::to_vectors`] writes; whether it fits the optimizer and
    /// the network is [`Optimizer::restore`]'s to check.
    pub fn from_vectors(vectors: Vec<Vec<f32>>) -> Result<Self, TrainError> {
        let count = vectors.len();
        let mut vectors = vectors.into_iter();
        match (
            vectors.next(),
            vectors.next(),
            vectors.next(),
            vectors.next(),
        ) {
            (None, ..) => Ok(Self::Stateless),
            (Some(velocity), None, ..) => Ok(Self::Momentum { velocity }),
            (Some(steps), Some(first), Some(second), None) => {
                let count = match steps[..] {
                    [count]
                        if count >= 0.0
                            && count.fract() == 0.0
                            && count <= MAX_EXACT_STEPS as f32 =>
                    {
                        count as u64
                    }
                    _ => return Err(ResumeError::StepCount { value: steps }.into()),
                };
                Ok(Self::Adam {
                    steps: count,
                    first,
                    second,
                })
            }
            _ => Err(ResumeError::VectorCount { count }.into()),
        }
    }
}

/// A zero vector of optimizer state for `parameter_count` parameters, refused beyond
/// [`crate::MAX_PARAMETERS`] (no network has more) before anything is allocated.
fn state_vector(parameter_count: usize) -> Result<Vec<f32>, TrainError> {
    if parameter_count > crate::MAX_PARAMETERS {
        return Err(OptimizerError::TooManyParameters {
            count: parameter_count,
            limit: crate::MAX_PARAMETERS,
        }
        .into());
    }
    Ok(vec![0.0; parameter_count])
}

/// Restores state vectors into `target`, refusing vectors of other lengths.
fn restore_vectors(
    target: &mut [&mut Vec<f32>],
    state: Vec<Vec<f32>>,
    name: &'static str,
) -> Result<(), TrainError> {
    if state.len() != target.len()
        || state
            .iter()
            .zip(target.iter())
            .any(|(s, t)| s.len() != t.len())
    {
        return Err(ResumeError::OptimizerStateSize { optimizer: name }.into());
    }
    for (t, s) in target.iter_mut().zip(state) {
        **t = s;
    }
    Ok(())
}

/// The error for a checkpoint holding another optimizer's state.
fn other_optimizer(name: &'static str) -> TrainError {
    ResumeError::OtherOptimizer { optimizer: name }.into()
}

/// Plain stochastic gradient descent: w → w − η ∂C/∂w, b → b − η ∂C/∂b (eqs. 20-21 of chapter 1,
/// and with the L2 term in the gradient eqs. 93-94).
///
/// ```
/// use nn_core::{Optimizer, OptimizerState, Sgd};
///
/// let mut w = [1.0f32, -2.0];
/// Sgd.step(&mut w, &[0.5, -1.0], 0.1)?;
/// assert!((w[0] - 0.95).abs() < 1e-6 && (w[1] + 1.9).abs() < 1e-6);
/// assert_eq!(Sgd.state(), OptimizerState::Stateless);
/// # Ok::<(), nn_core::TrainError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Sgd;

impl Optimizer for Sgd {
    fn describe(&self) -> String {
        "sgd".into()
    }
    fn fused(&mut self) -> Option<FusedStep<'_>> {
        Some(FusedStep::Sgd)
    }
    fn prepare(&mut self, _parameter_count: usize) -> Result<(), TrainError> {
        Ok(())
    }
    fn step(&mut self, params: &mut [f32], gradient: &[f32], eta: f32) -> Result<(), TrainError> {
        params
            .iter_mut()
            .zip(gradient)
            .for_each(|(p, g)| *p -= eta * g);
        Ok(())
    }
    fn state(&self) -> OptimizerState {
        OptimizerState::Stateless
    }
    fn restore(&mut self, state: OptimizerState) -> Result<(), TrainError> {
        match state {
            OptimizerState::Stateless => Ok(()),
            _ => Err(other_optimizer("sgd")),
        }
    }
}

/// Momentum-based gradient descent: v → v' = μv − η∇C (eq. 107), w → w' = w + v' (eq. 108).
///
/// With [`Momentum::nesterov`], Nesterov's accelerated gradient in the form that needs only the
/// gradient at the current point (Sutskever et al. 2013; Bengio et al. 2013):
/// v' = μv − η∇C, w' = w − μv + (1 + μ)v', which equals taking the momentum step from the
/// look-ahead point w + μv.
///
/// ```
/// use nn_core::{Momentum, Optimizer};
///
/// // With μ = 0 there is no velocity to build up: both are plain gradient descent.
/// let (mut plain, mut nesterov) = (Momentum::new(0.0)?, Momentum::nesterov(0.0)?);
/// plain.prepare(1)?;
/// nesterov.prepare(1)?;
/// let (mut a, mut b) = ([1.0f32], [1.0f32]);
/// for _ in 0..3 {
///     plain.step(&mut a, &[2.0], 0.1)?;
///     nesterov.step(&mut b, &[2.0], 0.1)?;
/// }
/// assert!((a[0] - 0.4).abs() < 1e-6 && (b[0] - 0.4).abs() < 1e-6);
/// // μ = 1 is no friction at all: refused.
/// assert!(Momentum::new(1.0).is_err());
/// # Ok::<(), nn_core::TrainError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Momentum {
    mu: f32,
    nesterov: bool,
    velocity: Vec<f32>,
}

impl Momentum {
    /// Momentum with coefficient μ in [0, 1).
    pub fn new(mu: f32) -> Result<Self, TrainError> {
        Self::build(mu, false)
    }

    /// Nesterov momentum with coefficient μ in [0, 1).
    pub fn nesterov(mu: f32) -> Result<Self, TrainError> {
        Self::build(mu, true)
    }

    /// Momentum with any finite coefficient μ, for the chapter's exercise on what goes wrong
    /// outside [0, 1): with μ > 1 the velocity grows by a factor μ each step even without a
    /// gradient (v_t = μᵗv₀), so training diverges; with μ < 0 each step reverses part of the
    /// previous one, so the weights zig-zag and, for a steady gradient, move only η/(1 − μ) < η
    /// per step. [`Momentum::new`] refuses such values; this is the explicit opt-in.
    pub fn with_any_coefficient(mu: f32) -> Result<Self, TrainError> {
        if !mu.is_finite() {
            return Err(HyperParameterError::Momentum { mu }.into());
        }
        Ok(Self::unchecked(mu, false))
    }

    fn build(mu: f32, nesterov: bool) -> Result<Self, TrainError> {
        if !(0.0..1.0).contains(&mu) {
            return Err(HyperParameterError::Momentum { mu }.into());
        }
        Ok(Self::unchecked(mu, nesterov))
    }

    fn unchecked(mu: f32, nesterov: bool) -> Self {
        Self {
            mu,
            nesterov,
            velocity: Vec::new(),
        }
    }
}

impl Optimizer for Momentum {
    fn describe(&self) -> String {
        let name = if self.nesterov {
            "nesterov"
        } else {
            "momentum"
        };
        format!("{name}(mu={})", self.mu)
    }
    fn prepare(&mut self, parameter_count: usize) -> Result<(), TrainError> {
        self.velocity = state_vector(parameter_count)?;
        Ok(())
    }
    fn fused(&mut self) -> Option<FusedStep<'_>> {
        Some(FusedStep::Momentum {
            mu: self.mu,
            nesterov: self.nesterov,
            velocity: &mut self.velocity,
        })
    }
    fn step(&mut self, params: &mut [f32], gradient: &[f32], eta: f32) -> Result<(), TrainError> {
        for ((p, v), &g) in params.iter_mut().zip(&mut self.velocity).zip(gradient) {
            momentum_rule(self.mu, self.nesterov, eta, p, v, g);
        }
        Ok(())
    }
    fn state(&self) -> OptimizerState {
        OptimizerState::Momentum {
            velocity: self.velocity.clone(),
        }
    }
    fn restore(&mut self, state: OptimizerState) -> Result<(), TrainError> {
        match state {
            OptimizerState::Momentum { velocity } => {
                restore_vectors(&mut [&mut self.velocity], vec![velocity], "momentum")
            }
            _ => Err(other_optimizer("momentum")),
        }
    }
}

/// Adam (Kingma and Ba 2015): moment estimates m → β₁m + (1−β₁)g, v → β₂v + (1−β₂)g², and the
/// bias-corrected step w → w − η m̂ / (√v̂ + ε). The learning rate η is the step size (0.001 is
/// usual, far below SGD's).
///
/// ```
/// use nn_core::{Adam, Optimizer};
///
/// // The first bias-corrected step moves each parameter by about η, whatever its gradient's size.
/// let mut adam = Adam::default();
/// adam.prepare(2)?;
/// let mut w = [0.0f32, 0.0];
/// adam.step(&mut w, &[1000.0, -0.001], 0.01)?;
/// assert!((w[0] + 0.01).abs() < 1e-4 && (w[1] - 0.01).abs() < 1e-4, "{w:?}");
/// assert!(Adam::new(0.9, 1.0, 1e-8).is_err());
/// # Ok::<(), nn_core::TrainError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Adam {
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    steps: u64,
    first: Vec<f32>,
    second: Vec<f32>,
}

impl Adam {
    /// Adam with decay rates β₁, β₂ in [0, 1) for the first and second moments and ε > 0
    /// added to the denominator (Kingma and Ba: 0.9, 0.999 and 1e-8, as [`Adam::default`]).
    pub fn new(beta1: f32, beta2: f32, epsilon: f32) -> Result<Self, TrainError> {
        for (which, value) in [("beta1", beta1), ("beta2", beta2)] {
            if !(0.0..1.0).contains(&value) {
                return Err(HyperParameterError::AdamBeta { which, value }.into());
            }
        }
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(HyperParameterError::AdamEpsilon { epsilon }.into());
        }
        Ok(Self {
            beta1,
            beta2,
            epsilon,
            steps: 0,
            first: Vec::new(),
            second: Vec::new(),
        })
    }
}

impl Default for Adam {
    /// Kingma and Ba's values: β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            steps: 0,
            first: Vec::new(),
            second: Vec::new(),
        }
    }
}

impl Optimizer for Adam {
    fn describe(&self) -> String {
        format!("adam(beta1={}, beta2={})", self.beta1, self.beta2)
    }
    fn prepare(&mut self, parameter_count: usize) -> Result<(), TrainError> {
        self.steps = 0;
        self.first = state_vector(parameter_count)?;
        self.second = state_vector(parameter_count)?;
        Ok(())
    }
    fn step(&mut self, params: &mut [f32], gradient: &[f32], eta: f32) -> Result<(), TrainError> {
        self.steps += 1;
        // β^t through f32 powf, as the step count has always been raised.
        let t = self.steps as f32;
        let correction1 = 1.0 - self.beta1.powf(t);
        let correction2 = 1.0 - self.beta2.powf(t);
        for (((p, m), v), g) in params
            .iter_mut()
            .zip(&mut self.first)
            .zip(&mut self.second)
            .zip(gradient)
        {
            *m = self.beta1 * *m + (1.0 - self.beta1) * g;
            *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
            *p -= eta * (*m / correction1) / ((*v / correction2).sqrt() + self.epsilon);
        }
        Ok(())
    }
    fn state(&self) -> OptimizerState {
        OptimizerState::Adam {
            steps: self.steps,
            first: self.first.clone(),
            second: self.second.clone(),
        }
    }
    fn restore(&mut self, state: OptimizerState) -> Result<(), TrainError> {
        match state {
            OptimizerState::Adam {
                steps,
                first,
                second,
            } => {
                restore_vectors(
                    &mut [&mut self.first, &mut self.second],
                    vec![first, second],
                    "adam",
                )?;
                self.steps = steps;
                Ok(())
            }
            _ => Err(other_optimizer("adam")),
        }
    }
}

/// The Hessian technique (eq. 106), w → w' = w − η H⁻¹∇C, made safe for the non-convex cost of
/// a network.
///
/// - H is the exact Hessian of the mini-batch's regularized cost, built column by column from
///   central differences of the backpropagated gradient, (∇C(w + heᵢ) − ∇C(w − heᵢ)) / 2h with
///   h = 10⁻² max(1, |wᵢ|), then symmetrized: 2P backward passes of the mini-batch and P²
///   memory for P parameters, and a symmetric eigendecomposition H = V Λ Vᵀ (about 10P³
///   operations). Only small networks can afford it ([`Newton::MAX_PARAMETERS`]), and the
///   mini-batch's Hessian only says something about every direction when the batch holds
///   enough constraints: m examples with k outputs give its Gauss-Newton part rank at most mk,
///   so m·k should exceed P.
/// - Damping (Levenberg-Marquardt) and negative curvature: the step is
///   Δ = −V (|Λ| + μI)⁻¹ Vᵀ∇C, with μ ≥ `damping`. Taking |λᵢ| (Dauphin et al. 2014's
///   saddle-free Newton) moves away from saddle points instead of towards them, where the plain
///   H⁻¹ would; μ keeps the step finite where H is flat.
/// - Step rule (a trust region): μ is raised above `damping` until ‖Δ‖ ≤ r. After the step the
///   mini-batch's cost change is measured as ½(∇C(w) + ∇C(w + ηΔ))·ηΔ (the trapezoid rule, one
///   more backward pass) and compared with the quadratic model's ∇C·ηΔ + ½(ηΔ)ᵀH(ηΔ): below a
///   quarter of the prediction the radius shrinks fourfold, above three quarters with a full
///   step it doubles. A step that raises the cost is undone. r starts at
///   [`Newton::INITIAL_RADIUS`] and is not kept in checkpoints (a resumed run starts afresh).
#[derive(Debug, Clone)]
pub struct Newton {
    damping: f64,
    radius: f64,
}

impl Newton {
    /// The largest number of parameters the Hessian technique accepts: a step of a
    /// 1,000-parameter network already takes 2,000 backward passes and a 1,000 x 1,000
    /// eigendecomposition (about a second here).
    pub const MAX_PARAMETERS: usize = 1_000;
    /// The damping `nn train --optimizer newton` uses.
    pub const DEFAULT_DAMPING: f64 = 1e-3;
    /// The first trust radius ‖Δ‖ in parameter space.
    pub const INITIAL_RADIUS: f64 = 1.0;

    /// A damped Newton optimizer with damping μ ≥ 0 ([`Newton::DEFAULT_DAMPING`] is a good
    /// start).
    pub fn new(damping: f64) -> Result<Self, TrainError> {
        if !(damping.is_finite() && damping >= 0.0) {
            return Err(HyperParameterError::NewtonDamping { damping }.into());
        }
        Ok(Self {
            damping,
            radius: Self::INITIAL_RADIUS,
        })
    }

    fn hessian(&self, params: &[f32], curvature: &mut dyn Curvature) -> DMatrix<f64> {
        let n = params.len();
        let mut probe = params.to_vec();
        let (mut plus, mut minus) = (vec![0.0; n], vec![0.0; n]);
        let mut hessian = DMatrix::<f64>::zeros(n, n);
        for i in 0..n {
            let h = 1e-2 * params[i].abs().max(1.0);
            probe[i] = params[i] + h;
            curvature.gradient_at(&probe, &mut plus);
            probe[i] = params[i] - h;
            curvature.gradient_at(&probe, &mut minus);
            probe[i] = params[i];
            for j in 0..n {
                hessian[(j, i)] = (plus[j] as f64 - minus[j] as f64) / (2.0 * h as f64);
            }
        }
        (&hessian + hessian.transpose()) * 0.5
    }

    /// The coordinates in H's eigenbasis of the step −(|Λ| + μI)⁻¹ Vᵀ∇C, with the smallest
    /// μ ≥ `damping` that keeps its norm within the trust radius.
    fn trusted_step(&self, projected: &DVector<f64>, eigenvalues: &DVector<f64>) -> DVector<f64> {
        let step = |mu: f64| {
            DVector::from_iterator(
                projected.len(),
                projected
                    .iter()
                    .zip(eigenvalues.iter())
                    .map(|(p, l)| -p / (l.abs() + mu)),
            )
        };
        let floor = self.damping.max(f64::MIN_POSITIVE);
        if step(floor).norm() <= self.radius {
            return step(floor);
        }
        // ‖Δ(μ)‖ falls as μ grows: bisect on log μ until it fits the radius.
        let (mut low, mut high) = (floor, floor);
        while step(high).norm() > self.radius {
            high *= 10.0;
        }
        for _ in 0..60 {
            let mid = (low * high).sqrt();
            if step(mid).norm() > self.radius {
                low = mid;
            } else {
                high = mid;
            }
        }
        step(high)
    }
}

impl Optimizer for Newton {
    fn describe(&self) -> String {
        format!("newton(damping={})", self.damping)
    }
    fn prepare(&mut self, parameter_count: usize) -> Result<(), TrainError> {
        if parameter_count > Self::MAX_PARAMETERS {
            return Err(OptimizerError::HessianTooLarge {
                count: parameter_count,
                limit: Self::MAX_PARAMETERS,
            }
            .into());
        }
        self.radius = Self::INITIAL_RADIUS;
        Ok(())
    }
    fn needs_curvature(&self) -> bool {
        true
    }
    /// Without the cost's curvature there is no Hessian: refused.
    fn step(&mut self, _: &mut [f32], _: &[f32], _: f32) -> Result<(), TrainError> {
        Err(OptimizerError::MissingCurvature.into())
    }
    fn curvature_step(
        &mut self,
        params: &mut [f32],
        gradient: &[f32],
        eta: f32,
        curvature: &mut dyn Curvature,
    ) -> Result<(), TrainError> {
        let eigen = self.hessian(params, curvature).symmetric_eigen();
        if eigen.eigenvalues.iter().any(|l| !l.is_finite()) {
            return Err(OptimizerError::NotFinite.into());
        }
        let g = DVector::from_iterator(gradient.len(), gradient.iter().map(|&g| g as f64));
        let projected = eigen.eigenvectors.transpose() * &g;
        let coordinates = self.trusted_step(&projected, &eigen.eigenvalues) * f64::from(eta);
        let predicted = projected.dot(&coordinates)
            + 0.5
                * coordinates
                    .iter()
                    .zip(eigen.eigenvalues.iter())
                    .map(|(s, l)| l * s * s)
                    .sum::<f64>();
        let step = &eigen.eigenvectors * &coordinates;
        let moved: Vec<f32> = params
            .iter()
            .zip(step.iter())
            .map(|(p, s)| p + *s as f32)
            .collect();
        let mut after = vec![0.0; params.len()];
        curvature.gradient_at(&moved, &mut after);
        let actual = 0.5
            * gradient
                .iter()
                .zip(&after)
                .zip(step.iter())
                .map(|((g, a), s)| f64::from(g + a) * s)
                .sum::<f64>();
        let ratio = actual / predicted;
        if ratio.is_nan() || ratio < 0.25 {
            self.radius *= 0.25;
        } else if ratio > 0.75 && step.norm() >= 0.99 * self.radius * f64::from(eta) {
            self.radius *= 2.0;
        }
        if actual < 0.0 {
            params.copy_from_slice(&moved);
        }
        Ok(())
    }
    fn state(&self) -> OptimizerState {
        OptimizerState::Stateless
    }
    fn restore(&mut self, state: OptimizerState) -> Result<(), TrainError> {
        match state {
            OptimizerState::Stateless => Ok(()),
            _ => Err(other_optimizer("newton")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(optimizer: &mut dyn Optimizer, gradients: &[[f32; 2]], eta: f32) -> Vec<[f32; 2]> {
        optimizer.prepare(2).unwrap();
        let mut params = [1.0f32, -1.0];
        gradients
            .iter()
            .map(|g| {
                optimizer.step(&mut params, g, eta).unwrap();
                params
            })
            .collect()
    }

    #[test]
    fn sgd_steps_against_the_gradient() {
        assert_eq!(steps(&mut Sgd, &[[0.5, -2.0]], 0.1), [[0.95, -0.8]]);
    }

    #[test]
    fn momentum_accumulates_velocity() {
        // v1 = −η g1, w1 = w0 + v1; v2 = μ v1 − η g2, w2 = w1 + v2 (eqs. 107-108).
        let out = steps(
            &mut Momentum::new(0.5).unwrap(),
            &[[1.0, 0.0], [1.0, 0.0]],
            0.1,
        );
        assert!((out[0][0] - 0.9).abs() < 1e-7);
        assert!((out[1][0] - (0.9 - 0.05 - 0.1)).abs() < 1e-7);
        assert_eq!(out[1][1], -1.0);
        assert!(Momentum::new(1.0).is_err() && Momentum::new(-0.1).is_err());
    }

    #[test]
    fn momentum_outside_zero_one_needs_the_opt_in_and_then_grows_or_reverses_the_velocity() {
        assert!(Momentum::new(1.5).is_err() && Momentum::new(-0.5).is_err());
        assert!(Momentum::with_any_coefficient(f32::NAN).is_err());
        // One push (g = 1), then no gradient: w_t − w_{t−1} = v_t = μ^(t−1)·(−η).
        let moves = |mu: f32| {
            let mut momentum = Momentum::with_any_coefficient(mu).unwrap();
            let out = steps(&mut momentum, &[[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]], 0.1);
            [out[1][0] - out[0][0], out[2][0] - out[1][0]]
        };
        let [a, b] = moves(2.0);
        assert!((a + 0.2).abs() < 1e-6 && (b + 0.4).abs() < 1e-6, "{a} {b}");
        let [a, b] = moves(-0.5);
        assert!(
            (a - 0.05).abs() < 1e-6 && (b + 0.025).abs() < 1e-6,
            "{a} {b}"
        );
    }

    #[test]
    fn nesterov_looks_ahead() {
        // w1 = w0 − μ·0 + (1 + μ) v1 with v1 = −η g.
        let out = steps(
            &mut Momentum::nesterov(0.5).unwrap(),
            &[[1.0, 0.0], [1.0, 0.0]],
            0.1,
        );
        assert!((out[0][0] - (1.0 - 1.5 * 0.1)).abs() < 1e-7);
        // v2 = 0.5·(−0.1) − 0.1 = −0.15; w2 = w1 + 0.05 + 1.5·(−0.15).
        assert!((out[1][0] - (0.85 + 0.05 - 0.225)).abs() < 1e-6);
    }

    #[test]
    fn adam_takes_steps_of_about_eta_whatever_the_gradient_scale() {
        for scale in [1e-3f32, 1.0, 1e3] {
            let out = steps(&mut Adam::default(), &[[scale, -scale]], 0.01);
            assert!(
                (out[0][0] - 0.99).abs() < 1e-5 && (out[0][1] + 0.99).abs() < 1e-5,
                "{out:?}"
            );
        }
    }

    #[test]
    fn state_round_trips_and_mismatched_state_is_refused() {
        let mut momentum = Momentum::new(0.9).unwrap();
        steps(&mut momentum, &[[1.0, 2.0]], 0.1);
        let state = momentum.state();
        let mut restored = Momentum::new(0.9).unwrap();
        restored.prepare(2).unwrap();
        restored.restore(state.clone()).unwrap();
        assert_eq!(restored.state(), state);
        let wrong_length = OptimizerState::Momentum {
            velocity: vec![0.0; 3],
        };
        assert!(restored.restore(wrong_length).is_err());
        assert!(restored.restore(OptimizerState::Stateless).is_err());
        let mut adam = Adam::default();
        steps(&mut adam, &[[1.0, 2.0]], 0.1);
        let mut other = Adam::default();
        other.prepare(2).unwrap();
        other.restore(adam.state()).unwrap();
        assert_eq!(other.state(), adam.state());
        assert!(matches!(
            adam.state(),
            OptimizerState::Adam { steps: 1, .. }
        ));
        // The vectors of a checkpoint file give back the same state, bit for bit.
        let vectors = adam.state().to_vectors();
        assert_eq!(OptimizerState::from_vectors(vectors).unwrap(), adam.state());
        assert!(OptimizerState::from_vectors(vec![vec![1.5], vec![], vec![]]).is_err());
        assert!(OptimizerState::from_vectors(vec![vec![]; 4]).is_err());
    }

    /// C(w) = ½ wᵀAw + bᵀw for a diagonal A, whose gradient is Aw + b.
    struct Quadratic {
        diagonal: Vec<f32>,
        linear: Vec<f32>,
    }

    impl Quadratic {
        fn cost(&self, w: &[f32]) -> f32 {
            w.iter()
                .zip(&self.diagonal)
                .zip(&self.linear)
                .map(|((w, a), b)| 0.5 * a * w * w + b * w)
                .sum()
        }
        fn gradient(&mut self, w: &[f32]) -> Vec<f32> {
            let mut g = vec![0.0; w.len()];
            self.gradient_at(w, &mut g);
            g
        }
    }

    impl Curvature for Quadratic {
        fn gradient_at(&mut self, w: &[f32], gradient: &mut [f32]) {
            for (((g, w), a), b) in gradient
                .iter_mut()
                .zip(w)
                .zip(&self.diagonal)
                .zip(&self.linear)
            {
                *g = a * w + b;
            }
        }
    }

    /// One Newton step from `w` on `quadratic`.
    fn newton_step(quadratic: &mut Quadratic, w: &mut [f32]) {
        let mut newton = Newton::new(1e-6).unwrap();
        newton.prepare(w.len()).unwrap();
        let g = quadratic.gradient(w);
        newton.curvature_step(w, &g, 1.0, quadratic).unwrap();
    }

    #[test]
    fn newton_solves_a_convex_quadratic_in_one_step() {
        // The minimum of ½(2w₀² + 0.5w₁²) + 0.2w₀ − 0.1w₁ is at (−0.1, 0.2), within the radius.
        let mut quadratic = Quadratic {
            diagonal: vec![2.0, 0.5],
            linear: vec![0.2, -0.1],
        };
        let mut w = [0.0f32, 0.0];
        newton_step(&mut quadratic, &mut w);
        assert!(
            (w[0] + 0.1).abs() < 1e-4 && (w[1] - 0.2).abs() < 1e-4,
            "{w:?}"
        );
    }

    #[test]
    fn newton_moves_away_from_a_saddle_and_lowers_the_cost() {
        // Along w₁ the curvature is −1: the plain H⁻¹∇C step would go to the saddle at w₁ = 0.
        let mut quadratic = Quadratic {
            diagonal: vec![1.0, -1.0],
            linear: vec![0.0, 0.0],
        };
        let mut w = [0.3f32, 0.1];
        let before = quadratic.cost(&w);
        newton_step(&mut quadratic, &mut w);
        assert!(w[0].abs() < 1e-4, "the convex coordinate is solved: {w:?}");
        assert!(w[1] > 0.1, "away from the saddle: {w:?}");
        assert!(quadratic.cost(&w) < before);
    }

    #[test]
    fn newton_steps_stay_within_the_trust_radius() {
        let mut quadratic = Quadratic {
            diagonal: vec![1e-3, 1e-3],
            linear: vec![1.0, 1.0],
        };
        let mut w = [0.0f32, 0.0];
        newton_step(&mut quadratic, &mut w);
        let norm = w.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(
            (norm - Newton::INITIAL_RADIUS as f32).abs() < 1e-3,
            "a step of {norm} where the undamped one is {}",
            1e3 * 2f32.sqrt()
        );
    }

    #[test]
    fn newton_needs_curvature() {
        let mut newton = Newton::new(1e-3).unwrap();
        newton.prepare(2).unwrap();
        assert!(newton.needs_curvature());
        assert!(newton.step(&mut [0.0, 0.0], &[1.0, 1.0], 1.0).is_err());
        assert!(Newton::new(-1.0).is_err());
    }

    #[test]
    fn adam_refuses_decay_rates_outside_zero_one_and_a_non_positive_epsilon() {
        assert!(Adam::new(0.9, 0.999, 1e-8).is_ok());
        for (beta1, beta2, epsilon) in [
            (1.0, 0.999, 1e-8),
            (-0.1, 0.999, 1e-8),
            (0.9, 1.0, 1e-8),
            (0.9, f32::NAN, 1e-8),
            (0.9, 0.999, 0.0),
            (0.9, 0.999, f32::INFINITY),
        ] {
            assert!(
                matches!(
                    Adam::new(beta1, beta2, epsilon),
                    Err(TrainError::InvalidHyperParameter(_))
                ),
                "{beta1} {beta2} {epsilon}"
            );
        }
    }
}

//! Input standardization stored with a network: x → (x − μ) · (1/σ) before the first layer.
//!
//! This is what torchvision's `Normalize(mean, std)` and scikit-learn's `StandardScaler` do.
//! The statistics are fitted once, on the training examples only, and then travel with the
//! network: in its model file, in checkpoints, and into every forward pass (training,
//! evaluation, [`crate::Network::feedforward`]), so a loaded model standardizes its inputs by
//! itself.
//!
//! ```
//! use nn_core::{DenseExamples, Initializer, Network, Standardization, StandardizationKind};
//!
//! let training = DenseExamples::classification(
//!     vec![vec![0.0, 0.2], vec![1.0, 0.4], vec![0.5, 0.6]],
//!     vec![0, 1, 1],
//!     2,
//! );
//! let mut network = Network::sigmoid(&[2, 3, 2], Initializer::Default, 1)?;
//! network.set_standardization(Standardization::fit(StandardizationKind::Pixel, &training)?)?;
//! assert_eq!(network.standardization().mean(), [0.5, 0.4]);
//! # Ok::<(), nn_core::NetworkError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::{Examples, NetworkError};

/// Which statistics standardize the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StandardizationKind {
    /// Inputs are used as they are.
    #[default]
    None,
    /// One mean and one standard deviation over every input value of the training set.
    Global,
    /// A mean and a standard deviation per input (per pixel), each deviation floored at
    /// [`PIXEL_STD_FLOOR`] times the global one.
    Pixel,
}

impl StandardizationKind {
    /// The name used in model files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Global => "global",
            Self::Pixel => "pixel",
        }
    }
}

impl std::str::FromStr for StandardizationKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Self::None),
            "global" => Ok(Self::Global),
            "pixel" => Ok(Self::Pixel),
            _ => Err(format!(
                "unknown standardization '{s}': use none, global or pixel"
            )),
        }
    }
}

/// The smallest per-input standard deviation of [`StandardizationKind::Pixel`], as a fraction of
/// the global standard deviation. An input that is almost constant in the training set (MNIST's
/// border pixels are 0 in nearly every image) would otherwise be divided by nearly 0, and a
/// single stroke reaching it in a test image would become an input of hundreds. With the floor,
/// a full-intensity value there is at most 1 / (0.1 σ) above the mean, about 32 for MNIST.
pub const PIXEL_STD_FLOOR: f32 = 0.1;

/// An input standardization: nothing, or a mean μ and standard deviation σ (one pair for
/// [`StandardizationKind::Global`], one per input for [`StandardizationKind::Pixel`]).
///
/// Every σ is a positive normal (finite, not subnormal) number and every μ finite:
/// [`Standardization::fit`] and deserialization both guarantee it, so 1/σ is finite too.
///
/// ```
/// use nn_core::{DenseExamples, Standardization, StandardizationKind};
///
/// // Two inputs over three examples: the first 0, 1, 2 (μ = 1), the second always 5.
/// let inputs = vec![vec![0.0, 5.0], vec![1.0, 5.0], vec![2.0, 5.0]];
/// let data = DenseExamples::classification(inputs, vec![0, 1, 0], 2);
/// let pixel = Standardization::fit(StandardizationKind::Pixel, &data)?;
/// assert_eq!(pixel.mean(), [1.0, 5.0]);
/// // The constant input's σ is raised to a floor, so it is never divided by 0.
/// assert!(pixel.std().iter().all(|&s| s > 0.0));
/// let global = Standardization::fit(StandardizationKind::Global, &data)?;
/// assert_eq!(global.mean(), [3.0]);
/// # Ok::<(), nn_core::NetworkError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "Parts")]
pub struct Standardization {
    kind: StandardizationKind,
    mean: Vec<f32>,
    std: Vec<f32>,
    /// 1/σ, so that applying it multiplies instead of dividing.
    #[serde(skip)]
    scale: Vec<f32>,
}

/// The fields as read, before they are checked.
#[derive(Deserialize)]
struct Parts {
    kind: StandardizationKind,
    #[serde(default)]
    mean: Vec<f32>,
    #[serde(default)]
    std: Vec<f32>,
}

impl TryFrom<Parts> for Standardization {
    type Error = NetworkError;
    fn try_from(parts: Parts) -> Result<Self, NetworkError> {
        let Parts { kind, mean, std } = parts;
        let bad = |m: String| Err(NetworkError::InvalidStandardization(m));
        let expected = match kind {
            StandardizationKind::None => 0,
            StandardizationKind::Global => 1,
            StandardizationKind::Pixel => mean.len().max(1),
        };
        if mean.len() != expected || std.len() != expected {
            let needs = match kind {
                StandardizationKind::Pixel => "as many deviations as means, at least one".into(),
                _ => format!("{expected} mean and {expected} deviation"),
            };
            return bad(format!(
                "{} standardization needs {needs}; it has {} means and {} deviations",
                kind.name(),
                mean.len(),
                std.len()
            ));
        }
        if let Some((i, m)) = mean.iter().enumerate().find(|(_, m)| !m.is_finite()) {
            return bad(format!("mean {i} is {m}, not a finite number"));
        }
        if let Some((i, s)) = std
            .iter()
            .enumerate()
            .find(|(_, s)| !(s.is_normal() && **s > 0.0))
        {
            return bad(format!(
                "standard deviation {i} is {s}, not a positive finite number (nor a subnormal \
                 one, whose reciprocal is infinite)"
            ));
        }
        Ok(Self::from_parts(kind, mean, std))
    }
}

impl Standardization {
    /// The standardization with these checked statistics.
    fn from_parts(kind: StandardizationKind, mean: Vec<f32>, std: Vec<f32>) -> Self {
        let scale = std.iter().map(|s| 1.0 / s).collect();
        Self {
            kind,
            mean,
            std,
            scale,
        }
    }

    /// Fits the statistics of `kind` to the inputs of `training` (two passes over the set, sums
    /// in f64, no allocation per example). Deviations are population deviations (divided by n),
    /// as `StandardScaler` computes them. Refuses an empty set and one whose input values are
    /// all equal, which leaves nothing to standardize.
    pub fn fit(kind: StandardizationKind, training: &dyn Examples) -> Result<Self, NetworkError> {
        if kind == StandardizationKind::None {
            return Ok(Self::default());
        }
        let (n, width) = (training.len(), training.input_len());
        if n == 0 || width == 0 {
            return Err(NetworkError::InvalidStandardization(
                "cannot fit it to a training set without inputs".into(),
            ));
        }
        let mut column = vec![0.0f32; width];
        let mut sums = vec![0.0f64; width];
        for i in 0..n {
            training.write_input(i, &mut column);
            for (s, &x) in sums.iter_mut().zip(&column) {
                *s += f64::from(x);
            }
        }
        let count = n as f64;
        let means: Vec<f64> = sums.iter().map(|s| s / count).collect();
        let global_mean = means.iter().sum::<f64>() / width as f64;
        // Deviations about each input's mean, and (through the shift of each mean) about the
        // global mean: Σ (x − ḡ)² = Σ (x − μᵢ)² + n (μᵢ − ḡ)² per input.
        let mut squares = sums;
        squares.fill(0.0);
        for i in 0..n {
            training.write_input(i, &mut column);
            for ((s, &x), &m) in squares.iter_mut().zip(&column).zip(&means) {
                let d = f64::from(x) - m;
                *s += d * d;
            }
        }
        let global_square: f64 = squares
            .iter()
            .zip(&means)
            .map(|(s, m)| s + count * (m - global_mean) * (m - global_mean))
            .sum();
        let global_std = (global_square / (count * width as f64)).sqrt();
        let smallest = (f64::from(PIXEL_STD_FLOOR) * global_std) as f32;
        if !(global_mean.is_finite() && global_std.is_finite() && smallest.is_normal()) {
            return Err(NetworkError::InvalidStandardization(format!(
                "the training inputs have mean {global_mean} and standard deviation \
                 {global_std}: nothing to standardize; use none"
            )));
        }
        let (mean, std) = match kind {
            StandardizationKind::None => unreachable!("handled above"),
            StandardizationKind::Global => (vec![global_mean as f32], vec![global_std as f32]),
            StandardizationKind::Pixel => {
                let floor = f64::from(PIXEL_STD_FLOOR) * global_std;
                (
                    means.iter().map(|&m| m as f32).collect(),
                    squares
                        .iter()
                        .map(|s| (s / count).sqrt().max(floor) as f32)
                        .collect(),
                )
            }
        };
        Ok(Self::from_parts(kind, mean, std))
    }

    /// Which statistics these are.
    pub fn kind(&self) -> StandardizationKind {
        self.kind
    }

    /// True when inputs are used as they are.
    pub fn is_none(&self) -> bool {
        self.kind == StandardizationKind::None
    }

    /// The means: none, one (global) or one per input (pixel).
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// The standard deviations, laid out as [`Standardization::mean`].
    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// Refuses per-input statistics for another number of inputs than `input_size`.
    pub(crate) fn check_input_size(&self, input_size: usize) -> Result<(), NetworkError> {
        if self.kind == StandardizationKind::Pixel && self.mean.len() != input_size {
            return Err(NetworkError::InvalidStandardization(format!(
                "it holds statistics for {} inputs, but the network has {input_size}",
                self.mean.len()
            )));
        }
        Ok(())
    }

    /// Standardizes `inputs` in place, x → (x − μ) · (1/σ): columns of `rows` inputs, one per
    /// example.
    pub(crate) fn apply(&self, inputs: &mut [f32], rows: usize) {
        match self.kind {
            StandardizationKind::None => {}
            StandardizationKind::Global => {
                let (m, s) = (self.mean[0], self.scale[0]);
                inputs.iter_mut().for_each(|x| *x = (*x - m) * s);
            }
            StandardizationKind::Pixel => {
                for column in inputs.chunks_exact_mut(rows) {
                    for ((x, m), s) in column.iter_mut().zip(&self.mean).zip(&self.scale) {
                        *x = (*x - m) * s;
                    }
                }
            }
        }
    }
}

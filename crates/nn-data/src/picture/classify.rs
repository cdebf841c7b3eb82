//! Classifying a PNG picture of a digit with a network: the picture prepared by
//! [`prepare_png`](super::prepare_png) into the network's square input frame, fed forward, and
//! the outputs read as probabilities. `nn predict` and `nn serve`'s `POST /api/predict` both
//! call [`classify_png`].

use std::io::{BufRead, Seek};

use nn_core::{Framing, Network};

use super::{PictureError, frame_side, prepare_png};

/// A picture that cannot be classified.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    /// The picture is not a PNG of a digit the preparation accepts (or the network's input is
    /// not a square picture).
    #[error(transparent)]
    Picture(#[from] PictureError),
    /// The network gives a non-finite output.
    #[error(
        "output {index} of the model is {value} for this picture; the model is unusable (its \
         weights are too large)"
    )]
    Unusable {
        /// The first non-finite output.
        index: usize,
        /// Its value.
        value: f32,
    },
}

/// The class of a picture and the probability of each class.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The most likely class (the largest output).
    pub digit: usize,
    /// One probability per class, each in [0, 1], summing to 1.
    pub probabilities: Vec<f64>,
    /// How the outputs were made probabilities, e.g. "softmax outputs".
    pub how: &'static str,
}

/// Classifies the PNG read from `png` with `network`, the picture framed by `framing` in the
/// network's square input frame (28x28 for 784 inputs).
///
/// ```
/// use nn_core::{Framing, Initializer, Network};
///
/// // A 16x16 white picture with a dark bar, for an untrained 784,10,10 network.
/// let mut png = Vec::new();
/// let picture = image::GrayImage::from_fn(16, 16, |x, _| image::Luma([if x == 8 { 0 } else { 255 }]));
/// picture.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
/// let network = Network::sigmoid(&[784, 10, 10], Initializer::Default, 1)?;
/// let prediction = nn_data::picture::classify_png(&network, std::io::Cursor::new(png), Framing::MNIST)?;
/// assert!(prediction.digit < 10);
/// assert!((prediction.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn classify_png(
    network: &Network,
    png: impl BufRead + Seek,
    framing: Framing,
) -> Result<Prediction, ClassifyError> {
    let side = frame_side(network.input_size())?;
    let digit = prepare_png(png, side, framing)?;
    let input: Vec<f32> = digit.pixels().map(|p| f32::from(p[0]) / 255.0).collect();
    let output = network.feedforward(&input);
    if let Some(index) = output.iter().position(|v| !v.is_finite()) {
        return Err(ClassifyError::Unusable {
            index,
            value: output[index],
        });
    }
    let digit = nn_core::argmax(&output);
    let (probabilities, how) = probabilities(network, &output);
    Ok(Prediction {
        digit,
        probabilities: probabilities.iter().map(|p| p.clamp(0.0, 1.0)).collect(),
        how,
    })
}

/// The network's finite outputs as probabilities: softmax outputs as they are, sigmoid outputs
/// normalised to sum to 1, any other outputs through a softmax.
fn probabilities(network: &Network, output: &[f32]) -> (Vec<f64>, &'static str) {
    let output: Vec<f64> = output.iter().copied().map(f64::from).collect();
    let last = network
        .activations()
        .last()
        .map(|a| a.spec())
        .unwrap_or_default();
    let total: f64 = output.iter().sum();
    if last.starts_with("softmax") {
        (output, "softmax outputs")
    } else if last == "sigmoid" && total > 0.0 {
        (
            output.iter().map(|a| a / total).collect(),
            "sigmoid outputs normalised to sum to 1",
        )
    } else {
        (softmax(&output), "softmax of the outputs")
    }
}

/// The softmax of `values`, computed with the largest value subtracted so that no term
/// overflows.
fn softmax(values: &[f64]) -> Vec<f64> {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = values.iter().map(|v| (v - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|e| e / total).collect()
}

#[cfg(test)]
mod tests {
    use super::softmax;

    #[test]
    fn softmax_of_huge_outputs_is_finite_and_sums_to_one() {
        let p = softmax(&[1e20, 1e20 + 1e5, -1e30, 0.0]);
        assert!(p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(p[1], 1.0);
    }
}

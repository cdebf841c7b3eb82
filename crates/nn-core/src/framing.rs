//! How a data set frames its digits, stored with a network so that a new picture can be
//! prepared as the network's training images were.
//!
//! MNIST's digits were size-normalised into a 20x20 box and centred by their centre of mass in
//! a 28x28 frame: [`Framing::MNIST`], a box of 20/28 of the frame, centred by mass. Another set
//! may let its digits fill the frame, or centre the ink's bounding box instead. A network
//! trained by nn-train carries the framing measured on its training images (see
//! `nn_data::picture::measure_framing`); a model file without one (network2.py's) is taken as
//! MNIST's.
//!
//! In a model file it is `"framing": {"box_fraction": 0.714, "centring": "mass"}`; a fraction
//! outside (0, 1] is refused on load, naming the field:
//!
//! ```
//! use nn_core::{Centring, Framing};
//!
//! let framing = Framing::new(1.0, Centring::Box)?;
//! assert_eq!(framing.box_side(12), 12);
//! assert_eq!(Framing::MNIST.box_side(28), 20);
//! let json = serde_json::to_string(&framing).unwrap();
//! assert_eq!(json, r#"{"box_fraction":1.0,"centring":"box"}"#);
//! let bad = serde_json::from_str::<Framing>(r#"{"box_fraction":1e39,"centring":"box"}"#);
//! assert!(bad.unwrap_err().to_string().contains("box_fraction"));
//! # Ok::<(), nn_core::FramingError>(())
//! ```

use serde::{Deserialize, Serialize};

/// Where a digit's ink is placed in its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Centring {
    /// The centre of mass of the ink at the centre of the frame (MNIST).
    Mass,
    /// The centre of the ink's bounding box at the centre of the frame.
    Box,
}

impl Centring {
    /// The name used in model files, `mass` or `box`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mass => "mass",
            Self::Box => "box",
        }
    }
}

/// The size of a digit's ink box as a fraction of its square frame, and its centring.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FramingFields")]
pub struct Framing {
    box_fraction: f32,
    centring: Centring,
}

/// A box fraction that is not a number in (0, 1].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "framing.box_fraction must be a number in (0, 1] (the ink box's side over the frame's), \
     not {0}"
)]
pub struct FramingError(pub String);

/// The fields as read from a file, before they are checked.
#[derive(Deserialize)]
struct FramingFields {
    box_fraction: serde_json::Value,
    centring: Centring,
}

impl TryFrom<FramingFields> for Framing {
    type Error = FramingError;
    fn try_from(fields: FramingFields) -> Result<Self, FramingError> {
        let refused = || FramingError(fields.box_fraction.to_string());
        let fraction = fields.box_fraction.as_f64().ok_or_else(refused)?;
        if !(fraction > 0.0 && fraction <= 1.0) {
            return Err(refused());
        }
        Self::new(fraction as f32, fields.centring)
    }
}

impl Framing {
    /// MNIST's framing: the digit fitted into 20/28 of the frame, centred by mass.
    pub const MNIST: Framing = Framing {
        box_fraction: 20.0 / 28.0,
        centring: Centring::Mass,
    };

    /// A framing whose ink box takes `box_fraction` of the frame's side, in (0, 1].
    pub fn new(box_fraction: f32, centring: Centring) -> Result<Self, FramingError> {
        if !(box_fraction > 0.0 && box_fraction <= 1.0) {
            return Err(FramingError(box_fraction.to_string()));
        }
        Ok(Self {
            box_fraction,
            centring,
        })
    }

    /// The ink box's side over the frame's side.
    pub fn box_fraction(&self) -> f32 {
        self.box_fraction
    }

    /// How the ink is centred.
    pub fn centring(&self) -> Centring {
        self.centring
    }

    /// The side in pixels of the box a digit is fitted into in a `frame x frame` picture:
    /// `round(box_fraction · frame)`, at least 1 and at most `frame`.
    pub fn box_side(&self, frame: u32) -> u32 {
        ((frame as f32 * self.box_fraction).round() as u32).clamp(1, frame.max(1))
    }
}

impl std::fmt::Display for Framing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ink box {:.3} of the frame, centred by {}",
            self.box_fraction,
            self.centring.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_fractions_are_refused_in_files_and_in_code() {
        for bad in [
            "0",
            "-0.5",
            "1.0001",
            "1e39",
            "-1e39",
            "\"large\"",
            "null",
            "[1]",
        ] {
            let json = format!(r#"{{"box_fraction":{bad},"centring":"mass"}}"#);
            let error = serde_json::from_str::<Framing>(&json)
                .unwrap_err()
                .to_string();
            assert!(error.contains("framing.box_fraction"), "{bad}: {error}");
        }
        for bad in [0.0, -1.0, f32::NAN, f32::INFINITY, 1.5] {
            assert!(Framing::new(bad, Centring::Mass).is_err(), "{bad}");
        }
        let unknown = r#"{"box_fraction":0.5,"centring":"middle"}"#;
        assert!(serde_json::from_str::<Framing>(unknown).is_err());
    }

    #[test]
    fn a_framing_survives_its_file_form() {
        let framing = Framing::new(0.75, Centring::Box).unwrap();
        let json = serde_json::to_string(&framing).unwrap();
        assert_eq!(serde_json::from_str::<Framing>(&json).unwrap(), framing);
        assert_eq!(Framing::MNIST.box_side(8), 6);
        assert_eq!(framing.box_side(1), 1);
    }
}

//! Artificially expanding the training data (the chapter's section of that name): training on
//! distorted copies of the images, made once (offline) or drawn afresh every epoch.

use std::fmt;

use nn_core::{EpochTransform, Examples, TrainError};

use super::{ImageTransform, augment_set, expand_by_copies, expand_by_shifts};
use crate::{DataError, ImageSet};

enum Mode {
    /// A set expanded once, trained on in every epoch.
    Offline { expanded: ImageSet, label: String },
    /// A buffer refilled from the trainer's training set in every epoch.
    Fresh {
        transforms: Vec<Box<dyn ImageTransform>>,
        keep_original: f32,
        /// Allocated in the first epoch, refilled in the others.
        buffer: Option<ImageSet>,
    },
}

/// An [`EpochTransform`] that trains on distorted images instead of (or besides) the originals.
///
/// Offline, the set is expanded once and each epoch trains on all N·k images, so the λ/n of the
/// penalties (eqs. 87 and 95) uses that larger n: the chapter scales λ with the training set's
/// size to keep the weight decay factor 1 − ηλ/n the same. Fresh, every epoch trains on N images,
/// each the original with probability `keep_original` and otherwise one randomly distorted copy
/// drawn from the epoch's seed, so a run sees a different sample of distortions every epoch and
/// the same ones when repeated with the same seed.
///
/// Fresh distortions are drawn from the training set the trainer is given, which must be an
/// [`ImageSet`]. Offline, the trainer's training set should be the base set the expansion was
/// made from: it is still used for monitoring the training cost and accuracy.
///
/// ```
/// use nn_core::{EpochTransform, Examples, TrainError};
/// use nn_data::{DataExpansion, ImageSet, ImageTransform, RandomShift};
///
/// let base = ImageSet {
///     pixels: (0..4 * 9).map(|v| (v * 7) as u8).collect(),
///     rows: 3,
///     cols: 3,
///     labels: vec![0, 1, 0, 1],
///     classes: 2,
///     inverted: false,
/// };
/// let shifts: Vec<Box<dyn ImageTransform>> = vec![Box::new(RandomShift::default())];
/// let mut offline = DataExpansion::offline(&base, &shifts, 2, 7)?;
/// assert_eq!(offline.epoch_examples(0, 1, &base)?.len(), 12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DataExpansion {
    mode: Mode,
}

impl fmt::Debug for DataExpansion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

fn describe_transforms(transforms: &[Box<dyn ImageTransform>]) -> String {
    transforms
        .iter()
        .map(|t| t.describe())
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_transforms(transforms: &[Box<dyn ImageTransform>]) -> Result<(), DataError> {
    if transforms.is_empty() {
        Err(DataError::NoTransforms)
    } else {
        Ok(())
    }
}

impl DataExpansion {
    /// The book's expansion (`expand_mnist.py`): every image followed by its copies shifted one
    /// pixel down, up, right and left, so N images become 5N, made once.
    pub fn offline_shifts(base: &ImageSet) -> Self {
        Self {
            mode: Mode::Offline {
                expanded: expand_by_shifts(base),
                label: "shifts(1px, 5x)".into(),
            },
        }
    }

    /// The originals followed by `copies` distorted copies of the whole set, made once by
    /// [`expand_by_copies`] (so the images are those `nn data expand` writes for the same seed):
    /// N images become (1 + copies)·N. Copy k distorts every image with a transform chosen
    /// uniformly from `transforms`, drawn from `seed` and k.
    ///
    /// # Errors
    /// [`DataError::NoTransforms`] for an empty `transforms`, [`DataError::ExpansionTooLarge`]
    /// when the copies would not fit in memory (refused before any is made).
    pub fn offline(
        base: &ImageSet,
        transforms: &[Box<dyn ImageTransform>],
        copies: usize,
        seed: u64,
    ) -> Result<Self, DataError> {
        check_transforms(transforms)?;
        let expanded = expand_by_copies(base, transforms, copies, seed)?;
        Ok(Self {
            mode: Mode::Offline {
                expanded,
                label: format!("{} ({}x)", describe_transforms(transforms), copies + 1),
            },
        })
    }

    /// Checks the fraction of images [`DataExpansion::fresh`] keeps as they are: it must lie in
    /// [0, 1].
    pub fn check_keep_original(fraction: f32) -> Result<(), DataError> {
        if (0.0..=1.0).contains(&fraction) {
            Ok(())
        } else {
            Err(DataError::KeepOriginal { fraction })
        }
    }

    /// Fresh distortions every epoch: each image of the trainer's training set (an
    /// [`ImageSet`]) is kept as it is with probability `keep_original` ∈ [0, 1] and otherwise
    /// distorted by a transform chosen uniformly from `transforms`, with the epoch's seed.
    ///
    /// # Errors
    /// [`DataError::NoTransforms`] for an empty `transforms`, [`DataError::KeepOriginal`] for a
    /// fraction outside [0, 1].
    pub fn fresh(
        transforms: Vec<Box<dyn ImageTransform>>,
        keep_original: f32,
    ) -> Result<Self, DataError> {
        check_transforms(&transforms)?;
        Self::check_keep_original(keep_original)?;
        Ok(Self {
            mode: Mode::Fresh {
                transforms,
                keep_original,
                buffer: None,
            },
        })
    }
}

impl EpochTransform for DataExpansion {
    fn describe(&self) -> String {
        match &self.mode {
            Mode::Offline { label, .. } => format!("offline {label}"),
            Mode::Fresh {
                transforms,
                keep_original,
                ..
            } => format!(
                "fresh {} (originals {keep_original})",
                describe_transforms(transforms)
            ),
        }
    }

    /// The expanded set (offline), or this epoch's distortions of `base` (fresh), which must
    /// then be an [`ImageSet`]. The epoch enters through `seed`.
    fn epoch_examples<'a>(
        &'a mut self,
        _epoch: usize,
        seed: u64,
        base: &'a dyn Examples,
    ) -> Result<&'a dyn Examples, TrainError> {
        let description = self.describe();
        match &mut self.mode {
            Mode::Offline { expanded, .. } => Ok(expanded),
            Mode::Fresh {
                transforms,
                keep_original,
                buffer,
            } => {
                let base = base
                    .as_any()
                    .and_then(|b| b.downcast_ref::<ImageSet>())
                    .ok_or(TrainError::TransformInput {
                        transform: description,
                        needs: "images (nn_data::ImageSet)",
                    })?;
                let buffer = buffer.get_or_insert_with(|| base.empty_like());
                augment_set(base, transforms, *keep_original, seed, buffer);
                Ok(buffer)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RandomShift;

    #[test]
    fn copies_that_cannot_fit_in_memory_are_refused_before_any_is_made() {
        let base = ImageSet {
            pixels: vec![0; 2 * 4],
            rows: 2,
            cols: 2,
            labels: vec![0, 1],
            classes: 2,
            inverted: false,
        };
        let transforms: Vec<Box<dyn ImageTransform>> = vec![Box::new(RandomShift::default())];
        for copies in [usize::MAX, usize::MAX / 4, 1 << 62] {
            let error = DataExpansion::offline(&base, &transforms, copies, 0).unwrap_err();
            assert!(
                matches!(error, DataError::ExpansionTooLarge { images: 2, copies: c } if c == copies),
                "{error}"
            );
        }
    }
}

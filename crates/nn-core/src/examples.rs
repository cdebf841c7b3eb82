//! The seam between data sets and the trainer.
//!
//! A training set is anything that can write the input and the desired output of its `i`-th
//! example into a column of a mini-batch matrix (examples are columns, as in the chapter's
//! matrix-based backpropagation). Keeping this a trait lets an image set stay in compact `u8`
//! form and be turned into `f32` one mini-batch at a time.

/// A set of labelled examples, read one mini-batch column at a time.
///
/// ```
/// use nn_core::{DenseExamples, Examples};
///
/// let set = DenseExamples::classification(vec![vec![0.5, 1.0], vec![0.0, 0.2]], vec![1, 0], 3);
/// let (mut x, mut y) = (vec![0.0; set.input_len()], vec![0.0; set.output_len()]);
/// set.write_input(0, &mut x);
/// set.write_target(0, &mut y);
/// assert_eq!((x, y), (vec![0.5, 1.0], vec![0.0, 1.0, 0.0]));
/// assert_eq!(set.class(1), Some(0));
/// ```
pub trait Examples: Send + Sync {
    /// Number of examples.
    fn len(&self) -> usize;

    /// True when the set holds no example.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Length of one input column (784 for MNIST).
    fn input_len(&self) -> usize;

    /// Length of one desired-output column (10 for MNIST: a one-hot vector).
    fn output_len(&self) -> usize;

    /// Writes the input of example `index` into `column` (`column.len() == input_len()`).
    fn write_input(&self, index: usize, column: &mut [f32]);

    /// Writes the desired output `y` of example `index` into `column`
    /// (`column.len() == output_len()`).
    fn write_target(&self, index: usize, column: &mut [f32]);

    /// The class of example `index`, when the set is a classification problem; accuracy is
    /// reported only for sets that answer `Some`.
    fn class(&self, index: usize) -> Option<usize>;

    /// A hint that example `index` will be read soon. The trainer gives it for the next
    /// mini-batch while it computes the current one, so sets in main memory can start fetching
    /// the randomly placed examples into the cache.
    fn prefetch(&self, _index: usize) {}

    /// The set as [`std::any::Any`], for an [`crate::EpochTransform`] that works on a concrete
    /// type (nn-regularize's data expansion distorts `nn_data::ImageSet`s); `None` for sets
    /// that do not offer it.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// Examples held as `f32` columns: small problems, tests and the chapter's toy networks.
///
/// ```
/// use nn_core::{DenseExamples, Examples};
///
/// // A classifier's set: the targets are the classes' one-hot vectors.
/// let set = DenseExamples::classification(vec![vec![0.2], vec![0.9]], vec![0, 2], 3);
/// let mut target = [9.0; 3];
/// set.write_target(1, &mut target);
/// assert_eq!(target, [0.0, 0.0, 1.0]);
/// assert_eq!((set.len(), set.input_len(), set.output_len(), set.class(1)), (2, 1, 3, Some(2)));
/// // A regression set has targets but no classes.
/// let fit = DenseExamples::new(vec![vec![1.0]], vec![vec![0.5, -0.5]]);
/// assert_eq!(fit.class(0), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DenseExamples {
    inputs: Vec<f32>,
    targets: Vec<f32>,
    input_len: usize,
    output_len: usize,
    classes: Option<Vec<usize>>,
}

impl DenseExamples {
    /// Builds a regression-style set from per-example input and target vectors.
    ///
    /// # Panics
    /// When the vectors have inconsistent lengths; this is a programming error, not bad input.
    pub fn new(inputs: Vec<Vec<f32>>, targets: Vec<Vec<f32>>) -> Self {
        assert_eq!(inputs.len(), targets.len(), "one target per input");
        let input_len = inputs.first().map_or(0, Vec::len);
        let output_len = targets.first().map_or(0, Vec::len);
        assert!(
            inputs.iter().all(|x| x.len() == input_len),
            "inputs of equal length"
        );
        assert!(
            targets.iter().all(|y| y.len() == output_len),
            "targets of equal length"
        );
        Self {
            inputs: inputs.concat(),
            targets: targets.concat(),
            input_len,
            output_len,
            classes: None,
        }
    }

    /// Builds a set from its examples laid one after the other: `inputs` holds `classes.len()`
    /// columns of `input_len` values, `targets` as many columns of `output_len`, and each
    /// example's class is given (as a classifier's accuracy needs). `None` when the lengths do
    /// not describe that many examples or a class is not below `output_len`.
    ///
    /// ```
    /// use nn_core::{DenseExamples, Examples};
    /// let set = DenseExamples::from_columns(vec![0.0, 1.0, 1.0, 0.0], 2, vec![1.0, 0.0, 0.0, 1.0], 2, vec![0, 1]).unwrap();
    /// assert_eq!((set.len(), set.class(1)), (2, Some(1)));
    /// assert!(DenseExamples::from_columns(vec![0.0; 3], 2, vec![0.0; 4], 2, vec![0, 1]).is_none());
    /// ```
    pub fn from_columns(
        inputs: Vec<f32>,
        input_len: usize,
        targets: Vec<f32>,
        output_len: usize,
        classes: Vec<usize>,
    ) -> Option<Self> {
        let n = classes.len();
        let fits = |values: &[f32], per: usize| per.checked_mul(n) == Some(values.len());
        (fits(&inputs, input_len)
            && fits(&targets, output_len)
            && classes.iter().all(|&c| c < output_len))
        .then_some(Self {
            inputs,
            targets,
            input_len,
            output_len,
            classes: Some(classes),
        })
    }

    /// Builds a classification set: each target is the one-hot vector of its class.
    pub fn classification(inputs: Vec<Vec<f32>>, classes: Vec<usize>, class_count: usize) -> Self {
        let targets = classes
            .iter()
            .map(|&c| {
                let mut y = vec![0.0; class_count];
                y[c] = 1.0;
                y
            })
            .collect();
        let mut set = Self::new(inputs, targets);
        set.classes = Some(classes);
        set
    }
}

impl Examples for DenseExamples {
    fn len(&self) -> usize {
        self.inputs
            .len()
            .checked_div(self.input_len)
            .unwrap_or_else(|| self.targets.len() / self.output_len.max(1))
    }

    fn input_len(&self) -> usize {
        self.input_len
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    fn write_input(&self, index: usize, column: &mut [f32]) {
        let start = index * self.input_len;
        column.copy_from_slice(&self.inputs[start..start + self.input_len]);
    }

    fn write_target(&self, index: usize, column: &mut [f32]) {
        let start = index * self.output_len;
        column.copy_from_slice(&self.targets[start..start + self.output_len]);
    }

    fn class(&self, index: usize) -> Option<usize> {
        self.classes.as_ref().map(|c| c[index])
    }
}

//! The native half of the `nn` Python package: it converts the arguments of the book's
//! `network2.py` and `mnist_loader.py` into the workspace's types and back, and calls the
//! library. The Python half (`python/nn`) keeps the book's names, signatures and attributes.
//!
//! A network crosses the boundary as its layer sizes, the spec of each layer's activation, its
//! weights and biases as C-contiguous `float64` buffers (numpy arrays, `network2.py`'s shapes
//! `(n_out, n_in)` and `(n_out, 1)`), and its input standardization as JSON (or `None`). A data
//! set crosses it as three buffers: the inputs (`float32`, one example after the other), the
//! desired outputs (`float32`) and the classes (`int64`). Errors come out as `ValueError`,
//! `TypeError` or `OSError` carrying the one-line message `nn` prints after `error:`.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nn_core::{
    Activation, DenseExamples, Examples, Network, NetworkError, ParamGuard, Regularizer,
    Standardization, TrainError, activation_from_spec,
};
use nn_regularize::L2;
use nn_train::{CostName, LrSchedule, MonitorItem, RunOptions};
use pyo3::buffer::{Element, PyBuffer};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The one-line message `nn` prints for an error (the error and its causes, joined by ": "),
/// with nn-train's settings spelled as network2.py's keywords (`mini_batch_size`, `lmbda`).
fn message(error: impl Into<anyhow::Error>) -> String {
    let message = nn_core::error::message_chain(error.into().as_ref());
    nn_train::Field::rewrite(&message, |field| {
        match field {
            nn_train::Field::BatchSize => "mini_batch_size",
            nn_train::Field::Lambda => "lmbda",
            other => other.name(),
        }
        .to_string()
    })
}

fn value_error(error: impl Into<anyhow::Error>) -> PyErr {
    PyValueError::new_err(message(error))
}

/// File problems become `OSError`, everything else about a network `ValueError`.
fn network_error(error: NetworkError) -> PyErr {
    match error {
        NetworkError::Io { .. } => PyOSError::new_err(message(error)),
        other => value_error(other),
    }
}

/// The numbers of a C-contiguous buffer of the expected shape.
fn numbers<T: Element + Copy>(
    py: Python<'_>,
    buffer: &PyBuffer<T>,
    shape: &[usize],
    what: &str,
) -> PyResult<Vec<T>> {
    let given = buffer.shape();
    // network2.py's biases are (n, 1); a flat (n,) vector is accepted too.
    let fits = given == shape || (shape.len() == 2 && shape[1] == 1 && given == [shape[0]]);
    if !fits {
        return Err(PyValueError::new_err(format!(
            "{what} has shape {given:?}, the network needs {shape:?}"
        )));
    }
    buffer.to_vec(py)
}

/// A network's Python attributes as `Network._network()` passes them in one tuple: sizes,
/// activation specifications, weights and biases (numpy arrays) and the standardization (JSON).
#[derive(FromPyObject)]
struct Attributes(
    Vec<usize>,
    Vec<String>,
    Vec<PyBuffer<f64>>,
    Vec<PyBuffer<f64>>,
    Option<String>,
);

/// A network rebuilt from its Python attributes.
fn network(py: Python<'_>, attributes: &Attributes) -> PyResult<Network> {
    let Attributes(sizes, activations, weights, biases, standardization) = attributes;
    let standardization = standardization.as_deref();
    let activations = activations
        .iter()
        .map(|spec| activation_from_spec(spec))
        .collect::<Result<Vec<Arc<dyn Activation>>, _>>()
        .map_err(network_error)?;
    let mut network = Network::zeros(sizes, activations).map_err(network_error)?;
    let layers = network.layers().len();
    if weights.len() != layers || biases.len() != layers {
        return Err(PyValueError::new_err(format!(
            "layer sizes {sizes:?} need {layers} weight matrices and {layers} bias vectors, \
             not {} and {}",
            weights.len(),
            biases.len()
        )));
    }
    if let Some(text) = standardization {
        let standardization: Standardization = serde_json::from_str(text)
            .map_err(|e| PyValueError::new_err(format!("invalid input standardization: {e}")))?;
        network
            .set_standardization(standardization)
            .map_err(network_error)?;
    }
    let shapes = network.layers().to_vec();
    let params = network.params_mut();
    for (l, shape) in shapes.iter().enumerate() {
        let w = numbers(
            py,
            &weights[l],
            &[shape.rows, shape.cols],
            &format!("weights[{l}]"),
        )?;
        let b = numbers(py, &biases[l], &[shape.rows, 1], &format!("biases[{l}]"))?;
        // numpy's rows one after the other; the network keeps columns one after the other.
        let target = &mut params[shape.weights.clone()];
        for (i, &value) in w.iter().enumerate() {
            let (row, col) = (i / shape.cols, i % shape.cols);
            target[col * shape.rows + row] = value as f32;
        }
        for (target, &value) in params[shape.biases.clone()].iter_mut().zip(&b) {
            *target = value as f32;
        }
    }
    Ok(network)
}

/// Each layer's weights (row after row) and biases, as `float64`, for numpy to reshape.
fn parameters(network: &Network) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    (0..network.layers().len())
        .map(|l| {
            let w = network.weights(l);
            let rows = w
                .row_iter()
                .flat_map(|row| row.iter().map(|&v| f64::from(v)).collect::<Vec<_>>())
                .collect();
            let b = network.biases(l).iter().map(|&v| f64::from(v)).collect();
            (rows, b)
        })
        .unzip()
}

/// The three buffers of a data set (the book's list of `(x, y)` tuples, converted once) as
/// [`DenseExamples`], every length checked.
fn examples(
    py: Python<'_>,
    inputs: &PyBuffer<f32>,
    targets: &PyBuffer<f32>,
    classes: &PyBuffer<i64>,
    what: &str,
) -> PyResult<DenseExamples> {
    let count = classes.item_count();
    let per_example = |buffer_len: usize, part: &str| -> PyResult<usize> {
        if count == 0 {
            return Ok(0);
        }
        if !buffer_len.is_multiple_of(count) {
            return Err(PyValueError::new_err(format!(
                "{what}: the {part} of the {count} examples are not all of one length"
            )));
        }
        Ok(buffer_len / count)
    };
    let input_len = per_example(inputs.item_count(), "inputs")?;
    let output_len = per_example(targets.item_count(), "desired outputs")?;
    let classes = classes
        .to_vec(py)?
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            usize::try_from(c)
                .ok()
                .filter(|&c| c < output_len)
                .ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "{what}: example {i} has class {c}, outside 0..{output_len}"
                    ))
                })
        })
        .collect::<PyResult<Vec<usize>>>()?;
    DenseExamples::from_columns(
        inputs.to_vec(py)?,
        input_len,
        targets.to_vec(py)?,
        output_len,
        classes,
    )
    .ok_or_else(|| PyValueError::new_err(format!("{what}: inconsistent lengths")))
}

/// A cost of nn-costs by network2.py's class name.
fn cost(name: &str) -> PyResult<&'static dyn nn_core::Cost> {
    nn_costs::cost_by_name(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown cost '{name}': use QuadraticCost, CrossEntropyCost or LogLikelihoodCost"
        ))
    })
}

/// A count given from Python: an `int` that is not negative.
fn count(value: i64, what: &str) -> PyResult<usize> {
    usize::try_from(value)
        .map_err(|_| PyValueError::new_err(format!("{what} = {value} must not be negative")))
}

/// Checks layer sizes and activations as `Network(sizes)` receives them.
#[pyfunction]
fn check_network(sizes: Vec<i64>, activations: Vec<String>) -> PyResult<()> {
    let sizes = sizes
        .iter()
        .map(|&s| count(s, "a layer size"))
        .collect::<PyResult<Vec<_>>>()?;
    let activations = activations
        .iter()
        .map(|spec| activation_from_spec(spec))
        .collect::<Result<Vec<_>, _>>()
        .map_err(network_error)?;
    Network::zeros(&sizes, activations).map_err(network_error)?;
    Ok(())
}

/// The network's output for one input, as `float64`.
#[pyfunction]
#[pyo3(signature = (attributes, input))]
fn feedforward(py: Python<'_>, attributes: Attributes, input: PyBuffer<f32>) -> PyResult<Vec<f64>> {
    let network = network(py, &attributes)?;
    let input = input.to_vec(py)?;
    if input.len() != network.input_size() {
        return Err(PyValueError::new_err(format!(
            "the input has {} numbers, the network's input layer {}",
            input.len(),
            network.input_size()
        )));
    }
    Ok(network
        .feedforward(&input)
        .into_iter()
        .map(f64::from)
        .collect())
}

/// `(total cost, correct)` of a network on a data set: the average cost plus the L2 term
/// (λ/2n) Σ w², as network2.py's `total_cost`, and the number of examples classified right.
#[pyfunction]
#[pyo3(signature = (attributes, cost_name, inputs, targets, classes, lmbda))]
fn evaluate(
    py: Python<'_>,
    attributes: Attributes,
    cost_name: &str,
    inputs: PyBuffer<f32>,
    targets: PyBuffer<f32>,
    classes: PyBuffer<i64>,
    lmbda: f32,
) -> PyResult<(f64, usize)> {
    let network = network(py, &attributes)?;
    let cost = cost(cost_name)?;
    let data = examples(py, &inputs, &targets, &classes, "data")?;
    let l2 = L2::new(lmbda).map_err(value_error)?;
    network.check_shape(&data, "data").map_err(value_error)?;
    let evaluation = evaluate_interruptibly(py, &network, &data, cost)?;
    let n = evaluation.count.max(1);
    let layer_weights: Vec<&[f32]> = network
        .layers()
        .iter()
        .map(|layer| &network.params()[layer.weights.clone()])
        .collect();
    let total = evaluation.cost_sum / n as f64 + l2.penalty(&layer_weights, n);
    Ok((total, evaluation.correct))
}

/// Examples per slice of an evaluation between two looks for a signal: a slice of the widest
/// network of the chapter (784-800-800-10) takes about a tenth of a second on two cores.
const EVALUATION_SLICE: usize = 5_000;

/// How often training, with the GIL released, takes it back to let Python's signal handlers
/// run (a Ctrl-C raises `KeyboardInterrupt` within about this time, plus one mini-batch).
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// `network` evaluated on `data` with the GIL released, slice after slice, letting Python's
/// signal handlers run between slices, so that Ctrl-C interrupts a large evaluation within a
/// fraction of a second (their error, e.g. `KeyboardInterrupt`, is returned). Sets of at most
/// one slice are evaluated in one piece, as [`Network::evaluate`] does.
fn evaluate_interruptibly(
    py: Python<'_>,
    network: &Network,
    data: &DenseExamples,
    cost: &dyn nn_core::Cost,
) -> PyResult<nn_core::Evaluation> {
    let mut total = nn_core::Evaluation::default();
    for start in (0..data.len().max(1)).step_by(EVALUATION_SLICE) {
        let slice = Slice {
            set: data,
            start,
            len: EVALUATION_SLICE.min(data.len() - start),
        };
        let part = py.detach(|| network.evaluate(&slice, cost));
        total.cost_sum += part.cost_sum;
        total.correct += part.correct;
        total.count += part.count;
        total.non_finite += part.non_finite;
        py.check_signals()?;
    }
    Ok(total)
}

/// Examples `start..start + len` of a set.
struct Slice<'a> {
    set: &'a DenseExamples,
    start: usize,
    len: usize,
}

impl Examples for Slice<'_> {
    fn len(&self) -> usize {
        self.len
    }
    fn input_len(&self) -> usize {
        self.set.input_len()
    }
    fn output_len(&self) -> usize {
        self.set.output_len()
    }
    fn write_input(&self, index: usize, column: &mut [f32]) {
        self.set.write_input(self.start + index, column);
    }
    fn write_target(&self, index: usize, column: &mut [f32]) {
        self.set.write_target(self.start + index, column);
    }
    fn class(&self, index: usize) -> Option<usize> {
        self.set.class(self.start + index)
    }
}

/// Prints network2.py's lines after each epoch through Python's `print`, and lets Python's
/// signal handlers run every [`SIGNAL_CHECK`]: the first error one raises (a Ctrl-C's
/// `KeyboardInterrupt`) is kept and breaks the epoch off.
struct BookLines {
    print: Py<PyAny>,
    training: usize,
    evaluation: usize,
    checked: Instant,
    interrupt: Option<PyErr>,
}

impl BookLines {
    /// Runs Python's signal handlers; keeps the first error one raises.
    fn check_signals(&mut self) {
        self.checked = Instant::now();
        if self.interrupt.is_none() {
            self.interrupt = Python::attach(|py| py.check_signals()).err();
        }
    }
}

impl nn_core::Observer for BookLines {
    fn batch_done(&mut self, _epoch: usize, _done: usize, _total: usize) -> ControlFlow<()> {
        if self.interrupt.is_none() && self.checked.elapsed() >= SIGNAL_CHECK {
            self.check_signals();
        }
        match self.interrupt {
            Some(_) => ControlFlow::Break(()),
            None => ControlFlow::Continue(()),
        }
    }

    fn epoch_done(&mut self, record: &nn_core::EpochRecord) {
        // A pending signal is handled before the epoch's lines are printed, so that its
        // exception cannot cut them off: the epoch is complete and its lines are printed whole.
        self.check_signals();
        let mut lines = vec![format!("Epoch {} training complete", record.epoch - 1)];
        if let Some(cost) = record.training_cost {
            lines.push(format!("Cost on training data: {cost}"));
        }
        if let Some(accuracy) = record.training_accuracy {
            let n = self.training;
            lines.push(format!(
                "Accuracy on training data: {} / {n}",
                correct(accuracy, n)
            ));
        }
        if let Some(cost) = record.evaluation_cost {
            lines.push(format!("Cost on evaluation data: {cost}"));
        }
        if let Some(accuracy) = record.evaluation_accuracy {
            let n = self.evaluation;
            lines.push(format!(
                "Accuracy on evaluation data: {} / {n}",
                correct(accuracy, n)
            ));
        }
        lines.push(String::new());
        Python::attach(|py| {
            // A failing print (a closed stdout) must not stop the training; a signal's
            // exception raised meanwhile does.
            if let Err(e) = self.print.call1(py, (lines.join("\n"),))
                && !e.is_instance_of::<PyOSError>(py)
                && self.interrupt.is_none()
            {
                self.interrupt = Some(e);
            }
        });
    }

    fn warning(&mut self, message: &str) {
        Python::attach(|py| {
            let _ = self.print.call1(py, (format!("warning: {message}"),));
        });
    }
}

/// The number of examples classified right, from the fraction the trainer reports.
fn correct(accuracy: f64, n: usize) -> usize {
    (accuracy * n as f64).round() as usize
}

/// The trained weights and biases, network2.py's four lists, and the exception a signal raised
/// (a Ctrl-C's `KeyboardInterrupt`), which `SGD` raises once it has taken the weights.
type Trained = (
    Vec<Vec<f64>>,
    Vec<Vec<f64>>,
    (Vec<f64>, Vec<usize>, Vec<f64>, Vec<usize>),
    Option<PyErr>,
);

/// The fields of [`RunOptions`] that `SGD`'s arguments set, or that select data from files
/// (Python passes its own data): not keywords.
const NOT_KEYWORDS: [(&str, &str); 14] = [
    ("layers", "the network's sizes"),
    ("cost", "the network's cost"),
    ("epochs", "an argument of SGD"),
    ("batch_size", "mini_batch_size, an argument of SGD"),
    ("eta", "an argument of SGD"),
    ("lambda", "lmbda, an argument of SGD"),
    ("monitor", "the monitor_* arguments of SGD"),
    ("eval", "evaluation_data, an argument of SGD"),
    ("train_size", "the training_data given"),
    ("per_class", "the training_data given"),
    ("validation_size", "the evaluation_data given"),
    ("invert", "the training_data given"),
    ("expand", "IDX images: use nn train --expand"),
    ("expand_copies", "IDX images: use nn train --expand-copies"),
];

/// `book` with the keywords (a JSON object of [`RunOptions`] fields and their values, e.g.
/// `{"optimizer": "nesterov", "momentum": 0.9, "lr_schedule": "halve:10"}`) applied. A
/// momentum without an optimizer turns plain SGD into momentum ([`RunOptions::set_momentum`]).
fn with_keywords(book: RunOptions, keywords: &str) -> PyResult<RunOptions> {
    let bad = |e: serde_json::Error| PyValueError::new_err(format!("SGD keywords: {e}"));
    let given: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(keywords).map_err(bad)?;
    let mut fields = book.to_fields();
    for (name, value) in &given {
        if let Some((_, instead)) = NOT_KEYWORDS.iter().find(|(field, _)| field == name) {
            return Err(PyValueError::new_err(format!(
                "{name} is not a keyword of SGD: it is {instead}"
            )));
        }
        if !fields.contains_key(name) {
            return Err(PyValueError::new_err(format!(
                "SGD got an unexpected keyword {name}"
            )));
        }
        let value = match (name.as_str(), value) {
            ("lr_schedule", serde_json::Value::String(text)) => {
                let schedule: LrSchedule = text.parse().map_err(PyValueError::new_err)?;
                serde_json::to_value(schedule).map_err(bad)?
            }
            _ => value.clone(),
        };
        fields.insert(name.clone(), value);
    }
    let mut options: RunOptions = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| PyValueError::new_err(format!("SGD keywords: {e}")))?;
    if let (Some(momentum), false) = (options_momentum(&given), given.contains_key("optimizer")) {
        options.set_momentum(momentum);
    }
    Ok(options)
}

/// The `momentum` keyword's value, when given.
fn options_momentum(given: &serde_json::Map<String, serde_json::Value>) -> Option<f32> {
    given.get("momentum")?.as_f64().map(|m| m as f32)
}

/// The run option of a cost named as network2.py names it.
fn cost_name_of(name: &str) -> PyResult<CostName> {
    let cost = cost(name)?;
    CostName::of(cost).ok_or_else(|| PyValueError::new_err(format!("unknown cost '{name}'")))
}

/// Trains by mini-batch SGD with the GIL released, composed by nn-train as `nn train` composes
/// it (the network is the one given); returns the new weights and biases and the
/// evaluation costs, evaluation accuracies, training costs and training accuracies per epoch.
#[pyfunction]
#[pyo3(signature = (
    attributes, cost_name,
    training, evaluation, epochs, mini_batch_size, eta, lmbda, monitor, keywords, print,
))]
#[allow(clippy::too_many_arguments)]
fn sgd(
    py: Python<'_>,
    attributes: Attributes,
    cost_name: &str,
    training: (PyBuffer<f32>, PyBuffer<f32>, PyBuffer<i64>),
    evaluation: Option<(PyBuffer<f32>, PyBuffer<f32>, PyBuffer<i64>)>,
    epochs: i64,
    mini_batch_size: i64,
    eta: f32,
    lmbda: f32,
    monitor: (bool, bool, bool, bool),
    keywords: &str,
    print: Py<PyAny>,
) -> PyResult<Trained> {
    let network = network(py, &attributes)?;
    let cost = cost_name_of(cost_name)?;
    let (evaluation_cost, evaluation_accuracy, training_cost, training_accuracy) = monitor;
    let monitor = [
        (training_cost, MonitorItem::TrainingCost),
        (training_accuracy, MonitorItem::TrainingAccuracy),
        (evaluation_cost, MonitorItem::EvaluationCost),
        (evaluation_accuracy, MonitorItem::EvaluationAccuracy),
    ]
    .into_iter()
    .filter_map(|(on, item)| on.then_some(item))
    .collect();
    // network2.py's SGD, with the keywords beyond the book as the fields of nn-train's
    // RunOptions: the run nn train would make.
    let book = RunOptions {
        layers: network.sizes().to_vec(),
        cost,
        epochs: count(epochs, "epochs")?,
        batch_size: count(mini_batch_size, "mini_batch_size")?,
        eta,
        lambda: lmbda,
        monitor,
        ..RunOptions::default()
    };
    let options = with_keywords(book, keywords)?;
    let mut trainer = options
        .check()
        .and_then(|checked| checked.into_parts().1.trainer(network))
        .map_err(value_error)?;
    let training = examples(py, &training.0, &training.1, &training.2, "training_data")?;
    let evaluation = evaluation
        .map(|(x, y, c)| examples(py, &x, &y, &c, "evaluation_data"))
        .transpose()?;
    let mut lines = BookLines {
        print,
        training: training.len(),
        evaluation: evaluation.as_ref().map_or(0, Examples::len),
        checked: Instant::now(),
        interrupt: None,
    };
    py.detach(|| {
        while !trainer.is_finished() && lines.interrupt.is_none() {
            match trainer.run_epoch(
                &training,
                evaluation.as_ref().map(|e| e as &dyn Examples),
                &mut lines,
            ) {
                Ok(_) | Err(TrainError::Interrupted { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })
    .map_err(value_error)?;
    if let Some(interrupt) = lines.interrupt.take() {
        // The trained weights of the last completed epoch, then the signal's exception.
        let (weights, biases) = parameters(trainer.network());
        return Ok((weights, biases, Default::default(), Some(interrupt)));
    }
    let (network, history) = trainer.finish();
    let (weights, biases) = parameters(&network);
    let mut lists = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for record in &history.epochs {
        lists.0.extend(record.evaluation_cost);
        lists.1.extend(
            record
                .evaluation_accuracy
                .map(|a| correct(a, lines.evaluation)),
        );
        lists.2.extend(record.training_cost);
        lists
            .3
            .extend(record.training_accuracy.map(|a| correct(a, lines.training)));
    }
    Ok((weights, biases, lists, None))
}

/// Saves a network as network2.py's JSON (atomically).
#[pyfunction]
#[pyo3(signature = (attributes, cost_name, filename))]
fn save(
    py: Python<'_>,
    attributes: Attributes,
    cost_name: &str,
    filename: PathBuf,
) -> PyResult<()> {
    let network = network(py, &attributes)?;
    cost(cost_name)?;
    nn_core::save_model(&network, cost_name, &filename).map_err(network_error)
}

/// A loaded model, piece by piece for the Python side.
type Loaded = (
    Vec<usize>,
    Vec<String>,
    Vec<Vec<f64>>,
    Vec<Vec<f64>>,
    Option<String>,
    String,
);

/// Loads a model written by `save`, `nn train --save` or network2.py: sizes, activation specs,
/// weights (row after row), biases, standardization (JSON) and the cost's name.
#[pyfunction]
fn load(filename: PathBuf) -> PyResult<Loaded> {
    let model = nn_core::load_model(&filename).map_err(network_error)?;
    cost(&model.cost)?;
    let network = model.network;
    let (weights, biases) = parameters(&network);
    let standardization = Some(network.standardization())
        .filter(|s| !s.is_none())
        .map(|s| serde_json::to_string(s).expect("a standardization always serializes"));
    Ok((
        network.sizes().to_vec(),
        network.activations().iter().map(|a| a.spec()).collect(),
        weights,
        biases,
        standardization,
        model.cost,
    ))
}

/// One split of MNIST: its pixels (`u8`, image after image), labels and image length.
type Split<'py> = (Bound<'py, PyBytes>, Bound<'py, PyBytes>, usize);

/// MNIST's training, validation and test splits, found as `nn` finds them (`MNIST_DIR`,
/// `./data/mnist`, `../shared/data/mnist`, the cache, else a download).
#[pyfunction]
fn load_mnist(py: Python<'_>) -> PyResult<(Split<'_>, Split<'_>, Split<'_>)> {
    let data_error = |e: nn_data::DataError| PyOSError::new_err(message(e));
    let splits = py
        .detach(|| {
            let location = nn_data::locate_mnist(None)?;
            nn_data::load_splits(&location.dir, None)
        })
        .map_err(data_error)?;
    let split = |set: &nn_data::ImageSet| {
        (
            PyBytes::new(py, &set.pixels),
            PyBytes::new(py, &set.labels),
            set.image_len(),
        )
    };
    Ok((
        split(&splits.training),
        split(&splits.validation),
        split(&splits.test),
    ))
}

/// The observer of an experiment run from Python: nothing printed, and Python's signal
/// handlers run every [`SIGNAL_CHECK`]; the first error one raises (a Ctrl-C's
/// `KeyboardInterrupt`) is kept and breaks the training off.
struct Signals {
    checked: Instant,
    interrupt: Option<PyErr>,
}

impl nn_core::Observer for Signals {
    fn batch_done(&mut self, _epoch: usize, _done: usize, _total: usize) -> ControlFlow<()> {
        if self.interrupt.is_none() && self.checked.elapsed() >= SIGNAL_CHECK {
            self.checked = Instant::now();
            self.interrupt = Python::attach(|py| py.check_signals()).err();
        }
        match self.interrupt {
            Some(_) => ControlFlow::Break(()),
            None => ControlFlow::Continue(()),
        }
    }
}

impl nn_chapter::Progress for Signals {
    fn observer(&mut self) -> &mut dyn nn_core::Observer {
        self
    }
}

/// The chapter's experiments, as `nn reproduce --list` gives them: name, title and the book's
/// figures in words.
#[pyfunction]
fn experiments() -> Vec<(&'static str, &'static str, &'static str)> {
    nn_chapter::experiments()
        .map(|e| (e.name, e.title, e.book))
        .collect()
}

/// Runs the experiment `name` as `nn reproduce NAME` does (a smoke test with `quick`) on MNIST
/// found as `nn` finds it, writing its summaries and figures into `out`, and returns the
/// summary as JSON (`NAME.json`).
#[pyfunction]
#[pyo3(signature = (name, out, quick = false))]
fn run_experiment(py: Python<'_>, name: &str, out: PathBuf, quick: bool) -> PyResult<String> {
    let experiment = nn_chapter::find(name).map_err(value_error)?;
    let data = match experiment.needs_data() {
        true => Some(
            py.detach(nn_train::DataSet::mnist)
                .map_err(|e| PyOSError::new_err(message(e)))?,
        ),
        false => None,
    };
    let mut signals = Signals {
        checked: Instant::now(),
        interrupt: None,
    };
    let ran = py.detach(|| {
        let session = match &data {
            Some(data) => nn_chapter::Session::new(data, &out),
            None => nn_chapter::Session::without_data(&out),
        };
        let mut session = session.quick(quick).progress(&mut signals);
        let summary = experiment.run(&mut session)?;
        summary.write(&out)?;
        Ok::<_, nn_chapter::ChapterError>(summary)
    });
    if let Some(interrupt) = signals.interrupt {
        return Err(interrupt);
    }
    let summary = ran.map_err(value_error)?;
    Ok(serde_json::to_string(&summary).expect("a summary serializes"))
}

/// The native module `nn._engine`.
#[pymodule]
fn _engine(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(check_network, module)?)?;
    module.add_function(wrap_pyfunction!(feedforward, module)?)?;
    module.add_function(wrap_pyfunction!(evaluate, module)?)?;
    module.add_function(wrap_pyfunction!(sgd, module)?)?;
    module.add_function(wrap_pyfunction!(save, module)?)?;
    module.add_function(wrap_pyfunction!(load, module)?)?;
    module.add_function(wrap_pyfunction!(load_mnist, module)?)?;
    module.add_function(wrap_pyfunction!(experiments, module)?)?;
    module.add_function(wrap_pyfunction!(run_experiment, module)?)?;
    Ok(())
}

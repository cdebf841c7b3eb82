//! A run composed of most of the chapter: a softmax output layer with the log-likelihood cost
//! (eqs. 78-80), ReLU hidden neurons, dropout, fresh elastic distortions of the training images
//! each epoch (artificially expanded data), momentum (eqs. 107-108), an exponential
//! learning-rate schedule and a checkpoint after every epoch. The run is interrupted half-way
//! through an epoch (its observer answers `ControlFlow::Break` from `batch_done`, as a Ctrl-C
//! handler would: the epoch is abandoned and the network left as the last completed epoch left
//! it), resumed from the checkpoint with `Run::resume_from`, and its final weights are checked
//! to be bit-identical to those of the same run never interrupted.
//!
//! `cargo run --release --example full_run [TRAINING_IMAGES [EPOCHS]]`; MNIST is found, or
//! downloaded, as `nn` finds it.

use std::ops::ControlFlow;

use nn_core::{EpochRecord, Observer, ParamGuard, Silent, TrainError};
use nn_train::{
    ActivationName, Checkpointer, CostName, DataIdentity, DataSet, LrSchedule, OptimizerName, Run,
    RunError, RunOptions, TransformName,
};

/// Prints each epoch and breaks off epoch `stop_in` half-way through its mini-batches.
struct Interrupt {
    stop_in: usize,
}

impl Observer for Interrupt {
    fn batch_done(&mut self, epoch: usize, done: usize, total: usize) -> ControlFlow<()> {
        if epoch == self.stop_in && done >= total / 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn epoch_done(&mut self, record: &EpochRecord) {
        let accuracy = record.evaluation_accuracy.unwrap_or(0.0);
        println!(
            "epoch {}: validation accuracy {:.2}%",
            record.epoch,
            100.0 * accuracy
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = |i: usize, default: usize| std::env::args().nth(i).map_or(Ok(default), |a| a.parse());
    let (size, epochs) = (arg(1, 10_000)?, arg(2, 6)?);
    let data = DataSet::mnist()?;
    let options = RunOptions {
        layers: vec![784, 100, 10],
        cost: CostName::LogLikelihood,
        activation: ActivationName::Relu,
        eta: 0.05,
        epochs,
        lambda: 1.0,
        dropout: 0.2,
        optimizer: OptimizerName::Momentum,
        momentum: 0.9,
        expand: vec![TransformName::Elastic],
        lr_schedule: LrSchedule::Exponential(0.9),
        train_size: Some(size),
        validation_size: Some(1_000),
        seed: 3,
        ..RunOptions::default()
    }
    .check()?;

    println!("The run, never interrupted:");
    let whole = Run::new(options.clone(), &data)?.train(&mut Silent)?;
    println!("test accuracy {:.2}%", 100.0 * whole.test.accuracy());

    let dir = tempfile::tempdir()?;
    let ckpt = dir.path().join("checkpoint");
    let checkpointer = Checkpointer::at(&ckpt).claim(DataIdentity::of(&data)?)?;
    let mut run = Run::new(options, &data)?.with_checkpointer(checkpointer);
    let mut interrupt = Interrupt {
        stop_in: epochs / 2 + 1,
    };
    println!(
        "The same run, interrupted half-way through epoch {}:",
        interrupt.stop_in
    );
    while !run.is_finished() {
        match run.epoch(&mut interrupt) {
            Ok(_) => {}
            Err(RunError::Train(TrainError::Interrupted { epoch, completed })) => {
                println!("interrupted in epoch {epoch}; the checkpoint holds epoch {completed}");
                break;
            }
            Err(other) => return Err(other.into()),
        }
    }
    drop(run);

    let resumed = Run::resume_from(&ckpt, &data)?;
    println!(
        "Resumed after epoch {}:",
        resumed.resumed_after().unwrap_or(0)
    );
    interrupt.stop_in = 0;
    let resumed = resumed.train(&mut interrupt)?;
    println!("test accuracy {:.2}%", 100.0 * resumed.test.accuracy());

    let bits = |params: &[f32]| params.iter().map(|p| p.to_bits()).collect::<Vec<_>>();
    let same = bits(resumed.network.params()) == bits(whole.network.params());
    println!(
        "The resumed run's {} weights and biases are {} to the uninterrupted run's",
        whole.network.params().len(),
        if same {
            "bit-identical"
        } else {
            "NOT identical"
        }
    );
    assert!(same, "resuming changed the weights");
    Ok(())
}

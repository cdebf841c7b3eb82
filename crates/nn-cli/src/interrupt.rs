//! Ctrl-C (SIGINT) and SIGTERM: the first one asks the work to stop at the next safe point (the
//! next mini-batch of a training run, the next step of a longer job), which then reports what
//! was kept and how to continue, and `nn` exits with the conventional status, 128 + the signal's
//! number (130 for SIGINT, 143 for SIGTERM). A second signal ends the process at once with the
//! same status; every file nn writes is written atomically, so even then none is half-written.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{LazyLock, OnceLock};

use anyhow::Result;
use nn_core::TrainError;
use signal_hook::consts::{SIGINT, SIGTERM};

/// The number of the first signal received, 0 before any.
static RECEIVED: LazyLock<Arc<AtomicUsize>> = LazyLock::new(|| Arc::new(AtomicUsize::new(0)));
static INSTALLED: OnceLock<()> = OnceLock::new();

/// A signal that stops `nn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT, from Ctrl-C.
    Interrupt,
    /// SIGTERM, from `kill` or a service manager.
    Terminate,
}

impl Signal {
    /// The exit status a process ended by this signal reports: 128 + its number.
    pub fn exit_status(self) -> u8 {
        128 + self.number() as u8
    }

    fn number(self) -> i32 {
        match self {
            Self::Interrupt => SIGINT,
            Self::Terminate => SIGTERM,
        }
    }

    /// The signal's name, e.g. `SIGINT`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        }
    }
}

/// Catches SIGINT and SIGTERM for the rest of the process (once; later calls do nothing).
pub fn install() -> Result<()> {
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let seen = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it sees `seen` as the previous signal left it: a second signal
        // exits at once.
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, seen.clone())?;
        signal_hook::flag::register(signal, seen.clone())?;
        let received = RECEIVED.clone();
        // SAFETY: the action only does an atomic compare-and-swap, which is async-signal-safe.
        unsafe {
            signal_hook::low_level::register(signal, move || {
                let _ = received.compare_exchange(
                    0,
                    signal as usize,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
            })?;
        }
    }
    INSTALLED.set(()).ok();
    Ok(())
}

/// The first stopping signal received, if any.
pub fn received() -> Option<Signal> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n if n == SIGTERM as usize => Some(Signal::Terminate),
        _ => Some(Signal::Interrupt),
    }
}

/// An observer that reports nothing and breaks off training when a signal has been received.
#[derive(Debug, Default)]
pub struct Quiet;

impl nn_core::Observer for Quiet {
    fn batch_done(&mut self, _epoch: usize, _done: usize, _total: usize) -> ControlFlow<()> {
        match received() {
            Some(_) => ControlFlow::Break(()),
            None => ControlFlow::Continue(()),
        }
    }
}

/// The work stopped on a signal: `kept` says what was kept and how to continue.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kept}")]
pub struct Stopped {
    /// The signal.
    pub signal: Signal,
    /// What was kept, e.g. "interrupted in epoch 11; the checkpoint of epoch 10 is in ck/: ...".
    pub kept: String,
}

impl Stopped {
    /// Stopped by the signal received (SIGINT if none was), with `kept`.
    pub fn new(kept: impl Into<String>) -> Self {
        Self {
            signal: received().unwrap_or(Signal::Interrupt),
            kept: kept.into(),
        }
    }

    /// The line `nn` prints, naming the signal.
    pub fn line(&self) -> String {
        format!("stopped by {}: {}", self.signal.name(), self.kept)
    }
}

/// An error telling the work to stop when a signal has been received: for the safe points of
/// jobs that do not train (`kept` says what they leave behind).
pub fn check(kept: impl FnOnce() -> String) -> Result<(), Stopped> {
    match received() {
        Some(_) => Err(Stopped::new(kept())),
        None => Ok(()),
    }
}

/// The interrupted training epoch in `error`'s chain, if training was broken off by a signal:
/// `(epoch, completed epochs)`.
pub fn interrupted_epoch(error: &anyhow::Error) -> Option<(usize, usize)> {
    error.chain().find_map(|cause| match cause.downcast_ref() {
        Some(TrainError::Interrupted { epoch, completed }) => Some((*epoch, *completed)),
        _ => None,
    })
}

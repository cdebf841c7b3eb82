//! Two halves of a job on two cores, with a persistent second thread that meets the caller at
//! a spin barrier.
//!
//! A mini-batch of ten examples makes products of a few microseconds, too short to hand to a
//! thread pool (waking a sleeping thread costs about as much). Here one helper thread spins for
//! a while waiting for the next half-job and sleeps only when none comes, so the caller posts a
//! half-job with one atomic store and the helper picks it up within a fraction of a
//! microsecond.
//!
//! The caller always finishes: after its own half it takes the second half back if the helper
//! has not started it (the helper may be descheduled on a busy machine, or its slot held by
//! another caller), so a job never waits for a thread that does not come. After
//! `MAX_MISSES` such take-backs in a row the caller runs alone for a while (`PAUSE`), so
//! that on a machine busy with other work the helper sleeps instead of spinning for nothing.
//! Which thread runs a half never changes what it computes. A panic in either half (the halves
//! run user code too: an `Activation`, a `Regularizer`'s masks, an `Examples`' images) is caught,
//! and resumed on the caller once both halves are over, as `rayon::join` does.
//!
//! The helper thread (`helper`) exists with the crate's `parallel` feature only. Without it
//! every job runs its halves in turn on the calling thread, cut at the same places: which
//! thread runs a half never changing what it computes, the results are bit for bit those of
//! the two-core build.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};

#[cfg(feature = "parallel")]
mod helper;

/// Runs `first` and `second`: on two cores when `parallel`, the crate is built with its
/// `parallel` feature, rayon's pool (which `--threads` sets) has more than one thread and the
/// helper is free, else in turn on this thread. Both are always run exactly once before this
/// returns. A panic of either (a user's `Activation` or `Regularizer`, say) is resumed on this
/// thread once both halves are over (the first's when both panic).
pub(crate) fn join(parallel: bool, first: impl Fn() + Sync, second: impl Fn() + Sync) {
    #[cfg(feature = "parallel")]
    if parallel && helper::join(&first, &second) {
        return;
    }
    #[cfg(not(feature = "parallel"))]
    let _ = parallel;
    let first_panic = panic::catch_unwind(AssertUnwindSafe(&first)).err();
    let second_panic = panic::catch_unwind(AssertUnwindSafe(&second)).err();
    if let Some(payload) = first_panic.or(second_panic) {
        panic::resume_unwind(payload);
    }
}

/// The threads work may be spread over: rayon's pool (which `--threads` sets).
#[cfg(feature = "parallel")]
pub(crate) fn threads() -> usize {
    rayon::current_num_threads()
}

/// The threads work may be spread over: this one, without the `parallel` feature.
#[cfg(not(feature = "parallel"))]
pub(crate) fn threads() -> usize {
    1
}

/// [`join`] for halves that take mutable borrows of their own (two disjoint halves of a
/// buffer, say), and so run once each.
pub(crate) fn join_once(parallel: bool, first: impl FnOnce() + Send, second: impl FnOnce() + Send) {
    let (first, second) = (Mutex::new(Some(first)), Mutex::new(Some(second)));
    join(parallel, || run_once(&first), || run_once(&second));
}

/// Takes the half out of its cell and runs it (the cell makes an `FnOnce` callable through the
/// `Fn` that [`join`] shares between threads).
fn run_once(half: &Mutex<Option<impl FnOnce()>>) {
    let taken = half.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(half) = taken {
        half();
    }
}

/// Numbers a pass over the columns of a mini-batch must touch before it is cut between the two
/// cores ([`worth_two_cores`]) (about 10 microseconds of element-wise work; [784,800,800,10] with
/// mini-batches of 100 has 80,000 per hidden layer, the book's [784,30,10] with 10 has 300).
const PARALLEL_NUMBERS: usize = 1 << 15;

/// True when element-wise work on `numbers` numbers pays for a second core
/// ([`PARALLEL_NUMBERS`]).
pub(crate) fn worth_two_cores(numbers: usize) -> bool {
    numbers >= PARALLEL_NUMBERS
}

/// Work on the columns (examples) of a mini-batch, which can be cut between two columns.
pub(crate) trait ColumnWork: Send + Sized {
    /// The work on the columns before `column`, and on the rest.
    fn split_at(self, column: usize) -> (Self, Self);

    /// Does the work.
    fn run(self);
}

/// Runs `work` over `m` columns of `rows` numbers each: in two halves of columns on the two
/// cores when there are at least [`PARALLEL_NUMBERS`] numbers, else at once on this thread. The
/// cut depends on the sizes only, and a column's numbers are computed alike on either core.
pub(crate) fn by_column_halves(work: impl ColumnWork, rows: usize, m: usize) {
    if !worth_two_cores(rows.saturating_mul(m)) || m < 2 {
        work.run();
        return;
    }
    let (first, second) = work.split_at(m / 2);
    join_once(true, || first.run(), || second.run());
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
    use std::time::{Duration, Instant};

    use super::*;

    /// Waits, for at most a second, until `started` is set: the caller's half waits so that
    /// the helper takes the other half.
    fn wait_for(started: &AtomicBool) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while !started.load(SeqCst) && Instant::now() < deadline {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn a_panic_of_either_half_reaches_the_caller_after_both_ran_and_the_helper_serves_on() {
        for panicking in ["first", "second"] {
            let (started, ran) = (AtomicBool::new(false), AtomicU32::new(0));
            let caught = panic::catch_unwind(AssertUnwindSafe(|| {
                join(
                    true,
                    || {
                        wait_for(&started);
                        ran.fetch_add(1, SeqCst);
                        assert_ne!(panicking, "first", "first");
                    },
                    || {
                        started.store(true, SeqCst);
                        ran.fetch_add(1, SeqCst);
                        assert_ne!(panicking, "second", "second");
                    },
                )
            }));
            let payload = caught.expect_err("the half's panic must reach the caller");
            let message = payload.downcast_ref::<String>().map(String::as_str);
            assert!(
                message.is_some_and(|m| m.contains(panicking)),
                "{message:?}"
            );
            assert_eq!(ran.load(SeqCst), 2, "both halves must have run");
        }
        let sum = AtomicU32::new(0);
        join(
            true,
            || {
                sum.fetch_add(1, SeqCst);
            },
            || {
                sum.fetch_add(2, SeqCst);
            },
        );
        assert_eq!(sum.load(SeqCst), 3, "the next join runs both halves");
    }
}

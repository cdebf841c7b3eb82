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
//! [`MAX_MISSES`] such take-backs in a row the caller runs alone for a while ([`PAUSE`]), so
//! that on a machine busy with other work the helper sleeps instead of spinning for nothing.
//! Which thread runs a half never changes what it computes. A panic in either half (the halves
//! run user code too: an `Activation`, a `Regularizer`'s masks, an `Examples`' images) is caught,
//! and resumed on the caller once both halves are over, as `rayon::join` does.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU32, Ordering::SeqCst};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread::{self, Thread};

/// No job posted.
const IDLE: u8 = 0;
/// A second half is waiting for the helper.
const POSTED: u8 = 1;
/// The helper is running the second half.
const RUNNING: u8 = 2;
/// The helper has finished the second half.
const DONE: u8 = 3;

/// Spins of the helper waiting for work before it sleeps (roughly 0.1 to 1 ms).
const IDLE_SPINS: u32 = 1 << 16;

/// Misses in a row (half-jobs the helper had not started when the caller finished its own)
/// after which the caller stops posting for [`PAUSE`] joins. A helper that keeps missing has
/// no core of its own (the machine is busy with other work), and its spinning would only take
/// time from the caller; the pause lets it fall asleep.
const MAX_MISSES: u32 = 8;

/// Joins run on the caller alone after [`MAX_MISSES`] misses (a few hundredths of a second of
/// training with mini-batches of ten), before the helper is tried again.
const PAUSE: u32 = 2048;

/// Spins of the caller waiting for the helper's half before it yields its core (a few
/// microseconds: the halves are balanced, so the helper is usually about done).
const WAIT_SPINS: u32 = 1 << 10;

/// What the caller and the helper share.
struct Slot {
    /// Held by the one caller whose job is in the slot.
    busy: AtomicBool,
    /// IDLE, POSTED, RUNNING or DONE.
    state: AtomicU8,
    /// The posted half: a pointer to a `&(dyn Fn() + Sync)` on the caller's stack.
    job: AtomicPtr<&'static (dyn Fn() + Sync)>,
    /// Set while the helper sleeps.
    sleeping: AtomicBool,
    /// Half-jobs in a row the caller took back because the helper had not started them.
    misses: AtomicU32,
    /// The panic of the helper's last half-job, for the caller to resume.
    panic: Mutex<Option<Payload>>,
    /// Joins left to run on the caller alone after [`MAX_MISSES`] misses.
    pause: AtomicU32,
    helper: Thread,
}

fn slot() -> Option<&'static Slot> {
    static SLOT: OnceLock<Option<&'static Slot>> = OnceLock::new();
    *SLOT.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel::<&'static Slot>();
        let spawned = thread::Builder::new()
            .name("nn-pair".into())
            .spawn(move || {
                if let Ok(slot) = receiver.recv() {
                    serve(slot);
                }
            })
            .ok()?;
        let slot: &'static Slot = Box::leak(Box::new(Slot {
            busy: AtomicBool::new(false),
            state: AtomicU8::new(IDLE),
            job: AtomicPtr::new(std::ptr::null_mut()),
            sleeping: AtomicBool::new(false),
            misses: AtomicU32::new(0),
            panic: Mutex::new(None),
            pause: AtomicU32::new(0),
            helper: spawned.thread().clone(),
        }));
        sender.send(slot).ok()?;
        Some(slot)
    })
}

/// The helper's loop: wait for a posted half, claim it, run it, report it done.
fn serve(slot: &'static Slot) {
    loop {
        let mut spins = 0;
        while slot.state.load(SeqCst) != POSTED {
            spins += 1;
            if spins < IDLE_SPINS {
                std::hint::spin_loop();
                continue;
            }
            slot.sleeping.store(true, SeqCst);
            if slot.state.load(SeqCst) != POSTED {
                thread::park();
            }
            slot.sleeping.store(false, SeqCst);
            spins = 0;
        }
        if slot
            .state
            .compare_exchange(POSTED, RUNNING, SeqCst, SeqCst)
            .is_err()
        {
            continue;
        }
        // SAFETY: the caller keeps the job alive until it sees DONE (it cannot take the job
        // back once the state is RUNNING).
        let job = unsafe { *slot.job.load(SeqCst) };
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(job)) {
            *slot.panic.lock().unwrap_or_else(PoisonError::into_inner) = Some(payload);
        }
        slot.state.store(DONE, SeqCst);
    }
}

/// A panic caught on one thread, to be resumed on another.
type Payload = Box<dyn Any + Send>;

/// Runs `first` and `second`, on two cores when `parallel`, rayon's pool (which `--threads`
/// sets) has more than one thread and the helper is free, else in turn on this thread. Both are always run exactly once before this returns. A panic of
/// either (a user's `Activation` or `Regularizer`, say) is resumed on this thread once both
/// halves are over, and the helper stays ready for the next job.
pub(crate) fn join(parallel: bool, first: impl Fn() + Sync, second: impl Fn() + Sync) {
    let slot = if parallel && rayon::current_num_threads() > 1 {
        slot()
    } else {
        None
    };
    // During a pause, count it down and run alone.
    let slot = slot.filter(|s| {
        s.pause
            .fetch_update(SeqCst, SeqCst, |p| p.checked_sub(1))
            .is_err()
    });
    let Some(slot) = slot.filter(|s| s.busy.compare_exchange(false, true, SeqCst, SeqCst).is_ok())
    else {
        first();
        second();
        return;
    };
    let job: &(dyn Fn() + Sync) = &second;
    // SAFETY of the lifetime extension: `job` outlives every use the helper makes of it, since
    // this function returns only after taking the job back or seeing it DONE.
    let job: &'static (dyn Fn() + Sync) = unsafe { std::mem::transmute(job) };
    let mut job_ref = job;
    slot.job.store(&mut job_ref, SeqCst);
    slot.state.store(POSTED, SeqCst);
    let woken = slot.sleeping.load(SeqCst);
    if woken {
        slot.helper.unpark();
    }
    let first_panic = panic::catch_unwind(AssertUnwindSafe(&first)).err();
    let second_panic = if slot
        .state
        .compare_exchange(POSTED, IDLE, SeqCst, SeqCst)
        .is_ok()
    {
        let second_panic = panic::catch_unwind(AssertUnwindSafe(&second)).err();
        // A helper that was asleep is only waking up (tens of microseconds, longer than a
        // short half-job): that is no sign of a busy machine.
        if !woken && slot.misses.fetch_add(1, SeqCst) + 1 >= MAX_MISSES {
            slot.misses.store(0, SeqCst);
            slot.pause.store(PAUSE, SeqCst);
        }
        second_panic
    } else {
        slot.misses.store(0, SeqCst);
        // A short spin, then yield: on a machine with more runnable threads than cores the
        // helper may be waiting for this very core.
        let mut spins = 0u32;
        while slot.state.load(SeqCst) != DONE {
            spins = spins.saturating_add(1);
            if spins < WAIT_SPINS {
                std::hint::spin_loop();
            } else {
                thread::yield_now();
            }
        }
        slot.state.store(IDLE, SeqCst);
        slot.panic
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    };
    slot.job.store(std::ptr::null_mut(), SeqCst);
    slot.busy.store(false, SeqCst);
    if let Some(payload) = first_panic.or(second_panic) {
        panic::resume_unwind(payload);
    }
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

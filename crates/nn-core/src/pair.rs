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
//! another caller), so a job never waits for a thread that does not come. Which thread runs a
//! half never changes what it computes.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, Ordering::SeqCst};
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
        job();
        slot.state.store(DONE, SeqCst);
    }
}

/// Runs `first` and `second`, on two cores when `parallel` and the helper is free, else in
/// turn on this thread. Both are always run exactly once before this returns. Neither may
/// panic: the helper may still be running `second` while `first` unwinds.
pub(crate) fn join(parallel: bool, first: impl Fn() + Sync, second: impl Fn() + Sync) {
    let slot = if parallel { slot() } else { None };
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
    if slot.sleeping.load(SeqCst) {
        slot.helper.unpark();
    }
    first();
    if slot
        .state
        .compare_exchange(POSTED, IDLE, SeqCst, SeqCst)
        .is_ok()
    {
        second();
    } else {
        let mut spins = 0u32;
        while slot.state.load(SeqCst) != DONE {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(1024) {
                thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        slot.state.store(IDLE, SeqCst);
    }
    slot.job.store(std::ptr::null_mut(), SeqCst);
    slot.busy.store(false, SeqCst);
}

//! The helper thread of [`super::join`] (the `parallel` feature): one persistent second thread
//! that meets the caller at a spin barrier, as the parent module describes.

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

/// Runs `first` on this thread and `second` on the helper, when rayon's pool (which `--threads`
/// sets) has more than one thread and the helper is free, and returns `true` once both are
/// over: the caller takes `second` back if the helper has not started it. A panic of either is
/// resumed on this thread once both halves are over, and the helper stays ready for the next
/// job. Returns `false`, having run neither, when the halves are to run in turn instead.
pub(super) fn join(first: &(dyn Fn() + Sync), second: &(dyn Fn() + Sync)) -> bool {
    if rayon::current_num_threads() < 2 {
        return false;
    }
    let Some(slot) = slot() else {
        return false;
    };
    // During a pause, count it down and run alone.
    let pausing = slot
        .pause
        .fetch_update(SeqCst, SeqCst, |p| p.checked_sub(1))
        .is_ok();
    if pausing
        || slot
            .busy
            .compare_exchange(false, true, SeqCst, SeqCst)
            .is_err()
    {
        return false;
    }
    let job: &(dyn Fn() + Sync) = second;
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
    let first_panic = panic::catch_unwind(AssertUnwindSafe(first)).err();
    let second_panic = if slot
        .state
        .compare_exchange(POSTED, IDLE, SeqCst, SeqCst)
        .is_ok()
    {
        let second_panic = panic::catch_unwind(AssertUnwindSafe(second)).err();
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
    true
}

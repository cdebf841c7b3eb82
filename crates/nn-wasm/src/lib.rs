//! The engine compiled to WebAssembly for the page (`web/`): a plain `extern "C"` interface
//! that `web/engine.js` wraps into the agreed JavaScript API. The work is done by the
//! workspace's crates through [`engine`]: nn-train composes the runs as for `nn train`,
//! nn-core trains and evaluates (with its SIMD128 kernel when built with `+simd128`), nn-data
//! reads the IDX bytes and prepares pictures.
//!
//! Every export returns an `i32`: a handle or count (≥ 0) on success, with the result's bytes
//! (UTF-8 JSON, or little-endian `f32`s) in the output buffer ([`nn_out_ptr`],
//! [`nn_out_len`]); −1 on refusal, with the message in the output buffer. Inputs are written by
//! JavaScript into memory it takes from [`nn_alloc`] and gives back with [`nn_dealloc`].
//! Handles index tables of networks and data sets; a stale or foreign handle is refused.

pub mod engine;

use std::cell::RefCell;

use engine::{EngineError, EngineResult, WebNetwork};
use nn_data::ImageSet;

/// The objects JavaScript holds by handle (index + 1 into the slots).
struct Table<T> {
    slots: Vec<Option<T>>,
}

impl<T> Table<T> {
    const fn new() -> Self {
        Self { slots: Vec::new() }
    }

    fn insert(&mut self, value: T) -> i32 {
        let index = match self.slots.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[index] = Some(value);
        i32::try_from(index + 1).unwrap_or(i32::MAX)
    }

    fn index(handle: i32) -> EngineResult<usize> {
        usize::try_from(handle)
            .ok()
            .and_then(|h| h.checked_sub(1))
            .ok_or_else(|| EngineError::Invalid(format!("no object has handle {handle}")))
    }

    fn get(&self, handle: i32) -> EngineResult<&T> {
        let index = Self::index(handle)?;
        self.slots
            .get(index)
            .and_then(Option::as_ref)
            .ok_or_else(|| EngineError::Invalid(format!("object {handle} was freed")))
    }

    fn get_mut(&mut self, handle: i32) -> EngineResult<&mut T> {
        let index = Self::index(handle)?;
        self.slots
            .get_mut(index)
            .and_then(Option::as_mut)
            .ok_or_else(|| EngineError::Invalid(format!("object {handle} was freed")))
    }

    fn remove(&mut self, handle: i32) {
        if let Ok(index) = Self::index(handle)
            && let Some(slot) = self.slots.get_mut(index)
        {
            *slot = None;
        }
    }
}

thread_local! {
    static NETWORKS: RefCell<Table<WebNetwork>> = const { RefCell::new(Table::new()) };
    static DATA: RefCell<Table<ImageSet>> = const { RefCell::new(Table::new()) };
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The result of a call as the export returns it: the value, with `bytes` in the output
/// buffer, or −1 with the error's message there.
fn answer(result: EngineResult<(i32, Vec<u8>)>) -> i32 {
    let (value, bytes) = match result {
        Ok(done) => done,
        Err(error) => (-1, error.to_string().into_bytes()),
    };
    OUT.with(|out| *out.borrow_mut() = bytes);
    value
}

/// `f32`s as little-endian bytes for the output buffer.
fn floats(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The bytes JavaScript wrote at `ptr`.
///
/// # Safety
/// `ptr..ptr + len` must be memory JavaScript filled (from [`nn_alloc`]), or `len` 0.
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the caller's promise.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// UTF-8 text JavaScript wrote at `ptr`.
///
/// # Safety
/// As [`bytes`].
unsafe fn text<'a>(ptr: *const u8, len: usize) -> EngineResult<&'a str> {
    // SAFETY: the caller's promise.
    std::str::from_utf8(unsafe { bytes(ptr, len) })
        .map_err(|_| EngineError::Invalid("the text is not UTF-8".into()))
}

/// `f32`s JavaScript wrote at `ptr` (`count` of them, 4-byte aligned as [`nn_alloc`] gives).
///
/// # Safety
/// As [`bytes`], for `4 · count` bytes.
unsafe fn float_slice<'a>(ptr: *const u8, count: usize) -> EngineResult<&'a [f32]> {
    if count == 0 {
        return Ok(&[]);
    }
    if !(ptr as usize).is_multiple_of(align_of::<f32>()) {
        return Err(EngineError::Invalid("misaligned floats".into()));
    }
    // SAFETY: the caller's promise; alignment checked just above.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<f32>(), count) })
}

/// `len` bytes of memory for JavaScript to write an input into (8-byte aligned); null when
/// there is not that much memory.
#[unsafe(no_mangle)]
pub extern "C" fn nn_alloc(len: usize) -> *mut u8 {
    let words = len.div_ceil(8).max(1);
    let mut buffer: Vec<u64> = Vec::new();
    if buffer.try_reserve_exact(words).is_err() {
        return std::ptr::null_mut();
    }
    buffer.resize(words, 0);
    let ptr = buffer.as_mut_ptr().cast::<u8>();
    std::mem::forget(buffer);
    ptr
}

/// Gives back memory from [`nn_alloc`].
///
/// # Safety
/// `ptr` and `len` must be those of one [`nn_alloc`] call, given back once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_dealloc(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    let words = len.div_ceil(8).max(1);
    // SAFETY: the caller's promise: the vector nn_alloc made.
    drop(unsafe { Vec::from_raw_parts(ptr.cast::<u64>(), words, words) });
}

/// Where the last call's result (or error message) starts.
#[unsafe(no_mangle)]
pub extern "C" fn nn_out_ptr() -> *const u8 {
    OUT.with(|out| out.borrow().as_ptr())
}

/// The length in bytes of the last call's result (or error message).
#[unsafe(no_mangle)]
pub extern "C" fn nn_out_len() -> usize {
    OUT.with(|out| out.borrow().len())
}

/// Sends a panic's message to the output buffer, so that JavaScript can report it when the
/// module traps (a bug: every bad input is refused before it could panic).
#[unsafe(no_mangle)]
pub extern "C" fn nn_init() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("internal error in the engine: {info}");
        let _ = OUT.try_with(|out| {
            if let Ok(mut out) = out.try_borrow_mut() {
                *out = message.into_bytes();
            }
        });
    }));
}

/// A fresh network from its options' JSON; the handle, and its sizes as JSON.
///
/// # Safety
/// As [`bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_network_create(ptr: *const u8, len: usize) -> i32 {
    // SAFETY: the caller's promise.
    answer(
        unsafe { text(ptr, len) }
            .and_then(WebNetwork::create)
            .map(insert_network),
    )
}

/// A network from a model file's JSON; the handle, and its sizes as JSON.
///
/// # Safety
/// As [`bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_network_from_json(ptr: *const u8, len: usize) -> i32 {
    // SAFETY: the caller's promise.
    answer(
        unsafe { text(ptr, len) }
            .and_then(WebNetwork::from_json)
            .map(insert_network),
    )
}

/// Keeps `network`; its handle and sizes.
fn insert_network(network: WebNetwork) -> (i32, Vec<u8>) {
    let sizes = serde_json::to_vec(network.network().sizes()).unwrap_or_default();
    let handle = NETWORKS.with(|table| table.borrow_mut().insert(network));
    (handle, sizes)
}

/// The model file of a network (JSON `nn eval` reads).
#[unsafe(no_mangle)]
pub extern "C" fn nn_network_to_json(handle: i32) -> i32 {
    answer(NETWORKS.with(|table| {
        let table = table.borrow();
        Ok((0, table.get(handle)?.to_json().into_bytes()))
    }))
}

/// Frees a network.
#[unsafe(no_mangle)]
pub extern "C" fn nn_network_free(handle: i32) {
    NETWORKS.with(|table| table.borrow_mut().remove(handle));
}

/// A data set from the bytes of an images file and a labels file; the handle, and its length.
///
/// # Safety
/// As [`bytes`], for both.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_data_from_idx(
    images: *const u8,
    images_len: usize,
    labels: *const u8,
    labels_len: usize,
) -> i32 {
    // SAFETY: the caller's promise.
    let (images, labels) = unsafe { (bytes(images, images_len), bytes(labels, labels_len)) };
    answer(engine::data_from_idx(images, labels).map(insert_data))
}

/// Keeps `set`; its handle and length (as JSON).
fn insert_data(set: ImageSet) -> (i32, Vec<u8>) {
    let length = set.len().to_string().into_bytes();
    (DATA.with(|table| table.borrow_mut().insert(set)), length)
}

/// Examples `start..end` of a data set, as a new one; its handle and length.
#[unsafe(no_mangle)]
pub extern "C" fn nn_data_slice(handle: i32, start: usize, end: usize) -> i32 {
    let sliced = DATA.with(|table| {
        let table = table.borrow();
        let set = table.get(handle)?;
        if start > end || end > set.len() {
            return Err(EngineError::Invalid(format!(
                "slice {start}..{end} of a set of {} examples",
                set.len()
            )));
        }
        Ok(set.subset(start..end))
    });
    answer(sliced.map(insert_data))
}

/// Frees a data set.
#[unsafe(no_mangle)]
pub extern "C" fn nn_data_free(handle: i32) {
    DATA.with(|table| table.borrow_mut().remove(handle));
}

/// Trains one epoch of a network on a data set with the options' JSON.
///
/// # Safety
/// As [`bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_train_epoch(
    network: i32,
    data: i32,
    ptr: *const u8,
    len: usize,
) -> i32 {
    answer((|| {
        // SAFETY: the caller's promise.
        let options = unsafe { text(ptr, len) }?;
        DATA.with(|sets| {
            let sets = sets.borrow();
            let set = sets.get(data)?;
            NETWORKS.with(|table| {
                table
                    .borrow_mut()
                    .get_mut(network)?
                    .train_epoch(set, options)
            })
        })?;
        Ok((0, Vec::new()))
    })())
}

/// Accuracy and mean cost of a network on a data set, as JSON.
#[unsafe(no_mangle)]
pub extern "C" fn nn_evaluate(network: i32, data: i32) -> i32 {
    answer(DATA.with(|sets| {
        let sets = sets.borrow();
        let set = sets.get(data)?;
        let (accuracy, cost) = NETWORKS.with(|table| table.borrow().get(network)?.evaluate(set))?;
        let json = serde_json::json!({ "accuracy": accuracy, "cost": cost });
        Ok((0, json.to_string().into_bytes()))
    }))
}

/// The output activations of a network for `count` input floats.
///
/// # Safety
/// As [`float_slice`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_predict(network: i32, ptr: *const u8, count: usize) -> i32 {
    answer((|| {
        // SAFETY: the caller's promise.
        let input = unsafe { float_slice(ptr, count) }?;
        let output = NETWORKS.with(|table| table.borrow().get(network)?.predict(input))?;
        Ok((0, floats(&output)))
    })())
}

/// A canvas's RGBA picture prepared as a 28x28 digit: 784 floats.
///
/// # Safety
/// As [`bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_prepare_picture(
    ptr: *const u8,
    len: usize,
    width: u32,
    height: u32,
) -> i32 {
    // SAFETY: the caller's promise.
    let rgba = unsafe { bytes(ptr, len) };
    answer(engine::prepare_picture(rgba, width, height).map(|digit| (0, floats(&digit))))
}

/// The single-neuron widget: outputs then costs, `epochs + 1` floats each.
///
/// # Safety
/// As [`bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_neuron(ptr: *const u8, len: usize) -> i32 {
    answer((|| {
        // SAFETY: the caller's promise.
        let (outputs, costs) = engine::neuron(unsafe { text(ptr, len) }?)?;
        let mut out = floats(&outputs);
        out.extend(floats(&costs));
        Ok((0, out))
    })())
}

/// Softmax of `count` floats with multiplier `c`.
///
/// # Safety
/// As [`float_slice`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_softmax(ptr: *const u8, count: usize, c: f32) -> i32 {
    answer((|| {
        // SAFETY: the caller's promise.
        let z = unsafe { float_slice(ptr, count) }?;
        Ok((0, floats(&engine::softmax(z, c)?)))
    })())
}

/// The kernel the engine computes with (`simd128` when built with it), as text.
#[unsafe(no_mangle)]
pub extern "C" fn nn_kernel() -> i32 {
    answer(Ok((
        0,
        nn_core::kernel::Kernel::active().name().as_bytes().to_vec(),
    )))
}

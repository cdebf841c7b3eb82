//! The SIMD128 kernel: WebAssembly's 128-bit vectors, for `wasm32` built with the `simd128`
//! target feature (a browser or Node runs it; there is no run-time detection on that target,
//! so the build decides). SIMD128 has no fused multiply-add: the product and the sum are
//! rounded separately, as in the portable kernel.

use std::arch::wasm32::*;

use super::Simd;

/// Four floats in a `v128`; tails through a copy of the lanes in use.
pub(super) struct Simd128;

// SAFETY: compiled only with the `simd128` target feature, which every call then has; the
// pointer operations touch four floats, or the first `count`.
unsafe impl Simd for Simd128 {
    type V = v128;
    type Mask = usize;
    const WIDTH: usize = 4;
    // Not the machine's count (V8 on x86-64 has 16 xmm registers) but the blocking that runs
    // fastest under V8: two vectors (8 rows) a block, measured with web/bench/epoch.mjs.
    const REGISTERS: usize = 32;
    #[inline(always)]
    unsafe fn zero() -> v128 {
        f32x4_splat(0.0)
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> v128 {
        f32x4_splat(x)
    }
    #[inline(always)]
    unsafe fn mask(count: usize) -> usize {
        count
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> v128 {
        // SAFETY: the caller gives four readable floats; v128_load needs no alignment.
        unsafe { v128_load(p.cast::<v128>()) }
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, count: usize) -> v128 {
        let mut lanes = [0.0f32; 4];
        for (i, lane) in lanes.iter_mut().enumerate().take(count) {
            // SAFETY: the caller gives `count` readable floats.
            *lane = unsafe { *p.add(i) };
        }
        // SAFETY: `lanes` holds four floats.
        unsafe { v128_load(lanes.as_ptr().cast::<v128>()) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: v128) {
        // SAFETY: the caller gives four writable floats; v128_store needs no alignment.
        unsafe { v128_store(p.cast::<v128>(), v) }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, v: v128, count: usize) {
        let mut lanes = [0.0f32; 4];
        // SAFETY: `lanes` holds four floats.
        unsafe { v128_store(lanes.as_mut_ptr().cast::<v128>(), v) };
        for (i, &lane) in lanes.iter().enumerate().take(count) {
            // SAFETY: the caller gives `count` writable floats.
            unsafe { *p.add(i) = lane };
        }
    }
    #[inline(always)]
    unsafe fn mul_add(a: v128, b: v128, c: v128) -> v128 {
        f32x4_add(f32x4_mul(a, b), c)
    }
    #[inline(always)]
    unsafe fn mul(a: v128, b: v128) -> v128 {
        f32x4_mul(a, b)
    }
    #[inline(always)]
    unsafe fn add(a: v128, b: v128) -> v128 {
        f32x4_add(a, b)
    }
    #[inline(always)]
    unsafe fn sub(a: v128, b: v128) -> v128 {
        f32x4_sub(a, b)
    }
    #[inline(always)]
    unsafe fn sum(a: v128) -> f32 {
        let pairs = f32x4_add(a, i32x4_shuffle::<2, 3, 0, 1>(a, a));
        f32x4_extract_lane::<0>(pairs) + f32x4_extract_lane::<1>(pairs)
    }
}

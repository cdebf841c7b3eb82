//! The SIMD128 kernel: WebAssembly's 128-bit vectors, for `wasm32` built with the `simd128`
//! target feature (a browser or Node runs it; there is no run-time detection on that target,
//! so the build decides). SIMD128 has no fused multiply-add: the product and the sum are
//! rounded separately, as in the portable kernel.

use std::arch::wasm32::*;

use super::Simd;

/// Four floats in a `v128`; tails through loads and stores of the lanes in use (one or two
/// instructions, no copy through memory).
pub(super) struct Simd128;

// SAFETY: compiled only with the `simd128` target feature, which every call then has; the
// pointer operations touch four floats, or the first `count`.
unsafe impl Simd for Simd128 {
    type V = v128;
    type Mask = usize;
    const WIDTH: usize = 4;
    // Not the machine's count but what V8's code keeps in registers: on x86-64 it allocates 15
    // of the 16 xmm registers, and a block whose sums, weights and input need more than about
    // twelve of them spills sums to the stack inside the inner loop. 12 gives one vector (4 rows)
    // by 10 columns for the book's mini-batch of 10 and two vectors by 4 columns for wide
    // mini-batches. In Chromium 148, two vectors by 5 or 6 columns ran 2 and 4 times as slow
    // as these, and 32 (two vectors by 10 columns) 1.8 times as slow.
    const REGISTERS: usize = 12;
    #[inline(always)]
    unsafe fn zero() -> v128 {
        f32x4_splat(0.0)
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> v128 {
        f32x4_splat(x)
    }
    #[inline(always)]
    unsafe fn load_splat(p: *const f32) -> v128 {
        // SAFETY: the caller gives one readable float.
        unsafe { v128_load32_splat(p.cast::<u32>()) }
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
        // SAFETY: the caller gives `count` (1 to 3) readable floats; each load reads only
        // those and zeroes the other lanes.
        unsafe {
            match count {
                1 => v128_load32_zero(p.cast::<u32>()),
                2 => v128_load64_zero(p.cast::<u64>()),
                _ => {
                    let pair = v128_load64_zero(p.cast::<u64>());
                    v128_load32_lane::<2>(pair, p.add(2).cast::<u32>())
                }
            }
        }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: v128) {
        // SAFETY: the caller gives four writable floats; v128_store needs no alignment.
        unsafe { v128_store(p.cast::<v128>(), v) }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, v: v128, count: usize) {
        // SAFETY: the caller gives `count` (1 to 3) writable floats; each store writes only
        // those.
        unsafe {
            match count {
                1 => v128_store32_lane::<0>(v, p.cast::<u32>()),
                2 => v128_store64_lane::<0>(v, p.cast::<u64>()),
                _ => {
                    v128_store64_lane::<0>(v, p.cast::<u64>());
                    v128_store32_lane::<2>(v, p.add(2).cast::<u32>());
                }
            }
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

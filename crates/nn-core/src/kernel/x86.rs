//! The AVX-512 and AVX2 kernels: their vectors, and the kernels compiled with their target
//! features.

use std::arch::x86_64::*;

use std::ops::Range;

use super::blocks::{multiply_any, outer_any, transposed_any};
use super::{Columns, Simd, Update};

/// Sixteen floats in a zmm register; tails through AVX-512 masks.
pub(super) struct Avx512;

// SAFETY: used only where the processor has AVX-512 (`Kernel::Avx512`).
unsafe impl Simd for Avx512 {
    type V = __m512;
    type Mask = __mmask16;
    const WIDTH: usize = 16;
    const REGISTERS: usize = 32;
    #[inline(always)]
    unsafe fn zero() -> __m512 {
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m512 {
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn mask(count: usize) -> __mmask16 {
        ((1u32 << count) - 1) as __mmask16
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, mask: __mmask16) -> __m512 {
        unsafe { _mm512_maskz_loadu_ps(mask, p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, v: __m512, mask: __mmask16) {
        unsafe { _mm512_mask_storeu_ps(p, mask, v) }
    }
    #[inline(always)]
    unsafe fn mul_add(a: __m512, b: __m512, c: __m512) -> __m512 {
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sum(a: __m512) -> f32 {
        unsafe { _mm512_reduce_add_ps(a) }
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sub(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_sub_ps(a, b) }
    }
}

/// Eight floats in a ymm register; tails through `vmaskmovps`.
pub(super) struct Avx2;

// SAFETY: used only where the processor has AVX2 and FMA (`Kernel::Avx2`).
unsafe impl Simd for Avx2 {
    type V = __m256;
    type Mask = __m256i;
    const WIDTH: usize = 8;
    const REGISTERS: usize = 16;
    #[inline(always)]
    unsafe fn zero() -> __m256 {
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn mask(count: usize) -> __m256i {
        unsafe {
            _mm256_cmpgt_epi32(
                _mm256_set1_epi32(count as i32),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            )
        }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, mask: __m256i) -> __m256 {
        unsafe { _mm256_maskload_ps(p, mask) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, v: __m256, mask: __m256i) {
        unsafe { _mm256_maskstore_ps(p, mask, v) }
    }
    #[inline(always)]
    unsafe fn mul_add(a: __m256, b: __m256, c: __m256) -> __m256 {
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sum(a: __m256) -> f32 {
        unsafe {
            let half = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
            let quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
            _mm_cvtss_f32(_mm_add_ss(quarter, _mm_shuffle_ps(quarter, quarter, 1)))
        }
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sub(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_sub_ps(a, b) }
    }
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn multiply_avx512(
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    b: Columns,
    c: *mut f32,
    accumulate: bool,
) {
    unsafe { multiply_any::<Avx512>(m, k, n, a, b, c, accumulate) }
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn multiply_avx2(
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    b: Columns,
    c: *mut f32,
    accumulate: bool,
) {
    unsafe { multiply_any::<Avx2>(m, k, n, a, b, c, accumulate) }
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn outer_avx512<U: Update>(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: U,
) {
    unsafe { outer_any::<Avx512, U>(m, k, n, alpha, d, b, g, rule) }
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn outer_avx2<U: Update>(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: U,
) {
    unsafe { outer_any::<Avx2, U>(m, k, n, alpha, d, b, g, rule) }
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn transposed_avx512(
    m: usize,
    k: usize,
    n: usize,
    columns: Range<usize>,
    a: *const f32,
    d: *const f32,
    e: *mut f32,
) {
    unsafe { transposed_any::<Avx512>(m, k, n, columns, a, d, e) }
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn transposed_avx2(
    m: usize,
    k: usize,
    n: usize,
    columns: Range<usize>,
    a: *const f32,
    d: *const f32,
    e: *mut f32,
) {
    unsafe { transposed_any::<Avx2>(m, k, n, columns, a, d, e) }
}

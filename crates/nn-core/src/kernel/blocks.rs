//! The kernels, written once over the vector primitives of [`Simd`] and compiled for each
//! instruction set: register blocks of rows for the forward product and the weight gradient,
//! chunks and tiles for wide mini-batches, dot-product tiles for the transposed product.
//!
//! On x86-64 every kernel is inlined into the entry point that enables its instruction set
//! (`x86.rs`), since a function without the target feature would call each intrinsic. On
//! `wasm32`, where SIMD128 is enabled for the whole build, the kernel of each column count
//! ([`multiply_rows`], [`outer_rows_in_mode`], [`outer_wide_columns`], [`column_tiles`]) is a
//! function of its own instead. V8 compiles and optimizes a WebAssembly module function by
//! function: with all sixteen column counts, both row blocks and both kernels inlined, the
//! forward product was one function of about 100,000 WebAssembly instructions. Its optimizing
//! tier took so long to compile that the page's first epoch on 50,000 images ran mostly in the
//! baseline compiler (0.91-0.96 s in Chromium 148 against 0.29-0.32 s for the next ones; see
//! docs/performance.md), and Node 20's V8 gave it the simpler register allocator it keeps for
//! huge functions, which spilled the sums of the inner loops. Apart, V8 optimizes only the
//! kernels a network uses, each small.

use std::ops::Range;

use super::{Columns, MAX_COLUMNS, Simd, Slot, Update};

/// Dispatches on the number of columns, which is a compile-time constant of the kernels so that
/// their sums live in registers.
macro_rules! by_columns {
    ($n:expr, $f:ident, $S:ty, ($($arg:expr),*)) => {
        by_columns!($n, $f, $S, [], ($($arg),*))
    };
    ($n:expr, $f:ident, $S:ty, [$($g:ident),*], ($($arg:expr),*)) => {
        match $n {
            1 => $f::<$S, 1 $(, $g)*>($($arg),*),
            2 => $f::<$S, 2 $(, $g)*>($($arg),*),
            3 => $f::<$S, 3 $(, $g)*>($($arg),*),
            4 => $f::<$S, 4 $(, $g)*>($($arg),*),
            5 => $f::<$S, 5 $(, $g)*>($($arg),*),
            6 => $f::<$S, 6 $(, $g)*>($($arg),*),
            7 => $f::<$S, 7 $(, $g)*>($($arg),*),
            8 => $f::<$S, 8 $(, $g)*>($($arg),*),
            9 => $f::<$S, 9 $(, $g)*>($($arg),*),
            10 => $f::<$S, 10 $(, $g)*>($($arg),*),
            11 => $f::<$S, 11 $(, $g)*>($($arg),*),
            12 => $f::<$S, 12 $(, $g)*>($($arg),*),
            13 => $f::<$S, 13 $(, $g)*>($($arg),*),
            14 => $f::<$S, 14 $(, $g)*>($($arg),*),
            15 => $f::<$S, 15 $(, $g)*>($($arg),*),
            16 => $f::<$S, 16 $(, $g)*>($($arg),*),
            _ => panic!("the small-batch kernels take 1 to {MAX_COLUMNS} columns"),
        }
    };
}

/// Loads vector `v` of a block of `V` vectors, masked when it is the tail vector.
#[inline(always)]
unsafe fn load<S: Simd, const V: usize, const TAIL: bool>(
    p: *const f32,
    v: usize,
    mask: S::Mask,
) -> S::V {
    unsafe {
        if TAIL && v == V - 1 {
            S::load_masked(p, mask)
        } else {
            S::load(p)
        }
    }
}

/// Stores vector `v` of a block of `V` vectors, masked when it is the tail vector.
#[inline(always)]
unsafe fn store<S: Simd, const V: usize, const TAIL: bool>(
    p: *mut f32,
    value: S::V,
    v: usize,
    mask: S::Mask,
) {
    unsafe {
        if TAIL && v == V - 1 {
            S::store_masked(p, value, mask)
        } else {
            S::store(p, value)
        }
    }
}

/// A kernel's work on the block of `V` vectors of rows from `r`, the last vector masked by
/// `mask` when `TAIL`.
trait RowBlocks<S: Simd> {
    unsafe fn block<const V: usize, const TAIL: bool>(&self, r: usize, mask: S::Mask);
}

/// Runs `kernel` over `rows` in blocks of two vectors when `two` (their sums fit the
/// registers), the last of them masked when fewer rows are left, else of one.
#[inline(always)]
unsafe fn row_blocks<S: Simd, K: RowBlocks<S>>(rows: Range<usize>, two: bool, kernel: &K) {
    unsafe {
        let width = S::WIDTH;
        let (mut r, end) = (rows.start, rows.end);
        if two {
            while r + 2 * width <= end {
                kernel.block::<2, false>(r, S::mask(0));
                r += 2 * width;
            }
            if r + width < end {
                kernel.block::<2, true>(r, S::mask(end - r - width));
                return;
            }
        }
        while r + width <= end {
            kernel.block::<1, false>(r, S::mask(0));
            r += width;
        }
        if r < end {
            kernel.block::<1, true>(r, S::mask(end - r));
        }
    }
}

/// The arguments of [`multiply_block`].
struct MultiplyBlocks<const N: usize> {
    m: usize,
    k: usize,
    a: *const f32,
    b: Columns,
    c: *mut f32,
    accumulate: bool,
}

impl<S: Simd, const N: usize> RowBlocks<S> for MultiplyBlocks<N> {
    #[inline(always)]
    unsafe fn block<const V: usize, const TAIL: bool>(&self, r: usize, mask: S::Mask) {
        let Self {
            m,
            k,
            a,
            b,
            c,
            accumulate,
        } = *self;
        unsafe { multiply_block::<S, N, V, TAIL>(m, r, k, a, b, c, accumulate, mask) }
    }
}

/// The arguments of [`outer_block`].
struct OuterBlocks<const N: usize, U: Update> {
    m: usize,
    k: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: U,
}

impl<S: Simd, const N: usize, U: Update> RowBlocks<S> for OuterBlocks<N, U> {
    #[inline(always)]
    unsafe fn block<const V: usize, const TAIL: bool>(&self, r: usize, mask: S::Mask) {
        let Self {
            m,
            k,
            alpha,
            d,
            b,
            g,
            rule,
        } = *self;
        unsafe { outer_block::<S, N, V, TAIL, U>(m, r, k, alpha, d, b, g, rule, mask) }
    }
}

/// The arguments of [`outer_tile`].
struct OuterTiles<const J: usize, U: Update> {
    m: usize,
    j: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: U,
}

impl<S: Simd, const J: usize, U: Update> RowBlocks<S> for OuterTiles<J, U> {
    #[inline(always)]
    unsafe fn block<const V: usize, const TAIL: bool>(&self, r: usize, mask: S::Mask) {
        let Self {
            m,
            j,
            n,
            alpha,
            d,
            b,
            g,
            rule,
        } = *self;
        unsafe { outer_tile::<S, J, V, TAIL, U>(m, r, j, n, alpha, d, b, g, rule, mask) }
    }
}

/// `multiply` for the `V · WIDTH` rows from `r` (fewer when `TAIL`: the last vector masked).
// The sums are indexed by column and vector: arrays the compiler keeps in registers.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[inline(always)]
unsafe fn multiply_block<S: Simd, const N: usize, const V: usize, const TAIL: bool>(
    m: usize,
    r: usize,
    k: usize,
    a: *const f32,
    b: Columns,
    c: *mut f32,
    accumulate: bool,
    mask: S::Mask,
) {
    unsafe {
        let columns: [*const f32; N] = std::array::from_fn(|col| b.start.add(col * b.stride));
        let mut sums = [[S::zero(); N]; V];
        if accumulate {
            for (col, column) in (0..N).zip(0..) {
                for (v, sums_v) in sums.iter_mut().enumerate() {
                    let p = c.add(column * m + r + v * S::WIDTH);
                    sums_v[col] = load::<S, V, TAIL>(p, v, mask);
                }
            }
        }
        for j in 0..k {
            let column = a.add(j * m + r);
            let mut weights = [S::zero(); V];
            for (v, w) in weights.iter_mut().enumerate() {
                *w = load::<S, V, TAIL>(column.add(v * S::WIDTH), v, mask);
            }
            for col in 0..N {
                let x = S::load_splat(columns[col].add(j));
                for v in 0..V {
                    sums[v][col] = S::mul_add(weights[v], x, sums[v][col]);
                }
            }
        }
        for col in 0..N {
            for (v, sums_v) in sums.iter().enumerate() {
                let p = c.add(col * m + r + v * S::WIDTH);
                store::<S, V, TAIL>(p, sums_v[col], v, mask);
            }
        }
    }
}

/// `outer` for the `V · WIDTH` rows from `r` (fewer when `TAIL`); with `STEP`, an SGD step
/// `g ← keep·g + minus_eta·sum` with `(minus_eta, keep)` = `step` instead of `g ← sum`.
// The sums are indexed by column and vector: arrays the compiler keeps in registers.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[inline(always)]
unsafe fn outer_block<S: Simd, const N: usize, const V: usize, const TAIL: bool, U: Update>(
    m: usize,
    r: usize,
    k: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: U,
    mask: S::Mask,
) {
    unsafe {
        let scale = S::splat(alpha);
        let columns: [*const f32; N] = std::array::from_fn(|col| b.start.add(col * b.stride));
        let mut errors = [[S::zero(); N]; V];
        for col in 0..N {
            for (v, errors_v) in errors.iter_mut().enumerate() {
                let p = d.add(col * m + r + v * S::WIDTH);
                errors_v[col] = S::mul(load::<S, V, TAIL>(p, v, mask), scale);
            }
        }
        for j in 0..k {
            let mut sums = [S::zero(); V];
            for col in 0..N {
                let x = S::load_splat(columns[col].add(j));
                for v in 0..V {
                    sums[v] = S::mul_add(errors[v][col], x, sums[v]);
                }
            }
            for (v, &sum) in sums.iter().enumerate() {
                update::<S, V, TAIL, U>(g, j * m + r + v * S::WIDTH, sum, v, mask, rule);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[cfg_attr(target_arch = "wasm32", inline(never))]
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
unsafe fn multiply_rows<S: Simd, const N: usize>(
    m: usize,
    rows: Range<usize>,
    k: usize,
    a: *const f32,
    b: Columns,
    c: *mut f32,
    accumulate: bool,
) {
    let blocks = MultiplyBlocks::<N> {
        m,
        k,
        a,
        b,
        c,
        accumulate,
    };
    unsafe { row_blocks::<S, _>(rows, 2 * N + 3 <= S::REGISTERS, &blocks) }
}

/// Columns of a wide mini-batch (more than [`MAX_COLUMNS`]) that [`multiply_any`] keeps in
/// registers at a time: 2 × 14 sums, two weight vectors and an input fit 32 registers
/// (AVX-512), 2 × 6 sums, two weight vectors and an input fit 16 (AVX2), 2 × 4 the 12 that
/// SIMD128 counts (see `wasm.rs`): two vectors of rows, so that each input read from memory
/// feeds two multiply-adds.
const fn chunk_columns(registers: usize) -> usize {
    (registers - 3) / 2
}

/// Weight columns [`multiply_any`] takes at a time for a wide mini-batch: the panel's 16-32
/// rows of 128 columns (8-16 KiB, two cache lines a column when unaligned) stay in the core's
/// first-level cache while every chunk of columns of the mini-batch meets them.
const DEPTH: usize = 128;

/// [`multiply`] on one thread. A wide mini-batch is taken in chunks of at most [`chunk_columns`]
/// columns, all chunks for one panel of 2 vectors of rows and [`DEPTH`] weight columns before
/// the next, so that the panel's weights are read from the core's first-level cache rather
/// than from further out for every chunk. The sums leave the registers between two depths as
/// the f32 they are and come back unchanged: each element is the same sequence of
/// multiply-adds, in the same order, as without the blocking.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) unsafe fn multiply_any<S: Simd>(
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    b: Columns,
    c: *mut f32,
    accumulate: bool,
) {
    unsafe {
        if n <= MAX_COLUMNS {
            by_columns!(n, multiply_rows, S, (m, 0..m, k, a, b, c, accumulate));
            return;
        }
        let chunks = n.div_ceil(chunk_columns(S::REGISTERS));
        let panel = 2 * S::WIDTH;
        for r in (0..m).step_by(panel) {
            let rows = r..(r + panel).min(m);
            for from in (0..k).step_by(DEPTH) {
                let depth = DEPTH.min(k - from);
                let (a, accumulate) = (a.add(from * m), accumulate || from > 0);
                for i in 0..chunks {
                    let (first, end) = (i * n / chunks, (i + 1) * n / chunks);
                    let b = Columns {
                        start: b.start.add(first * b.stride + from),
                        ..b
                    };
                    by_columns!(
                        end - first,
                        multiply_rows,
                        S,
                        (m, rows.clone(), depth, a, b, c.add(first * m), accumulate)
                    );
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[cfg_attr(target_arch = "wasm32", inline(never))]
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
unsafe fn outer_rows_in_mode<S: Simd, const N: usize, U: Update>(
    m: usize,
    k: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: U,
) {
    let blocks = OuterBlocks::<N, U> {
        m,
        k,
        alpha,
        d,
        b,
        g,
        rule,
    };
    unsafe { row_blocks::<S, _>(0..m, 2 * N + 5 <= S::REGISTERS, &blocks) }
}

/// [`outer`] on one thread: the kernels of [`outer_rows_in_mode`] for at most
/// [`MAX_COLUMNS`] columns of D, [`outer_wide`] for more.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) unsafe fn outer_any<S: Simd, U: Update>(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: U,
) {
    unsafe {
        if n > MAX_COLUMNS {
            outer_wide::<S, U>(m, k, n, alpha, d, b, g, rule)
        } else {
            by_columns!(n, outer_rows_in_mode, S, [U], (m, k, alpha, d, b, g, rule))
        }
    }
}

/// Columns of G a tile of [`outer_wide`] keeps in registers.
const TILE: usize = 12;

/// `outer` for a wide mini-batch (more than [`MAX_COLUMNS`] columns of D): G is computed in
/// tiles of up to 32 rows × [`TILE`] columns whose sums over all `n` examples stay in registers,
/// so each element of G is read and written once, then 4 and 1 columns at a time for the last.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn outer_wide<S: Simd, U: Update>(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: U,
) {
    unsafe {
        let mut j = 0;
        while j + TILE <= k {
            outer_wide_columns::<S, TILE, U>(m, j, n, alpha, d, b, g, rule);
            j += TILE;
        }
        while j + 4 <= k {
            outer_wide_columns::<S, 4, U>(m, j, n, alpha, d, b, g, rule);
            j += 4;
        }
        while j < k {
            outer_wide_columns::<S, 1, U>(m, j, n, alpha, d, b, g, rule);
            j += 1;
        }
    }
}

/// [`outer_wide`] for columns `j..j + J` of G, all rows.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(target_arch = "wasm32", inline(never))]
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
unsafe fn outer_wide_columns<S: Simd, const J: usize, U: Update>(
    m: usize,
    j: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: U,
) {
    let tiles = OuterTiles::<J, U> {
        m,
        j,
        n,
        alpha,
        d,
        b,
        g,
        rule,
    };
    unsafe { row_blocks::<S, _>(0..m, 2 * J + 3 <= S::REGISTERS, &tiles) }
}

/// One tile of [`outer_wide`]: rows `r..` (`V` vectors, the last masked when `TAIL`) of columns
/// `j..j + J` of G, `Σ_c D[·, c] B[j.., c]` over all `n` examples in registers, then
/// `g ← α·sum` or, with `STEP`, `g ← keep·g + minus_eta·α·sum`.
// The sums are indexed by vector and column: arrays the compiler keeps in registers.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[inline(always)]
unsafe fn outer_tile<S: Simd, const J: usize, const V: usize, const TAIL: bool, U: Update>(
    m: usize,
    r: usize,
    j: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: U,
    mask: S::Mask,
) {
    unsafe {
        let mut sums = [[S::zero(); J]; V];
        for c in 0..n {
            let errors = d.add(c * m + r);
            let mut error = [S::zero(); V];
            for (v, e) in error.iter_mut().enumerate() {
                *e = load::<S, V, TAIL>(errors.add(v * S::WIDTH), v, mask);
            }
            let inputs = b.start.add(c * b.stride + j);
            for col in 0..J {
                let x = S::load_splat(inputs.add(col));
                for v in 0..V {
                    sums[v][col] = S::mul_add(error[v], x, sums[v][col]);
                }
            }
        }
        let scale = S::splat(alpha);
        for col in 0..J {
            for (v, sums_v) in sums.iter().enumerate() {
                let offset = (j + col) * m + r + v * S::WIDTH;
                let gradient = S::mul(sums_v[col], scale);
                update::<S, V, TAIL, U>(g, offset, gradient, v, mask, rule);
            }
        }
    }
}

/// [`transposed`] on one thread, for the columns `columns` of A (rows of E).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) unsafe fn transposed_any<S: Simd>(
    m: usize,
    k: usize,
    n: usize,
    columns: Range<usize>,
    a: *const f32,
    d: *const f32,
    e: *mut f32,
) {
    unsafe {
        if S::REGISTERS >= 32 {
            transposed_tiles::<S, 4, 4>(m, k, n, columns, a, d, e)
        } else {
            transposed_tiles::<S, 2, 4>(m, k, n, columns, a, d, e)
        }
    }
}

/// [`transposed_any`] in tiles of `J` columns of A × `C` columns of D, then narrower ones for
/// the remainders; the columns of A outside, so that a tile's columns of A stay in the first
/// level of cache while D is read from the second.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn transposed_tiles<S: Simd, const J: usize, const C: usize>(
    m: usize,
    k: usize,
    n: usize,
    columns: Range<usize>,
    a: *const f32,
    d: *const f32,
    e: *mut f32,
) {
    unsafe {
        let mut j = columns.start;
        while j + J <= columns.end {
            column_tiles::<S, J, C>(m, k, n, j, a, d, e);
            j += J;
        }
        for j in j..columns.end {
            column_tiles::<S, 1, C>(m, k, n, j, a, d, e);
        }
    }
}

/// Columns `j..j + J` of A against every column of D: tiles of `C` columns of D, then one at a
/// time for the remainder.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(target_arch = "wasm32", inline(never))]
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
unsafe fn column_tiles<S: Simd, const J: usize, const C: usize>(
    m: usize,
    k: usize,
    n: usize,
    j: usize,
    a: *const f32,
    d: *const f32,
    e: *mut f32,
) {
    unsafe {
        let mut c = 0;
        while c + C <= n {
            dot_tile::<S, J, C>(m, k, j, c, a, d, e);
            c += C;
        }
        for c in c..n {
            dot_tile::<S, J, 1>(m, k, j, c, a, d, e);
        }
    }
}

/// `E[j + jj, c + cc] = Σ_i A[i, j + jj] D[i, c + cc]` for `jj < J`, `cc < C`: the sums of
/// each lane over the rows in registers, then the lanes added.
// The sums are indexed by column of A and of D: arrays the compiler keeps in registers.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[inline(always)]
unsafe fn dot_tile<S: Simd, const J: usize, const C: usize>(
    m: usize,
    k: usize,
    j: usize,
    c: usize,
    a: *const f32,
    d: *const f32,
    e: *mut f32,
) {
    unsafe {
        let mut sums = [[S::zero(); C]; J];
        let columns_a: [*const f32; J] = std::array::from_fn(|jj| a.add((j + jj) * m));
        let columns_d: [*const f32; C] = std::array::from_fn(|cc| d.add((c + cc) * m));
        let width = S::WIDTH;
        let mut i = 0;
        while i + width <= m {
            let mut weights = [S::zero(); J];
            for jj in 0..J {
                weights[jj] = S::load(columns_a[jj].add(i));
            }
            for cc in 0..C {
                let error = S::load(columns_d[cc].add(i));
                for jj in 0..J {
                    sums[jj][cc] = S::mul_add(weights[jj], error, sums[jj][cc]);
                }
            }
            i += width;
        }
        if i < m {
            let mask = S::mask(m - i);
            let mut weights = [S::zero(); J];
            for jj in 0..J {
                weights[jj] = S::load_masked(columns_a[jj].add(i), mask);
            }
            for cc in 0..C {
                let error = S::load_masked(columns_d[cc].add(i), mask);
                for jj in 0..J {
                    sums[jj][cc] = S::mul_add(weights[jj], error, sums[jj][cc]);
                }
            }
        }
        for jj in 0..J {
            for cc in 0..C {
                *e.add((c + cc) * k + j + jj) = S::sum(sums[jj][cc]);
            }
        }
    }
}

/// Applies `rule` to vector `v` of a block at `offset` in G, where `gradient` is α D Bᵀ, and
/// stores the result (the last vector of a `TAIL` block masked).
#[inline(always)]
unsafe fn update<S: Simd, const V: usize, const TAIL: bool, U: Update>(
    g: *mut f32,
    offset: usize,
    gradient: S::V,
    v: usize,
    mask: S::Mask,
    rule: U,
) {
    let slot = Slot::<S> {
        offset,
        mask: (TAIL && v == V - 1).then_some(mask),
    };
    // SAFETY: the caller keeps the block inside G and the rule's state.
    unsafe {
        let value = rule.apply::<S>(g, &slot, gradient);
        slot.store(g, value);
    }
}

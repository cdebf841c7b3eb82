//! The matrix products of the forward and backward passes ([`multiply`], [`outer`],
//! [`transposed`]), in three instruction sets chosen at run time: AVX-512, AVX2 with FMA, and
//! portable Rust.
//!
//! With ten examples per mini-batch a layer's products are thin: `z = w a` multiplies a
//! `rows × cols` weight matrix by `cols × 10` inputs, and the weight gradient `δ aᵀ` (BP4) is a
//! sum of ten outer products. A general matrix library packs and blocks for square products and
//! reaches a fraction of the core's speed on these. Here a block of 16 or 32 rows (one or two
//! vector registers per column, AVX-512) keeps all its columns' sums in registers while the
//! weights are read once, column after column: the weight matrix is streamed once per
//! mini-batch and every number of it is used for all the examples at once. Wider mini-batches
//! (up to [`MAX_COLUMNS`] examples at a time in registers) are taken in chunks or tiles of the
//! same kind, and the weight gradient can take the optimizer's step as it is computed
//! ([`Outer`]).
//!
//! The inputs are read where they are, one column per example: the `n` numbers a weight column
//! meets are input `j` of each example, `n` streams read in step, each broadcast from memory
//! into a vector as the operand of its multiply-adds. No copy of the inputs is made.
//!
//! Every element of a result is the same sequence of operations whichever block of rows it
//! falls in and whichever thread computes it: products large enough to share between two cores
//! are cut at a column of the weights that depends on the shape only (see [`multiply`]), so
//! results are bit-identical on one and two threads. The kernels differ from each other only by
//! rounding: AVX-512 and AVX2 fuse each multiply-add, the portable path rounds the product and
//! the sum separately.
//!
//! `NN_KERNEL=avx512|avx2|portable` forces a kernel ([`Kernel::active`]); by default the best
//! one the processor supports is used.

use std::ops::Range;
use std::sync::OnceLock;

use crate::pair::ColumnWork;

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

/// The most columns (examples of a mini-batch) the kernels keep in registers at once; wider
/// mini-batches are taken in chunks (forward) or in tiles summed over every example (weight
/// gradient).
pub const MAX_COLUMNS: usize = 16;

/// An implementation of the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// 512-bit vectors and masks (x86-64 with AVX-512F).
    Avx512,
    /// 256-bit vectors with fused multiply-add (x86-64 with AVX2 and FMA).
    Avx2,
    /// Plain Rust, for any processor; multiply and add rounded separately.
    Portable,
}

impl Kernel {
    /// Every kernel, best first.
    pub const ALL: [Kernel; 3] = [Kernel::Avx512, Kernel::Avx2, Kernel::Portable];

    /// The name `NN_KERNEL` takes.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Avx512 => "avx512",
            Kernel::Avx2 => "avx2",
            Kernel::Portable => "portable",
        }
    }

    /// True when this processor can run the kernel.
    pub fn is_supported(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx512 | Kernel::Avx2 => false,
            Kernel::Portable => true,
        }
    }

    /// The best kernel this processor supports.
    pub fn best() -> Kernel {
        Kernel::ALL
            .into_iter()
            .find(|k| k.is_supported())
            .unwrap_or(Kernel::Portable)
    }

    /// The kernel training uses: the one `NN_KERNEL` names, else the best supported. A name
    /// that is not a kernel, or a kernel this processor lacks, is reported once on standard
    /// error and the best supported kernel is used instead.
    pub fn active() -> Kernel {
        static ACTIVE: OnceLock<Kernel> = OnceLock::new();
        *ACTIVE.get_or_init(|| {
            let Ok(value) = std::env::var("NN_KERNEL") else {
                return Kernel::best();
            };
            match Kernel::from_name(&value) {
                Ok(kernel) => kernel,
                Err(why) => {
                    eprintln!(
                        "warning: NN_KERNEL={value}: {why}; using {}",
                        Kernel::best().name()
                    );
                    Kernel::best()
                }
            }
        })
    }

    /// The kernel called `name`, if this processor supports it.
    pub fn from_name(name: &str) -> Result<Kernel, String> {
        let kernel = Kernel::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| "not a kernel (use avx512, avx2 or portable)".to_string())?;
        if kernel.is_supported() {
            Ok(kernel)
        } else {
            Err(format!("this processor cannot run the {name} kernel"))
        }
    }
}

/// Columns `0..N` of a column-major matrix from a given row: column `c` starts at
/// `start + c · stride`.
#[derive(Clone, Copy)]
struct Columns {
    /// The first element of column 0.
    start: *const f32,
    /// Elements from one column to the next (the matrix's height).
    stride: usize,
}

/// `C ← A B`, or `C ← C + A B` when `accumulate`: `A` is `m × k`, `B` is `k × n` and `C` is
/// `m × n`, all column-major. The forward pass's
/// `z = w a + b` (eq. 25 of chapter 2) with C holding the biases.
///
/// Products of at least [`PARALLEL_WORK`] multiply-adds are cut at column `s` =
/// [`split_point`] of `A` and computed on two cores: `C ← (C + A₀ B₀) + A₁ B₁`, where `A₀ B₀`
/// sums over `j < s` and `A₁ B₁`, written into `partial` (at least `m × n` long), over
/// `j ≥ s`; then each core adds the partial sums to its own half of the columns of C. Each
/// core reads its own contiguous half of `A`, the half whose weights it also updates in
/// [`outer`], so the weights stay in that core's cache. The cut depends on the shape
/// only, so one thread computes the same sums in the same order.
///
/// A mini-batch of more than [`MAX_COLUMNS`] examples is taken in chunks of at most 14
/// columns of B and C, all chunks for one panel of 32 rows of A (16 with AVX2) before the next,
/// so that the panel's weights stay in the core's cache.
///
/// # Panics
/// When `n` is 0, a slice is too short, or `kernel` is not supported.
#[allow(clippy::too_many_arguments)]
pub fn multiply(
    kernel: Kernel,
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    accumulate: bool,
    partial: &mut [f32],
) {
    let s = split_point(k, m * k * n);
    check(
        kernel,
        n,
        [
            (a.len(), m * k),
            (b.len(), k * n),
            (c.len(), m * n),
            (partial.len(), if s == 0 { 0 } else { m * n }),
        ],
    );
    let (a, b_start) = (Ptr(a.as_ptr().cast_mut()), Ptr(b.as_ptr().cast_mut()));
    let run = |columns: Range<usize>, c: Ptr, accumulate: bool| {
        let (j, width) = (columns.start, columns.len());
        // SAFETY: `check` proved every index the kernels reach (row < m, column j of A and row
        // j of B inside `columns` ⊆ 0..k, column < n) inside the slices and the kernel
        // supported. The two halves write different outputs (C and `partial`) and only read A
        // and B.
        unsafe {
            let a = a.get().add(j * m).cast_const();
            let (b, c, k) = (b_start.columns(j, k), c.get(), width);
            match kernel {
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx512 => x86::multiply_avx512(m, k, n, a, b, c, accumulate),
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx2 => x86::multiply_avx2(m, k, n, a, b, c, accumulate),
                _ => multiply_any::<Portable>(m, k, n, a, b, c, accumulate),
            }
        }
    };
    if s == 0 {
        run(0..k, Ptr(c.as_mut_ptr()), accumulate);
        return;
    }
    let (whole, half) = (Ptr(c.as_mut_ptr()), Ptr(partial.as_mut_ptr()));
    crate::pair::join(
        true,
        || run(0..s, whole, accumulate),
        || run(s..k, half, false),
    );
    let sums = PartialSums {
        c: &mut c[..m * n],
        partial: &partial[..m * n],
        rows: m,
    };
    crate::pair::by_column_halves(sums, m, n);
}

/// The second core's partial sums of [`multiply`] added to the first's: `C ← C + partial`.
struct PartialSums<'a> {
    c: &'a mut [f32],
    partial: &'a [f32],
    rows: usize,
}

impl ColumnWork for PartialSums<'_> {
    fn split_at(self, column: usize) -> (Self, Self) {
        let (c0, c1) = self.c.split_at_mut(column * self.rows);
        let (p0, p1) = self.partial.split_at(column * self.rows);
        let rows = self.rows;
        let half = |c, partial| PartialSums { c, partial, rows };
        (half(c0, p0), half(c1, p1))
    }

    fn run(self) {
        for (c, p) in self.c.iter_mut().zip(self.partial) {
            *c += p;
        }
    }
}

/// What [`outer`] does with the product `α D Bᵀ`.
#[derive(Debug, PartialEq)]
pub enum Outer<'v> {
    /// Writes it into the output: `G ← α D Bᵀ`.
    Store,
    /// Takes a plain SGD step with weight decay on the output, which holds the weights:
    /// `w ← (1 − η·decay) w − η α D Bᵀ`, eq. 93 with decay = λ/n, in the pass that computes the
    /// gradient (the gradient itself is not kept).
    Step {
        /// The learning rate η.
        eta: f32,
        /// The decay rate (λ/n for L2, 0 without it).
        decay: f32,
    },
    /// Takes a momentum step on the output, which holds the weights, with the gradient
    /// g = α D Bᵀ + decay·w: `v ← μ v − η g`, then `w ← w + v` (eqs. 107 and 108), or
    /// Nesterov's `w ← w − μ v_old + (1 + μ) v`; each element is the same sequence of roundings
    /// as [`crate::Momentum`]'s separate step after an L2 term, so the results are identical.
    Momentum {
        /// The learning rate η.
        eta: f32,
        /// The decay rate (λ/n for L2, 0 without it).
        decay: f32,
        /// The momentum coefficient μ.
        mu: f32,
        /// Nesterov's variant.
        nesterov: bool,
        /// The velocities of the weights, laid out like them (`m × k`).
        velocity: &'v mut [f32],
    },
}

/// [`Outer`] inside the kernels, with the velocity as a pointer each core offsets to its
/// columns.
#[derive(Clone, Copy)]
enum Rule {
    Store,
    Step {
        minus_eta: f32,
        keep: f32,
    },
    Momentum {
        eta: f32,
        decay: f32,
        mu: f32,
        nesterov: bool,
        velocity: *mut f32,
    },
}

/// The kernels' [`Rule`]s as compile-time constants.
const STORE: u8 = 0;
const STEP: u8 = 1;
const MOMENTUM: u8 = 2;

impl Rule {
    /// The rule for the columns from `j` of an `m`-row output.
    ///
    /// # Safety
    /// Column `j` must be inside the velocity matrix.
    unsafe fn at_column(self, j: usize, m: usize) -> Rule {
        match self {
            Rule::Momentum {
                eta,
                decay,
                mu,
                nesterov,
                velocity,
            } => Rule::Momentum {
                eta,
                decay,
                mu,
                nesterov,
                // SAFETY: the caller keeps column j inside the matrix.
                velocity: unsafe { velocity.add(j * m) },
            },
            other => other,
        }
    }
}

// SAFETY: the velocity pointer is used as G is: each core writes only its own columns.
unsafe impl Send for Rule {}
unsafe impl Sync for Rule {}

/// Writes element vector `v` of a block at `offset` in G (and the velocity): `gradient` is
/// α D Bᵀ there, and the [`Rule`] `MODE` says what becomes of it.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn update<S: Simd, const V: usize, const TAIL: bool, const MODE: u8>(
    g: *mut f32,
    offset: usize,
    gradient: S::V,
    v: usize,
    mask: S::Mask,
    rule: Rule,
) {
    unsafe {
        let p = g.add(offset);
        let value = match (MODE, rule) {
            (STEP, Rule::Step { minus_eta, keep }) => {
                let old = load::<S, V, TAIL>(p, v, mask);
                S::mul_add(gradient, S::splat(minus_eta), S::mul(old, S::splat(keep)))
            }
            (
                MOMENTUM,
                Rule::Momentum {
                    eta,
                    decay,
                    mu,
                    nesterov,
                    velocity,
                },
            ) => {
                let w = load::<S, V, TAIL>(p, v, mask);
                let q = velocity.add(offset);
                let previous = load::<S, V, TAIL>(q, v, mask);
                let g = S::add(gradient, S::mul(S::splat(decay), w));
                let now = S::sub(S::mul(S::splat(mu), previous), S::mul(S::splat(eta), g));
                store::<S, V, TAIL>(q, now, v, mask);
                let moved = if nesterov {
                    S::add(
                        S::mul(S::splat(-mu), previous),
                        S::mul(S::splat(1.0 + mu), now),
                    )
                } else {
                    now
                };
                S::add(w, moved)
            }
            _ => gradient,
        };
        store::<S, V, TAIL>(p, value, v, mask);
    }
}

/// `G ← α D Bᵀ`, or an SGD step on `G` with that gradient ([`Outer::Step`]): `D` is `m × n`,
/// `B` is `k × n` and `G` is `m × k`, all column-major. The weight gradient of BP4, ∂C/∂w = (1/n) Σ_x δ_x (a_x)ᵀ, with `D` the
/// errors δ, `B` the layer's inputs and α = 1/n.
///
/// Products of at least [`PARALLEL_WORK`] multiply-adds are cut at column [`split_point`] of
/// `G`, as in [`multiply`], and each core computes (or updates) its own columns: every element
/// is the same sum whichever core computes it, so results are bit-identical on one and two
/// threads.
///
/// # Panics
/// As [`multiply`].
#[allow(clippy::too_many_arguments)]
pub fn outer(
    kernel: Kernel,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    d: &[f32],
    b: &[f32],
    g: &mut [f32],
    what: Outer<'_>,
) {
    let velocity = match &what {
        Outer::Momentum { velocity, .. } => velocity.len(),
        _ => m * k,
    };
    check(
        kernel,
        n,
        [
            (d.len(), m * n),
            (b.len(), k * n),
            (g.len(), m * k),
            (velocity, m * k),
        ],
    );
    let (d, b_start, g) = (
        Ptr(d.as_ptr().cast_mut()),
        Ptr(b.as_ptr().cast_mut()),
        Ptr(g.as_mut_ptr()),
    );
    let rule = match what {
        Outer::Store => Rule::Store,
        Outer::Step { eta, decay } => Rule::Step {
            minus_eta: -eta,
            keep: 1.0 - eta * decay,
        },
        Outer::Momentum {
            eta,
            decay,
            mu,
            nesterov,
            velocity,
        } => Rule::Momentum {
            eta,
            decay,
            mu,
            nesterov,
            velocity: velocity.as_mut_ptr(),
        },
    };
    let run = |columns: Range<usize>| {
        let (j, width) = (columns.start, columns.len());
        // SAFETY: as in `multiply`, with D of m × n and G of m × k; the halves write disjoint
        // columns of G.
        unsafe {
            let d = d.get().cast_const();
            let (b, g, k) = (b_start.columns(j, k), g.get().add(j * m), width);
            let rule = rule.at_column(j, m);
            match kernel {
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx512 => x86::outer_avx512(m, k, n, alpha, d, b, g, rule),
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx2 => x86::outer_avx2(m, k, n, alpha, d, b, g, rule),
                _ => outer_any::<Portable>(m, k, n, alpha, d, b, g, rule),
            }
        }
    };
    match split_point(k, m * k * n) {
        0 => run(0..k),
        s => crate::pair::join(true, || run(0..s), || run(s..k)),
    }
}

/// `E ← Aᵀ D`: `A` is `m × k`, `D` is `m × n` and `E` is `k × n`, all column-major. The error
/// carried down through a layer's weights, `(wˡ⁺¹)ᵀ δˡ⁺¹` of BP2 (chapter 2), before the
/// activation's derivative.
///
/// Each element is a dot product of a column of A with a column of D, summed in vector lanes
/// over the rows, for tiles of 4 columns of A × 4 of D (2 × 4 with AVX2) in registers.
/// Products of at least [`PARALLEL_WORK`] multiply-adds are cut at column [`split_point`] of
/// A (row of E), the same cut as [`multiply`] and [`outer`], and each core computes its rows
/// of E: bit-identical on one and two threads.
///
/// With fewer than [`FEW_ROWS`] rows (an output layer of ten neurons) the lanes would be added
/// after a single step, so A is instead transposed into `scratch` (at least `m × k` long) and
/// multiplied by D as in [`multiply`], on one core.
///
/// # Panics
/// When a slice is too short or `kernel` is not supported.
#[allow(clippy::too_many_arguments)]
pub fn transposed(
    kernel: Kernel,
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    d: &[f32],
    e: &mut [f32],
    scratch: &mut [f32],
) {
    let few = m < FEW_ROWS;
    check(
        kernel,
        n,
        [
            (a.len(), m * k),
            (d.len(), m * n),
            (e.len(), k * n),
            (scratch.len(), if few { m * k } else { 0 }),
        ],
    );
    if few {
        for (j, column) in a[..m * k].chunks_exact(m).enumerate() {
            for (i, &value) in column.iter().enumerate() {
                scratch[i * k + j] = value;
            }
        }
        let d = Columns {
            start: d.as_ptr(),
            stride: m,
        };
        let (flipped, e) = (scratch.as_ptr(), e.as_mut_ptr());
        // SAFETY: `check` proved the slices long enough for a k × m matrix, m × n inputs and
        // a k × n output, and the kernel supported.
        unsafe {
            match kernel {
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx512 => x86::multiply_avx512(k, m, n, flipped, d, e, false),
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx2 => x86::multiply_avx2(k, m, n, flipped, d, e, false),
                _ => multiply_any::<Portable>(k, m, n, flipped, d, e, false),
            }
        }
        return;
    }
    let (a, d, e) = (
        Ptr(a.as_ptr().cast_mut()),
        Ptr(d.as_ptr().cast_mut()),
        Ptr(e.as_mut_ptr()),
    );
    let run = |columns: Range<usize>| {
        // SAFETY: `check` proved every index the kernels reach (row < m, column of A inside
        // `columns` ⊆ 0..k, column < n) inside the slices and the kernel supported; the halves
        // write disjoint rows of E, and A and D are only read.
        unsafe {
            let (a, d, e) = (a.get().cast_const(), d.get().cast_const(), e.get());
            match kernel {
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx512 => x86::transposed_avx512(m, k, n, columns, a, d, e),
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx2 => x86::transposed_avx2(m, k, n, columns, a, d, e),
                _ => transposed_any::<Portable>(m, k, n, columns, a, d, e),
            }
        }
    };
    match split_point(k, m * k * n) {
        0 => run(0..k),
        s => crate::pair::join(true, || run(0..s), || run(s..k)),
    }
}

/// Below this many rows [`transposed`] transposes A rather than adding vector lanes.
pub const FEW_ROWS: usize = 32;

/// Products of at least this many multiply-adds (a mini-batch of ten through 784 × 30
/// weights makes 235,200) are split between two cores; smaller ones take less time than the
/// two cores need to meet.
pub const PARALLEL_WORK: usize = 1 << 16;

/// The column of the weights (out of `k`) where [`multiply`] and [`outer`] cut a product of
/// `work` multiply-adds between two cores: the multiple of 8 nearest `k / 2`, 0 when the
/// product is not cut.
pub fn split_point(k: usize, work: usize) -> usize {
    let half = (k / 2 + 4) / 8 * 8;
    if work < PARALLEL_WORK || half == 0 || half >= k {
        0
    } else {
        half
    }
}

/// A pointer the two halves of a product share; each half writes only its own outputs.
#[derive(Clone, Copy)]
struct Ptr(*mut f32);

// SAFETY: see `multiply` and `outer`: the halves write disjoint rows.
unsafe impl Send for Ptr {}
unsafe impl Sync for Ptr {}

impl Ptr {
    /// The pointer (a method, so that closures capture the `Sync` wrapper, not its field).
    fn get(self) -> *mut f32 {
        self.0
    }

    /// The columns of the `height × n` column-major matrix this points to, from row `row`.
    ///
    /// # Safety
    /// `row` must be inside the matrix.
    unsafe fn columns(self, row: usize, height: usize) -> Columns {
        Columns {
            // SAFETY: the caller keeps `row` inside the matrix.
            start: unsafe { self.0.add(row).cast_const() },
            stride: height,
        }
    }
}

/// Checks the arguments of [`multiply`] and [`outer`]: `lengths` are each slice's length and
/// the length it needs.
fn check(kernel: Kernel, n: usize, lengths: [(usize, usize); 4]) {
    assert!(
        kernel.is_supported(),
        "the {} kernel is not supported here",
        kernel.name()
    );
    assert!(n >= 1, "a product of no columns");
    assert!(
        lengths.iter().all(|&(length, needed)| length >= needed),
        "kernel operand too short"
    );
}

/// The vector operations the kernels are written in.
trait Simd {
    /// A vector of `WIDTH` floats.
    type V: Copy;
    /// Which lanes of a vector are in use.
    type Mask: Copy;
    /// Floats per vector.
    const WIDTH: usize;
    /// Vector registers: the kernels take two vectors per column when their sums fit.
    const REGISTERS: usize;
    unsafe fn zero() -> Self::V;
    unsafe fn splat(x: f32) -> Self::V;
    /// The first `count` (< WIDTH) lanes.
    unsafe fn mask(count: usize) -> Self::Mask;
    unsafe fn load(p: *const f32) -> Self::V;
    unsafe fn load_masked(p: *const f32, mask: Self::Mask) -> Self::V;
    unsafe fn store(p: *mut f32, v: Self::V);
    unsafe fn store_masked(p: *mut f32, v: Self::V, mask: Self::Mask);
    /// `a · b + c`.
    unsafe fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    /// The sum of the lanes, in a fixed order.
    unsafe fn sum(a: Self::V) -> f32;
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
struct OuterBlocks<const N: usize, const MODE: u8> {
    m: usize,
    k: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: Rule,
}

impl<S: Simd, const N: usize, const MODE: u8> RowBlocks<S> for OuterBlocks<N, MODE> {
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
        unsafe { outer_block::<S, N, V, TAIL, MODE>(m, r, k, alpha, d, b, g, rule, mask) }
    }
}

/// The arguments of [`outer_tile`].
struct OuterTiles<const J: usize, const MODE: u8> {
    m: usize,
    j: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: Rule,
}

impl<S: Simd, const J: usize, const MODE: u8> RowBlocks<S> for OuterTiles<J, MODE> {
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
        unsafe { outer_tile::<S, J, V, TAIL, MODE>(m, r, j, n, alpha, d, b, g, rule, mask) }
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
                let x = S::splat(*columns[col].add(j));
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
unsafe fn outer_block<S: Simd, const N: usize, const V: usize, const TAIL: bool, const MODE: u8>(
    m: usize,
    r: usize,
    k: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: Rule,
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
                let x = S::splat(*columns[col].add(j));
                for v in 0..V {
                    sums[v] = S::mul_add(errors[v][col], x, sums[v]);
                }
            }
            for (v, &sum) in sums.iter().enumerate() {
                update::<S, V, TAIL, MODE>(g, j * m + r + v * S::WIDTH, sum, v, mask, rule);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
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
/// registers at a time: 2 × 14 sums, two weight vectors and an input fit AVX-512's 32.
const CHUNK: usize = 14;

/// [`multiply`] on one thread. A wide mini-batch is taken in chunks of at most [`CHUNK`]
/// columns, all chunks for one panel of 2 vectors of rows before the next panel, so that the
/// panel's weights are read from the core's cache rather than from memory for every chunk.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn multiply_any<S: Simd>(
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
        let chunks = n.div_ceil(CHUNK);
        let panel = 2 * S::WIDTH;
        for r in (0..m).step_by(panel) {
            for i in 0..chunks {
                let (first, end) = (i * n / chunks, (i + 1) * n / chunks);
                let b = Columns {
                    start: b.start.add(first * b.stride),
                    ..b
                };
                let (c, rows) = (c.add(first * m), r..(r + panel).min(m));
                by_columns!(
                    end - first,
                    multiply_rows,
                    S,
                    (m, rows, k, a, b, c, accumulate)
                );
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn outer_rows_in_mode<S: Simd, const N: usize, const MODE: u8>(
    m: usize,
    k: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: Rule,
) {
    let blocks = OuterBlocks::<N, MODE> {
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
unsafe fn outer_any<S: Simd>(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: Rule,
) {
    unsafe {
        let wide = n > MAX_COLUMNS;
        match rule {
            Rule::Store if wide => outer_wide::<S, STORE>(m, k, n, alpha, d, b, g, rule),
            Rule::Step { .. } if wide => outer_wide::<S, STEP>(m, k, n, alpha, d, b, g, rule),
            Rule::Momentum { .. } if wide => {
                outer_wide::<S, MOMENTUM>(m, k, n, alpha, d, b, g, rule)
            }
            Rule::Store => {
                by_columns!(
                    n,
                    outer_rows_in_mode,
                    S,
                    [STORE],
                    (m, k, alpha, d, b, g, rule)
                )
            }
            Rule::Step { .. } => {
                by_columns!(
                    n,
                    outer_rows_in_mode,
                    S,
                    [STEP],
                    (m, k, alpha, d, b, g, rule)
                )
            }
            Rule::Momentum { .. } => {
                by_columns!(
                    n,
                    outer_rows_in_mode,
                    S,
                    [MOMENTUM],
                    (m, k, alpha, d, b, g, rule)
                )
            }
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
unsafe fn outer_wide<S: Simd, const MODE: u8>(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: Rule,
) {
    unsafe {
        let mut j = 0;
        while j + TILE <= k {
            outer_wide_columns::<S, TILE, MODE>(m, j, n, alpha, d, b, g, rule);
            j += TILE;
        }
        while j + 4 <= k {
            outer_wide_columns::<S, 4, MODE>(m, j, n, alpha, d, b, g, rule);
            j += 4;
        }
        while j < k {
            outer_wide_columns::<S, 1, MODE>(m, j, n, alpha, d, b, g, rule);
            j += 1;
        }
    }
}

/// [`outer_wide`] for columns `j..j + J` of G, all rows.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn outer_wide_columns<S: Simd, const J: usize, const MODE: u8>(
    m: usize,
    j: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: Rule,
) {
    let tiles = OuterTiles::<J, MODE> {
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
unsafe fn outer_tile<S: Simd, const J: usize, const V: usize, const TAIL: bool, const MODE: u8>(
    m: usize,
    r: usize,
    j: usize,
    n: usize,
    alpha: f32,
    d: *const f32,
    b: Columns,
    g: *mut f32,
    rule: Rule,
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
                let x = S::splat(*inputs.add(col));
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
                update::<S, V, TAIL, MODE>(g, offset, gradient, v, mask, rule);
            }
        }
    }
}

/// [`transposed`] on one thread, for the columns `columns` of A (rows of E).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn transposed_any<S: Simd>(
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
#[inline(always)]
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

/// Eight floats in plain Rust; multiply and add rounded separately.
struct Portable;

impl Simd for Portable {
    type V = [f32; 8];
    type Mask = usize;
    const WIDTH: usize = 8;
    const REGISTERS: usize = 16;
    #[inline(always)]
    unsafe fn zero() -> [f32; 8] {
        [0.0; 8]
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> [f32; 8] {
        [x; 8]
    }
    #[inline(always)]
    unsafe fn mask(count: usize) -> usize {
        count
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> [f32; 8] {
        unsafe { p.cast::<[f32; 8]>().read_unaligned() }
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, count: usize) -> [f32; 8] {
        let mut v = [0.0; 8];
        for (i, x) in v.iter_mut().enumerate().take(count) {
            *x = unsafe { *p.add(i) };
        }
        v
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: [f32; 8]) {
        unsafe { p.cast::<[f32; 8]>().write_unaligned(v) }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, v: [f32; 8], count: usize) {
        for (i, &x) in v.iter().enumerate().take(count) {
            unsafe { *p.add(i) = x };
        }
    }
    #[inline(always)]
    unsafe fn mul_add(a: [f32; 8], b: [f32; 8], c: [f32; 8]) -> [f32; 8] {
        std::array::from_fn(|i| a[i] * b[i] + c[i])
    }
    #[inline(always)]
    unsafe fn sum(a: [f32; 8]) -> f32 {
        ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
    }
    #[inline(always)]
    unsafe fn add(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        std::array::from_fn(|i| a[i] + b[i])
    }
    #[inline(always)]
    unsafe fn sub(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        std::array::from_fn(|i| a[i] - b[i])
    }
    #[inline(always)]
    unsafe fn mul(a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        std::array::from_fn(|i| a[i] * b[i])
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use std::ops::Range;

    use super::{Columns, Rule, Simd, multiply_any, outer_any, transposed_any};

    /// Sixteen floats in a zmm register; tails through AVX-512 masks.
    pub(super) struct Avx512;

    impl Simd for Avx512 {
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

    impl Simd for Avx2 {
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
    pub(super) unsafe fn outer_avx512(
        m: usize,
        k: usize,
        n: usize,
        alpha: f32,
        d: *const f32,
        b: Columns,
        g: *mut f32,
        rule: Rule,
    ) {
        unsafe { outer_any::<Avx512>(m, k, n, alpha, d, b, g, rule) }
    }

    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn outer_avx2(
        m: usize,
        k: usize,
        n: usize,
        alpha: f32,
        d: *const f32,
        b: Columns,
        g: *mut f32,
        rule: Rule,
    ) {
        unsafe { outer_any::<Avx2>(m, k, n, alpha, d, b, g, rule) }
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
}

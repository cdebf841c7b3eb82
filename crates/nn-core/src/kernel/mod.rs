//! The matrix products of the forward and backward passes ([`multiply`], [`outer`],
//! [`transposed`]), in four instruction sets chosen at run time: AVX-512, AVX2 with FMA,
//! WebAssembly's SIMD128, and portable Rust.
//!
//! The folder holds the dispatch (this module: [`Kernel`], the one instruction-set selection
//! of the workspace, and the products' entry points), the kernels written once over the vector
//! primitives of [`Simd`] (`blocks.rs`), and each instruction set's primitives: `portable.rs`,
//! `x86.rs` (AVX-512, AVX2) and `wasm.rs` (SIMD128, compiled for `wasm32` with the `simd128`
//! target feature). What a weight-gradient kernel does with each vector of the gradient is an
//! [`Update`]: [`Store`] here, the optimizers' fused steps in [`crate::optimizer`].
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
//! ([`Update`]).
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
//! `NN_KERNEL=avx512|avx2|simd128|portable` forces a kernel ([`Kernel::active`]); by default
//! the best one the processor supports is used. The selection is the workspace's: nn-data's
//! image code follows it too.

use std::ops::Range;
use std::sync::OnceLock;

use crate::pair::ColumnWork;

mod blocks;
mod portable;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm;
#[cfg(target_arch = "x86_64")]
mod x86;

use blocks::{multiply_any, outer_any, transposed_any};
use portable::Portable;

/// The most columns (examples of a mini-batch) the kernels keep in registers at once; wider
/// mini-batches are taken in chunks (forward) or in tiles summed over every example (weight
/// gradient).
pub const MAX_COLUMNS: usize = 16;

/// An implementation of the kernels: the instruction set the workspace computes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// 512-bit vectors and masks (x86-64 with AVX-512 F, BW and VL, and FMA).
    Avx512,
    /// 256-bit vectors with fused multiply-add (x86-64 with AVX2 and FMA).
    Avx2,
    /// WebAssembly's 128-bit vectors (`wasm32` built with the `simd128` target feature);
    /// multiply and add rounded separately, as SIMD128 has no fused multiply-add.
    Simd128,
    /// Plain Rust, for any processor; multiply and add rounded separately.
    Portable,
}

impl Kernel {
    /// Every kernel, best first.
    pub const ALL: [Kernel; 4] = [
        Kernel::Avx512,
        Kernel::Avx2,
        Kernel::Simd128,
        Kernel::Portable,
    ];

    /// The name `NN_KERNEL` takes.
    ///
    /// ```
    /// use nn_core::kernel::Kernel;
    /// assert_eq!(Kernel::Avx2.name(), "avx2");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Avx512 => "avx512",
            Kernel::Avx2 => "avx2",
            Kernel::Simd128 => "simd128",
            Kernel::Portable => "portable",
        }
    }

    /// True when this processor (and this build, for SIMD128) can run the kernel.
    ///
    /// ```
    /// use nn_core::kernel::Kernel;
    /// assert!(Kernel::Portable.is_supported());
    /// ```
    pub fn is_supported(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx512 | Kernel::Avx2 => false,
            Kernel::Simd128 => cfg!(all(target_arch = "wasm32", target_feature = "simd128")),
            Kernel::Portable => true,
        }
    }

    /// The best kernel this processor supports.
    ///
    /// ```
    /// use nn_core::kernel::Kernel;
    /// assert!(Kernel::best().is_supported());
    /// ```
    pub fn best() -> Kernel {
        Kernel::ALL
            .into_iter()
            .find(|k| k.is_supported())
            .unwrap_or(Kernel::Portable)
    }

    /// The kernel the workspace computes with: the one `NN_KERNEL` names, else the best
    /// supported. A name that is not a kernel, or a kernel this processor lacks, is reported
    /// once on standard error and the best supported kernel is used instead. Training, the
    /// products here and nn-data's image code (augmentation, conversion to floats) all follow
    /// it.
    ///
    /// ```
    /// use nn_core::kernel::Kernel;
    /// assert!(Kernel::active().is_supported());
    /// ```
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
    ///
    /// ```
    /// use nn_core::kernel::Kernel;
    /// assert_eq!(Kernel::from_name("portable"), Ok(Kernel::Portable));
    /// assert!(Kernel::from_name("sse9").is_err());
    /// ```
    pub fn from_name(name: &str) -> Result<Kernel, String> {
        let kernel = Kernel::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| "not a kernel (use avx512, avx2, simd128 or portable)".to_string())?;
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
                #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                Kernel::Simd128 => multiply_any::<wasm::Simd128>(m, k, n, a, b, c, accumulate),
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

/// What [`outer`] does with each vector of the product `α D Bᵀ` as it computes it: store it
/// ([`Store`]), or take an optimizer's step on the output, which then holds the weights (the
/// fused steps of [`crate::optimizer`]: [`crate::optimizer::SgdUpdate`],
/// [`crate::optimizer::MomentumUpdate`]). The rule is written once in the vector primitives of
/// [`Simd`] and compiled into each kernel.
///
/// # Safety
/// [`Update::apply`] may read and write only the output and the rule's own state at the
/// slot's offset, and [`Update::covers`] must be true only when that state holds the elements
/// asked for.
pub unsafe trait Update: Copy + Send + Sync {
    /// True when the rule's own state (a velocity, laid out like the output) holds at least
    /// `elements` numbers; always true for a rule without state.
    fn covers(&self, elements: usize) -> bool;

    /// The rule for the part of the output from element `offset` on (each core's columns).
    ///
    /// # Safety
    /// `offset` must be inside the rule's state.
    unsafe fn at_offset(self, offset: usize) -> Self;

    /// The value to store in the output `g` at `slot`, where the product's vector is
    /// `product`.
    ///
    /// # Safety
    /// `slot` must be inside `g` and the rule's state.
    unsafe fn apply<S: Simd>(self, g: *mut f32, slot: &Slot<S>, product: S::V) -> S::V;
}

/// The product is written into the output: `G ← α D Bᵀ`.
///
/// ```
/// use nn_core::kernel::{self, Kernel, Store};
/// // A 2 × 1 error times a 3 × 1 input, α = 0.5.
/// let mut g = [0.0; 6];
/// kernel::outer(Kernel::active(), 2, 3, 1, 0.5, &[1.0, 2.0], &[1.0, 2.0, 4.0], &mut g, Store);
/// assert_eq!(g, [0.5, 1.0, 1.0, 2.0, 2.0, 4.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Store;

// SAFETY: it writes only the product, at the slot.
unsafe impl Update for Store {
    fn covers(&self, _: usize) -> bool {
        true
    }

    unsafe fn at_offset(self, _: usize) -> Self {
        self
    }

    #[inline(always)]
    unsafe fn apply<S: Simd>(self, _: *mut f32, _: &Slot<S>, product: S::V) -> S::V {
        product
    }
}

/// Where an [`Update`] is applied: a vector of the output at an element offset, all of its
/// lanes or (at the end of a column) the first few.
pub struct Slot<S: Simd> {
    offset: usize,
    mask: Option<S::Mask>,
}

impl<S: Simd> Slot<S> {
    /// The vector at the slot of the matrix at `base` (laid out like the output).
    ///
    /// # Safety
    /// The slot must be inside that matrix.
    #[inline(always)]
    pub unsafe fn load(&self, base: *const f32) -> S::V {
        unsafe {
            let p = base.add(self.offset);
            match self.mask {
                Some(mask) => S::load_masked(p, mask),
                None => S::load(p),
            }
        }
    }

    /// Stores `value` at the slot of the matrix at `base` (laid out like the output).
    ///
    /// # Safety
    /// The slot must be inside that matrix.
    #[inline(always)]
    pub unsafe fn store(&self, base: *mut f32, value: S::V) {
        unsafe {
            let p = base.add(self.offset);
            match self.mask {
                Some(mask) => S::store_masked(p, value, mask),
                None => S::store(p, value),
            }
        }
    }
}

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
pub fn outer<U: Update>(
    kernel: Kernel,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    d: &[f32],
    b: &[f32],
    g: &mut [f32],
    update: U,
) {
    check(
        kernel,
        n,
        [(d.len(), m * n), (b.len(), k * n), (g.len(), m * k), (0, 0)],
    );
    assert!(update.covers(m * k), "kernel operand too short");
    let (d, b_start, g) = (
        Ptr(d.as_ptr().cast_mut()),
        Ptr(b.as_ptr().cast_mut()),
        Ptr(g.as_mut_ptr()),
    );
    let run = |columns: Range<usize>| {
        let (j, width) = (columns.start, columns.len());
        // SAFETY: as in `multiply`, with D of m × n and G of m × k; the halves write disjoint
        // columns of G.
        unsafe {
            let d = d.get().cast_const();
            let (b, g, k) = (b_start.columns(j, k), g.get().add(j * m), width);
            let rule = update.at_offset(j * m);
            match kernel {
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx512 => x86::outer_avx512(m, k, n, alpha, d, b, g, rule),
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx2 => x86::outer_avx2(m, k, n, alpha, d, b, g, rule),
                #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                Kernel::Simd128 => outer_any::<wasm::Simd128, U>(m, k, n, alpha, d, b, g, rule),
                _ => outer_any::<Portable, U>(m, k, n, alpha, d, b, g, rule),
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
                #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                Kernel::Simd128 => multiply_any::<wasm::Simd128>(k, m, n, flipped, d, e, false),
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
                #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                Kernel::Simd128 => transposed_any::<wasm::Simd128>(m, k, n, columns, a, d, e),
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

/// The vector operations the kernels and the optimizers' fused steps ([`Update`]) are written
/// in, one implementation per instruction set.
///
/// # Safety
/// Each operation may be called only where the instruction set is available (the kernels
/// dispatch on [`Kernel::is_supported`]); the pointer operations read or write `WIDTH`
/// floats (or the first `count` of a mask).
pub unsafe trait Simd {
    /// A vector of `WIDTH` floats.
    type V: Copy;
    /// Which lanes of a vector are in use.
    type Mask: Copy;
    /// Floats per vector.
    const WIDTH: usize;
    /// Vector registers: the kernels take two vectors per column when their sums fit.
    const REGISTERS: usize;
    /// All lanes 0.
    ///
    /// # Safety
    /// See the trait.
    unsafe fn zero() -> Self::V;
    /// All lanes `x`.
    ///
    /// # Safety
    /// See the trait.
    unsafe fn splat(x: f32) -> Self::V;
    /// The first `count` (< WIDTH) lanes.
    ///
    /// # Safety
    /// See the trait.
    unsafe fn mask(count: usize) -> Self::Mask;
    /// `WIDTH` floats from `p`.
    ///
    /// # Safety
    /// `p` must be valid for `WIDTH` reads.
    unsafe fn load(p: *const f32) -> Self::V;
    /// The mask's floats from `p`, 0 in the other lanes.
    ///
    /// # Safety
    /// `p` must be valid for the mask's reads.
    unsafe fn load_masked(p: *const f32, mask: Self::Mask) -> Self::V;
    /// `WIDTH` floats to `p`.
    ///
    /// # Safety
    /// `p` must be valid for `WIDTH` writes.
    unsafe fn store(p: *mut f32, v: Self::V);
    /// The mask's lanes to `p`.
    ///
    /// # Safety
    /// `p` must be valid for the mask's writes.
    unsafe fn store_masked(p: *mut f32, v: Self::V, mask: Self::Mask);
    /// `a · b + c`, fused or rounded twice as the instruction set does it.
    ///
    /// # Safety
    /// See the trait.
    unsafe fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a · b`.
    ///
    /// # Safety
    /// See the trait.
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// `a + b`.
    ///
    /// # Safety
    /// See the trait.
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// `a − b`.
    ///
    /// # Safety
    /// See the trait.
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    /// The sum of the lanes, in a fixed order.
    ///
    /// # Safety
    /// See the trait.
    unsafe fn sum(a: Self::V) -> f32;
}

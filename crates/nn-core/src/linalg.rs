//! The one matrix kernel of the hot path: a general matrix product on column-major slices.

/// Whether an operand is used as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Use the stored matrix.
    N,
    /// Use its transpose.
    T,
}

/// Products of at least this many multiply-adds are computed as two halves on rayon's threads;
/// smaller ones (a mini-batch of ten through a 784-30-10 network) finish sooner than a thread
/// can be woken.
const PARALLEL_WORK: usize = 1 << 22;

/// `C ← α op(A) op(B) + β C` with `op(A)` of shape `m × k`, `op(B)` of shape `k × n` and `C` of
/// shape `m × n`, all stored column-major. Transposition is a change of strides, never a copy.
///
/// A large product is split into two blocks of C (its columns, or its rows when it has few
/// columns) computed by `rayon::join`: on two cores in parallel, on one in turn. The split
/// depends only on the shape, never on the number of threads, and each block is an ordinary
/// product over the whole k sum, so results are bit-identical whatever the thread count.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    op_a: Op,
    b: &[f32],
    op_b: Op,
    beta: f32,
    c: &mut [f32],
) {
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "gemm operand too short"
    );
    // (column stride, row stride) of each operand as stored column-major.
    let a = Strided::new(a, op_a, m, k);
    let b = Strided::new(b, op_b, k, n);
    let c = Block {
        ptr: c.as_mut_ptr(),
        rows: m,
        cols: n,
        ld: m,
    };
    if m * k * n < PARALLEL_WORK {
        // SAFETY: the assertion above guarantees every index the strides reach lies inside the
        // slices, and `c` was borrowed mutably so it cannot alias `a` or `b`.
        unsafe { product(c, k, alpha, a, b, beta) };
        return;
    }
    let (c1, c2, a2, b2) = if n >= 64 {
        let half = n / 2;
        let (c1, c2) = c.split_columns(half);
        (c1, c2, a, b.offset_columns(half))
    } else {
        let half = m / 2;
        let (c1, c2) = c.split_rows(half);
        (c1, c2, a.offset_rows(half), b)
    };
    // SAFETY: as above; the two blocks of C are disjoint, so the two products never write the
    // same element, and A and B are only read.
    rayon::join(
        || unsafe { product(c1, k, alpha, a, b, beta) },
        || unsafe { product(c2, k, alpha, a2, b2, beta) },
    );
}

/// A read-only operand: a pointer and its (column stride, row stride).
#[derive(Clone, Copy)]
struct Strided {
    ptr: *const f32,
    col_stride: isize,
    row_stride: isize,
}

// SAFETY: a `Strided` only reads through its pointer, into a slice borrowed for the whole call.
unsafe impl Send for Strided {}
unsafe impl Sync for Strided {}

impl Strided {
    /// `op(x)` of shape `rows × cols` where `x` is stored column-major.
    fn new(x: &[f32], op: Op, rows: usize, cols: usize) -> Self {
        let (col_stride, row_stride) = match op {
            Op::N => (rows as isize, 1),
            Op::T => (1, cols as isize),
        };
        Self {
            ptr: x.as_ptr(),
            col_stride,
            row_stride,
        }
    }

    /// The operand from row `i` on.
    fn offset_rows(self, i: usize) -> Self {
        Self {
            ptr: self.ptr.wrapping_offset(i as isize * self.row_stride),
            ..self
        }
    }

    /// The operand from column `j` on.
    fn offset_columns(self, j: usize) -> Self {
        Self {
            ptr: self.ptr.wrapping_offset(j as isize * self.col_stride),
            ..self
        }
    }
}

/// A block of the output C: `rows × cols` from `ptr`, columns `ld` apart.
#[derive(Clone, Copy)]
struct Block {
    ptr: *mut f32,
    rows: usize,
    cols: usize,
    ld: usize,
}

// SAFETY: blocks handed to different threads are disjoint (see `split_columns`, `split_rows`).
unsafe impl Send for Block {}
unsafe impl Sync for Block {}

impl Block {
    /// Columns `..j` and `j..`.
    fn split_columns(self, j: usize) -> (Self, Self) {
        let right = Self {
            ptr: self.ptr.wrapping_add(j * self.ld),
            cols: self.cols - j,
            ..self
        };
        (Self { cols: j, ..self }, right)
    }

    /// Rows `..i` and `i..`.
    fn split_rows(self, i: usize) -> (Self, Self) {
        let bottom = Self {
            ptr: self.ptr.wrapping_add(i),
            rows: self.rows - i,
            ..self
        };
        (Self { rows: i, ..self }, bottom)
    }
}

/// `C ← α A B + β C` on one thread, for a block C of `op(A) op(B)` with `A` the matching rows
/// and `B` the matching columns.
///
/// # Safety
/// Every element the strides reach must lie in live allocations, and no other thread may
/// access `c`'s elements during the call.
unsafe fn product(c: Block, k: usize, alpha: f32, a: Strided, b: Strided, beta: f32) {
    // The gemm crate computes dst ← α·dst + β·lhs·rhs, so its α is our β and its β our α.
    unsafe {
        gemm::gemm(
            c.rows,
            c.cols,
            k,
            c.ptr,
            c.ld as isize,
            1,
            beta != 0.0,
            a.ptr,
            a.col_stride,
            a.row_stride,
            b.ptr,
            b.col_stride,
            b.row_stride,
            beta,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_products_are_bit_identical_on_one_thread_and_on_two() {
        let (m, k, n) = (300, 784, 100);
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5)
            .collect();
        let b: Vec<f32> = (0..k * n)
            .map(|i| ((i * 104_729) % 997) as f32 * 1e-3)
            .collect();
        let product = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut c = vec![0.25; m * n];
                gemm(m, k, n, 0.5, &a, Op::N, &b, Op::N, 1.0, &mut c);
                let mut d = vec![0.0; m * k];
                gemm(m, n, k, 1.0, &c, Op::N, &b, Op::T, 0.0, &mut d);
                (c, d)
            })
        };
        assert!(m * k * n >= PARALLEL_WORK);
        let (one, two) = (product(1), product(2));
        assert!(
            one.0
                .iter()
                .zip(&two.0)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
        assert!(
            one.1
                .iter()
                .zip(&two.1)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
    }
    use nalgebra::DMatrix;

    #[test]
    fn split_products_agree_with_nalgebra_for_every_transposition() {
        // Split by columns (n >= 64) and by rows (few columns).
        for (m, k, n) in [(300, 160, 100), (2100, 100, 21)] {
            assert!(m * k * n >= PARALLEL_WORK);
            let a = DMatrix::<f32>::from_fn(m, k, |i, j| ((i * 31 + j * 17) % 23) as f32 - 11.0);
            let b = DMatrix::<f32>::from_fn(k, n, |i, j| ((i * 13 + j * 7) % 19) as f32 - 9.0);
            let c0 = DMatrix::<f32>::from_fn(m, n, |i, j| (i + j) as f32);
            // Small integers: every sum is exact, so the comparison can be exact.
            let expected = &a * &b * 2.0 + &c0 * 0.5;
            let (at, bt) = (a.transpose(), b.transpose());
            for (aa, oa) in [(&a, Op::N), (&at, Op::T)] {
                for (bb, ob) in [(&b, Op::N), (&bt, Op::T)] {
                    let mut c = c0.as_slice().to_vec();
                    gemm(
                        m,
                        k,
                        n,
                        2.0,
                        aa.as_slice(),
                        oa,
                        bb.as_slice(),
                        ob,
                        0.5,
                        &mut c,
                    );
                    assert_eq!(
                        c.as_slice(),
                        expected.as_slice(),
                        "{m}x{k}x{n} {oa:?} {ob:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn agrees_with_nalgebra_for_every_transposition() {
        let a = DMatrix::<f32>::from_fn(3, 4, |i, j| (i * 4 + j) as f32 * 0.5 - 2.0);
        let b = DMatrix::<f32>::from_fn(4, 2, |i, j| (i as f32 - j as f32) * 0.25);
        let expected = &a * &b;
        let at = a.transpose();
        let bt = b.transpose();
        for (aa, oa) in [(&a, Op::N), (&at, Op::T)] {
            for (bb, ob) in [(&b, Op::N), (&bt, Op::T)] {
                let mut c = vec![0.0; 6];
                gemm(
                    3,
                    4,
                    2,
                    1.0,
                    aa.as_slice(),
                    oa,
                    bb.as_slice(),
                    ob,
                    0.0,
                    &mut c,
                );
                assert_eq!(c.as_slice(), expected.as_slice());
            }
        }
    }
}

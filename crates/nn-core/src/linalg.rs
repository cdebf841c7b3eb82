//! The one matrix kernel of the hot path: a general matrix product on column-major slices.

/// Whether an operand is used as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Use the stored matrix.
    N,
    /// Use its transpose.
    T,
}

/// Products of at least this many multiply-adds are shared among rayon's threads; smaller ones
/// (a mini-batch of ten through a 784-30-10 network) finish sooner than threads can be woken.
const PARALLEL_WORK: usize = 1 << 22;

/// How the gemm crate may split a product. It splits only the rows and columns of C, never
/// the k sum, so every element is computed by the same sequence of operations whatever the
/// number of threads, and results stay bit-identical.
fn parallelism(m: usize, k: usize, n: usize) -> gemm::Parallelism {
    if m * k * n >= PARALLEL_WORK && rayon::current_num_threads() > 1 {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    }
}

/// `C ← α op(A) op(B) + β C` with `op(A)` of shape `m × k`, `op(B)` of shape `k × n` and `C` of
/// shape `m × n`, all stored column-major. Transposition is a change of strides, never a copy.
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
    let (csa, rsa) = match op_a {
        Op::N => (m as isize, 1),
        Op::T => (1, k as isize),
    };
    let (csb, rsb) = match op_b {
        Op::N => (k as isize, 1),
        Op::T => (1, n as isize),
    };
    // SAFETY: the assertion above guarantees every index the strides reach lies inside the
    // slices, and `c` is borrowed mutably so it cannot alias `a` or `b`. The gemm crate computes
    // dst ← α·dst + β·lhs·rhs, so its α is our β and its β our α.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            m as isize,
            1,
            beta != 0.0,
            a.as_ptr(),
            csa,
            rsa,
            b.as_ptr(),
            csb,
            rsb,
            beta,
            alpha,
            false,
            false,
            false,
            parallelism(m, k, n),
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

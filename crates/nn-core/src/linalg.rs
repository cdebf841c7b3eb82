//! The one matrix kernel of the hot path: a general matrix product on column-major slices.

/// Whether an operand is used as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Use the stored matrix.
    N,
    /// Use its transpose.
    T,
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
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

//! Single-precision matrix products through the `gemm` crate, which picks AVX-512, AVX2 or
//! portable kernels at run time (the same kernels Burn's CPU backend uses). ndarray's own
//! `dot` goes through `matrixmultiply`, which has no AVX-512 kernels: a ViT-sized product
//! ran at 176 GFLOP/s without them and 449 with them on the development machine. Double
//! precision goes through the same kernels, for measures that need it (Gram matrices of
//! the domain-shift lab).

use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar};

/// The element types `gemm` multiplies: `f32` and `f64`.
pub trait Element: LinalgScalar + Send + Sync {}
impl Element for f32 {}
impl Element for f64 {}

/// Which threads a product runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Threads {
    /// Only the calling thread: for callers that already run blocks in parallel.
    Caller,
    /// Every thread of rayon's pool.
    All,
}

/// `out ← left · right`, or `out ← out + left · right` when `accumulate` is set.
///
/// # Panics
/// When the shapes do not chain (`left` is `rows × inner`, `right` is `inner × cols`, `out`
/// is `rows × cols`): a programming error, never a property of user data.
pub(crate) fn product_into<T: Element>(
    mut out: ArrayViewMut2<'_, T>,
    left: ArrayView2<'_, T>,
    right: ArrayView2<'_, T>,
    accumulate: bool,
    threads: Threads,
) {
    let (rows, inner) = left.dim();
    let cols = right.ncols();
    assert_eq!(right.nrows(), inner, "inner dimensions differ");
    assert_eq!(
        out.dim(),
        (rows, cols),
        "output shape differs from the product's"
    );
    if rows == 0 || cols == 0 {
        return;
    }
    if inner == 0 {
        if !accumulate {
            out.fill(T::zero());
        }
        return;
    }
    let parallelism = match threads {
        Threads::Caller => gemm::Parallelism::None,
        Threads::All => gemm::Parallelism::Rayon(rayon::current_num_threads()),
    };
    let (out_rows, out_cols) = (out.strides()[0], out.strides()[1]);
    let (left_rows, left_cols) = (left.strides()[0], left.strides()[1]);
    let (right_rows, right_cols) = (right.strides()[0], right.strides()[1]);
    // SAFETY: each pointer is the first element of a live ndarray view, and every element
    // `gemm` visits, `ptr + i * row_stride + j * col_stride` for `i < rows`, `j < cols`, is
    // inside that view by the view's own invariants; the shapes were checked to chain above.
    // `out` is borrowed mutably and `left`, `right` shared, so the output aliases neither input.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            rows,
            cols,
            inner,
            out.as_mut_ptr(),
            out_cols,
            out_rows,
            accumulate,
            left.as_ptr(),
            left_cols,
            left_rows,
            right.as_ptr(),
            right_cols,
            right_rows,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `left · right` as a new matrix.
pub(crate) fn product<T: Element>(
    left: ArrayView2<'_, T>,
    right: ArrayView2<'_, T>,
    threads: Threads,
) -> ndarray::Array2<T> {
    let mut out = ndarray::Array2::<T>::zeros((left.nrows(), right.ncols()));
    product_into(out.view_mut(), left, right, false, threads);
    out
}

/// `left · right` as a new matrix, on every thread of rayon's pool, with the AVX-512 or
/// AVX2 kernels the CPU has (ndarray's `dot` has neither).
///
/// # Panics
/// When the inner dimensions differ: a programming error, never a property of user data.
pub fn matmul<T: Element>(left: ArrayView2<'_, T>, right: ArrayView2<'_, T>) -> ndarray::Array2<T> {
    product(left, right, Threads::All)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, s};

    fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        let mut random = faceemo_jobs::SplitMix64::new(seed);
        Array2::from_shape_simple_fn((rows, cols), || random.normal() as f32)
    }

    fn assert_close(got: &Array2<f32>, want: &Array2<f32>) {
        assert_eq!(got.dim(), want.dim());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{g} vs {w}");
        }
    }

    #[test]
    fn products_match_ndarray_for_every_layout() {
        let a = matrix(67, 45, 1);
        let b = matrix(45, 13, 2);
        let want = a.dot(&b);
        for threads in [Threads::Caller, Threads::All] {
            assert_close(&product(a.view(), b.view(), threads), &want);
            // Transposed (column-major) inputs and a strided slice.
            let at = a.t().to_owned();
            assert_close(&product(at.t(), b.view(), threads), &want);
            let wide = matrix(45, 26, 2);
            let strided = wide.slice(s![.., ..;2]);
            assert_close(&product(a.view(), strided, threads), &a.dot(&strided));
        }
    }

    #[test]
    fn double_precision_products_match_ndarray() {
        let a = matrix(31, 17, 5).mapv(f64::from);
        let b = matrix(17, 9, 6).mapv(f64::from);
        let got = matmul(a.view(), b.view());
        let want = a.dot(&b);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "{g} vs {w}");
        }
    }

    #[test]
    fn accumulating_adds_to_what_is_there() {
        let a = matrix(9, 4, 3);
        let b = matrix(4, 5, 4);
        let mut out = Array2::<f32>::ones((9, 5));
        product_into(out.view_mut(), a.view(), b.view(), true, Threads::Caller);
        assert_close(&out, &(a.dot(&b) + 1.0));
        product_into(out.view_mut(), a.view(), b.view(), false, Threads::Caller);
        assert_close(&out, &a.dot(&b));
    }

    #[test]
    fn empty_inner_dimension_gives_zeros() {
        let a = Array2::<f32>::zeros((3, 0));
        let b = Array2::<f32>::zeros((0, 2));
        let mut out = Array2::<f32>::ones((3, 2));
        product_into(out.view_mut(), a.view(), b.view(), false, Threads::All);
        assert!(out.iter().all(|&v| v == 0.0));
    }
}

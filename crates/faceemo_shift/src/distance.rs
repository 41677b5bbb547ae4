//! Distances between two groups of rows from their moments: centroid cosine and Euclidean
//! distances, and the Fréchet distance of their Gaussian fits (FID's formula).

use faceemo_projection::{matmul, mean_and_covariance};
use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{Array1, Array2, ArrayView2, Axis};

/// The first two moments of a group of rows, with what the Fréchet distance needs of them.
#[derive(Clone, Debug)]
pub struct GaussianFit {
    /// Rows fitted.
    pub rows: usize,
    /// Column means.
    pub mean: Array1<f64>,
    /// Trace of the covariance (`None` with fewer than two rows).
    pub trace: Option<f64>,
    /// The covariance (`n − 1`, as `np.cov`).
    covariance: Option<Array2<f64>>,
    /// Its symmetric square root, clipping the rounding-negative eigenvalues to zero.
    sqrt_covariance: Option<Array2<f64>>,
}

impl GaussianFit {
    /// Fits the rows of `data` (finite values).
    pub fn fit(data: ArrayView2<'_, f32>) -> Self {
        let rows = data.nrows();
        // Means summed in f64 row by row: the covariance's own mean sums f32 blocks, which
        // would cost the centroid distances their last digits.
        let mean = column_means(data);
        let covariance = mean_and_covariance(data).map(|(_, c)| c);
        let sqrt_covariance = covariance.as_ref().map(symmetric_sqrt);
        Self {
            rows,
            mean,
            trace: covariance.as_ref().map(|c| c.diag().sum()),
            covariance,
            sqrt_covariance,
        }
    }
}

/// Column means in double precision.
fn column_means(data: ArrayView2<'_, f32>) -> Array1<f64> {
    let mut sums = Array1::<f64>::zeros(data.ncols());
    for row in data.rows() {
        sums.zip_mut_with(&row, |s, &v| *s += f64::from(v));
    }
    sums / (data.nrows().max(1) as f64)
}

fn to_nalgebra(matrix: &Array2<f64>) -> DMatrix<f64> {
    let (rows, cols) = matrix.dim();
    DMatrix::from_fn(rows, cols, |i, j| matrix[[i, j]])
}

/// `V diag(√max(λ, 0)) Vᵀ` of a symmetric matrix.
fn symmetric_sqrt(matrix: &Array2<f64>) -> Array2<f64> {
    let eigen = SymmetricEigen::new(to_nalgebra(matrix));
    let n = matrix.nrows();
    let vectors = Array2::from_shape_fn((n, n), |(i, j)| eigen.eigenvectors[(i, j)]);
    let roots = eigen.eigenvalues.map(|l| l.max(0.0).sqrt());
    let mut scaled = vectors.clone();
    for (mut column, &root) in scaled.axis_iter_mut(Axis(1)).zip(roots.iter()) {
        column *= root;
    }
    matmul(scaled.view(), vectors.t())
}

/// `1 − cos(a, b)`; 1 when either is zero.
pub fn cosine_distance(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let norms = a.dot(a).sqrt() * b.dot(b).sqrt();
    if norms > 0.0 {
        1.0 - a.dot(b) / norms
    } else {
        1.0
    }
}

/// `‖a − b‖`.
pub fn euclidean_distance(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    (a - b).mapv(|d| d * d).sum().sqrt()
}

/// `‖μA − μB‖² + Tr(ΣA + ΣB − 2 (ΣA ΣB)^½)`. The trace of the square root is the sum of
/// the square roots of the eigenvalues of `ΣA^½ ΣB ΣA^½`, which has the eigenvalues of
/// `ΣA ΣB` and is symmetric (so no complex arithmetic, unlike `scipy.linalg.sqrtm`).
/// `None` when either side has fewer than two rows.
pub fn frechet_distance(a: &GaussianFit, b: &GaussianFit) -> Option<f64> {
    let root_a = a.sqrt_covariance.as_ref()?;
    let cov_b = b.covariance.as_ref()?;
    let inner = matmul(matmul(root_a.view(), cov_b.view()).view(), root_a.view());
    let symmetric = (&inner + &inner.t()) * 0.5;
    let eigenvalues = to_nalgebra(&symmetric).symmetric_eigenvalues();
    let trace_root: f64 = eigenvalues.iter().map(|l| l.max(0.0).sqrt()).sum();
    let mean_term = euclidean_distance(&a.mean, &b.mean).powi(2);
    Some((mean_term + a.trace? + b.trace? - 2.0 * trace_root).max(0.0))
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn frechet_of_diagonal_gaussians_has_the_closed_form() {
        // A: var (1, 4) about (0, 0); B: var (4, 1) about (3, 0), from four rows each.
        let a = array![[1.0f32, 2.0], [-1.0, -2.0], [1.0, -2.0], [-1.0, 2.0]];
        let b = array![[5.0f32, 1.0], [1.0, -1.0], [5.0, -1.0], [1.0, 1.0]];
        let (fa, fb) = (GaussianFit::fit(a.view()), GaussianFit::fit(b.view()));
        // np.cov: A diag(4/3, 16/3), B diag(16/3, 4/3); sqrt(ΣAΣB) = diag(8/3, 8/3).
        let want = 9.0 + (4.0 + 16.0 + 16.0 + 4.0) / 3.0 - 2.0 * 16.0 / 3.0;
        let got = frechet_distance(&fa, &fb).expect("fréchet");
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        let back = frechet_distance(&fb, &fa).expect("fréchet");
        assert!((got - back).abs() < 1e-9);
        assert!(frechet_distance(&fa, &fa).expect("self") < 1e-9);
    }

    #[test]
    fn one_row_has_no_covariance_and_no_frechet_distance() {
        let one = GaussianFit::fit(array![[1.0f32, 2.0]].view());
        assert_eq!(one.trace, None);
        assert_eq!(frechet_distance(&one, &one), None);
    }

    #[test]
    fn centroid_distances() {
        let a = array![1.0, 0.0];
        let b = array![0.0, 2.0];
        assert!((cosine_distance(&a, &b) - 1.0).abs() < 1e-12);
        assert!((euclidean_distance(&a, &b) - 5f64.sqrt()).abs() < 1e-12);
        assert!(cosine_distance(&a, &(&a * 3.0)).abs() < 1e-12);
    }
}

//! Principal component analysis by eigendecomposition of the covariance matrix.
//!
//! The covariance (`d × d`) is accumulated in double precision from single-precision
//! matrix products over blocks of rows, so 89,032 × 768 features need one pass and no
//! copy of the data; the eigenvectors of the symmetric `d × d` matrix are the components.
//! Conventions follow scikit-learn: variances use `n − 1`, and each component's sign is
//! chosen so that its largest-magnitude entry is positive.

use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{Array1, Array2, ArrayView2, Axis, s};

/// What can go wrong fitting or applying a PCA.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PcaError {
    /// Fewer than two rows, or no columns.
    #[error("PCA needs at least 2 rows and 1 column, got {rows} × {cols}")]
    TooSmall {
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
    },
    /// More components than columns.
    #[error("asked for {asked} components of {cols}-dimensional data")]
    TooManyComponents {
        /// Components asked for.
        asked: usize,
        /// Columns of the data.
        cols: usize,
    },
    /// Data to transform has another width than the fit.
    #[error("data has {got} columns, the PCA was fitted on {expected}")]
    WidthMismatch {
        /// Columns of the fit.
        expected: usize,
        /// Columns given.
        got: usize,
    },
    /// The data contains NaN or infinity.
    #[error("the data contains NaN or infinity")]
    NonFinite,
}

/// A fitted PCA.
#[derive(Clone, Debug)]
pub struct Pca {
    /// Column means of the fitted data.
    pub mean: Array1<f64>,
    /// Components, one per row (`k × d`), orthonormal.
    pub components: Array2<f64>,
    /// Variance along each component (`n − 1` denominator).
    pub explained_variance: Vec<f64>,
    /// Each component's share of the total variance.
    pub explained_variance_ratio: Vec<f64>,
}

/// Rows per block when accumulating the covariance.
const BLOCK_ROWS: usize = 4096;

impl Pca {
    /// Fits `n_components` components to the rows of `data`.
    pub fn fit(data: ArrayView2<'_, f32>, n_components: usize) -> Result<Self, PcaError> {
        let (rows, cols) = data.dim();
        if rows < 2 || cols == 0 {
            return Err(PcaError::TooSmall { rows, cols });
        }
        if n_components == 0 || n_components > cols {
            return Err(PcaError::TooManyComponents {
                asked: n_components,
                cols,
            });
        }
        if data.iter().any(|x| !x.is_finite()) {
            return Err(PcaError::NonFinite);
        }
        let mean = data
            .map(|&x| f64::from(x))
            .mean_axis(Axis(0))
            .unwrap_or_else(|| Array1::zeros(cols));
        let mean_f32 = mean.map(|&m| m as f32);
        let mut covariance = Array2::<f64>::zeros((cols, cols));
        let mut start = 0;
        while start < rows {
            let end = (start + BLOCK_ROWS).min(rows);
            let centred = &data.slice(s![start..end, ..]) - &mean_f32;
            let block = centred.t().dot(&centred);
            covariance.zip_mut_with(&block, |acc, &b| *acc += f64::from(b));
            start = end;
        }
        covariance /= (rows - 1) as f64;
        let total_variance: f64 = covariance.diag().sum();

        let matrix = DMatrix::from_fn(cols, cols, |i, j| covariance[[i, j]]);
        let eigen = SymmetricEigen::new(matrix);
        let mut order: Vec<usize> = (0..cols).collect();
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
        let mut components = Array2::<f64>::zeros((n_components, cols));
        let mut explained_variance = Vec::with_capacity(n_components);
        for (k, &index) in order.iter().take(n_components).enumerate() {
            let vector = eigen.eigenvectors.column(index);
            let largest =
                vector.iter().copied().fold(
                    0.0f64,
                    |best, v| if v.abs() > best.abs() { v } else { best },
                );
            let sign = if largest < 0.0 { -1.0 } else { 1.0 };
            for (j, value) in vector.iter().enumerate() {
                components[[k, j]] = sign * value;
            }
            explained_variance.push(eigen.eigenvalues[index].max(0.0));
        }
        let explained_variance_ratio = explained_variance
            .iter()
            .map(|v| {
                if total_variance > 0.0 {
                    v / total_variance
                } else {
                    0.0
                }
            })
            .collect();
        Ok(Self {
            mean,
            components,
            explained_variance,
            explained_variance_ratio,
        })
    }

    /// Number of components.
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// Coordinates of `data`'s rows on the components (`rows × k`).
    pub fn transform(&self, data: ArrayView2<'_, f32>) -> Result<Array2<f32>, PcaError> {
        let cols = self.mean.len();
        if data.ncols() != cols {
            return Err(PcaError::WidthMismatch {
                expected: cols,
                got: data.ncols(),
            });
        }
        let mean = self.mean.map(|&m| m as f32);
        let components = self.components.map(|&c| c as f32);
        let mut out = Array2::<f32>::zeros((data.nrows(), self.n_components()));
        let mut start = 0;
        while start < data.nrows() {
            let end = (start + BLOCK_ROWS).min(data.nrows());
            let centred = &data.slice(s![start..end, ..]) - &mean;
            out.slice_mut(s![start..end, ..])
                .assign(&centred.dot(&components.t()));
            start = end;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn points_on_a_line_have_one_component_with_all_the_variance() {
        let data = array![[0.0f32, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]];
        let pca = Pca::fit(data.view(), 2).expect("fit");
        assert!((pca.explained_variance_ratio[0] - 1.0).abs() < 1e-9);
        assert!(pca.explained_variance_ratio[1].abs() < 1e-9);
        let direction = pca.components.row(0);
        assert!(
            (direction[0] - 1.0 / 5f64.sqrt()).abs() < 1e-9,
            "{direction}"
        );
        let coords = pca.transform(data.view()).expect("transform");
        assert!((coords[[3, 0]] - coords[[0, 0]] - 45f32.sqrt()).abs() < 1e-4);
    }

    #[test]
    fn bad_shapes_and_values_are_errors() {
        let one_row = array![[1.0f32, 2.0]];
        assert!(matches!(
            Pca::fit(one_row.view(), 1),
            Err(PcaError::TooSmall { .. })
        ));
        let data = array![[1.0f32, 2.0], [3.0, f32::NAN]];
        assert_eq!(Pca::fit(data.view(), 1).err(), Some(PcaError::NonFinite));
        let data = array![[1.0f32, 2.0], [3.0, 5.0]];
        assert!(matches!(
            Pca::fit(data.view(), 3),
            Err(PcaError::TooManyComponents { .. })
        ));
        let pca = Pca::fit(data.view(), 1).expect("fit");
        let wide = array![[1.0f32, 2.0, 3.0]];
        assert!(matches!(
            pca.transform(wide.view()),
            Err(PcaError::WidthMismatch { .. })
        ));
    }
}

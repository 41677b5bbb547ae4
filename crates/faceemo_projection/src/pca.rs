//! Principal component analysis.
//!
//! For a few components of wide data (2 or 3 of 768) a seeded randomized subspace iteration
//! finds them in a few passes over the data without forming the covariance. Otherwise the
//! covariance (`d × d`) is accumulated in double precision from single-precision products
//! over blocks of rows and decomposed exactly. Neither copies the data.
//! Conventions follow scikit-learn: variances use `n − 1`, and each component's sign is
//! chosen so that its largest-magnitude entry is positive.

use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{Array1, Array2, ArrayView2, Axis, s};

use faceemo_jobs::SplitMix64;

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

/// Extra directions carried by the randomized method beyond those asked for.
const OVERSAMPLING: usize = 10;
/// Subspace iterations of the randomized method.
const POWER_ITERATIONS: usize = 7;
/// The randomized method's start is seeded, so a fit always gives the same components.
const RANDOM_SEED: u64 = 0x5EED;

/// Column means and the sum of the column variances (`n − 1`, the covariance's trace), in
/// one pass: single-precision sums within blocks of rows, double precision across blocks.
/// A NaN or infinity anywhere makes both non-finite.
fn column_statistics(data: ArrayView2<'_, f32>) -> (Array1<f64>, f64) {
    let cols = data.ncols();
    let mut sums = Array1::<f64>::zeros(cols);
    let mut squares = Array1::<f64>::zeros(cols);
    let mut start = 0;
    while start < data.nrows() {
        let end = (start + BLOCK_ROWS / 16).min(data.nrows());
        let mut block_sums = Array1::<f32>::zeros(cols);
        let mut block_squares = Array1::<f32>::zeros(cols);
        for row in data.slice(s![start..end, ..]).rows() {
            block_sums += &row;
            block_squares.zip_mut_with(&row, |acc, &x| *acc += x * x);
        }
        sums.zip_mut_with(&block_sums, |acc, &x| *acc += f64::from(x));
        squares.zip_mut_with(&block_squares, |acc, &x| *acc += f64::from(x));
        start = end;
    }
    let rows = data.nrows() as f64;
    let mean = sums / rows.max(1.0);
    let total = squares
        .iter()
        .zip(&mean)
        .map(|(s, m)| (s - rows * m * m) / (rows - 1.0))
        .sum();
    (mean, total)
}

/// `Xcᵀ (Xc Z)` for the centred data `Xc = X − 1 μᵀ`, block by block without centring a copy:
/// `Xc Z = X Z − 1 (μᵀ Z)` and `Xcᵀ W = Xᵀ W − μ (1ᵀ W)`.
fn covariance_times(
    data: ArrayView2<'_, f32>,
    mean: &Array1<f64>,
    basis: &Array2<f64>,
) -> Array2<f64> {
    let basis_f32 = basis.map(|&v| v as f32);
    let mean_times_basis = mean.dot(basis).map(|&v| v as f32);
    let mut out = Array2::<f64>::zeros(basis.dim());
    let mut column_sums = Array1::<f64>::zeros(basis.ncols());
    let mut start = 0;
    while start < data.nrows() {
        let end = (start + BLOCK_ROWS).min(data.nrows());
        let block = data.slice(s![start..end, ..]);
        let projected = block.dot(&basis_f32) - &mean_times_basis;
        let back = block.t().dot(&projected);
        out.zip_mut_with(&back, |o, &b| *o += f64::from(b));
        column_sums.zip_mut_with(&projected.sum_axis(Axis(0)), |c, &p| *c += f64::from(p));
        start = end;
    }
    for (mut row, &m) in out.rows_mut().into_iter().zip(mean) {
        row.zip_mut_with(&column_sums, |o, &c| *o -= m * c);
    }
    out
}

/// Gram–Schmidt (twice, for stability) on the columns of a tall matrix.
fn orthonormalise(matrix: &Array2<f64>) -> Array2<f64> {
    let mut q = matrix.clone();
    for j in 0..q.ncols() {
        for _ in 0..2 {
            for i in 0..j {
                let projection = q.column(i).dot(&q.column(j));
                let previous = q.column(i).to_owned();
                q.column_mut(j).scaled_add(-projection, &previous);
            }
        }
        let norm = q.column(j).dot(&q.column(j)).sqrt();
        if norm > 0.0 {
            q.column_mut(j).mapv_inplace(|v| v / norm);
        }
    }
    q
}

/// A seeded standard-normal matrix (SplitMix64 + Box–Muller).
fn gaussian_matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut random = SplitMix64::new(seed);
    Array2::from_shape_simple_fn((rows, cols), || random.normal())
}

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
        let (mean, total_variance) = column_statistics(data);
        if !total_variance.is_finite() || mean.iter().any(|m| !m.is_finite()) {
            return Err(PcaError::NonFinite);
        }
        let subspace = n_components + OVERSAMPLING;
        if subspace * 4 < cols {
            return Ok(Self::fit_randomized(
                data,
                n_components,
                mean,
                total_variance,
            ));
        }
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

        let matrix = DMatrix::from_fn(cols, cols, |i, j| covariance[[i, j]]);
        let eigen = SymmetricEigen::new(matrix);
        let mut order: Vec<usize> = (0..cols).collect();
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
        let mut components = Array2::<f64>::zeros((n_components, cols));
        let mut explained_variance = Vec::with_capacity(n_components);
        for (k, &index) in order.iter().take(n_components).enumerate() {
            let vector = eigen.eigenvectors.column(index);
            for (j, value) in vector.iter().enumerate() {
                components[[k, j]] = *value;
            }
            explained_variance.push(eigen.eigenvalues[index].max(0.0));
        }
        Ok(Self::from_parts(
            mean,
            components,
            explained_variance,
            total_variance,
        ))
    }

    /// Randomized subspace iteration (Halko, Martinsson & Tropp 2011) on the covariance,
    /// without forming it: each iteration is one pass over the data computing
    /// `Xcᵀ (Xc Z)` block by block, with the centring folded in algebraically. A
    /// Rayleigh–Ritz step on the final subspace gives the components and their variances.
    fn fit_randomized(
        data: ArrayView2<'_, f32>,
        n_components: usize,
        mean: Array1<f64>,
        total_variance: f64,
    ) -> Self {
        let (rows, cols) = data.dim();
        let width = n_components + OVERSAMPLING;
        let mut basis = orthonormalise(&gaussian_matrix(cols, width, RANDOM_SEED));
        for _ in 0..POWER_ITERATIONS {
            basis = orthonormalise(&covariance_times(data, &mean, &basis));
        }
        // Rayleigh–Ritz: B = Zᵀ C Z, whose eigenvectors rotate Z onto the components.
        let projected = covariance_times(data, &mean, &basis);
        let small = basis.t().dot(&projected) / (rows - 1) as f64;
        let matrix = DMatrix::from_fn(width, width, |i, j| 0.5 * (small[[i, j]] + small[[j, i]]));
        let eigen = SymmetricEigen::new(matrix);
        let mut order: Vec<usize> = (0..width).collect();
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
        let mut components = Array2::<f64>::zeros((n_components, cols));
        let mut explained_variance = Vec::with_capacity(n_components);
        for (k, &index) in order.iter().take(n_components).enumerate() {
            let rotation = eigen.eigenvectors.column(index);
            for j in 0..cols {
                components[[k, j]] = (0..width).map(|i| basis[[j, i]] * rotation[i]).sum();
            }
            explained_variance.push(eigen.eigenvalues[index].max(0.0));
        }
        Self::from_parts(mean, components, explained_variance, total_variance)
    }

    /// Assembles a fit, flipping each component so its largest-magnitude entry is positive
    /// (scikit-learn's sign convention).
    fn from_parts(
        mean: Array1<f64>,
        mut components: Array2<f64>,
        explained_variance: Vec<f64>,
        total_variance: f64,
    ) -> Self {
        for mut component in components.rows_mut() {
            let largest =
                component.iter().copied().fold(
                    0.0f64,
                    |best, v| if v.abs() > best.abs() { v } else { best },
                );
            if largest < 0.0 {
                component.mapv_inplace(|v| -v);
            }
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
        Self {
            mean,
            components,
            explained_variance,
            explained_variance_ratio,
        }
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
    fn the_randomized_path_agrees_with_the_exact_one() {
        // 256-d data with a clear spectrum: 2 components take the randomized path.
        let basis = gaussian_matrix(256, 6, 11);
        let scales = [9.0, 5.0, 3.0, 2.0, 1.5, 1.0];
        let latent = gaussian_matrix(3000, 6, 12);
        let noise = gaussian_matrix(3000, 256, 13);
        let data = Array2::from_shape_fn((3000, 256), |(i, j)| {
            let signal: f64 = (0..6)
                .map(|k| latent[[i, k]] * scales[k] * basis[[j, k]])
                .sum();
            (signal + 0.3 * noise[[i, j]] + 1.0) as f32
        });
        let fast = Pca::fit(data.view(), 2).expect("randomized");
        let (_, total) = column_statistics(data.view());
        // The exact path, forced: ask for enough components that the subspace is not small.
        let exact = Pca::fit(data.view(), 70).expect("exact");
        for k in 0..2 {
            let cosine = fast.components.row(k).dot(&exact.components.row(k)).abs();
            assert!(cosine > 1.0 - 1e-6, "component {k}: |cos| {cosine}");
            let ratio = exact.explained_variance[k] / total;
            assert!((fast.explained_variance_ratio[k] - ratio).abs() < 1e-6);
        }
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

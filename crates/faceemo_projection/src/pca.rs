//! Principal component analysis.
//!
//! For a few components of wide data (2 or 3 of 768) a seeded randomized subspace iteration
//! finds them in a few passes over the data without forming the covariance, and stops once
//! they settle. Otherwise — more components, or a spectrum too flat for the iteration to
//! settle — the covariance (`d × d`) is accumulated in double precision from
//! single-precision products over blocks of rows (only its upper triangle of tiles, the
//! rest mirrored) and its leading eigenpairs found by Lanczos. Neither copies the data.
//! Conventions follow scikit-learn: variances use `n − 1`, and each component's sign is
//! chosen so that its largest-magnitude entry is positive.

use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use rayon::prelude::*;

use crate::matmul::{Threads, product};
use faceemo_jobs::{Cancelled, JobContext, SplitMix64};

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
    /// The caller cancelled the fit.
    #[error("cancelled")]
    Cancelled,
}

impl From<Cancelled> for PcaError {
    fn from(_: Cancelled) -> Self {
        Self::Cancelled
    }
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
/// Rows per block of a randomized pass: 512 × 768 single-precision values (1.5 MiB) stay in a
/// core's L2 cache between a block's two products.
const PASS_BLOCK_ROWS: usize = 512;

/// Extra directions carried by the randomized method beyond those asked for.
const OVERSAMPLING: usize = 10;
/// Most subspace iterations of the randomized method (scikit-learn's choice for few
/// components); data with a clear gap in its spectrum settles in fewer.
const MAX_POWER_ITERATIONS: usize = 7;
/// Iteration stops once no estimated component moves by more than this angle (radians)
/// between iterations.
const SETTLED_ANGLE: f64 = 1e-5;
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

/// Blocks of rows `[start, end)` that together cover `rows`, for one task each.
fn row_blocks(rows: usize, block_rows: usize) -> impl ParallelIterator<Item = (usize, usize)> {
    (0..rows.div_ceil(block_rows))
        .into_par_iter()
        .map(move |b| (b * block_rows, ((b + 1) * block_rows).min(rows)))
}

/// Adds `source` to `target`, widening to double precision.
fn add_widened(target: &mut Array2<f64>, source: &Array2<f32>) {
    target.zip_mut_with(source, |t, &s| *t += f64::from(s));
}

/// `Xcᵀ (Xc Z)` for the centred data `Xc = X − 1 μᵀ`, in one pass over the data without
/// centring a copy: `Xc Z = X Z − 1 (μᵀ Z)` and `Xcᵀ W = Xᵀ W − μ (1ᵀ W)`. Blocks of rows
/// small enough to stay in a core's cache run on all cores, each block's two products
/// back to back while it is still cached; sums across blocks are in double precision.
fn covariance_times(
    data: ArrayView2<'_, f32>,
    mean: &Array1<f64>,
    basis: &Array2<f64>,
) -> Array2<f64> {
    let (cols, width) = basis.dim();
    let basis_f32 = basis.map(|&v| v as f32);
    let mean_times_basis = mean.dot(basis).map(|&v| v as f32);
    let zeros = || {
        (
            Array2::<f64>::zeros((cols, width)),
            Array1::<f64>::zeros(width),
        )
    };
    let (mut out, column_sums) = row_blocks(data.nrows(), PASS_BLOCK_ROWS)
        .fold(zeros, |(mut out, mut column_sums), (start, end)| {
            let block = data.slice(s![start..end, ..]);
            let mut projected = product(block, basis_f32.view(), Threads::Caller);
            projected -= &mean_times_basis;
            let back = product(block.t(), projected.view(), Threads::Caller);
            add_widened(&mut out, &back);
            let sums = projected.sum_axis(Axis(0));
            column_sums.zip_mut_with(&sums, |c, &p| *c += f64::from(p));
            (out, column_sums)
        })
        .reduce(zeros, |(a, b), (c, d)| (a + c, b + d));
    for (mut row, &m) in out.rows_mut().into_iter().zip(mean) {
        row.zip_mut_with(&column_sums, |o, &c| *o -= m * c);
    }
    out
}

/// Columns per tile of the covariance: only the tiles on and above the diagonal are
/// multiplied (21 of 36 for 768 columns).
const COVARIANCE_TILE: usize = 128;

/// The covariance matrix (`n − 1`), from single-precision products of centred blocks of
/// rows summed in double precision, on all cores; only the upper triangle of tiles is
/// computed, and the lower triangle is its mirror image (so the matrix is exactly symmetric).
fn covariance(data: ArrayView2<'_, f32>, mean: &Array1<f64>) -> Array2<f64> {
    let cols = data.ncols();
    let mean_f32 = mean.map(|&m| m as f32);
    let tiles: Vec<(usize, usize)> = (0..cols)
        .step_by(COVARIANCE_TILE)
        .map(|start| (start, (start + COVARIANCE_TILE).min(cols)))
        .collect();
    // Each task keeps one buffer for its centred blocks rather than faulting in a fresh
    // one per block.
    let zeros = || {
        (
            Array2::<f64>::zeros((cols, cols)),
            Array2::<f32>::zeros((0, cols)),
        )
    };
    let (mut sum, _) = row_blocks(data.nrows(), BLOCK_ROWS)
        .fold(zeros, |(mut sum, mut buffer), (start, end)| {
            if buffer.nrows() < end - start {
                buffer = Array2::<f32>::zeros((BLOCK_ROWS, cols));
            }
            let mut centred = buffer.slice_mut(s![..end - start, ..]);
            centred.assign(&data.slice(s![start..end, ..]));
            centred -= &mean_f32;
            let centred = centred.view();
            for (index, &(top, bottom)) in tiles.iter().enumerate() {
                for &(left, right) in &tiles[index..] {
                    let tile = product(
                        centred.slice(s![.., top..bottom]).t(),
                        centred.slice(s![.., left..right]),
                        Threads::Caller,
                    );
                    sum.slice_mut(s![top..bottom, left..right])
                        .zip_mut_with(&tile, |t, &v| *t += f64::from(v));
                }
            }
            (sum, buffer)
        })
        .reduce(zeros, |(a, buffer), (b, _)| (a + b, buffer));
    for i in 0..cols {
        for j in 0..i {
            sum[[i, j]] = sum[[j, i]];
        }
    }
    sum / (data.nrows() - 1) as f64
}

/// Column means and the covariance matrix (`n − 1`, as `np.cov`) of the rows of `data`:
/// single-precision products of centred blocks summed in double precision, on all cores.
/// `None` with fewer than two rows.
pub fn mean_and_covariance(data: ArrayView2<'_, f32>) -> Option<(Array1<f64>, Array2<f64>)> {
    if data.nrows() < 2 {
        return None;
    }
    let (mean, _) = column_statistics(data);
    let covariance = covariance(data, &mean);
    Some((mean, covariance))
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

/// The `count` leading eigenpairs of `C` restricted to the span of the orthonormal
/// columns of `basis`, from `scaled_image = (n − 1) C basis`: components one per row
/// (`count × d`) and their variances.
fn rayleigh_ritz(
    basis: &Array2<f64>,
    scaled_image: &Array2<f64>,
    count: usize,
    denominator: f64,
) -> (Array2<f64>, Vec<f64>) {
    let width = basis.ncols();
    let small = basis.t().dot(scaled_image) / denominator;
    let matrix = DMatrix::from_fn(width, width, |i, j| 0.5 * (small[[i, j]] + small[[j, i]]));
    let pairs = leading_eigenpairs(matrix, count);
    // Each eigenvector of the small matrix rotates the basis onto one component.
    let rotation = Array2::from_shape_fn((width, count), |(i, k)| pairs.vectors[(i, k)]);
    (basis.dot(&rotation).reversed_axes(), pairs.values)
}

/// Eigenvalues (clamped at 0) and eigenvectors (columns), largest first.
struct Eigenpairs {
    values: Vec<f64>,
    vectors: DMatrix<f64>,
}

/// The `count` largest eigenpairs of a symmetric matrix.
fn leading_eigenpairs(matrix: DMatrix<f64>, count: usize) -> Eigenpairs {
    let eigen = SymmetricEigen::new(matrix);
    let mut order: Vec<usize> = (0..eigen.eigenvalues.len()).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    order.truncate(count);
    Eigenpairs {
        values: order
            .iter()
            .map(|&i| eigen.eigenvalues[i].max(0.0))
            .collect(),
        vectors: eigen.eigenvectors.select_columns(&order),
    }
}

/// The `count` leading eigenpairs of a symmetric matrix by Lanczos with full
/// reorthogonalisation, from a seeded start: the Krylov space grows (doubling) until every
/// pair's residual `‖C v − λ v‖` is below 1e-10 of the largest eigenvalue, or spans the
/// whole space (then the pairs are exact). Far cheaper than a full decomposition when a few
/// components of a wide covariance are wanted. `None` when the start vector lies in a small
/// invariant subspace (the caller decomposes fully).
fn leading_eigenpairs_lanczos(matrix: &Array2<f64>, count: usize) -> Option<Eigenpairs> {
    let n = matrix.nrows();
    let mut steps = (2 * count + 60).min(n);
    loop {
        let mut random = SplitMix64::new(RANDOM_SEED);
        let mut start: Array1<f64> = (0..n).map(|_| random.normal()).collect();
        start /= start.dot(&start).sqrt();
        let mut basis: Vec<Array1<f64>> = vec![start];
        let (mut alpha, mut beta) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
        for step in 0..steps {
            let mut w = matrix.dot(&basis[step]);
            alpha.push(w.dot(&basis[step]));
            for _ in 0..2 {
                for q in &basis {
                    let along = w.dot(q);
                    w.scaled_add(-along, q);
                }
            }
            let norm = w.dot(&w).sqrt();
            if step + 1 == steps || norm <= 1e-12 * alpha[0].abs().max(f64::MIN_POSITIVE) {
                break;
            }
            beta.push(norm);
            basis.push(w / norm);
        }
        let m = alpha.len();
        if m < count {
            return None;
        }
        let tridiagonal = DMatrix::from_fn(m, m, |i, j| match i.abs_diff(j) {
            0 => alpha[i],
            1 => beta[i.min(j)],
            _ => 0.0,
        });
        let ritz = leading_eigenpairs(tridiagonal, count);
        let vectors = DMatrix::from_fn(n, count, |row, k| {
            basis
                .iter()
                .zip(ritz.vectors.column(k).iter())
                .map(|(q, &y)| q[row] * y)
                .sum()
        });
        let largest = ritz
            .values
            .first()
            .copied()
            .unwrap_or(0.0)
            .max(f64::MIN_POSITIVE);
        let converged = (0..count).all(|k| {
            let v: Array1<f64> = vectors.column(k).iter().copied().collect();
            let residual = &matrix.dot(&v) - &(&v * ritz.values[k]);
            residual.dot(&residual).sqrt() <= 1e-10 * largest
        });
        if converged || m < steps || steps == n {
            return Some(Eigenpairs {
                values: ritz.values,
                vectors,
            });
        }
        steps = (2 * steps).min(n);
    }
}

/// The largest angle (radians) between each estimated direction (a row) and its previous
/// estimate, up to sign.
fn largest_turn(before: &Array2<f64>, after: &Array2<f64>) -> f64 {
    before
        .rows()
        .into_iter()
        .zip(after.rows())
        .map(|(a, b)| {
            let cosine = a.dot(&b).abs() / (a.dot(&a) * b.dot(&b)).sqrt();
            cosine.clamp(0.0, 1.0).acos()
        })
        .fold(0.0, f64::max)
}

/// A seeded standard-normal matrix (SplitMix64 + Box–Muller).
fn gaussian_matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut random = SplitMix64::new(seed);
    Array2::from_shape_simple_fn((rows, cols), || random.normal())
}

impl Pca {
    /// Fits `n_components` components to the rows of `data`.
    pub fn fit(data: ArrayView2<'_, f32>, n_components: usize) -> Result<Self, PcaError> {
        let cancel = faceemo_jobs::CancelToken::new();
        Self::fit_job(
            data,
            n_components,
            JobContext::new(&faceemo_jobs::IgnoreProgress, &cancel),
        )
    }

    /// [`Pca::fit`] as a job: reports each pass over the data and stops between passes
    /// (with [`PcaError::Cancelled`]) once `job` is cancelled.
    pub fn fit_job(
        data: ArrayView2<'_, f32>,
        n_components: usize,
        job: JobContext<'_>,
    ) -> Result<Self, PcaError> {
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
        job.report("PCA: column statistics", 0, 1);
        let (mean, total_variance) = column_statistics(data);
        job.check_cancelled()?;
        if !total_variance.is_finite() || mean.iter().any(|m| !m.is_finite()) {
            return Err(PcaError::NonFinite);
        }
        let subspace = n_components + OVERSAMPLING;
        // When the spectrum is too flat at the top for a few passes to resolve the
        // components (noise-like data), the covariance is decomposed exactly instead.
        if subspace * 4 < cols
            && let Some((fit, _passes)) =
                Self::fit_randomized(data, n_components, &mean, total_variance, job)?
        {
            return Ok(fit);
        }
        job.report("PCA: covariance", 0, 1);
        let covariance = covariance(data, &mean);
        job.check_cancelled()?;
        job.report("PCA: leading eigenpairs", 0, 1);
        let pairs = leading_eigenpairs_lanczos(&covariance, n_components).unwrap_or_else(|| {
            leading_eigenpairs(
                DMatrix::from_fn(cols, cols, |i, j| covariance[[i, j]]),
                n_components,
            )
        });
        let components =
            Array2::from_shape_fn((n_components, cols), |(k, j)| pairs.vectors[(j, k)]);
        let explained_variance = pairs.values;
        Ok(Self::from_parts(
            mean,
            components,
            explained_variance,
            total_variance,
        ))
    }

    /// Randomized subspace iteration (Halko, Martinsson & Tropp 2011) on the covariance,
    /// without forming it: each iteration is one pass over the data computing `C Z`
    /// ([`covariance_times`]). A Rayleigh–Ritz step on every iterate (`Zᵀ C Z`, free once
    /// `C Z` is known) estimates the components; iteration stops once those estimates stop
    /// moving. Returns the fit and the passes it took, or `None` when they are still moving
    /// after [`MAX_POWER_ITERATIONS`] (no clear gap in the spectrum below the components);
    /// stops between passes when `job` is cancelled.
    fn fit_randomized(
        data: ArrayView2<'_, f32>,
        n_components: usize,
        mean: &Array1<f64>,
        total_variance: f64,
        job: JobContext<'_>,
    ) -> Result<Option<(Self, usize)>, PcaError> {
        let rows = data.nrows();
        let width = n_components + OVERSAMPLING;
        let mut basis = orthonormalise(&gaussian_matrix(data.ncols(), width, RANDOM_SEED));
        let mut previous: Option<Array2<f64>> = None;
        let mut last_turn: Option<f64> = None;
        let mut passes = 0;
        loop {
            job.report(
                "PCA: subspace iteration",
                passes as u64,
                MAX_POWER_ITERATIONS as u64,
            );
            let image = covariance_times(data, mean, &basis);
            passes += 1;
            job.check_cancelled()?;
            let (components, variances) =
                rayleigh_ritz(&basis, &image, n_components, (rows - 1) as f64);
            let turn = previous
                .as_ref()
                .map(|before| largest_turn(before, &components));
            if turn.is_some_and(|t| t <= SETTLED_ANGLE) {
                let fit = Self::from_parts(mean.clone(), components, variances, total_variance);
                return Ok(Some((fit, passes)));
            }
            if passes > MAX_POWER_ITERATIONS {
                return Ok(None);
            }
            // The turns shrink geometrically when a gap drives the iteration: give up as soon
            // as the rate seen says the cap comes first (a flat spectrum, as noise has).
            if let (Some(turn), Some(last)) = (turn, last_turn) {
                let rate = turn / last.max(f64::MIN_POSITIVE);
                let needed = if rate < 1.0 {
                    (SETTLED_ANGLE / turn).ln() / rate.ln()
                } else {
                    f64::INFINITY
                };
                if passes as f64 + needed > (MAX_POWER_ITERATIONS + 1) as f64 {
                    return Ok(None);
                }
            }
            last_turn = turn;
            previous = Some(components);
            basis = orthonormalise(&image);
        }
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
        // (X − 1 μᵀ) Wᵀ = X Wᵀ − 1 (W μ)ᵀ: one product straight from the data, no centred copy.
        let components = self.components.map(|&c| c as f32);
        let offset = self.components.dot(&self.mean).map(|&v| v as f32);
        let mut out = product(data, components.t(), Threads::All);
        out -= &offset;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_tiled_covariance_matches_the_textbook_one_and_is_symmetric() {
        // Columns not a multiple of the tile, rows spanning several blocks, an offset mean.
        let (rows, cols) = (BLOCK_ROWS + 777, COVARIANCE_TILE * 2 + 45);
        let mut random = SplitMix64::new(7);
        let data = Array2::from_shape_fn((rows, cols), |(_, j)| {
            (random.normal() * (1.0 + j as f64 / 50.0) + 3.0) as f32
        });
        let (mean, covariance) = mean_and_covariance(data.view()).expect("two rows or more");
        let wide = data.mapv(f64::from);
        let centred = &wide - &wide.mean_axis(Axis(0)).expect("rows");
        let textbook = centred.t().dot(&centred) / (rows - 1) as f64;
        for i in 0..cols {
            assert!((mean[i] - wide.column(i).mean().expect("rows")).abs() < 1e-5);
            for j in 0..cols {
                let scale = (textbook[[i, i]] * textbook[[j, j]]).sqrt();
                assert!(
                    (covariance[[i, j]] - textbook[[i, j]]).abs() < 1e-5 * scale,
                    "({i}, {j}): {} against {}",
                    covariance[[i, j]],
                    textbook[[i, j]]
                );
                assert_eq!(covariance[[i, j]].to_bits(), covariance[[j, i]].to_bits());
            }
        }
    }

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

    fn quiet(cancel: &faceemo_jobs::CancelToken) -> JobContext<'_> {
        JobContext::new(&faceemo_jobs::IgnoreProgress, cancel)
    }

    #[test]
    fn a_fit_cancelled_during_either_path_stops_with_cancelled() {
        let data = gaussian_matrix(500, 64, 3).map(|&v| v as f32);
        // 2 components of 64 take the randomized path, 40 the exact covariance.
        for (components, stage) in [(2, "PCA: subspace iteration"), (40, "PCA: covariance")] {
            let cancel = faceemo_jobs::CancelToken::new();
            let seen = std::sync::Mutex::new(Vec::new());
            let sink = |update: faceemo_jobs::ProgressUpdate| {
                if update.stage == stage {
                    cancel.cancel();
                }
                seen.lock().expect("lock").push(update.stage);
            };
            let fit = Pca::fit_job(data.view(), components, JobContext::new(&sink, &cancel));
            assert_eq!(fit.err(), Some(PcaError::Cancelled), "{stage}");
            let seen = seen.lock().expect("lock");
            assert_eq!(seen.last().map(String::as_str), Some(stage), "{seen:?}");
        }
    }

    #[test]
    fn lanczos_finds_the_leading_eigenpairs_of_a_flat_spectrum_as_the_full_decomposition_does() {
        // The covariance of noise: its top eigenvalues are close together.
        let noise = gaussian_matrix(2000, 200, 21).map(|&v| v as f32);
        let (_, covariance) = mean_and_covariance(noise.view()).expect("two rows or more");
        let full = leading_eigenpairs(DMatrix::from_fn(200, 200, |i, j| covariance[[i, j]]), 5);
        let lanczos = leading_eigenpairs_lanczos(&covariance, 5).expect("a Krylov space");
        for k in 0..5 {
            assert!(
                (full.values[k] - lanczos.values[k]).abs() < 1e-9 * full.values[0],
                "value {k}: {} vs {}",
                full.values[k],
                lanczos.values[k]
            );
            let cosine: f64 = (0..200)
                .map(|i| full.vectors[(i, k)] * lanczos.vectors[(i, k)])
                .sum();
            assert!(cosine.abs() > 1.0 - 1e-8, "vector {k}: cosine {cosine}");
        }
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
        let (mean, total) = column_statistics(data.view());
        let cancel = faceemo_jobs::CancelToken::new();
        let (fast, passes) = Pca::fit_randomized(data.view(), 2, &mean, total, quiet(&cancel))
            .expect("not cancelled")
            .expect("a clear gap settles");
        // A clear spectral gap settles before the iteration cap.
        assert!(passes <= MAX_POWER_ITERATIONS, "{passes} passes");
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
    fn noise_without_a_spectral_gap_falls_back_to_the_exact_path() {
        let noise = gaussian_matrix(2000, 256, 21).map(|&v| v as f32);
        let (mean, total) = column_statistics(noise.view());
        let cancel = faceemo_jobs::CancelToken::new();
        assert!(
            Pca::fit_randomized(noise.view(), 2, &mean, total, quiet(&cancel))
                .expect("not cancelled")
                .is_none(),
            "iid noise should not settle within the iteration cap"
        );
        let fit = Pca::fit(noise.view(), 2).expect("fit");
        let exact = Pca::fit(noise.view(), 70).expect("exact");
        for k in 0..2 {
            let cosine = fit.components.row(k).dot(&exact.components.row(k)).abs();
            assert!(cosine > 1.0 - 1e-9, "component {k}: |cos| {cosine}");
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

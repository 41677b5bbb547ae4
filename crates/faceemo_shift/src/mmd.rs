//! Maximum mean discrepancy between two samples with a Gaussian kernel, and its
//! permutation test.
//!
//! `k(x, y) = exp(−‖x − y‖² / 2σ²)` with σ the median pairwise distance of the pooled
//! sample (the median heuristic); MMD² is the unbiased estimate (diagonals left out of the
//! within-sample sums). The permutation test reshuffles the pooled labels; all the
//! permutations' within-sample sums come from one matrix product of the kernel matrix with
//! their indicator vectors.

use faceemo_jobs::{Cancelled, JobContext, SplitMix64};
use faceemo_projection::matmul;
use ndarray::{Array2, ArrayView2, Axis, concatenate, s};

/// Permutations per matrix product.
const PERMUTATION_BLOCK: usize = 250;

/// The result of an MMD test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MmdTest {
    /// Unbiased MMD² of the two samples.
    pub mmd2: f64,
    /// `(1 + #{permuted MMD² ≥ observed}) / (1 + permutations)`.
    pub p_value: f64,
    /// The kernel width (median pairwise distance of the pooled sample).
    pub sigma: f64,
}

/// The within- and between-sample kernel sums that make MMD².
struct KernelSums {
    kernel: Array2<f64>,
    row_sums: Vec<f64>,
    total: f64,
}

impl KernelSums {
    /// MMD² for the subset with `inside = aᵀ K a` and `row_total = aᵀ K 1`, `m` rows in it.
    fn mmd2(&self, inside: f64, row_total: f64, m: usize) -> f64 {
        let n = self.row_sums.len() - m;
        let (mf, nf) = (m as f64, n as f64);
        let within_a = inside - mf;
        let within_b = self.total - 2.0 * row_total + inside - nf;
        let between = row_total - inside;
        within_a / (mf * (mf - 1.0)) + within_b / (nf * (nf - 1.0)) - 2.0 * between / (mf * nf)
    }
}

/// Squared Euclidean distances of every pair of rows, in double precision, centred first so
/// that large common offsets cost no precision.
fn squared_distances(pooled: &Array2<f64>) -> Array2<f64> {
    let mean = pooled.mean_axis(Axis(0)).unwrap_or_default();
    let centred = pooled - &mean;
    let gram = matmul(centred.view(), centred.t());
    let norms: Vec<f64> = gram.diag().to_vec();
    let mut distances = gram;
    for ((i, j), value) in distances.indexed_iter_mut() {
        *value = if i == j {
            0.0
        } else {
            (norms[i] + norms[j] - 2.0 * *value).max(0.0)
        };
    }
    distances
}

/// The median of the distances of the pairs `i < j` (as `np.median(pdist(Z))`).
fn median_pair_distance(squared: &Array2<f64>) -> f64 {
    let n = squared.nrows();
    let mut values: Vec<f64> = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        values.extend(squared.slice(s![i, i + 1..]).iter().map(|d| d.sqrt()));
    }
    let len = values.len();
    if len == 0 {
        return 0.0;
    }
    let middle = len / 2;
    let (below, upper, _) = values.select_nth_unstable_by(middle, f64::total_cmp);
    let upper = *upper;
    if len % 2 == 1 {
        upper
    } else {
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        f64::midpoint(lower, upper)
    }
}

/// Tests whether `a` and `b` come from one distribution. `None` when either has fewer than
/// two rows or every pooled row is the same point (no kernel width).
pub fn mmd_test(
    first: ArrayView2<'_, f32>,
    second: ArrayView2<'_, f32>,
    permutations: usize,
    seed: u64,
    job: JobContext<'_>,
) -> Result<Option<MmdTest>, Cancelled> {
    let m = first.nrows();
    if m < 2 || second.nrows() < 2 || first.ncols() != second.ncols() {
        return Ok(None);
    }
    let pooled = concatenate(Axis(0), &[first, second])
        .map(|p| p.mapv(f64::from))
        .unwrap_or_default();
    let squared = squared_distances(&pooled);
    let sigma = median_pair_distance(&squared);
    if sigma <= 0.0 || !sigma.is_finite() {
        return Ok(None);
    }
    let scale = -1.0 / (2.0 * sigma * sigma);
    let kernel = squared.mapv(|d| (d * scale).exp());
    let row_sums: Vec<f64> = kernel.rows().into_iter().map(|r| r.sum()).collect();
    let total = row_sums.iter().sum();
    let sums = KernelSums {
        kernel,
        row_sums,
        total,
    };
    let inside: f64 = sums.kernel.slice(s![..m, ..m]).sum();
    let row_total: f64 = sums.row_sums[..m].iter().sum();
    let observed = sums.mmd2(inside, row_total, m);

    let rows = pooled.nrows();
    let mut random = SplitMix64::new(seed);
    let mut order: Vec<usize> = (0..rows).collect();
    let mut at_least = 0usize;
    let mut done = 0;
    while done < permutations {
        job.check_cancelled()?;
        let block = PERMUTATION_BLOCK.min(permutations - done);
        let mut indicators = Array2::<f64>::zeros((rows, block));
        let mut row_totals = vec![0.0; block];
        for (column, row_total) in row_totals.iter_mut().enumerate() {
            // A uniformly random subset of m rows: the first m of a partial Fisher–Yates.
            for slot in 0..m {
                let pick = slot + (random.next_u64() % (rows - slot) as u64) as usize;
                order.swap(slot, pick);
            }
            for &row in &order[..m] {
                indicators[[row, column]] = 1.0;
                *row_total += sums.row_sums[row];
            }
        }
        let products = matmul(sums.kernel.view(), indicators.view());
        for (column, row_total) in row_totals.iter().enumerate() {
            let inside: f64 = products
                .column(column)
                .iter()
                .zip(indicators.column(column))
                .map(|(p, i)| p * i)
                .sum();
            if sums.mmd2(inside, *row_total, m) >= observed {
                at_least += 1;
            }
        }
        done += block;
        job.report("MMD permutations", done as u64, permutations as u64);
    }
    Ok(Some(MmdTest {
        mmd2: observed,
        p_value: (1 + at_least) as f64 / (1 + permutations) as f64,
        sigma,
    }))
}

#[cfg(test)]
mod tests {
    use faceemo_jobs::{CancelToken, IgnoreProgress};
    use ndarray::array;

    use super::*;

    fn run(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>, seed: u64) -> Option<MmdTest> {
        let cancel = CancelToken::new();
        mmd_test(a, b, 200, seed, JobContext::new(&IgnoreProgress, &cancel)).expect("not cancelled")
    }

    /// MMD² by its definition, pair by pair.
    fn direct_mmd2(a: &Array2<f32>, b: &Array2<f32>, sigma: f64) -> f64 {
        let k = |x: ndarray::ArrayView1<'_, f32>, y: ndarray::ArrayView1<'_, f32>| {
            let d: f64 = x.iter().zip(y).map(|(p, q)| f64::from(p - q).powi(2)).sum();
            (-d / (2.0 * sigma * sigma)).exp()
        };
        let mean_within = |s: &Array2<f32>| {
            let n = s.nrows();
            let mut sum = 0.0;
            for i in 0..n {
                for j in 0..n {
                    if i != j {
                        sum += k(s.row(i), s.row(j));
                    }
                }
            }
            sum / (n * (n - 1)) as f64
        };
        let mut between = 0.0;
        for x in a.rows() {
            for y in b.rows() {
                between += k(x, y);
            }
        }
        mean_within(a) + mean_within(b) - 2.0 * between / (a.nrows() * b.nrows()) as f64
    }

    #[test]
    fn mmd2_matches_its_pairwise_definition() {
        let a = array![[0.0f32, 0.0], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5]];
        let b = array![[2.0f32, 2.0], [3.0, 2.0], [2.5, 3.0]];
        let test = run(a.view(), b.view(), 1).expect("test");
        let want = direct_mmd2(&a, &b, test.sigma);
        assert!((test.mmd2 - want).abs() < 1e-12, "{} vs {want}", test.mmd2);
    }

    #[test]
    fn separated_samples_are_significant_and_the_same_seed_gives_the_same_p() {
        let mut random = SplitMix64::new(4);
        let a = Array2::from_shape_simple_fn((40, 3), || random.normal() as f32);
        let b = Array2::from_shape_simple_fn((40, 3), || random.normal() as f32 + 3.0);
        let far = run(a.view(), b.view(), 9).expect("test");
        assert!(far.p_value < 0.01, "{far:?}");
        assert_eq!(run(a.view(), b.view(), 9), Some(far));
        let c = Array2::from_shape_simple_fn((40, 3), || random.normal() as f32);
        let near = run(a.view(), c.view(), 9).expect("test");
        assert!(near.p_value > 0.05, "{near:?}");
        assert!(near.mmd2 < far.mmd2);
    }

    #[test]
    fn too_few_rows_or_identical_points_give_no_test() {
        let one = array![[1.0f32, 2.0]];
        let two = array![[1.0f32, 2.0], [1.0, 2.0]];
        assert_eq!(run(one.view(), two.view(), 0), None);
        assert_eq!(run(two.view(), two.view(), 0), None);
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        // Points 0, 1, 3 on a line: distances 1, 3, 2 -> median 2; add 6: 1,3,6,2,5,3 -> 3.
        let three = array![[0.0], [1.0], [3.0]];
        assert!((median_pair_distance(&squared_distances(&three)) - 2.0).abs() < 1e-12);
        let four = array![[0.0], [1.0], [3.0], [6.0]];
        assert!((median_pair_distance(&squared_distances(&four)) - 3.0).abs() < 1e-12);
    }
}

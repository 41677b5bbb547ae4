//! The fuzzy simplicial set of UMAP: per point, a distance scale that makes its
//! neighbourhood hold `log2(k)` of membership beyond the nearest neighbour, then the fuzzy
//! union `A + Aᵀ − A∘Aᵀ` of the directed memberships. As umap-learn's `smooth_knn_dist`,
//! `compute_membership_strengths` and `fuzzy_simplicial_set` (`set_op_mix_ratio` 1).

use rayon::prelude::*;

use crate::knn::Neighbours;

/// Bisection stops when the membership sum is this close to its target.
const SMOOTH_K_TOLERANCE: f64 = 1e-5;
/// A scale never falls below this fraction of the mean neighbour distance.
const MIN_K_DIST_SCALE: f64 = 1e-3;
/// Bisection steps at most.
const BISECTION_STEPS: usize = 64;

/// A sparse symmetric graph in compressed rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FuzzyGraph {
    /// `rows + 1` offsets into `columns` and `weights`.
    pub offsets: Vec<usize>,
    /// Column of each edge, ascending within a row.
    pub columns: Vec<u32>,
    /// Membership of each edge, in (0, 1].
    pub weights: Vec<f32>,
}

impl FuzzyGraph {
    /// Vertices.
    pub fn rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The edges of one vertex: columns and weights.
    pub fn row(&self, row: usize) -> (&[u32], &[f32]) {
        let range = self.offsets[row]..self.offsets[row + 1];
        (&self.columns[range.clone()], &self.weights[range])
    }

    /// Drops the edges lighter than `threshold` (umap-learn drops those below
    /// `max / n_epochs`, which would be sampled less than once).
    pub fn prune_below(&mut self, threshold: f32) {
        let mut offsets = Vec::with_capacity(self.offsets.len());
        let mut columns = Vec::with_capacity(self.columns.len());
        let mut weights = Vec::with_capacity(self.weights.len());
        offsets.push(0);
        for row in 0..self.rows() {
            let (cols, values) = self.row(row);
            for (&c, &w) in cols.iter().zip(values) {
                if w >= threshold {
                    columns.push(c);
                    weights.push(w);
                }
            }
            offsets.push(columns.len());
        }
        *self = Self {
            offsets,
            columns,
            weights,
        };
    }

    /// The largest weight (0 for no edges).
    pub fn max_weight(&self) -> f32 {
        self.weights.iter().copied().fold(0.0, f32::max)
    }
}

/// The distance scale `σ` and the local offset `ρ` of one point, from its neighbour
/// distances (ascending; umap-learn's rows start with the point itself at 0, and the sum
/// skips that first entry).
pub(crate) fn smooth_knn(
    distances: &[f32],
    k: f64,
    local_connectivity: f64,
    mean_distances: f64,
) -> (f32, f32) {
    let target = k.log2();
    let non_zero: Vec<f32> = distances.iter().copied().filter(|&d| d > 0.0).collect();
    let mut rho = 0.0f32;
    if non_zero.len() as f64 >= local_connectivity {
        let index = local_connectivity.floor() as usize;
        let interpolation = local_connectivity - index as f64;
        if index > 0 {
            rho = non_zero[index - 1];
            if interpolation > SMOOTH_K_TOLERANCE {
                rho += (interpolation as f32) * (non_zero[index] - non_zero[index - 1]);
            }
        } else {
            rho = (interpolation as f32) * non_zero[0];
        }
    } else if let Some(&largest) = non_zero.last() {
        rho = largest;
    }
    let (mut low, mut high, mut mid) = (0.0f64, f64::INFINITY, 1.0f64);
    for _ in 0..BISECTION_STEPS {
        let sum: f64 = distances
            .iter()
            .skip(1)
            .map(|&d| {
                let d = f64::from(d - rho);
                if d > 0.0 { (-(d / mid)).exp() } else { 1.0 }
            })
            .sum();
        if (sum - target).abs() < SMOOTH_K_TOLERANCE {
            break;
        }
        if sum > target {
            high = mid;
            mid = f64::midpoint(low, high);
        } else {
            low = mid;
            if high.is_infinite() {
                mid *= 2.0;
            } else {
                mid = f64::midpoint(low, high);
            }
        }
    }
    let floor = if rho > 0.0 {
        MIN_K_DIST_SCALE * distances.iter().map(|&d| f64::from(d)).sum::<f64>()
            / distances.len().max(1) as f64
    } else {
        MIN_K_DIST_SCALE * mean_distances
    };
    ((mid.max(floor)) as f32, rho)
}

/// The membership of a neighbour at `distance` from a point with scale `sigma` and offset
/// `rho`.
pub(crate) fn membership(distance: f32, sigma: f32, rho: f32) -> f32 {
    if distance - rho <= 0.0 || sigma == 0.0 {
        1.0
    } else {
        (-((distance - rho) / sigma)).exp()
    }
}

/// The symmetrised fuzzy graph of every point from its neighbours (squared distances,
/// the point itself excluded, as [`Neighbours`] holds them): each point's `n_neighbors`
/// are itself and its `neighbours.k` nearest.
pub(crate) fn fuzzy_simplicial_set(neighbours: &Neighbours, local_connectivity: f64) -> FuzzyGraph {
    let k = neighbours.k;
    let rows = neighbours.indices.len() / k.max(1);
    let n_neighbors = (k + 1) as f64;
    let distances: Vec<f32> = neighbours
        .distances
        .iter()
        .map(|d| d.max(0.0).sqrt())
        .collect();
    let mean_distances =
        distances.iter().map(|&d| f64::from(d)).sum::<f64>() / ((rows * (k + 1)).max(1)) as f64;
    let memberships: Vec<f32> = (0..rows)
        .into_par_iter()
        .flat_map_iter(|row| {
            let own = &distances[row * k..(row + 1) * k];
            let mut with_self = Vec::with_capacity(k + 1);
            with_self.push(0.0);
            with_self.extend_from_slice(own);
            let (sigma, rho) =
                smooth_knn(&with_self, n_neighbors, local_connectivity, mean_distances);
            own.iter()
                .map(move |&d| membership(d, sigma, rho))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut entries: Vec<(u32, u32, f32, bool)> = Vec::with_capacity(2 * memberships.len());
    for row in 0..rows {
        for slot in 0..k {
            let column = neighbours.indices[row * k + slot];
            let value = memberships[row * k + slot];
            if column as usize != row && value > 0.0 {
                entries.push((row as u32, column, value, false));
                entries.push((column, row as u32, value, true));
            }
        }
    }
    entries.par_sort_unstable_by_key(|&(r, c, _, transposed)| (r, c, transposed));
    let mut graph = FuzzyGraph {
        offsets: vec![0; rows + 1],
        columns: Vec::with_capacity(entries.len() / 2 + rows),
        weights: Vec::with_capacity(entries.len() / 2 + rows),
    };
    let mut i = 0;
    while i < entries.len() {
        let (row, column, ..) = entries[i];
        let (mut direct, mut transposed) = (0.0f32, 0.0f32);
        while i < entries.len() && entries[i].0 == row && entries[i].1 == column {
            if entries[i].3 {
                transposed = transposed.max(entries[i].2);
            } else {
                direct = direct.max(entries[i].2);
            }
            i += 1;
        }
        let weight = (direct + transposed) - direct * transposed;
        if weight > 0.0 {
            graph.columns.push(column);
            graph.weights.push(weight);
            graph.offsets[row as usize + 1] += 1;
        }
    }
    for row in 0..rows {
        graph.offsets[row + 1] += graph.offsets[row];
    }
    graph
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::nearest_neighbours;
    use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext};
    use ndarray::Array2;

    #[test]
    fn the_symmetrised_weights_match_umap_learns_fuzzy_simplicial_set() {
        let reference = super::super::tests::reference();
        let fuzzy = &reference["fuzzy"];
        let rows_of = |key: &str| -> Vec<f64> {
            fuzzy[key]
                .as_array()
                .expect(key)
                .iter()
                .map(|v| v.as_f64().expect("number"))
                .collect()
        };
        let data: Vec<Vec<f32>> = fuzzy["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|r| {
                r.as_array()
                    .expect("row")
                    .iter()
                    .map(|v| v.as_f64().expect("x") as f32)
                    .collect()
            })
            .collect();
        let data = Array2::from_shape_fn((data.len(), data[0].len()), |(i, j)| data[i][j]);
        let n_neighbors = fuzzy["n_neighbors"].as_u64().expect("n") as usize;
        let cancel = CancelToken::new();
        let all: Vec<usize> = (0..data.nrows()).collect();
        let neighbours = nearest_neighbours(
            data.view(),
            &all,
            n_neighbors - 1,
            JobContext::new(&IgnoreProgress, &cancel),
        )
        .expect("neighbours");
        let graph = fuzzy_simplicial_set(&neighbours, 1.0);
        let (want_rows, want_cols, want_vals) = (rows_of("rows"), rows_of("cols"), rows_of("vals"));
        assert_eq!(graph.columns.len(), want_vals.len(), "the same edges");
        for ((&r, &c), &v) in want_rows.iter().zip(&want_cols).zip(&want_vals) {
            let (columns, weights) = graph.row(r as usize);
            let at = columns.binary_search(&(c as u32)).expect("the edge exists");
            assert!(
                (f64::from(weights[at]) - v).abs() < 1e-5,
                "edge {r}-{c}: ours {}, umap-learn {v}",
                weights[at]
            );
        }
    }

    #[test]
    fn identical_points_are_fully_connected_not_nan() {
        let distances = [0.0f32; 6];
        let (sigma, rho) = smooth_knn(&distances, 6.0, 1.0, 0.0);
        assert!(sigma.is_finite() && rho == 0.0);
        assert!((membership(0.0, sigma, rho) - 1.0).abs() < f32::EPSILON);
    }
}

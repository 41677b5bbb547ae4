//! Who a row's neighbours are: the share of its 10 nearest rows (cosine, full feature space)
//! with its emotion and with its dataset, and silhouettes (cosine) by dataset and emotion.

use faceemo_jobs::{Cancelled, JobContext};
use faceemo_projection::nearest_neighbours;
use ndarray::{Array2, ArrayView2, Axis};
use serde::Serialize;

/// Neighbours per row in the neighbourhood shares.
pub const NEIGHBOURS: usize = 10;

/// The rows scaled to unit length (zero rows stay zero), so Euclidean neighbours are cosine
/// neighbours.
pub fn unit_rows(data: ArrayView2<'_, f32>) -> Array2<f32> {
    let mut out = data.to_owned();
    for mut row in out.axis_iter_mut(Axis(0)) {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        }
    }
    out
}

/// Mean shares of a group's rows' neighbours that share their emotion and their dataset.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NeighbourhoodShare {
    /// Mean share of neighbours with the row's emotion (labelled rows only).
    pub same_emotion: Option<f64>,
    /// Mean share of neighbours from the row's dataset.
    pub same_dataset: Option<f64>,
    /// Rows the shares are averaged over.
    pub rows: usize,
}

/// For each query row of `unit` (unit-length rows), the share of its [`NEIGHBOURS`] nearest
/// other rows with the same truth and the same group: `(same_truth, same_group)` per query,
/// `same_truth` `None` for an unlabelled query.
pub fn neighbour_agreement(
    unit: ArrayView2<'_, f32>,
    queries: &[usize],
    truth: &[Option<u8>],
    group: &[u16],
    job: JobContext<'_>,
) -> Result<Vec<(Option<f64>, f64)>, Cancelled> {
    let found = nearest_neighbours(unit, queries, NEIGHBOURS, job)?;
    Ok(queries
        .iter()
        .enumerate()
        .map(|(q, &row)| {
            let (indices, _) = found.of(q);
            let k = indices.len().max(1) as f64;
            let same_group = indices
                .iter()
                .filter(|&&i| group[i as usize] == group[row])
                .count() as f64
                / k;
            let same_truth = truth[row].map(|t| {
                indices
                    .iter()
                    .filter(|&&i| truth[i as usize] == Some(t))
                    .count() as f64
                    / k
            });
            (same_truth, same_group)
        })
        .collect())
}

/// Mean silhouette coefficient with cosine distance (scikit-learn's
/// `silhouette_score(metric="cosine")`) of unit-length rows labelled `0..labels`. A row
/// alone in its cluster scores 0. `None` unless there are at least 2 and at most `n − 1`
/// labels.
///
/// The distance sums to a cluster come from its summed unit vector:
/// `Σ_{j∈c} (1 − x̂ᵢ·x̂ⱼ) = |c| − x̂ᵢ·Σ_{j∈c} x̂ⱼ`, so the cost is rows × clusters × width.
pub fn silhouette(unit: ArrayView2<'_, f32>, label: &[usize]) -> Option<f64> {
    let n = unit.nrows();
    let labels = label.iter().max().map_or(0, |&l| l + 1);
    let mut sizes = vec![0usize; labels];
    for &l in label {
        sizes[l] += 1;
    }
    let used = sizes.iter().filter(|&&s| s > 0).count();
    if used < 2 || used > n.saturating_sub(1) {
        return None;
    }
    let width = unit.ncols();
    let mut centre_sums = Array2::<f64>::zeros((labels, width));
    for (row, &l) in unit.rows().into_iter().zip(label) {
        centre_sums
            .row_mut(l)
            .zip_mut_with(&row, |s, &v| *s += f64::from(v));
    }
    let mut total = 0.0;
    for (row, &own) in unit.rows().into_iter().zip(label) {
        let row64 = row.mapv(f64::from);
        let self_term = 1.0 - row64.dot(&row64);
        let mut inner = f64::INFINITY;
        let mut outer = f64::INFINITY;
        for (cluster, sums) in centre_sums.rows().into_iter().enumerate() {
            let size = sizes[cluster];
            if size == 0 {
                continue;
            }
            let distance_sum = size as f64 - row64.dot(&sums);
            if cluster == own {
                if size > 1 {
                    inner = (distance_sum - self_term) / (size - 1) as f64;
                }
            } else {
                outer = outer.min(distance_sum / size as f64);
            }
        }
        if inner.is_finite() {
            let spread = inner.max(outer);
            if spread > 0.0 {
                total += (outer - inner) / spread;
            }
        }
    }
    Some(total / n as f64)
}

#[cfg(test)]
mod tests {
    use faceemo_jobs::{CancelToken, IgnoreProgress};
    use ndarray::array;

    use super::*;

    /// Silhouette by its definition, pair by pair.
    fn direct_silhouette(unit: &Array2<f32>, label: &[usize]) -> f64 {
        let n = unit.nrows();
        let distance = |i: usize, j: usize| {
            if i == j {
                0.0
            } else {
                1.0 - f64::from(unit.row(i).dot(&unit.row(j)))
            }
        };
        let labels = label.iter().max().expect("labels") + 1;
        let mut total = 0.0;
        for i in 0..n {
            let mean_to = |c: usize, skip_self: bool| {
                let members: Vec<usize> = (0..n).filter(|&j| label[j] == c).collect();
                let count = members.len() - usize::from(skip_self);
                members.iter().map(|&j| distance(i, j)).sum::<f64>() / count as f64
            };
            if label.iter().filter(|&&l| l == label[i]).count() == 1 {
                continue;
            }
            let a = mean_to(label[i], true);
            let b = (0..labels)
                .filter(|&c| c != label[i])
                .map(|c| mean_to(c, false))
                .fold(f64::INFINITY, f64::min);
            total += (b - a) / a.max(b);
        }
        total / n as f64
    }

    #[test]
    fn silhouette_matches_its_pairwise_definition() {
        let raw = array![
            [1.0f32, 0.1, 0.0],
            [0.9, 0.2, 0.1],
            [0.1, 1.0, 0.0],
            [0.2, 0.8, 0.3],
            [0.0, 0.1, 1.0],
            [0.5, 0.5, 0.5]
        ];
        let unit = unit_rows(raw.view());
        let label = [0, 0, 1, 1, 2, 0];
        let got = silhouette(unit.view(), &label).expect("silhouette");
        let want = direct_silhouette(&unit, &label);
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        assert_eq!(silhouette(unit.view(), &[0; 6]), None);
    }

    #[test]
    fn neighbours_of_a_tight_cluster_share_its_labels() {
        // Two directions, six rows each: every row's neighbours are its own five and others.
        let mut rows = Vec::new();
        for i in 0..12 {
            let t = i as f32 * 0.01;
            rows.extend(if i < 6 { [1.0, t] } else { [t, 1.0] });
        }
        let data = Array2::from_shape_vec((12, 2), rows).expect("shape");
        let unit = unit_rows(data.view());
        let truth: Vec<Option<u8>> = (0..12).map(|i| Some(u8::from(i >= 6))).collect();
        let group: Vec<u16> = (0..12).map(|i| u16::from(i % 2 == 0)).collect();
        let cancel = CancelToken::new();
        let shares = neighbour_agreement(
            unit.view(),
            &[0, 7],
            &truth,
            &group,
            JobContext::new(&IgnoreProgress, &cancel),
        )
        .expect("not cancelled");
        // 10 neighbours of 11 others: the 5 of its own emotion and 5 of the other.
        assert_eq!(shares[0].0, Some(0.5));
        assert!(shares[0].1 > 0.0);
    }
}

//! How far apart the source datasets sit in feature space: the cosine distance between
//! their centroids, for every pair. Zero on the diagonal; larger means more shift.

use ndarray::ArrayView2;

/// Pairwise centroid distances between groups of rows.
#[derive(Clone, Debug, PartialEq)]
pub struct CentroidShift {
    /// Group names, in matrix order.
    pub names: Vec<String>,
    /// Rows per group (finite rows only).
    pub counts: Vec<usize>,
    /// `distances[a][b]` = 1 − cos(centroid a, centroid b).
    pub distances: Vec<Vec<f64>>,
}

impl CentroidShift {
    /// Centroids of the rows of `blocks` (one block per split, rows in order) grouped by
    /// `groups` (one group index per row across all blocks). Rows with NaN or infinite
    /// values are left out.
    pub fn measure(blocks: &[ArrayView2<'_, f32>], groups: &[u16], names: &[String]) -> Self {
        let width = blocks.first().map_or(0, ndarray::ArrayBase::ncols);
        let mut sums = vec![vec![0.0f64; width]; names.len()];
        let mut counts = vec![0usize; names.len()];
        let rows = blocks.iter().flat_map(|block| block.rows());
        for (row, &group) in rows.zip(groups) {
            let group = usize::from(group);
            if group >= names.len() || row.len() != width || !row.iter().all(|v| v.is_finite()) {
                continue;
            }
            for (sum, &value) in sums[group].iter_mut().zip(row) {
                *sum += f64::from(value);
            }
            counts[group] += 1;
        }
        let distances = sums
            .iter()
            .map(|a| sums.iter().map(|b| 1.0 - cosine(a, b)).collect())
            .collect();
        Self {
            names: names.to_vec(),
            counts,
            distances,
        }
    }
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norms =
        a.iter().map(|x| x * x).sum::<f64>().sqrt() * b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norms > 0.0 { dot / norms } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn groups_pointing_the_same_way_have_no_shift_and_orthogonal_ones_have_one() {
        let first = array![[1.0f32, 0.0], [3.0, 0.0]];
        let second = array![[0.0f32, 2.0], [f32::NAN, 1.0], [2.0, 0.0]];
        let names = vec!["A".to_owned(), "B".to_owned(), "C".to_owned()];
        let shift =
            CentroidShift::measure(&[first.view(), second.view()], &[0, 0, 1, 1, 2], &names);
        assert_eq!(shift.counts, vec![2, 1, 1]);
        assert!(shift.distances[0][0].abs() < 1e-12);
        assert!((shift.distances[0][1] - 1.0).abs() < 1e-12);
        assert!(shift.distances[0][2].abs() < 1e-12);
        assert!((shift.distances[1][2] - shift.distances[2][1]).abs() < 1e-15);
    }
}

//! Input similarities: a Gaussian per point over its nearest neighbours, its width found by
//! bisection so the distribution has the requested perplexity, then symmetrised.

use rayon::prelude::*;

use crate::knn::Neighbours;

/// A sparse symmetric matrix in compressed rows, summing to 1.
#[derive(Clone, Debug, Default)]
pub(crate) struct SparseAffinities {
    /// `rows + 1` offsets into `columns` and `values`.
    pub offsets: Vec<usize>,
    /// Column of each entry, sorted within a row.
    pub columns: Vec<u32>,
    /// Value of each entry.
    pub values: Vec<f64>,
}

impl SparseAffinities {
    /// The entries of one row.
    pub fn row(&self, row: usize) -> (&[u32], &[f64]) {
        let range = self.offsets[row]..self.offsets[row + 1];
        (&self.columns[range.clone()], &self.values[range])
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
}

/// Conditional probabilities `p(j | i)` over each query's neighbours (row-major, `k` each).
pub(crate) fn conditional(neighbours: &Neighbours, perplexity: f64) -> Vec<f64> {
    let k = neighbours.k;
    let mut probabilities = vec![0.0; neighbours.indices.len()];
    if k == 0 {
        return probabilities;
    }
    probabilities
        .par_chunks_mut(k)
        .enumerate()
        .for_each(|(query, out)| {
            let (_, distances) = neighbours.of(query);
            gaussian_with_perplexity(distances, perplexity, out);
        });
    probabilities
}

/// Writes `exp(−β·d)` normalised, with β bisected until the entropy is `ln(perplexity)`.
pub(crate) fn gaussian_with_perplexity(
    squared_distances: &[f32],
    perplexity: f64,
    out: &mut [f64],
) {
    let target = perplexity.ln();
    let nearest = squared_distances
        .iter()
        .copied()
        .fold(f32::INFINITY, f32::min);
    let shifted: Vec<f64> = squared_distances
        .iter()
        .map(|&d| f64::from(d - nearest))
        .collect();
    let (mut beta, mut low, mut high) = (1.0f64, 0.0f64, f64::INFINITY);
    for _ in 0..200 {
        let mut total = 0.0;
        let mut weighted = 0.0;
        for (p, &d) in out.iter_mut().zip(&shifted) {
            *p = (-beta * d).exp();
            total += *p;
            weighted += *p * d;
        }
        let entropy = total.ln() + beta * weighted / total;
        for p in out.iter_mut() {
            *p /= total;
        }
        if (entropy - target).abs() < 1e-8 {
            break;
        }
        if entropy > target {
            low = beta;
            beta = if high.is_finite() {
                f64::midpoint(beta, high)
            } else {
                beta * 2.0
            };
        } else {
            high = beta;
            beta = f64::midpoint(beta, low);
        }
    }
}

/// `P = (P_cond + P_condᵀ) / (2N)` in compressed rows.
pub(crate) fn symmetrise(neighbours: &Neighbours, conditional: &[f64]) -> SparseAffinities {
    let k = neighbours.k;
    let rows = neighbours.indices.len().checked_div(k).unwrap_or(0);
    // The transpose: for each column j, the (i, p(j|i)) pointing at it.
    let mut incoming_counts = vec![0usize; rows + 1];
    for &j in &neighbours.indices {
        incoming_counts[j as usize + 1] += 1;
    }
    for r in 0..rows {
        incoming_counts[r + 1] += incoming_counts[r];
    }
    let mut fill = incoming_counts.clone();
    let mut incoming = vec![(0u32, 0.0f64); neighbours.indices.len()];
    for i in 0..rows {
        let (columns, _) = neighbours.of(i);
        for (slot, &j) in columns.iter().enumerate() {
            incoming[fill[j as usize]] = (i as u32, conditional[i * k + slot]);
            fill[j as usize] += 1;
        }
    }
    let scale = 1.0 / (2.0 * rows.max(1) as f64);
    let merged: Vec<Vec<(u32, f64)>> = (0..rows)
        .into_par_iter()
        .map(|i| {
            let (columns, _) = neighbours.of(i);
            let mut entries: Vec<(u32, f64)> = columns
                .iter()
                .enumerate()
                .map(|(slot, &j)| (j, conditional[i * k + slot]))
                .chain(
                    incoming[incoming_counts[i]..incoming_counts[i + 1]]
                        .iter()
                        .copied(),
                )
                .collect();
            entries.sort_unstable_by_key(|&(j, _)| j);
            let mut row: Vec<(u32, f64)> = Vec::with_capacity(entries.len());
            for (j, p) in entries {
                match row.last_mut() {
                    Some(last) if last.0 == j => last.1 += p,
                    _ => row.push((j, p)),
                }
            }
            for entry in &mut row {
                entry.1 *= scale;
            }
            row
        })
        .collect();
    let mut affinities = SparseAffinities {
        offsets: Vec::with_capacity(rows + 1),
        ..SparseAffinities::default()
    };
    affinities.offsets.push(0);
    for row in merged {
        for (j, p) in row {
            affinities.columns.push(j);
            affinities.values.push(p);
        }
        affinities.offsets.push(affinities.columns.len());
    }
    affinities
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bisection_hits_the_perplexity() {
        let distances: Vec<f32> = (0..90).map(|i| (i as f32 * 0.37).powi(2)).collect();
        let mut p = vec![0.0; 90];
        gaussian_with_perplexity(&distances, 30.0, &mut p);
        let entropy: f64 = -p
            .iter()
            .filter(|&&v| v > 0.0)
            .map(|&v| v * v.ln())
            .sum::<f64>();
        assert!((entropy.exp() - 30.0).abs() < 1e-3, "{}", entropy.exp());
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p.windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    fn symmetrised_affinities_are_symmetric_and_sum_to_one() {
        let neighbours = Neighbours {
            k: 2,
            indices: vec![1, 2, 0, 2, 1, 0],
            distances: vec![1.0, 4.0, 1.0, 1.0, 1.0, 4.0],
        };
        let conditional = conditional(&neighbours, 1.5);
        let p = symmetrise(&neighbours, &conditional);
        let total: f64 = p.values.iter().sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
        let value = |i: usize, j: u32| {
            let (columns, values) = p.row(i);
            columns
                .iter()
                .position(|&c| c == j)
                .map_or(0.0, |at| values[at])
        };
        assert!((value(0, 1) - value(1, 0)).abs() < 1e-15);
        assert!((value(0, 2) - value(2, 0)).abs() < 1e-15);
    }
}

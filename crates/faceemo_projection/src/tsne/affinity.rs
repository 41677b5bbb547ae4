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

/// Writes `exp(−β·d)` normalised, with β found (to 1e-8 in entropy) so that the entropy is
/// `ln(perplexity)`: Newton steps on the entropy (`dH/dβ = −β·Var(d)`) from `β = 1 / mean d`,
/// kept inside a bracket that shrinks every step, and bisection whenever a Newton step would
/// leave it — a handful of passes over the neighbours where plain bisection from `β = 1`
/// takes dozens.
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
    #[allow(clippy::cast_precision_loss, reason = "a few hundred neighbours")]
    let mean = shifted.iter().sum::<f64>() / shifted.len().max(1) as f64;
    let mut beta = if mean > 0.0 && mean.is_finite() {
        1.0 / mean
    } else {
        1.0
    };
    let (mut low, mut high) = (0.0f64, f64::INFINITY);
    let mut total = 1.0;
    for _ in 0..200 {
        total = 0.0;
        let mut weighted = 0.0;
        let mut weighted_square = 0.0;
        for (p, &d) in out.iter_mut().zip(&shifted) {
            *p = (-beta * d).exp();
            total += *p;
            weighted += *p * d;
            weighted_square += *p * d * d;
        }
        let mean_d = weighted / total;
        let entropy = total.ln() + beta * mean_d;
        let gap = entropy - target;
        if gap.abs() < 1e-8 {
            break;
        }
        if gap > 0.0 {
            low = beta;
        } else {
            high = beta;
        }
        let variance = (weighted_square / total - mean_d * mean_d).max(0.0);
        let newton = beta + gap / (beta * variance);
        beta = if newton > low && newton < high && newton.is_finite() {
            newton
        } else if high.is_finite() {
            f64::midpoint(low, high)
        } else {
            beta * 2.0
        };
    }
    for p in out.iter_mut() {
        *p /= total;
    }
}

/// Rows per task when merging the symmetrised rows.
const MERGE_ROWS: usize = 1024;

/// `P = (P_cond + P_condᵀ) / (2N)` in compressed rows. The transpose is a counting sort of
/// the neighbour slots by column; rows are merged in parallel pieces of [`MERGE_ROWS`],
/// each into flat buffers (no allocation per row), then laid end to end.
pub(crate) fn symmetrise(neighbours: &Neighbours, conditional: &[f64]) -> SparseAffinities {
    let k = neighbours.k;
    let rows = neighbours.indices.len().checked_div(k).unwrap_or(0);
    // The transpose: for each column j, the slots `i·k + s` of the neighbour lists naming it.
    let mut incoming_starts = vec![0usize; rows + 1];
    for &j in &neighbours.indices {
        incoming_starts[j as usize + 1] += 1;
    }
    for r in 0..rows {
        incoming_starts[r + 1] += incoming_starts[r];
    }
    let mut fill = incoming_starts.clone();
    let mut incoming = vec![0usize; neighbours.indices.len()];
    for (slot, &j) in neighbours.indices.iter().enumerate() {
        incoming[fill[j as usize]] = slot;
        fill[j as usize] += 1;
    }
    drop(fill);
    let scale = 1.0 / (2.0 * rows.max(1) as f64);
    let pieces: Vec<(Vec<u32>, Vec<f64>, Vec<usize>)> = (0..rows.div_ceil(MERGE_ROWS))
        .into_par_iter()
        .map(|piece| {
            let first = piece * MERGE_ROWS;
            let last = (first + MERGE_ROWS).min(rows);
            let mut columns: Vec<u32> = Vec::with_capacity((last - first) * k * 3 / 2);
            let mut values: Vec<f64> = Vec::with_capacity(columns.capacity());
            let mut lengths = Vec::with_capacity(last - first);
            let mut entries: Vec<(u32, f64)> = Vec::with_capacity(2 * k);
            for i in first..last {
                let (outgoing, _) = neighbours.of(i);
                entries.clear();
                entries.extend(
                    outgoing
                        .iter()
                        .enumerate()
                        .map(|(slot, &j)| (j, conditional[i * k + slot])),
                );
                entries.extend(
                    incoming[incoming_starts[i]..incoming_starts[i + 1]]
                        .iter()
                        .map(|&slot| ((slot / k) as u32, conditional[slot])),
                );
                entries.sort_unstable_by_key(|&(j, _)| j);
                let row_start = columns.len();
                for &(j, p) in &entries {
                    if columns.len() > row_start && columns.last() == Some(&j) {
                        if let Some(last) = values.last_mut() {
                            *last += p;
                        }
                    } else {
                        columns.push(j);
                        values.push(p);
                    }
                }
                for value in &mut values[row_start..] {
                    *value *= scale;
                }
                lengths.push(columns.len() - row_start);
            }
            (columns, values, lengths)
        })
        .collect();
    let entries = pieces.iter().map(|(columns, _, _)| columns.len()).sum();
    let mut affinities = SparseAffinities {
        offsets: Vec::with_capacity(rows + 1),
        columns: Vec::with_capacity(entries),
        values: Vec::with_capacity(entries),
    };
    affinities.offsets.push(0);
    for (columns, values, lengths) in pieces {
        affinities.columns.extend_from_slice(&columns);
        affinities.values.extend_from_slice(&values);
        for length in lengths {
            let end = affinities.offsets[affinities.offsets.len() - 1] + length;
            affinities.offsets.push(end);
        }
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

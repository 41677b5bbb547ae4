//! t-SNE's attractive forces `Σ_j p_ij w_ij (y_i − y_j)`, `w = 1/(1+d²)`, once per pair.
//!
//! `P` is symmetric, so each pair `i < j` is visited once and its force added to `i` and
//! taken from `j`: half the entries to stream and half the arithmetic of a row-by-row pass.
//! The rows are cut into [`PIECES`] fixed ranges of about equal pair counts, each adding
//! into a buffer of its own, and the buffers are summed in order, so the forces do not
//! depend on the number of threads. In single precision: the layout's copy (8 bytes a
//! point) stays in a core's cache for the random reads and writes, and a point's ~100–200
//! terms sum to about 1e-6, far below what the next step changes.

use rayon::prelude::*;

use super::affinity::SparseAffinities;

/// Fixed ranges of rows the pairs are split into (the work of at most this many threads).
const PIECES: usize = 4;

/// The pairs `i < j` of a symmetric affinity matrix, ready for repeated force passes.
pub(crate) struct Attraction {
    /// `rows + 1` offsets into `columns` and `values`: row `i`'s pairs `(i, j)`, `j > i`.
    offsets: Vec<usize>,
    columns: Vec<u32>,
    values: Vec<f32>,
    /// Row ranges `[start, end)` of the pieces.
    pieces: Vec<(usize, usize)>,
    /// One force buffer per piece.
    buffers: Vec<Vec<[f32; 2]>>,
}

impl Attraction {
    /// The upper triangle of `p`, which must be symmetric in pattern and values (as
    /// [`symmetrise`](super::affinity::symmetrise) makes it): an entry below the diagonal
    /// stands for its mirror image.
    pub(crate) fn new(p: &SparseAffinities) -> Self {
        let rows = p.rows();
        let mut offsets = Vec::with_capacity(rows + 1);
        let mut columns = Vec::new();
        let mut values = Vec::new();
        offsets.push(0);
        for i in 0..rows {
            let (row_columns, row_values) = p.row(i);
            for (&j, &value) in row_columns.iter().zip(row_values) {
                if j as usize > i {
                    columns.push(j);
                    values.push(value as f32);
                }
            }
            offsets.push(columns.len());
        }
        let pairs = columns.len().max(1);
        let mut pieces = Vec::with_capacity(PIECES);
        let mut start = 0;
        for piece in 1..=PIECES {
            let wanted = pairs * piece / PIECES;
            let end = if piece == PIECES {
                rows
            } else {
                offsets.partition_point(|&o| o < wanted).clamp(start, rows)
            };
            pieces.push((start, end));
            start = end;
        }
        let buffers = vec![vec![[0.0; 2]; rows]; PIECES];
        Self {
            offsets,
            columns,
            values,
            pieces,
            buffers,
        }
    }

    /// Writes each point's attractive force into `forces` and returns `Σ_ij p_ij ln w_ij`
    /// when `with_kl` (0 otherwise; the logarithms cost more than the forces).
    pub(crate) fn forces(
        &mut self,
        layout: &[[f32; 2]],
        forces: &mut [[f64; 2]],
        with_kl: bool,
    ) -> f64 {
        let (offsets, columns, values) = (&self.offsets, &self.columns, &self.values);
        let log_sums: Vec<f64> = self
            .buffers
            .par_iter_mut()
            .zip(&self.pieces)
            .map(|(buffer, &(start, end))| {
                buffer.fill([0.0; 2]);
                let mut log_w = 0.0_f64;
                for i in start..end {
                    let [x, y] = layout[i];
                    let mut own = [0.0_f32; 2];
                    let range = offsets[i]..offsets[i + 1];
                    for (&j, &pij) in columns[range.clone()].iter().zip(&values[range]) {
                        let j = j as usize;
                        let [xj, yj] = layout[j];
                        let (dx, dy) = (x - xj, y - yj);
                        let w = 1.0 / (1.0 + dx * dx + dy * dy);
                        let (fx, fy) = (pij * w * dx, pij * w * dy);
                        own[0] += fx;
                        own[1] += fy;
                        buffer[j][0] -= fx;
                        buffer[j][1] -= fy;
                        if with_kl {
                            log_w += f64::from(pij) * f64::from(w).ln();
                        }
                    }
                    buffer[i][0] += own[0];
                    buffer[i][1] += own[1];
                }
                log_w
            })
            .collect();
        let buffers = &self.buffers;
        forces.par_iter_mut().enumerate().for_each(|(i, force)| {
            let mut sum = [0.0_f64; 2];
            for buffer in buffers {
                sum[0] += f64::from(buffer[i][0]);
                sum[1] += f64::from(buffer[i][1]);
            }
            *force = sum;
        });
        // Each pair stands for both (i, j) and (j, i).
        2.0 * log_sums.iter().sum::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knn::Neighbours;
    use crate::tsne::affinity::{conditional, symmetrise};

    #[test]
    fn pairs_visited_once_give_the_row_by_row_forces() {
        // A small random neighbour graph, symmetrised as t-SNE does.
        let (rows, k) = (300, 7);
        let mut random = faceemo_jobs::SplitMix64::new(5);
        let mut indices = Vec::new();
        let mut distances = Vec::new();
        for i in 0..rows {
            let mut picked = Vec::new();
            while picked.len() < k {
                let j = (random.next_u64() % rows as u64) as u32;
                if j as usize != i && !picked.contains(&j) {
                    picked.push(j);
                }
            }
            for j in picked {
                indices.push(j);
                distances.push(random.uniform() as f32 + 0.1);
            }
        }
        let neighbours = Neighbours {
            k,
            indices,
            distances,
        };
        let p = symmetrise(&neighbours, &conditional(&neighbours, 3.0));
        let layout: Vec<[f32; 2]> = (0..rows)
            .map(|_| [random.normal() as f32 * 3.0, random.normal() as f32 * 3.0])
            .collect();
        let mut forces = vec![[0.0; 2]; rows];
        let log_sum = Attraction::new(&p).forces(&layout, &mut forces, true);
        let mut expected_log = 0.0;
        for (i, force) in forces.iter().enumerate() {
            let (columns, values) = p.row(i);
            let mut expected = [0.0_f64; 2];
            let mut magnitude = 0.0_f64;
            for (&j, &pij) in columns.iter().zip(values) {
                let (dx, dy) = (
                    f64::from(layout[i][0] - layout[j as usize][0]),
                    f64::from(layout[i][1] - layout[j as usize][1]),
                );
                let w = 1.0 / (1.0 + dx * dx + dy * dy);
                expected[0] += pij * w * dx;
                expected[1] += pij * w * dy;
                expected_log += pij * w.ln();
                magnitude += pij * w * (dx.abs() + dy.abs());
            }
            for d in 0..2 {
                assert!(
                    (force[d] - expected[d]).abs() <= 1e-5 * magnitude,
                    "row {i}: {force:?} against {expected:?}"
                );
            }
        }
        assert!((log_sum - expected_log).abs() < 1e-5 * expected_log.abs());
    }
}

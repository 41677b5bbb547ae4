//! The repulsive forces of t-SNE in O(N) per iteration, as FIt-SNE computes them
//! (Linderman et al. 2019): the kernel `1/(1+d²)²` is interpolated on an equispaced grid
//! (three Lagrange nodes per interval), the grid-to-grid sums are one FFT convolution, and
//! the potentials are interpolated back to the points.
//!
//! With charges `1, x, y, x²+y²` the four potentials give each point's repulsive force
//! `Σ_j w_ij² (y_i − y_j) / Z` and the normaliser `Z = Σ_{i≠j} w_ij`, `w = 1/(1+d²)`.

use std::sync::Arc;

use rayon::prelude::*;
use realfft::num_complex::Complex;
use realfft::num_traits::Zero;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Interpolation nodes per interval.
const NODES: usize = 3;
/// Intervals per dimension at least.
const MIN_INTERVALS: usize = 50;
/// Intervals per unit of embedding length (openTSNE's `ints_in_interval` = 1).
const INTERVALS_PER_UNIT: f64 = 1.0;
/// Charges: 1, x, y, x² + y².
const CHARGES: usize = 4;

/// Reusable FFT plans for one grid size at a time.
pub(crate) struct FftRepulsion {
    planner: RealFftPlanner<f64>,
    complex_planner: rustfft::FftPlanner<f64>,
}

impl std::fmt::Debug for FftRepulsion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FftRepulsion")
    }
}

/// The grid of one iteration.
struct Grid {
    min: f64,
    box_width: f64,
    intervals: usize,
    /// Nodes per dimension (`intervals × NODES`).
    nodes: usize,
}

impl Grid {
    fn covering(positions: &[[f64; 2]]) -> Self {
        let (min, max) = positions
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p[0]).min(p[1]), hi.max(p[0]).max(p[1]))
            });
        let span = (max - min).max(1e-12);
        let wanted = ((span / INTERVALS_PER_UNIT).ceil() as usize).max(MIN_INTERVALS);
        let intervals = smooth_at_least(wanted);
        Self {
            min,
            box_width: span / intervals as f64,
            intervals,
            nodes: intervals * NODES,
        }
    }

    /// The first node index and the Lagrange weights of a coordinate: the quadratic
    /// Lagrange basis on the interval's nodes at ⅙, ½ and ⅚ of its width.
    #[inline]
    fn weights(&self, value: f64) -> (usize, [f64; NODES]) {
        const _: () = assert!(NODES == 3, "the weights below are written for three nodes");
        let scaled = (value - self.min) / self.box_width;
        let interval = (scaled.floor().max(0.0) as usize).min(self.intervals - 1);
        let u = scaled - interval as f64;
        let (a, b, c) = (u - 1.0 / 6.0, u - 0.5, u - 5.0 / 6.0);
        // Denominators (n_l − n_m)(n_l − n_k): 2/9, −1/9, 2/9.
        (interval * NODES, [4.5 * b * c, -9.0 * a * c, 4.5 * a * b])
    }
}

/// The smallest number ≥ `n` whose only prime factors are 2, 3 and 5 (fast FFT sizes).
fn smooth_at_least(n: usize) -> usize {
    (n.max(1)..=n.max(1) * 2)
        .find(|&m| {
            let mut r = m;
            for p in [2, 3, 5] {
                while r % p == 0 {
                    r /= p;
                }
            }
            r == 1
        })
        .unwrap_or(n)
}

impl FftRepulsion {
    pub(crate) fn new() -> Self {
        Self {
            planner: RealFftPlanner::new(),
            complex_planner: rustfft::FftPlanner::new(),
        }
    }

    /// Writes each point's repulsive force `Σ_j w_ij² (y_i − y_j) / Z` into `forces` and
    /// returns `Z = Σ_{i≠j} w_ij`.
    pub(crate) fn forces(&mut self, positions: &[[f64; 2]], forces: &mut [[f64; 2]]) -> f64 {
        let grid = Grid::covering(positions);
        let side = grid.nodes;
        let length = 2 * side;
        let forward = self.planner.plan_fft_forward(length);
        let inverse = self.planner.plan_fft_inverse(length);
        let column_forward = self.complex_planner.plan_fft_forward(length);
        let column_inverse = self.complex_planner.plan_fft_inverse(length);
        let plans = Plans {
            forward,
            inverse,
            column_forward,
            column_inverse,
            length,
        };

        let kernel = plans.transform(&kernel_grid(&grid));
        let charges = spread(positions, &grid);
        let mut potentials = vec![[0.0; CHARGES]; side * side];
        let scale = 1.0 / (length * length) as f64;
        for charge in 0..CHARGES {
            let mut spectrum = plans.transform(&padded(&charges, charge, side, length));
            for (value, k) in spectrum.iter_mut().zip(&kernel) {
                *value *= k;
            }
            let full = plans.inverse(spectrum, side);
            for (cells, row) in potentials.chunks_mut(side).zip(full.chunks(length)) {
                for (cell, &value) in cells.iter_mut().zip(row) {
                    cell[charge] = value * scale;
                }
            }
        }

        let sums: Vec<f64> = positions
            .par_iter()
            .zip(forces.par_iter_mut())
            .map(|(p, force)| {
                let phi = gather(&grid, &potentials, *p);
                let [x, y] = *p;
                let sum_q =
                    (1.0 + x * x + y * y) * phi[0] - 2.0 * (x * phi[1] + y * phi[2]) + phi[3];
                *force = [x * phi[0] - phi[1], y * phi[0] - phi[2]];
                sum_q
            })
            .collect();
        let z = (sums.iter().sum::<f64>() - positions.len() as f64).max(f64::MIN_POSITIVE);
        forces.par_iter_mut().for_each(|f| {
            f[0] /= z;
            f[1] /= z;
        });
        z
    }
}

/// The kernel `1/(1+d²)²` between grid nodes, laid out for a circular convolution of
/// length `2·nodes` in each dimension.
fn kernel_grid(grid: &Grid) -> Vec<f64> {
    let side = grid.nodes;
    let length = 2 * side;
    let spacing = grid.box_width / NODES as f64;
    let offset = |i: usize| -> Option<f64> {
        match i.cmp(&side) {
            std::cmp::Ordering::Less => Some(i as f64),
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Greater => Some(i as f64 - length as f64),
        }
    };
    let mut values = vec![0.0; length * length];
    for row in 0..length {
        let Some(dy) = offset(row) else { continue };
        for column in 0..length {
            let Some(dx) = offset(column) else { continue };
            let d2 = (dx * dx + dy * dy) * spacing * spacing;
            values[row * length + column] = 1.0 / ((1.0 + d2) * (1.0 + d2));
        }
    }
    values
}

/// Each point's charges spread onto the grid nodes, the four charges of a node side by
/// side (`[node][charge]`, so a point touches nine 32-byte cells). Points are split into as
/// many chunks as threads; chunk grids are added in order (deterministic).
fn spread(positions: &[[f64; 2]], grid: &Grid) -> Vec<[f64; CHARGES]> {
    let side = grid.nodes;
    let chunk = positions
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1);
    let partial: Vec<Vec<[f64; CHARGES]>> = positions
        .par_chunks(chunk)
        .map(|points| {
            let mut charges = vec![[0.0; CHARGES]; side * side];
            for &[x, y] in points {
                let (x0, wx) = grid.weights(x);
                let (y0, wy) = grid.weights(y);
                let q = [1.0, x, y, x * x + y * y];
                for (dy, &weight_y) in wy.iter().enumerate() {
                    let row = &mut charges[(y0 + dy) * side + x0..][..NODES];
                    for (cell, &weight_x) in row.iter_mut().zip(&wx) {
                        let w = weight_x * weight_y;
                        for (total, &charge) in cell.iter_mut().zip(&q) {
                            *total += w * charge;
                        }
                    }
                }
            }
            charges
        })
        .collect();
    let mut parts = partial.into_iter();
    let mut total = parts
        .next()
        .unwrap_or_else(|| vec![[0.0; CHARGES]; side * side]);
    for part in parts {
        for (t, p) in total.iter_mut().zip(part) {
            for (a, b) in t.iter_mut().zip(p) {
                *a += b;
            }
        }
    }
    total
}

/// The four potentials at a point, interpolated from the grid (`[node][charge]`).
#[inline]
fn gather(grid: &Grid, potentials: &[[f64; CHARGES]], point: [f64; 2]) -> [f64; CHARGES] {
    let side = grid.nodes;
    let (x0, wx) = grid.weights(point[0]);
    let (y0, wy) = grid.weights(point[1]);
    let mut phi = [0.0; CHARGES];
    for (dy, &weight_y) in wy.iter().enumerate() {
        let row = &potentials[(y0 + dy) * side + x0..][..NODES];
        for (cell, &weight_x) in row.iter().zip(&wx) {
            let w = weight_x * weight_y;
            for (value, &potential) in phi.iter_mut().zip(cell) {
                *value += w * potential;
            }
        }
    }
    phi
}

/// Charge `charge` of the interleaved grid, in the first `side` rows (each `length` long,
/// zero past `side`) of the zero-padded `length²` grid; the padding rows are left out.
fn padded(charges: &[[f64; CHARGES]], charge: usize, side: usize, length: usize) -> Vec<f64> {
    let mut values = vec![0.0; side * length];
    for (row, cells) in values.chunks_mut(length).zip(charges.chunks(side)) {
        for (value, cell) in row.iter_mut().zip(cells) {
            *value = cell[charge];
        }
    }
    values
}

/// The plans of a 2-D real FFT: rows real-to-complex, then columns complex.
struct Plans {
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    column_forward: Arc<dyn rustfft::Fft<f64>>,
    column_inverse: Arc<dyn rustfft::Fft<f64>>,
    length: usize,
}

impl Plans {
    /// Row-major real grid of `length` columns and up to `length` rows (the rows not given
    /// are zero, so their transforms are too and are skipped) → `length × (length/2+1)`
    /// spectrum.
    fn transform(&self, values: &[f64]) -> Vec<Complex<f64>> {
        let length = self.length;
        let width = length / 2 + 1;
        let mut spectrum = vec![Complex::zero(); length * width];
        spectrum
            .par_chunks_mut(width)
            .zip(values.par_chunks(length))
            .for_each_init(
                || {
                    (
                        self.forward.make_input_vec(),
                        self.forward.make_scratch_vec(),
                    )
                },
                |(input, scratch), (out, row)| {
                    input.copy_from_slice(row);
                    // Lengths come from the same plan, so this cannot fail.
                    let _ = self.forward.process_with_scratch(input, out, scratch);
                },
            );
        self.columns(&mut spectrum, &self.column_forward);
        spectrum
    }

    /// The inverse of [`Plans::transform`], unnormalised, for the first `wanted_rows` rows
    /// of the grid (`wanted_rows × length` values; the rest are never needed).
    fn inverse(&self, mut spectrum: Vec<Complex<f64>>, wanted_rows: usize) -> Vec<f64> {
        let length = self.length;
        let width = length / 2 + 1;
        self.columns(&mut spectrum, &self.column_inverse);
        let mut values = vec![0.0; wanted_rows * length];
        values
            .par_chunks_mut(length)
            .zip(spectrum.par_chunks_mut(width))
            .for_each_init(
                || self.inverse.make_scratch_vec(),
                |scratch, (out, row)| {
                    // A real signal's spectrum has real first and last bins; rounding leaves
                    // a trace of imaginary part there, which the real inverse must not see.
                    row[0].im = 0.0;
                    row[width - 1].im = 0.0;
                    let _ = self.inverse.process_with_scratch(row, out, scratch);
                },
            );
        values
    }

    /// A complex FFT down every column of a `length × width` spectrum: transposed (in
    /// parallel pieces of columns), transformed, transposed back.
    fn columns(&self, spectrum: &mut [Complex<f64>], plan: &Arc<dyn rustfft::Fft<f64>>) {
        let length = self.length;
        let width = length / 2 + 1;
        let mut transposed = vec![Complex::zero(); length * width];
        let source: &[Complex<f64>] = spectrum;
        transposed.par_chunks_mut(length).enumerate().for_each_init(
            || vec![Complex::zero(); plan.get_inplace_scratch_len()],
            |scratch, (column, values)| {
                for (row, value) in values.iter_mut().enumerate() {
                    *value = source[row * width + column];
                }
                plan.process_with_scratch(values, scratch);
            },
        );
        spectrum
            .par_chunks_mut(width)
            .enumerate()
            .for_each(|(row, values)| {
                for (column, value) in values.iter_mut().enumerate() {
                    *value = transposed[column * length + row];
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact forces by direct summation.
    fn exact(positions: &[[f64; 2]]) -> (Vec<[f64; 2]>, f64) {
        let mut z = 0.0;
        let mut forces = vec![[0.0; 2]; positions.len()];
        for (i, a) in positions.iter().enumerate() {
            for (j, b) in positions.iter().enumerate() {
                if i == j {
                    continue;
                }
                let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
                let w = 1.0 / (1.0 + dx * dx + dy * dy);
                z += w;
                forces[i][0] += w * w * dx;
                forces[i][1] += w * w * dy;
            }
        }
        for f in &mut forces {
            f[0] /= z;
            f[1] /= z;
        }
        (forces, z)
    }

    #[test]
    fn interpolated_forces_match_direct_summation() {
        let mut random = faceemo_jobs::SplitMix64::new(5);
        let positions: Vec<[f64; 2]> = (0..600)
            .map(|i| {
                let centre = if i % 2 == 0 { -8.0 } else { 6.0 };
                [centre + 3.0 * random.normal(), 2.0 * random.normal()]
            })
            .collect();
        let (expected, expected_z) = exact(&positions);
        let mut forces = vec![[0.0; 2]; positions.len()];
        let z = FftRepulsion::new().forces(&positions, &mut forces);
        assert!(
            (z - expected_z).abs() / expected_z < 1e-3,
            "Z {z} vs {expected_z}"
        );
        let scale = expected
            .iter()
            .map(|f| f[0].hypot(f[1]))
            .fold(0.0, f64::max);
        let worst = forces
            .iter()
            .zip(&expected)
            .map(|(got, want)| (got[0] - want[0]).hypot(got[1] - want[1]))
            .fold(0.0, f64::max);
        // Three nodes per interval and ≥ 50 intervals (openTSNE's defaults) interpolate the
        // kernel to about a percent.
        assert!(
            worst < 2e-2 * scale,
            "worst error {worst} of the largest force {scale}"
        );
    }

    #[test]
    fn fft_sizes_have_only_small_prime_factors() {
        assert_eq!(smooth_at_least(50), 50);
        assert_eq!(smooth_at_least(77), 80);
        assert_eq!(smooth_at_least(121), 125);
    }
}

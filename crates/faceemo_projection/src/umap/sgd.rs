//! UMAP's layout optimisation, as umap-learn's `optimize_layout_euclidean`: every edge is
//! sampled in proportion to its weight (`epochs_per_sample = max w / w`); a sampled edge
//! pulls its ends together along the curve's attractive gradient and pushes its head away
//! from `negative_rate` random vertices per sample; each gradient term is clipped to ±4; the
//! learning rate falls linearly to 0. One thread with one seeded generator, so a seed gives
//! one layout.
//!
//! Two departures from umap-learn's loop, for speed, neither of which moves the maps'
//! quality (`benches/umap_vs_umap_learn.sh`): the edges are visited in rounds (every vertex's
//! first edge, then every second one, …) rather than vertex by vertex, so consecutive samples
//! move different points and overlap in the processor; and the negative samples of one edge
//! are all evaluated at the head's position after its attractive step, then applied together
//! (umap-learn moves the head after each one), so they run side by side in vector registers.
//! (Sweeping pieces of the edges in parallel, each seeing the other pieces' points as they
//! were when the epoch began, was 1.7× faster on the 89,032-row stand-in but lowered its
//! 10-NN preservation from 0.102 to 0.081–0.088, below umap-learn's 0.101 by more than the
//! maps may lose.)

use faceemo_jobs::{Cancelled, SplitMix64};

use super::fuzzy::FuzzyGraph;

/// The edges to sample, with their sampling periods.
#[derive(Clone, Debug, Default)]
pub(crate) struct Edges {
    /// The vertex each edge moves.
    pub head: Vec<u32>,
    /// The vertex (of the same layout, or of a fixed reference) it is pulled to.
    pub tail: Vec<u32>,
    /// Epochs between two samples of the edge.
    pub epochs_per_sample: Vec<f64>,
}

impl Edges {
    /// Every edge of `graph` (both directions of each, as umap-learn's COO graph holds them),
    /// in rounds: every vertex's first edge, then every vertex's second, and so on, so that
    /// consecutive samples move different vertices and the processor overlaps them.
    pub fn of_graph(graph: &FuzzyGraph) -> Self {
        let max = f64::from(graph.max_weight());
        let mut by_rank: Vec<Self> = Vec::new();
        for row in 0..graph.rows() {
            let (columns, weights) = graph.row(row);
            let kept = columns
                .iter()
                .zip(weights)
                .filter(|&(_, &weight)| weight > 0.0);
            for (rank, (&column, &weight)) in kept.enumerate() {
                if by_rank.len() == rank {
                    by_rank.push(Self::default());
                }
                let round = &mut by_rank[rank];
                round.head.push(row as u32);
                round.tail.push(column);
                round.epochs_per_sample.push(max / f64::from(weight));
            }
        }
        let mut edges = Self::default();
        for round in by_rank {
            edges.head.extend(round.head);
            edges.tail.extend(round.tail);
            edges.epochs_per_sample.extend(round.epochs_per_sample);
        }
        edges
    }
}

/// The fixed knobs of one optimisation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    /// Epochs to run.
    pub epochs: usize,
    /// Learning rate of the first epoch.
    pub initial_alpha: f64,
    /// Negative samples per positive sample.
    pub negative_rate: f64,
    /// Weight of the repulsion.
    pub gamma: f32,
    /// The curve's `a`.
    pub a: f32,
    /// The curve's `b`.
    pub b: f32,
    /// Seed of the negative samples.
    pub seed: u64,
}

/// A vertex drawn from `0..vertices` by the high bits of `random` (multiply and shift, no
/// division).
#[inline]
fn draw(random: &mut SplitMix64, vertices: u64) -> usize {
    (((random.next_u64() >> 32) * vertices) >> 32) as usize
}

/// Clips a gradient term to ±4, as umap-learn does.
#[inline]
fn clip(value: f32) -> f32 {
    value.clamp(-4.0, 4.0)
}

/// `x` to the power `b` for the curve's distances: `exp2(b · log2 x)` by polynomials (a
/// relative error below 2e-6 for `x` in [1e-3, 1e3], below 1e-5 for every normal `x > 0`, where
/// the f32 rounding of `b · log2 x` dominates; libm's `powf` for anything else). About
/// a third of libm's time, and inlined.
#[inline]
pub(crate) fn pow(x: f32, b: f32) -> f32 {
    pow_lanes([x], b)[0]
}

/// [`pow`] of every lane of `x`: the polynomials run on all lanes without a branch (so the
/// compiler evaluates them in vector registers), and only the rare lane they do not cover
/// (subnormal, infinite, NaN, zero with `b ≤ 0`, or a result out of f32's normal range) goes
/// to libm.
#[inline]
#[allow(clippy::many_single_char_names, reason = "the formulas' names")]
pub(crate) fn pow_lanes<const L: usize>(x: [f32; L], b: f32) -> [f32; L] {
    /// The bits of √½: mantissas are brought into [√½, √2), where the polynomial is fitted.
    const SQRT_HALF_BITS: u32 = 0x3f35_04f3;
    /// 1.5 · 2²³: adding it to an f32 below 2²² in magnitude leaves its nearest integer in
    /// the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let mut power = [0.0_f32; L];
    let mut covered = [false; L];
    for lane in 0..L {
        let bits = x[lane].to_bits();
        let exponent = bits.wrapping_sub(SQRT_HALF_BITS).cast_signed() >> 23;
        let mantissa = f32::from_bits(bits.wrapping_sub(exponent.cast_unsigned() << 23));
        let u = mantissa - 1.0;
        // log2(1 + u) / u on [√½ − 1, √2 − 1], Chebyshev-fitted: absolute error 9e-8 on log2.
        let series = std::f32::consts::LOG2_E
            + u * (-0.721_352_76
                + u * (0.480_924_04
                    + u * (-0.360_241_99
                        + u * (0.287_075_6
                            + u * (-0.248_821_8 + u * (0.234_209_85 + u * -0.146_203_53))))));
        #[allow(clippy::cast_precision_loss, reason = "the exponent is within ±150")]
        let y = b * (exponent as f32 + u * series);
        let shifted = y + ROUND;
        let f = y - (shifted - ROUND);
        // 2^f on [−½, ½], Chebyshev-fitted: relative error 1e-7.
        let fraction = 1.000_000_1
            + f * (std::f32::consts::LN_2
                + f * (0.240_221_07
                    + f * (0.055_503_27 + f * (0.009_676_037 + f * 0.001_340_043_2))));
        let whole = shifted.to_bits().wrapping_sub(ROUND.to_bits());
        power[lane] = fraction * f32::from_bits(whole.wrapping_add(127) << 23);
        // Zero (the padding lanes of a batch of negative samples) is 0^b = 0 for b > 0.
        let zero = x[lane] == 0.0 && b > 0.0;
        if zero {
            power[lane] = 0.0;
        }
        covered[lane] =
            zero || (x[lane] >= f32::MIN_POSITIVE && x[lane] < f32::MAX && y > -126.0 && y < 126.0);
    }
    if covered.contains(&false) {
        for lane in 0..L {
            if !covered[lane] {
                power[lane] = x[lane].powf(b);
            }
        }
    }
    power
}

/// Negative samples evaluated together: the lanes of one batch share no dependency.
const NEGATIVE_LANES: usize = 8;

/// Hears each epoch done with the layout; `Err(Cancelled)` stops the run.
pub(crate) type AfterEpoch<'a> = dyn FnMut(usize, &[[f32; 2]]) -> Result<(), Cancelled> + 'a;

/// Runs the optimisation on `layout`. With `reference` `None` the edges join vertices of
/// `layout`, and both ends move; with a reference, tails and negative samples are its
/// vertices and it does not move (umap-learn's `transform`). `after_epoch` hears each epoch
/// done (and the layout) and stops the run by returning `Err(Cancelled)`.
pub(crate) fn optimise(
    layout: &mut [[f32; 2]],
    reference: Option<&[[f32; 2]]>,
    edges: &Edges,
    schedule: Schedule,
    after_epoch: &mut AfterEpoch<'_>,
) -> Result<(), Cancelled> {
    let vertices = reference.map_or(layout.len(), <[_]>::len) as u64;
    if vertices == 0 || edges.head.is_empty() {
        for epoch in 0..schedule.epochs {
            after_epoch(epoch + 1, layout)?;
        }
        return Ok(());
    }
    let Schedule { a, b, gamma, .. } = schedule;
    let per_negative: Vec<f64> = edges
        .epochs_per_sample
        .iter()
        .map(|e| e / schedule.negative_rate)
        .collect();
    let mut next_negative = per_negative.clone();
    let mut next_sample = edges.epochs_per_sample.clone();
    let mut random = SplitMix64::new(schedule.seed);
    let mut alpha = schedule.initial_alpha as f32;
    for epoch in 0..schedule.epochs {
        let n = epoch as f64;
        for i in 0..edges.head.len() {
            if next_sample[i] > n {
                continue;
            }
            let j = edges.head[i] as usize;
            let k = edges.tail[i] as usize;
            let mut current = layout[j];
            let other = match reference {
                Some(r) => r[k],
                None => layout[k],
            };
            let (dx, dy) = (current[0] - other[0], current[1] - other[1]);
            let distance = dx * dx + dy * dy;
            let coefficient = if distance > 0.0 {
                let power = pow(distance, b);
                -2.0 * a * b * (power / distance) / (a * power + 1.0)
            } else {
                0.0
            };
            let gradient = [
                clip(coefficient * dx) * alpha,
                clip(coefficient * dy) * alpha,
            ];
            current[0] += gradient[0];
            current[1] += gradient[1];
            if reference.is_none() {
                layout[k][0] -= gradient[0];
                layout[k][1] -= gradient[1];
            }
            next_sample[i] += edges.epochs_per_sample[i];
            let negatives = ((n - next_negative[i]) / per_negative[i]).max(0.0) as usize;
            let mut push = [0.0_f32; 2];
            let mut left = negatives;
            while left > 0 {
                let take = left.min(NEGATIVE_LANES);
                left -= take;
                // Lanes past `take`, and draws of the head itself, stay at `current`: a zero
                // distance, which pushes nothing.
                let mut others = [current; NEGATIVE_LANES];
                for other in &mut others[..take] {
                    let k = draw(&mut random, vertices);
                    if reference.is_some() || k != j {
                        *other = match reference {
                            Some(r) => r[k],
                            None => layout[k],
                        };
                    }
                }
                let mut dx = [0.0_f32; NEGATIVE_LANES];
                let mut dy = [0.0_f32; NEGATIVE_LANES];
                let mut distance = [0.0_f32; NEGATIVE_LANES];
                for lane in 0..NEGATIVE_LANES {
                    dx[lane] = current[0] - others[lane][0];
                    dy[lane] = current[1] - others[lane][1];
                    distance[lane] = dx[lane] * dx[lane] + dy[lane] * dy[lane];
                }
                let power = pow_lanes(distance, b);
                for lane in 0..NEGATIVE_LANES {
                    let coefficient =
                        2.0 * gamma * b / ((0.001 + distance[lane]) * (a * power[lane] + 1.0));
                    let coefficient = if distance[lane] > 0.0 {
                        coefficient
                    } else {
                        0.0
                    };
                    push[0] += clip(coefficient * dx[lane]);
                    push[1] += clip(coefficient * dy[lane]);
                }
            }
            current[0] += push[0] * alpha;
            current[1] += push[1] * alpha;
            next_negative[i] += negatives as f64 * per_negative[i];
            layout[j] = current;
        }
        alpha = (schedule.initial_alpha * (1.0 - n / schedule.epochs as f64)) as f32;
        after_epoch(epoch + 1, layout)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow_matches_libm_to_two_millionths_where_distances_lie() {
        for b in [0.5_f32, 0.79, 0.89, 1.0, 1.58, 1.93] {
            let mut x = 1e-30_f32;
            while x < 1e30 {
                let (ours, libm) = (pow(x, b), f64::from(x).powf(f64::from(b)));
                if libm > 1e-37 && libm < 1e37 {
                    let relative = (f64::from(ours) / libm - 1.0).abs();
                    let bound = if (1e-3..1e3).contains(&x) { 2e-6 } else { 1e-5 };
                    assert!(relative < bound, "{x}^{b}: {ours} against {libm}");
                }
                x *= 1.0173;
            }
        }
        assert_eq!(pow(0.0, 0.8).to_bits(), 0.0_f32.to_bits());
        assert!(pow(f32::INFINITY, 0.8).is_infinite());
        assert!(pow(f32::NAN, 0.8).is_nan());
        let tiny = f32::MIN_POSITIVE / 8.0;
        assert_eq!(pow(tiny, 0.8).to_bits(), tiny.powf(0.8).to_bits());
    }

    #[test]
    fn draws_cover_the_range_and_stay_in_it() {
        let mut random = SplitMix64::new(1);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            seen[draw(&mut random, 7)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}

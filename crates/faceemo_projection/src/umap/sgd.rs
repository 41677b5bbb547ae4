//! UMAP's layout optimisation, as umap-learn's `optimize_layout_euclidean`: every edge is
//! sampled in proportion to its weight (`epochs_per_sample = max w / w`); a sampled edge
//! pulls its ends together along the curve's attractive gradient and pushes its head away
//! from `negative_rate` random vertices per sample; each gradient term is clipped to ±4; the
//! learning rate falls linearly to 0. One thread in edge order with one seeded generator,
//! so a seed gives one layout. (Sweeping pieces of the edges in parallel, each seeing the
//! other pieces' points as they were when the epoch began, was 1.7× faster on the
//! 89,032-row stand-in but lowered its 10-NN preservation from 0.102 to 0.081–0.088, below
//! umap-learn's 0.101 by more than the maps may lose: `benches/umap_vs_umap_learn.sh`.)

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
    /// Every edge of `graph` (both directions of each, as umap-learn's COO graph holds them).
    pub fn of_graph(graph: &FuzzyGraph) -> Self {
        let max = f64::from(graph.max_weight());
        let mut edges = Self::default();
        for row in 0..graph.rows() {
            let (columns, weights) = graph.row(row);
            for (&column, &weight) in columns.iter().zip(weights) {
                if weight > 0.0 {
                    edges.head.push(row as u32);
                    edges.tail.push(column);
                    edges.epochs_per_sample.push(max / f64::from(weight));
                }
            }
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
                let power = distance.powf(b);
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
            for _ in 0..negatives {
                let k = draw(&mut random, vertices);
                if reference.is_none() && k == j {
                    continue;
                }
                let other = match reference {
                    Some(r) => r[k],
                    None => layout[k],
                };
                let (dx, dy) = (current[0] - other[0], current[1] - other[1]);
                let distance = dx * dx + dy * dy;
                if distance > 0.0 {
                    let coefficient =
                        2.0 * gamma * b / ((0.001 + distance) * (a * distance.powf(b) + 1.0));
                    current[0] += clip(coefficient * dx) * alpha;
                    current[1] += clip(coefficient * dy) * alpha;
                }
            }
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
    fn draws_cover_the_range_and_stay_in_it() {
        let mut random = SplitMix64::new(1);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            seen[draw(&mut random, 7)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}

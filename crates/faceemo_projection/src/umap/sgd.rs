//! UMAP's layout optimisation, as umap-learn's `optimize_layout_euclidean`: every edge is
//! sampled in proportion to its weight (`epochs_per_sample = max w / w`); a sampled edge
//! pulls its ends together along the curve's attractive gradient and pushes its head away
//! from `negative_rate` random vertices per sample; each gradient term is clipped to ±4; the
//! learning rate falls linearly to 0. The sweep is cut into pieces (one today, see
//! [`PIECES`]), each with a generator seeded by the seed, the epoch and the piece, so a
//! seed gives one layout.

use faceemo_jobs::{Cancelled, SplitMix64};
use rayon::prelude::*;

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

/// Pieces the edges of a fit are cut into, at vertex boundaries: each is swept by one
/// thread with a generator of its own, so the layout depends on the seed only, never on
/// the thread count. One: sweeping in parallel pieces (each seeing the others' points as
/// they were when the epoch began) cost 10-NN preservation on the 89,032-row stand-in
/// (0.088 with 2 pieces, 0.081 with 64, against 0.102 for one and umap-learn's 0.101),
/// more than the maps may lose; `benches/umap_vs_umap_learn.sh` measures it.
const PIECES: usize = 1;

/// A run of edges with the same heads, and what sweeping it needs to change.
struct Piece<'a> {
    /// The first edge.
    first_edge: usize,
    /// The first head vertex (the piece owns `first_head..first_head + heads.len()`).
    first_head: usize,
    heads: &'a mut [[f32; 2]],
    next_sample: &'a mut [f64],
    next_negative: &'a mut [f64],
    /// Moves of tail vertices, applied after the epoch in piece order.
    tail_moves: Vec<(u32, [f32; 2])>,
}

/// Runs the optimisation on `layout`. With `reference` `None` the edges join vertices of
/// `layout`, and both ends move; with a reference, tails and negative samples are its
/// vertices and it does not move (umap-learn's `transform`). `after_epoch` hears each epoch
/// done (and the layout) and stops the run by returning `Err(Cancelled)`.
///
/// A fit sweeps pieces of edges in parallel: a piece moves its own vertices at once (as
/// umap-learn does) and reads every other vertex as it was when the epoch began; the
/// moves its edges give to other pieces' vertices are applied when the epoch ends. The
/// edges must be sorted by head, as [`Edges::of_graph`] gives them.
pub(crate) fn optimise(
    layout: &mut [[f32; 2]],
    reference: Option<&[[f32; 2]]>,
    edges: &Edges,
    schedule: Schedule,
    after_epoch: &mut AfterEpoch<'_>,
) -> Result<(), Cancelled> {
    let vertices = reference.map_or(layout.len(), <[_]>::len);
    if vertices == 0 || edges.head.is_empty() {
        for epoch in 0..schedule.epochs {
            after_epoch(epoch + 1, layout)?;
        }
        return Ok(());
    }
    let per_negative: Vec<f64> = edges
        .epochs_per_sample
        .iter()
        .map(|e| e / schedule.negative_rate)
        .collect();
    let mut next_negative = per_negative.clone();
    let mut next_sample = edges.epochs_per_sample.clone();
    let cuts = piece_cuts(
        edges,
        layout.len(),
        if reference.is_some() { 1 } else { PIECES },
    );
    let mut alpha = schedule.initial_alpha as f32;
    let mut snapshot = layout.to_vec();
    for epoch in 0..schedule.epochs {
        let others: &[[f32; 2]] = if let Some(reference) = reference {
            reference
        } else {
            snapshot.copy_from_slice(layout);
            &snapshot
        };
        let mut pieces = split_pieces(&cuts, layout, &mut next_sample, &mut next_negative);
        let sweep = Sweep {
            edges,
            per_negative: &per_negative,
            others,
            moves_tails: reference.is_none(),
            schedule,
            alpha,
            epoch,
        };
        pieces
            .par_iter_mut()
            .enumerate()
            .for_each(|(index, piece)| sweep.run(index, piece));
        let moves: Vec<Vec<(u32, [f32; 2])>> = pieces.into_iter().map(|p| p.tail_moves).collect();
        for (k, delta) in moves.into_iter().flatten() {
            layout[k as usize][0] += delta[0];
            layout[k as usize][1] += delta[1];
        }
        alpha = (schedule.initial_alpha * (1.0 - epoch as f64 / schedule.epochs as f64)) as f32;
        after_epoch(epoch + 1, layout)?;
    }
    Ok(())
}

/// Edge indices where pieces start (and the end), at changes of head, about equal in size.
fn piece_cuts(edges: &Edges, heads: usize, pieces: usize) -> Vec<(usize, usize)> {
    let total = edges.head.len();
    let mut cuts = vec![(0usize, 0usize)];
    for piece in 1..pieces {
        let mut at = (total * piece / pieces).max(cuts.last().map_or(0, |c| c.0));
        while at < total && at > 0 && edges.head[at] == edges.head[at - 1] {
            at += 1;
        }
        if at >= total {
            break;
        }
        let head = edges.head[at] as usize;
        if at > cuts.last().map_or(0, |c| c.0) {
            cuts.push((at, head));
        }
    }
    cuts.push((total, heads));
    cuts
}

/// The layout and the per-edge schedules cut at `cuts`, one mutable piece each.
fn split_pieces<'a>(
    cuts: &[(usize, usize)],
    layout: &'a mut [[f32; 2]],
    next_sample: &'a mut [f64],
    next_negative: &'a mut [f64],
) -> Vec<Piece<'a>> {
    let mut pieces = Vec::with_capacity(cuts.len());
    let (mut heads, mut samples, mut negatives) = (layout, next_sample, next_negative);
    for window in cuts.windows(2) {
        let ((edge, head), (next_edge, next_head)) = (window[0], window[1]);
        let (own_heads, rest_heads) = std::mem::take(&mut heads).split_at_mut(next_head - head);
        let (own_samples, rest_samples) =
            std::mem::take(&mut samples).split_at_mut(next_edge - edge);
        let (own_negatives, rest_negatives) =
            std::mem::take(&mut negatives).split_at_mut(next_edge - edge);
        pieces.push(Piece {
            first_edge: edge,
            first_head: head,
            heads: own_heads,
            next_sample: own_samples,
            next_negative: own_negatives,
            tail_moves: Vec::new(),
        });
        heads = rest_heads;
        samples = rest_samples;
        negatives = rest_negatives;
    }
    pieces
}

/// What every piece of one epoch shares.
struct Sweep<'a> {
    edges: &'a Edges,
    per_negative: &'a [f64],
    others: &'a [[f32; 2]],
    moves_tails: bool,
    schedule: Schedule,
    alpha: f32,
    epoch: usize,
}

impl Sweep<'_> {
    /// One epoch over one piece's edges, with a generator of its own (seed, epoch, piece).
    fn run(&self, index: usize, piece: &mut Piece<'_>) {
        let Schedule { a, b, gamma, .. } = self.schedule;
        let (alpha, n) = (self.alpha, self.epoch as f64);
        let vertices = self.others.len() as u64;
        let mut random = SplitMix64::new(
            self.schedule.seed
                ^ ((self.epoch as u64) << 32 | index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        for local in 0..piece.next_sample.len() {
            if piece.next_sample[local] > n {
                continue;
            }
            let i = piece.first_edge + local;
            let j = self.edges.head[i] as usize;
            let k = self.edges.tail[i] as usize;
            let mut current = piece.heads[j - piece.first_head];
            let start = piece.first_head;
            let owned = piece.heads.len();
            let own = |k: usize| k >= start && k - start < owned;
            let other = if own(k) {
                piece.heads[k - start]
            } else {
                self.others[k]
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
            if self.moves_tails && own(k) {
                let tail = &mut piece.heads[k - start];
                tail[0] -= gradient[0];
                tail[1] -= gradient[1];
            } else if self.moves_tails {
                piece
                    .tail_moves
                    .push((k as u32, [-gradient[0], -gradient[1]]));
            }
            piece.next_sample[local] += self.edges.epochs_per_sample[i];
            let negatives =
                ((n - piece.next_negative[local]) / self.per_negative[i]).max(0.0) as usize;
            for _ in 0..negatives {
                let k = draw(&mut random, vertices);
                if self.moves_tails && k == j {
                    continue;
                }
                let other = if self.moves_tails && own(k) {
                    piece.heads[k - start]
                } else {
                    self.others[k]
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
            piece.next_negative[local] += negatives as f64 * self.per_negative[i];
            piece.heads[j - piece.first_head] = current;
        }
    }
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

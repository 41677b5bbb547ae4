//! k-nearest-neighbour preservation: how many of each point's neighbours in the feature
//! space are still its neighbours on the map.

use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;

use crate::matmul::{Threads, product};

use faceemo_jobs::{CancelToken, Cancelled, IgnoreProgress, JobContext, SplitMix64};

/// `count` distinct row indices out of `rows`, drawn with a seeded generator and sorted.
pub fn sample_rows(rows: usize, count: usize, seed: u64) -> Vec<usize> {
    let count = count.min(rows);
    // Partial Fisher–Yates with SplitMix64: the same rows for the same seed everywhere.
    let mut indices: Vec<usize> = (0..rows).collect();
    let mut random = SplitMix64::new(seed);
    for i in 0..count {
        let j = i + (random.next_u64() % (rows - i) as u64) as usize;
        indices.swap(i, j);
    }
    let mut sample = indices[..count].to_vec();
    sample.sort_unstable();
    sample
}

/// Queries per block: the block's distances to every row are one matrix product.
const QUERY_BLOCK: usize = 64;

/// The `k` nearest rows of some rows: indices and squared Euclidean distances, row-major,
/// nearest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbours {
    /// Neighbours per query.
    pub k: usize,
    /// `queries × k` row indices.
    pub indices: Vec<u32>,
    /// `queries × k` squared distances.
    pub distances: Vec<f32>,
}

impl Neighbours {
    /// The neighbours of the `query`-th query.
    pub fn of(&self, query: usize) -> (&[u32], &[f32]) {
        let range = query * self.k..(query + 1) * self.k;
        (&self.indices[range.clone()], &self.distances[range])
    }
}

/// For each row in `queries`, the `k` nearest rows of `data` (Euclidean, itself excluded;
/// ties broken by index, so equal distances give the same neighbours everywhere). Exact:
/// blocks of queries against all rows as one matrix product, then a bounded insertion
/// sort per query, on all cores. Between blocks, `job` hears how many queries are done
/// (stage `nearest neighbours`) and the search stops with [`Cancelled`] once it is cancelled.
pub fn nearest_neighbours(
    data: ArrayView2<'_, f32>,
    queries: &[usize],
    k: usize,
    job: JobContext<'_>,
) -> Result<Neighbours, Cancelled> {
    let k = k.min(data.nrows().saturating_sub(1));
    let norms: Vec<f32> = data.axis_iter(Axis(0)).map(|r| r.dot(&r)).collect();
    let mut indices = vec![0u32; queries.len() * k];
    let mut distances = vec![0f32; queries.len() * k];
    if k == 0 {
        return Ok(Neighbours {
            k,
            indices,
            distances,
        });
    }
    for (block_index, block) in queries.chunks(QUERY_BLOCK).enumerate() {
        job.report(
            "nearest neighbours",
            (block_index * QUERY_BLOCK) as u64,
            queries.len() as u64,
        );
        job.check_cancelled()?;
        let points = data.select(Axis(0), block);
        let dots = product(points.view(), data.t(), Threads::All);
        let start = block_index * QUERY_BLOCK * k;
        let block_indices = &mut indices[start..start + block.len() * k];
        let block_distances = &mut distances[start..start + block.len() * k];
        block_indices
            .par_chunks_mut(k)
            .zip(block_distances.par_chunks_mut(k))
            .enumerate()
            .for_each(|(row, (out_indices, out_distances))| {
                let query = block[row];
                let own = norms[query];
                nearest_in_row(
                    dots.row(row),
                    &norms,
                    own,
                    query,
                    out_indices,
                    out_distances,
                );
            });
    }
    Ok(Neighbours {
        k,
        indices,
        distances,
    })
}

/// The `out.len()` smallest distances of one query row, nearest first.
fn nearest_in_row(
    dots: ndarray::ArrayView1<'_, f32>,
    norms: &[f32],
    own_norm: f32,
    query: usize,
    out_indices: &mut [u32],
    out_distances: &mut [f32],
) {
    let mut best = NearestK::new(out_indices.len());
    for (i, (&dot, &norm)) in dots.iter().zip(norms).enumerate() {
        if i != query {
            best.offer((own_norm + norm - 2.0 * dot).max(0.0), i as u32);
        }
    }
    for (slot, (distance, index)) in best.into_sorted().into_iter().enumerate() {
        out_indices[slot] = index;
        out_distances[slot] = distance;
    }
}

/// The `k` smallest `(distance, index)` pairs offered, kept sorted; ties go to the smaller
/// index, so the result does not depend on the order of the offers.
#[derive(Debug)]
pub(crate) struct NearestK {
    k: usize,
    best: Vec<(f32, u32)>,
}

impl NearestK {
    /// An empty selection of at most `k`.
    pub(crate) fn new(k: usize) -> Self {
        Self {
            k,
            best: Vec::with_capacity(k + 1),
        }
    }

    /// Keeps `(distance, index)` if it is among the `k` smallest so far.
    #[inline]
    pub(crate) fn offer(&mut self, distance: f32, index: u32) {
        if self.k == 0 {
            return;
        }
        if self.best.len() == self.k {
            let (worst, worst_index) = self.best[self.k - 1];
            let order = distance.total_cmp(&worst).then(index.cmp(&worst_index));
            if distance.is_nan() || order.is_ge() {
                return;
            }
        }
        let at = self
            .best
            .partition_point(|&(d, j)| d.total_cmp(&distance).then(j.cmp(&index)).is_lt());
        self.best.insert(at, (distance, index));
        self.best.truncate(self.k);
    }

    /// The kept pairs, nearest first.
    pub(crate) fn into_sorted(self) -> Vec<(f32, u32)> {
        self.best
    }
}

/// Mean fraction, over the `sample` rows, of each row's `k` nearest neighbours in `high`
/// that are also among its `k` nearest neighbours in `low` (the map). 1 is perfect.
pub fn knn_preservation(
    high: ArrayView2<'_, f32>,
    low: ArrayView2<'_, f32>,
    sample: &[usize],
    k: usize,
) -> f64 {
    if sample.is_empty() || k == 0 {
        return 0.0;
    }
    let never = CancelToken::new();
    let quiet = JobContext::new(&IgnoreProgress, &never);
    let (Ok(in_high), Ok(in_low)) = (
        nearest_neighbours(high, sample, k, quiet),
        nearest_neighbours(low, sample, k, quiet),
    ) else {
        return 0.0;
    };
    let total: f64 = (0..sample.len())
        .map(|q| {
            let (high, _) = in_high.of(q);
            let (low, _) = in_low.of(q);
            high.iter().filter(|i| low.contains(i)).count() as f64 / high.len().max(1) as f64
        })
        .sum();
    total / sample.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn samples_are_distinct_sorted_and_repeatable() {
        let a = sample_rows(1000, 50, 7);
        assert_eq!(a, sample_rows(1000, 50, 7));
        assert_ne!(a, sample_rows(1000, 50, 8));
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sample_rows(5, 50, 1), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn neighbours_are_exact_nearest_first_and_exclude_the_point_itself() {
        let data = Array2::from_shape_fn((7, 1), |(i, _)| (i * i) as f32);
        let cancel = CancelToken::new();
        let job = JobContext::new(&IgnoreProgress, &cancel);
        let found = nearest_neighbours(data.view(), &[0, 3, 6], 2, job).expect("not cancelled");
        assert_eq!(found.of(0), (&[1u32, 2][..], &[1.0f32, 16.0][..]));
        assert_eq!(found.of(1).0, &[2, 4]);
        assert_eq!(found.of(2).0, &[5, 4]);
        cancel.cancel();
        assert_eq!(
            nearest_neighbours(data.view(), &[0], 2, job).err(),
            Some(Cancelled)
        );
    }

    #[test]
    fn an_isometric_map_preserves_every_neighbour() {
        // Integer coordinates keep every distance exact in f32; then a rigid shift.
        let data = Array2::from_shape_fn((60, 3), |(i, j)| {
            ((i as u64 * 2_654_435_761 + j as u64 * 40_503).wrapping_mul(2_246_822_519) % 101)
                as f32
        });
        let shifted = &data + 5.0;
        let sample = sample_rows(60, 20, 1);
        let preserved = knn_preservation(data.view(), shifted.view(), &sample, 5);
        assert!((preserved - 1.0).abs() < 1e-12, "{preserved}");
    }

    #[test]
    fn a_scrambled_map_preserves_few_neighbours() {
        let data = Array2::from_shape_fn((200, 2), |(i, j)| (i * (j + 1)) as f32);
        let scrambled =
            Array2::from_shape_fn((200, 2), |(i, j)| ((i * 7919 + j * 104_729) % 211) as f32);
        let sample = sample_rows(200, 50, 3);
        assert!(knn_preservation(data.view(), scrambled.view(), &sample, 10) < 0.3);
    }
}

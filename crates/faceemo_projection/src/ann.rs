//! Approximate k nearest neighbours for every row: an inverted-file search.
//!
//! The rows are partitioned by k-means (seeded, fitted on a sample) into about √N cells.
//! Each row lists the `probes` cells whose centres are nearest to it; the rows of one
//! cell are searched together, in blocks, against every row of the union of their lists,
//! as one matrix product per block. A row's true neighbours lie in cells near it, so the
//! search sees nearly all of them at a few percent of the exact search's work.
//!
//! Everything is deterministic for a seed and independent of the thread count (blocks are
//! searched one thread each; ties are broken by index); progress is reported and the
//! search stops between rounds of blocks once cancelled. [`knn_recall`] measures the
//! fraction of the exact neighbours found, on a sample.

use faceemo_jobs::{Cancelled, JobContext};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::knn::{NearestK, Neighbours, nearest_neighbours, sample_rows};
use crate::matmul::{Threads, product};

/// How the neighbours of every row are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NeighbourSearch {
    /// Approximate above [`APPROXIMATE_ABOVE`] rows, exact below (as openTSNE picks Annoy).
    #[default]
    Auto,
    /// The exact search: every row against every row.
    Exact,
    /// The inverted-file search of this module.
    Approximate,
}

/// Rows above which [`NeighbourSearch::Auto`] searches approximately.
pub const APPROXIMATE_ABOVE: usize = 20_000;

impl NeighbourSearch {
    /// Whether a search of `rows` rows is approximate.
    pub fn is_approximate(self, rows: usize) -> bool {
        match self {
            Self::Auto => rows > APPROXIMATE_ABOVE,
            Self::Exact => false,
            Self::Approximate => true,
        }
    }

    /// The name used on the command line and in cache keys: `auto`, `exact`, `approximate`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Exact => "exact",
            Self::Approximate => "approximate",
        }
    }
}

/// The knobs of the approximate search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnnSettings {
    /// Seed of the k-means sample and starting centres.
    pub seed: u64,
    /// Cells searched per row (the nearest ones to it).
    pub probes: usize,
    /// Cells in all; `None` is √rows.
    pub cells: Option<usize>,
}

impl Default for AnnSettings {
    fn default() -> Self {
        Self {
            seed: 0,
            probes: 12,
            cells: None,
        }
    }
}

/// Rows of the training sample of k-means, per cell.
const TRAINING_ROWS_PER_CELL: usize = 48;
/// Lloyd iterations of k-means.
const KMEANS_ITERATIONS: usize = 10;
/// Queries searched together against one candidate set.
const QUERY_BLOCK: usize = 256;
/// Rows whose nearest cells are found in one matrix product.
const CELL_ROWS: usize = 4096;
/// Blocks searched between two cancellation checks.
const BLOCKS_PER_ROUND: usize = 16;

/// Rows of the sample an approximate graph's recall is measured on.
pub const RECALL_SAMPLE: usize = 1000;

/// The neighbour graph of every row and how much of the exact graph it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct NeighbourGraph {
    /// Each row's neighbours, nearest first.
    pub neighbours: Neighbours,
    /// Fraction of the exact neighbours found ([`knn_recall`] on a seeded sample of
    /// [`RECALL_SAMPLE`] rows); 1 for the exact search.
    pub recall: f64,
}

/// The `k` nearest rows of every row of `data` (itself excluded), found by `search`
/// (squared Euclidean distances, nearest first), with the graph's recall measured on a
/// sample drawn with the settings' seed.
pub fn neighbours_of_all(
    data: ArrayView2<'_, f32>,
    k: usize,
    search: NeighbourSearch,
    settings: AnnSettings,
    job: JobContext<'_>,
) -> Result<NeighbourGraph, Cancelled> {
    if search.is_approximate(data.nrows()) {
        let neighbours = approximate_neighbours(data, k, settings, job)?;
        let sample = sample_rows(data.nrows(), RECALL_SAMPLE, settings.seed);
        let recall = knn_recall(data, &neighbours, &sample, job)?;
        Ok(NeighbourGraph { neighbours, recall })
    } else {
        let all: Vec<usize> = (0..data.nrows()).collect();
        Ok(NeighbourGraph {
            neighbours: nearest_neighbours(data, &all, k, job)?,
            recall: 1.0,
        })
    }
}

/// The approximate `k` nearest rows of every row of `data` (itself excluded): squared
/// Euclidean distances, nearest first. For cosine distance, normalise the rows first
/// ([`unit_rows`]). Small inputs (where the cells would hold fewer than `k` rows) are
/// searched exactly.
pub fn approximate_neighbours(
    data: ArrayView2<'_, f32>,
    k: usize,
    settings: AnnSettings,
    job: JobContext<'_>,
) -> Result<Neighbours, Cancelled> {
    let rows = data.nrows();
    let k = k.min(rows.saturating_sub(1));
    let cells = settings
        .cells
        .unwrap_or_else(|| (rows as f64).sqrt().round() as usize)
        .clamp(1, rows.max(1));
    let probes = settings.probes.clamp(1, cells);
    if k == 0 || cells < 4 || rows / cells * probes <= 2 * k {
        let all: Vec<usize> = (0..rows).collect();
        return nearest_neighbours(data, &all, k, job);
    }
    job.report("nearest neighbours: cells", 0, rows as u64);
    let norms: Vec<f32> = data.axis_iter(Axis(0)).map(|r| r.dot(&r)).collect();
    let centres = kmeans(data, &norms, cells, settings.seed, job)?;
    let lists = nearest_cells(data, &norms, &centres, probes, job)?;
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); cells];
    for row in 0..rows {
        members[lists[row * probes] as usize].push(row as u32);
    }
    let blocks: Vec<(usize, &[u32])> = members
        .iter()
        .enumerate()
        .flat_map(|(cell, rows)| rows.chunks(QUERY_BLOCK).map(move |b| (cell, b)))
        .collect();
    let mut indices = vec![0u32; rows * k];
    let mut distances = vec![0f32; rows * k];
    let mut done = 0usize;
    for round in blocks.chunks(BLOCKS_PER_ROUND) {
        job.report("nearest neighbours", done as u64, rows as u64);
        job.check_cancelled()?;
        let found: Vec<Vec<QueryResult>> = round
            .par_iter()
            .map(|&(_, block)| search_block(data, &norms, &members, &lists, probes, block, k))
            .collect();
        for block in found {
            done += block.len();
            for (query, best) in block {
                let at = query as usize * k;
                for (slot, (distance, index)) in best.into_iter().enumerate() {
                    indices[at + slot] = index;
                    distances[at + slot] = distance;
                }
            }
        }
    }
    Ok(Neighbours {
        k,
        indices,
        distances,
    })
}

/// The rows of `data` scaled to unit length (zero rows stay zero): on them, squared
/// Euclidean distance is twice the cosine distance, so the Euclidean searches serve cosine.
pub fn unit_rows(data: ArrayView2<'_, f32>) -> Array2<f32> {
    let mut out = data.to_owned();
    for mut row in out.rows_mut() {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        }
    }
    out
}

/// Fraction of the exact `found.k` nearest neighbours of the `sample` rows that `found`
/// lists (1 is every one), the exact ones searched for the sample only.
pub fn knn_recall(
    data: ArrayView2<'_, f32>,
    found: &Neighbours,
    sample: &[usize],
    job: JobContext<'_>,
) -> Result<f64, Cancelled> {
    if sample.is_empty() || found.k == 0 {
        return Ok(1.0);
    }
    let exact = nearest_neighbours(data, sample, found.k, job)?;
    let hits: usize = sample
        .iter()
        .enumerate()
        .map(|(q, &row)| {
            let (want, _) = exact.of(q);
            let (got, _) = found.of(row);
            want.iter().filter(|i| got.contains(i)).count()
        })
        .sum();
    Ok(hits as f64 / (sample.len() * found.k) as f64)
}

/// Cell centres by Lloyd's k-means on a seeded sample of rows, started from `cells` of
/// them; a cell left empty keeps its centre.
fn kmeans(
    data: ArrayView2<'_, f32>,
    norms: &[f32],
    cells: usize,
    seed: u64,
    job: JobContext<'_>,
) -> Result<Array2<f32>, Cancelled> {
    let rows = data.nrows();
    let training = sample_rows(rows, (cells * TRAINING_ROWS_PER_CELL).min(rows), seed);
    let starts = sample_rows(rows, cells, seed ^ 0x9E37_79B9_7F4A_7C15);
    let mut centres = data.select(Axis(0), &starts);
    let sample = data.select(Axis(0), &training);
    let sample_norms: Vec<f32> = training.iter().map(|&r| norms[r]).collect();
    for _ in 0..KMEANS_ITERATIONS {
        job.check_cancelled()?;
        let assigned = nearest_centre(sample.view(), &sample_norms, centres.view());
        let mut sums = Array2::<f64>::zeros(centres.dim());
        let mut counts = vec![0usize; cells];
        for (row, &cell) in sample.rows().into_iter().zip(&assigned) {
            counts[cell] += 1;
            for (sum, &value) in sums.row_mut(cell).iter_mut().zip(row) {
                *sum += f64::from(value);
            }
        }
        for (cell, &count) in counts.iter().enumerate() {
            if count > 0 {
                for (centre, &sum) in centres.row_mut(cell).iter_mut().zip(sums.row(cell)) {
                    *centre = (sum / count as f64) as f32;
                }
            }
        }
    }
    Ok(centres)
}

/// The index of the nearest centre of each row.
fn nearest_centre(
    rows: ArrayView2<'_, f32>,
    norms: &[f32],
    centres: ArrayView2<'_, f32>,
) -> Vec<usize> {
    let centre_norms: Vec<f32> = centres.axis_iter(Axis(0)).map(|r| r.dot(&r)).collect();
    let dots = product(rows, centres.t(), Threads::All);
    (0..dots.nrows())
        .into_par_iter()
        .map(|i| (dots.row(i), norms[i]))
        .map(|(row, norm)| {
            let mut best = (f32::INFINITY, 0);
            for (cell, (&dot, &centre_norm)) in row.iter().zip(&centre_norms).enumerate() {
                let distance = norm + centre_norm - 2.0 * dot;
                if distance < best.0 {
                    best = (distance, cell);
                }
            }
            best.1
        })
        .collect()
}

/// The `probes` nearest cells of every row, nearest first (row-major).
fn nearest_cells(
    data: ArrayView2<'_, f32>,
    norms: &[f32],
    centres: &Array2<f32>,
    probes: usize,
    job: JobContext<'_>,
) -> Result<Vec<u32>, Cancelled> {
    let centre_norms: Vec<f32> = centres.axis_iter(Axis(0)).map(|r| r.dot(&r)).collect();
    let mut lists = vec![0u32; data.nrows() * probes];
    for (chunk, out) in lists.chunks_mut(CELL_ROWS * probes).enumerate() {
        job.check_cancelled()?;
        let start = chunk * CELL_ROWS;
        let block = data.slice(ndarray::s![start..start + out.len() / probes, ..]);
        let dots = product(block, centres.t(), Threads::All);
        out.par_chunks_mut(probes).enumerate().for_each(|(i, out)| {
            let dots = dots.row(i);
            let norm = norms[start + i];
            let mut best = NearestK::new(probes);
            for (cell, (&dot, &centre_norm)) in dots.iter().zip(&centre_norms).enumerate() {
                best.offer(norm + centre_norm - 2.0 * dot, cell as u32);
            }
            for (slot, (_, cell)) in out.iter_mut().zip(best.into_sorted()) {
                *slot = cell;
            }
        });
    }
    Ok(lists)
}

/// A query row and its nearest `(squared distance, row)` pairs.
type QueryResult = (u32, Vec<(f32, u32)>);

/// One block of queries against the rows of every cell any of them lists.
fn search_block(
    data: ArrayView2<'_, f32>,
    norms: &[f32],
    members: &[Vec<u32>],
    lists: &[u32],
    probes: usize,
    block: &[u32],
    k: usize,
) -> Vec<QueryResult> {
    let mut wanted = vec![false; members.len()];
    for &query in block {
        let start = query as usize * probes;
        for &cell in &lists[start..start + probes] {
            wanted[cell as usize] = true;
        }
    }
    let candidates: Vec<usize> = wanted
        .iter()
        .enumerate()
        .filter(|&(_, &w)| w)
        .flat_map(|(cell, _)| members[cell].iter().map(|&r| r as usize))
        .collect();
    let queries: Vec<usize> = block.iter().map(|&q| q as usize).collect();
    let dots = product(
        data.select(Axis(0), &queries).view(),
        data.select(Axis(0), &candidates).t(),
        Threads::Caller,
    );
    queries
        .iter()
        .zip(dots.axis_iter(Axis(0)))
        .map(|(&query, dots)| {
            let own = norms[query];
            let mut best = NearestK::new(k);
            for (&candidate, &dot) in candidates.iter().zip(dots) {
                if candidate != query {
                    best.offer(
                        (own + norms[candidate] - 2.0 * dot).max(0.0),
                        candidate as u32,
                    );
                }
            }
            (query as u32, best.into_sorted())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceemo_jobs::{CancelToken, IgnoreProgress, SplitMix64};

    /// Gaussian clusters in 20 dimensions, like features of a few classes.
    fn clusters(rows: usize, seed: u64) -> Array2<f32> {
        let mut random = SplitMix64::new(seed);
        let centres: Vec<Vec<f64>> = (0..12)
            .map(|_| (0..20).map(|_| 4.0 * random.normal()).collect())
            .collect();
        let mut data = Array2::zeros((rows, 20));
        for (i, mut row) in data.rows_mut().into_iter().enumerate() {
            let centre = &centres[i % centres.len()];
            for (value, c) in row.iter_mut().zip(centre) {
                *value = (c + random.normal()) as f32;
            }
        }
        data
    }

    fn job(cancel: &CancelToken) -> JobContext<'_> {
        JobContext::new(&IgnoreProgress, cancel)
    }

    #[test]
    fn the_approximate_graph_finds_nearly_every_exact_neighbour() {
        let data = clusters(6000, 1);
        let cancel = CancelToken::new();
        for k in [15, 90] {
            let found =
                approximate_neighbours(data.view(), k, AnnSettings::default(), job(&cancel))
                    .expect("not cancelled");
            let sample = sample_rows(6000, 500, 2);
            let recall = knn_recall(data.view(), &found, &sample, job(&cancel)).expect("recall");
            assert!(recall >= 0.99, "recall {recall} at k = {k}");
            // Nearest first, never the row itself.
            for row in [0, 17, 5999] {
                let (indices, distances) = found.of(row);
                assert!(!indices.contains(&(row as u32)));
                assert!(distances.windows(2).all(|w| w[0] <= w[1]));
            }
        }
    }

    #[test]
    fn one_probe_of_many_cells_misses_neighbours_and_recall_says_so() {
        let data = clusters(4000, 3);
        let cancel = CancelToken::new();
        let narrow = AnnSettings {
            probes: 1,
            cells: Some(200),
            ..AnnSettings::default()
        };
        let found = approximate_neighbours(data.view(), 8, narrow, job(&cancel)).expect("found");
        let recall = knn_recall(
            data.view(),
            &found,
            &sample_rows(4000, 300, 1),
            job(&cancel),
        )
        .expect("recall");
        assert!(recall < 0.9, "{recall}");
    }

    #[test]
    fn the_same_seed_gives_the_same_graph_and_cancel_stops_it() {
        let data = clusters(3000, 4);
        let cancel = CancelToken::new();
        let settings = AnnSettings::default();
        let a = approximate_neighbours(data.view(), 10, settings, job(&cancel)).expect("a");
        let b = approximate_neighbours(data.view(), 10, settings, job(&cancel)).expect("b");
        assert_eq!(a, b);
        cancel.cancel();
        assert_eq!(
            approximate_neighbours(data.view(), 10, settings, job(&cancel)).err(),
            Some(Cancelled)
        );
    }

    #[test]
    fn auto_is_exact_for_small_sets_and_tiny_inputs_are_searched_exactly() {
        assert!(!NeighbourSearch::Auto.is_approximate(20_000));
        assert!(NeighbourSearch::Auto.is_approximate(20_001));
        let data = Array2::from_shape_fn((3, 2), |(i, j)| (i + j) as f32);
        let cancel = CancelToken::new();
        let found = approximate_neighbours(data.view(), 5, AnnSettings::default(), job(&cancel))
            .expect("found");
        assert_eq!(found.k, 2);
        assert_eq!(found.of(0).0, &[1, 2]);
    }

    #[test]
    fn cosine_is_euclidean_on_unit_rows() {
        let data = ndarray::arr2(&[[1.0f32, 0.0], [10.0, 1.0], [0.0, 3.0], [0.0, 0.0]]);
        let unit = unit_rows(data.view());
        assert!((unit.row(1).dot(&unit.row(1)) - 1.0).abs() < 1e-6);
        assert!(unit.row(3).iter().all(|&v| v.abs() < f32::MIN_POSITIVE));
    }
}

//! UMAP as umap-learn 0.5 runs it: PCA to 50 dimensions first (as our t-SNE; umap-learn
//! searches the raw features), the k-nearest-neighbour graph (approximate above 20,000
//! rows), the fuzzy simplicial set (`n_neighbors` 15, local connectivity 1, σ by bisection),
//! the curve `1 / (1 + a·d^(2b))` fitted for `min_dist` 0.1 and spread 1, a spectral start
//! (random when the graph is disconnected), then 200 epochs (500 up to 10,000 rows) of
//! edge sampling with 5 negative samples per edge and a learning rate falling linearly
//! from 1. Seeded: a seed gives one layout. Progressive (the callback sees the layout
//! every few epochs) and cancellable. [`UmapMap::transform`] places new points as
//! umap-learn's `transform` does.

mod curve;
mod fuzzy;
mod sgd;
mod spectral;

pub use curve::find_ab_params;

use faceemo_jobs::{Cancelled, JobContext, SplitMix64};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::ann::{AnnSettings, NeighbourGraph, NeighbourSearch, neighbours_of_all};
use crate::pca::{Pca, PcaError};
use crate::tsne::{nearest_reference, reduce};
use fuzzy::{fuzzy_simplicial_set, membership, smooth_knn};
use sgd::{Edges, Schedule, optimise};

/// The knobs of a UMAP run. The defaults are umap-learn's.
#[derive(Clone, Debug, PartialEq)]
pub struct UmapSettings {
    /// Neighbours of each point in the graph, the point itself included (umap-learn's
    /// `n_neighbors`).
    pub neighbours: usize,
    /// The smallest distance between points on the map.
    pub min_dist: f64,
    /// The scale of the map's distances.
    pub spread: f64,
    /// Epochs; `None` is 500 up to 10,000 rows, else 200.
    pub epochs: Option<usize>,
    /// The learning rate of the first epoch.
    pub learning_rate: f64,
    /// Negative samples per positive sample.
    pub negative_sample_rate: usize,
    /// Weight of the repulsion (umap-learn's `repulsion_strength`).
    pub repulsion_strength: f64,
    /// Neighbours assumed connected (umap-learn's `local_connectivity`).
    pub local_connectivity: f64,
    /// Dimensions kept by the PCA before the neighbour search (0: none).
    pub pca_dimensions: usize,
    /// How the neighbours are searched.
    pub neighbour_search: NeighbourSearch,
    /// Seed of the start, the negative samples and the recall sample.
    pub seed: u64,
    /// The callback hears the layout every this many epochs.
    pub report_every: usize,
}

impl Default for UmapSettings {
    fn default() -> Self {
        Self {
            neighbours: 15,
            min_dist: 0.1,
            spread: 1.0,
            epochs: None,
            learning_rate: 1.0,
            negative_sample_rate: 5,
            repulsion_strength: 1.0,
            local_connectivity: 1.0,
            pca_dimensions: 50,
            neighbour_search: NeighbourSearch::Auto,
            seed: 0,
            report_every: 5,
        }
    }
}

impl UmapSettings {
    /// The epochs a run of `rows` rows makes (umap-learn's choice when unset).
    pub fn epochs_for(&self, rows: usize) -> usize {
        self.epochs
            .unwrap_or(if rows <= 10_000 { 500 } else { 200 })
    }
}

/// Why UMAP could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UmapError {
    /// Too few rows.
    #[error("UMAP needs at least 3 rows, got {rows}")]
    TooFewRows {
        /// Rows given.
        rows: usize,
    },
    /// A setting is out of range.
    #[error("invalid UMAP setting: {0}")]
    Settings(String),
    /// The PCA step failed.
    #[error(transparent)]
    Pca(#[from] PcaError),
    /// The caller cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl From<Cancelled> for UmapError {
    fn from(_: Cancelled) -> Self {
        Self::Cancelled
    }
}

/// What the layout callback of [`umap`] sees.
#[derive(Debug)]
pub struct UmapProgress<'a> {
    /// Epochs done.
    pub epoch: usize,
    /// Epochs planned.
    pub epochs: usize,
    /// The current layout, N × 2.
    pub layout: &'a [[f32; 2]],
}

/// How the layout started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UmapStart {
    /// The graph's spectral layout.
    Spectral,
    /// Uniform noise, because the graph is disconnected (umap-learn's fallback).
    Random,
}

/// A finished UMAP map, able to place new points.
#[derive(Clone, Debug)]
pub struct UmapMap {
    /// The layout, N × 2.
    pub embedding: Array2<f32>,
    /// The settings it was made with.
    pub settings: UmapSettings,
    /// How the layout started (`None` for a map read back from a cache).
    pub start: Option<UmapStart>,
    /// Fraction of the exact neighbours the graph holds, on a seeded sample of 1,000 rows
    /// (1 for the exact search; `None` for a map read back from a cache).
    pub knn_recall: Option<f64>,
    /// The curve's `a` and `b`.
    pub curve: (f64, f64),
    pca: Option<Pca>,
    reduced: Array2<f32>,
}

/// Runs UMAP on the rows of `data`. `job` hears each stage and epoch and stops the run
/// (with [`UmapError::Cancelled`]) once cancelled; `on_layout` sees the layout every
/// `report_every` epochs, so a viewer can animate it.
pub fn umap(
    data: ArrayView2<'_, f32>,
    settings: &UmapSettings,
    job: JobContext<'_>,
    on_layout: &mut dyn FnMut(UmapProgress<'_>),
) -> Result<UmapMap, UmapError> {
    let (a, b) = validate(settings)?;
    let rows = data.nrows();
    if rows < 3 {
        return Err(UmapError::TooFewRows { rows });
    }
    let epochs = settings.epochs_for(rows);
    let stage = |name: &str| -> Result<(), UmapError> {
        job.report(format!("UMAP: {name}"), 0, epochs as u64);
        Ok(job.check_cancelled()?)
    };
    stage("PCA")?;
    let (pca, reduced) = reduce_for_umap(data, settings, job)?;
    stage("nearest neighbours")?;
    let k = (settings.neighbours - 1).min(rows - 1);
    let search = AnnSettings {
        seed: settings.seed,
        ..AnnSettings::default()
    };
    let NeighbourGraph { neighbours, recall } =
        neighbours_of_all(reduced.view(), k, settings.neighbour_search, search, job)?;
    stage("fuzzy simplicial set")?;
    let mut graph = fuzzy_simplicial_set(&neighbours, settings.local_connectivity);
    stage("spectral start")?;
    let mut random = SplitMix64::new(settings.seed);
    let (start, mut layout) = match spectral::spectral_layout(&graph, settings.seed) {
        Some(layout) => (UmapStart::Spectral, noisy_scale(&layout, &mut random)),
        None => (
            UmapStart::Random,
            (0..rows)
                .map(|_| {
                    [
                        (random.uniform() * 20.0 - 10.0) as f32,
                        (random.uniform() * 20.0 - 10.0) as f32,
                    ]
                })
                .collect(),
        ),
    };
    scale_to_box(&mut layout);
    let threshold = graph.max_weight() / epochs.max(1) as f32;
    graph.prune_below(threshold);
    let edges = Edges::of_graph(&graph);
    let schedule = Schedule {
        epochs,
        initial_alpha: settings.learning_rate,
        negative_rate: settings.negative_sample_rate as f64,
        gamma: settings.repulsion_strength as f32,
        a: a as f32,
        b: b as f32,
        seed: random.next_u64(),
    };
    let report_every = settings.report_every.max(1);
    optimise(&mut layout, None, &edges, schedule, &mut |epoch, layout| {
        job.report("UMAP: optimising", epoch as u64, epochs as u64);
        if epoch % report_every == 0 || epoch == epochs {
            on_layout(UmapProgress {
                epoch,
                epochs,
                layout,
            });
        }
        job.check_cancelled()
    })?;
    Ok(UmapMap {
        embedding: Array2::from_shape_fn((rows, 2), |(i, d)| layout[i][d]),
        settings: settings.clone(),
        start: Some(start),
        knn_recall: Some(recall),
        curve: (a, b),
        pca,
        reduced,
    })
}

/// The PCA the neighbours are searched after, and the data on it.
fn reduce_for_umap(
    data: ArrayView2<'_, f32>,
    settings: &UmapSettings,
    job: JobContext<'_>,
) -> Result<(Option<Pca>, Array2<f32>), UmapError> {
    reduce(data, settings.pca_dimensions, job).map_err(|e| match e {
        PcaError::Cancelled => UmapError::Cancelled,
        other => UmapError::Pca(other),
    })
}

/// The curve's `(a, b)` for valid settings, else why not.
fn validate(settings: &UmapSettings) -> Result<(f64, f64), UmapError> {
    let bad = |message: String| Err(UmapError::Settings(message));
    if settings.neighbours < 2 {
        return bad(format!(
            "{} neighbours: at least 2 are needed",
            settings.neighbours
        ));
    }
    if !(settings.spread.is_finite() && settings.spread > 0.0) {
        return bad(format!("spread {} must be positive", settings.spread));
    }
    if !(settings.min_dist.is_finite()
        && settings.min_dist >= 0.0
        && settings.min_dist <= settings.spread)
    {
        return bad(format!(
            "min_dist {} must be between 0 and the spread ({})",
            settings.min_dist, settings.spread
        ));
    }
    if !(settings.learning_rate.is_finite() && settings.learning_rate > 0.0) {
        return bad("the learning rate must be positive".to_owned());
    }
    if !(settings.repulsion_strength.is_finite() && settings.repulsion_strength >= 0.0) {
        return bad("the repulsion strength must not be negative".to_owned());
    }
    if !(settings.local_connectivity.is_finite() && settings.local_connectivity >= 0.0) {
        return bad("the local connectivity must not be negative".to_owned());
    }
    if settings.epochs.is_some_and(|e| e > 100_000) {
        return bad("at most 100,000 epochs".to_owned());
    }
    find_ab_params(settings.spread, settings.min_dist).map_or_else(
        || {
            bad(format!(
                "no curve fits min_dist {} and spread {}",
                settings.min_dist, settings.spread
            ))
        },
        Ok,
    )
}

/// umap-learn's `noisy_scale_coords`: the largest coordinate scaled to 10, plus noise of
/// standard deviation 1e-4.
fn noisy_scale(layout: &[[f64; 2]], random: &mut SplitMix64) -> Vec<[f32; 2]> {
    let largest = layout
        .iter()
        .flat_map(|p| p.iter().map(|v| v.abs()))
        .fold(0.0f64, f64::max);
    let expansion = if largest > 0.0 { 10.0 / largest } else { 1.0 };
    layout
        .iter()
        .map(|p| {
            [
                (p[0] * expansion + 1e-4 * random.normal()) as f32,
                (p[1] * expansion + 1e-4 * random.normal()) as f32,
            ]
        })
        .collect()
}

/// Each coordinate scaled to `[0, 10]`, as umap-learn does before optimising (a coordinate
/// that does not vary stays at 0).
fn scale_to_box(layout: &mut [[f32; 2]]) {
    for d in 0..2 {
        let (low, high) = layout
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), p| {
                (l.min(p[d]), h.max(p[d]))
            });
        let range = high - low;
        for p in layout.iter_mut() {
            p[d] = if range > 0.0 {
                10.0 * (p[d] - low) / range
            } else {
                0.0
            };
        }
    }
}

impl UmapMap {
    /// A map rebuilt from a stored layout of `data` (from a [`crate::MapCache`]): the PCA
    /// is fitted again (as a part of `job`) so new points can be placed.
    pub fn from_layout(
        data: ArrayView2<'_, f32>,
        embedding: Array2<f32>,
        settings: &UmapSettings,
        job: JobContext<'_>,
    ) -> Result<Self, UmapError> {
        let curve = validate(settings)?;
        let (pca, reduced) = reduce_for_umap(data, settings, job)?;
        Ok(Self {
            embedding,
            settings: settings.clone(),
            start: None,
            knn_recall: None,
            curve,
            pca,
            reduced,
        })
    }

    /// The words a cache key is made of: every setting that changes the map.
    pub fn cache_parameters(settings: &UmapSettings) -> String {
        format!(
            "umap v1 neighbours={} min_dist={} spread={} epochs={:?} learning_rate={} negative={} repulsion={} local_connectivity={} pca={} search={} seed={}",
            settings.neighbours,
            settings.min_dist,
            settings.spread,
            settings.epochs,
            settings.learning_rate,
            settings.negative_sample_rate,
            settings.repulsion_strength,
            settings.local_connectivity,
            settings.pca_dimensions,
            settings.neighbour_search.name(),
            settings.seed
        )
    }

    /// Places new rows (of the original data's width) into the finished map without moving
    /// it, as umap-learn's `transform`: each row's `neighbours` nearest reference points
    /// (exact) weighted by their fuzzy membership (local connectivity 0), the start at
    /// their weighted mean, then 30 epochs (100 up to 10,000 reference rows) against the
    /// fixed map at a quarter of the learning rate.
    pub fn transform(&self, new_rows: ArrayView2<'_, f32>) -> Result<Array2<f32>, UmapError> {
        let reduced = match &self.pca {
            Some(pca) => pca.transform(new_rows)?,
            None => new_rows.to_owned(),
        };
        let reference = self.reduced.view();
        let k = self.settings.neighbours.min(reference.nrows());
        let embedding: Vec<[f32; 2]> = self
            .embedding
            .axis_iter(Axis(0))
            .map(|r| [r[0], r[1]])
            .collect();
        let queries: Vec<Vec<f32>> = reduced.axis_iter(Axis(0)).map(|r| r.to_vec()).collect();
        let found: Vec<(Vec<usize>, Vec<f32>)> = queries
            .par_iter()
            .map(|row| {
                let (indices, squared) = nearest_reference(reference, row, k);
                (indices, squared.iter().map(|d| d.max(0.0).sqrt()).collect())
            })
            .collect();
        let mean = found
            .iter()
            .flat_map(|(_, d)| d)
            .map(|&d| f64::from(d))
            .sum::<f64>()
            / (found.len() * k).max(1) as f64;
        let mut layout = Vec::with_capacity(found.len());
        let mut edges = Edges::default();
        let mut weights = Vec::new();
        for (query, (indices, distances)) in found.iter().enumerate() {
            let (sigma, rho) = smooth_knn(distances, k as f64, 0.0, mean);
            let row: Vec<f32> = distances
                .iter()
                .map(|&d| membership(d, sigma, rho))
                .collect();
            layout.push(weighted_start(&embedding, indices, &row));
            for (&index, &weight) in indices.iter().zip(&row) {
                if weight > 0.0 {
                    edges.head.push(query as u32);
                    edges.tail.push(index as u32);
                    weights.push(weight);
                }
            }
        }
        let epochs = if reference.nrows() <= 10_000 { 100 } else { 30 };
        let max = weights.iter().copied().fold(0.0f32, f32::max);
        let kept: Vec<bool> = weights.iter().map(|&w| w >= max / epochs as f32).collect();
        let mut pruned = Edges::default();
        for (i, &keep) in kept.iter().enumerate() {
            if keep {
                pruned.head.push(edges.head[i]);
                pruned.tail.push(edges.tail[i]);
                pruned
                    .epochs_per_sample
                    .push(f64::from(max) / f64::from(weights[i]));
            }
        }
        let (a, b) = self.curve;
        let schedule = Schedule {
            epochs,
            initial_alpha: self.settings.learning_rate / 4.0,
            negative_rate: self.settings.negative_sample_rate as f64,
            gamma: self.settings.repulsion_strength as f32,
            a: a as f32,
            b: b as f32,
            seed: self.settings.seed ^ 0x5DEE_CE66_D1CE_4E5B,
        };
        optimise(
            &mut layout,
            Some(&embedding),
            &pruned,
            schedule,
            &mut |_, _| Ok(()),
        )?;
        Ok(Array2::from_shape_fn((layout.len(), 2), |(i, d)| {
            layout[i][d]
        }))
    }
}

/// umap-learn's `init_graph_transform`: a neighbour of membership 1 gives its position,
/// else the membership-weighted mean of the neighbours' positions.
fn weighted_start(embedding: &[[f32; 2]], indices: &[usize], weights: &[f32]) -> [f32; 2] {
    if let Some(at) = weights.iter().position(|&w| w >= 1.0) {
        return embedding[indices[at]];
    }
    let total: f32 = weights.iter().sum();
    if total <= 0.0 {
        return indices.first().map_or([0.0; 2], |&i| embedding[i]);
    }
    let mut out = [0.0f32; 2];
    for (&i, &w) in indices.iter().zip(weights) {
        out[0] += w / total * embedding[i][0];
        out[1] += w / total * embedding[i][1];
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use faceemo_jobs::{CancelToken, IgnoreProgress};

    /// `tests/fixtures/umap/reference.json`, written by umap-learn through
    /// `tests/fixtures/umap/make_reference.py`.
    pub(crate) fn reference() -> serde_json::Value {
        serde_json::from_str(include_str!(
            "../../../../tests/fixtures/umap/reference.json"
        ))
        .expect("the reference is JSON")
    }

    /// Three well-separated Gaussian clusters in 10 dimensions; labels by row.
    fn three_clusters(rows: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
        let mut random = SplitMix64::new(seed);
        let labels: Vec<usize> = (0..rows).map(|i| i % 3).collect();
        let data = Array2::from_shape_fn((rows, 10), |(i, j)| {
            let centre = if j == labels[i] { 12.0 } else { 0.0 };
            (centre + random.normal()) as f32
        });
        (data, labels)
    }

    fn quick() -> UmapSettings {
        UmapSettings {
            epochs: Some(100),
            ..UmapSettings::default()
        }
    }

    fn run(data: &Array2<f32>, settings: &UmapSettings) -> UmapMap {
        let cancel = CancelToken::new();
        umap(
            data.view(),
            settings,
            JobContext::new(&IgnoreProgress, &cancel),
            &mut |_| {},
        )
        .expect("UMAP runs")
    }

    fn centroid(map: &Array2<f32>, labels: &[usize], label: usize) -> [f32; 2] {
        let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == label).collect();
        let n = rows.len() as f32;
        let sum = rows
            .iter()
            .fold([0.0; 2], |s, &i| [s[0] + map[[i, 0]], s[1] + map[[i, 1]]]);
        [sum[0] / n, sum[1] / n]
    }

    #[test]
    fn clusters_stay_apart_and_new_points_land_in_theirs() {
        let (data, labels) = three_clusters(600, 1);
        let map = run(&data, &quick());
        assert_eq!(map.knn_recall, Some(1.0));
        let centres: Vec<[f32; 2]> = (0..3)
            .map(|l| centroid(&map.embedding, &labels, l))
            .collect();
        // Every point is nearer its own cluster's centre than any other.
        for (i, &label) in labels.iter().enumerate() {
            let p = [map.embedding[[i, 0]], map.embedding[[i, 1]]];
            let distance = |c: [f32; 2]| (p[0] - c[0]).hypot(p[1] - c[1]);
            let own = distance(centres[label]);
            assert!(
                (0..3)
                    .filter(|&l| l != label)
                    .all(|l| distance(centres[l]) > own),
                "point {i} strays"
            );
        }
        let (new, new_labels) = three_clusters(30, 99);
        let placed = map.transform(new.view()).expect("placed");
        for (i, &label) in new_labels.iter().enumerate() {
            let p = [placed[[i, 0]], placed[[i, 1]]];
            let nearest = (0..3)
                .min_by(|&x, &y| {
                    let d = |c: [f32; 2]| (p[0] - c[0]).hypot(p[1] - c[1]);
                    d(centres[x]).total_cmp(&d(centres[y]))
                })
                .expect("three");
            assert_eq!(nearest, label, "new point {i} at {p:?}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_layout_and_another_seed_another() {
        // A noisy curve: one connected graph, so the start is spectral.
        let mut random = SplitMix64::new(2);
        let data = Array2::from_shape_fn((300, 3), |(i, j)| {
            let t = i as f64 / 30.0;
            let x = [t.cos() * 5.0, t.sin() * 5.0, t][j];
            (x + 0.05 * random.normal()) as f32
        });
        let a = run(&data, &quick());
        assert_eq!(a.start, Some(UmapStart::Spectral));
        let b = run(&data, &quick());
        assert_eq!(a.embedding, b.embedding);
        let c = run(&data, &UmapSettings { seed: 1, ..quick() });
        assert_ne!(a.embedding, c.embedding);
    }

    #[test]
    fn cancel_stops_it_and_progress_shows_the_layout() {
        let (data, _) = three_clusters(300, 3);
        let cancel = CancelToken::new();
        let mut seen = 0;
        let result = umap(
            data.view(),
            &quick(),
            JobContext::new(&IgnoreProgress, &cancel),
            &mut |progress| {
                assert_eq!(progress.layout.len(), 300);
                seen = progress.epoch;
                if progress.epoch >= 20 {
                    cancel.cancel();
                }
            },
        );
        assert!(matches!(result, Err(UmapError::Cancelled)));
        assert_eq!(seen, 20);
    }

    #[test]
    fn tiny_duplicate_and_identical_inputs_give_finite_layouts() {
        let three = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32);
        let mut duplicates = three_clusters(90, 4).0;
        for i in 0..30 {
            let row = duplicates.row(0).to_owned();
            duplicates.row_mut(i).assign(&row);
        }
        let identical = Array2::from_elem((50, 6), 0.5f32);
        for data in [three, duplicates, identical] {
            let map = run(&data, &quick());
            assert!(
                map.embedding.iter().all(|v| v.is_finite()),
                "{:?}",
                map.embedding
            );
        }
        let cancel = CancelToken::new();
        let two = Array2::<f32>::zeros((2, 3));
        assert!(matches!(
            umap(
                two.view(),
                &quick(),
                JobContext::new(&IgnoreProgress, &cancel),
                &mut |_| {}
            ),
            Err(UmapError::TooFewRows { rows: 2 })
        ));
    }

    #[test]
    fn a_disconnected_graph_starts_at_random() {
        // Two clusters far apart with 5 neighbours each: no edge joins them.
        let data = Array2::from_shape_fn((40, 2), |(i, j)| {
            let offset = if i < 20 { 0.0 } else { 1000.0 };
            offset + ((i * 7 + j * 3) % 11) as f32
        });
        let map = run(
            &data,
            &UmapSettings {
                neighbours: 5,
                ..quick()
            },
        );
        assert_eq!(map.start, Some(UmapStart::Random));
        assert!(map.embedding.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        let (data, _) = three_clusters(30, 5);
        let cancel = CancelToken::new();
        let settings = UmapSettings {
            min_dist: 5.0,
            ..quick()
        };
        let error = umap(
            data.view(),
            &settings,
            JobContext::new(&IgnoreProgress, &cancel),
            &mut |_| {},
        )
        .expect_err("refused");
        assert!(error.to_string().contains("min_dist 5"), "{error}");
    }
}

//! t-SNE as the state of the art runs it (openTSNE / FIt-SNE): PCA to 50 dimensions,
//! perplexity-calibrated affinities on the 3·perplexity nearest neighbours (exact, or
//! approximate above 20,000 rows as openTSNE's Annoy), PCA
//! initialisation scaled to a standard deviation of 1e-4, early exaggeration 12 for 250
//! iterations with momentum 0.5, then momentum 0.8, learning rate N / exaggeration (N/12
//! during early exaggeration, as Belkina et al. and openTSNE's "auto"), steps clipped to a
//! norm of 5 (openTSNE's `max_step_norm`), gains as in Jacobs' delta-bar-delta, and
//! FFT-accelerated interpolation for the repulsive forces.
//!
//! It is seeded (PCA start, a seeded neighbour search), so the same data, seed and thread
//! count give the same map; it is progressive (a callback sees
//! the iteration, the KL divergence and the current layout) and cancellable. A finished map
//! places new points the way openTSNE's `transform` does ([`TsneMap::transform`]).

mod affinity;
mod attraction;
mod repulsion;

use faceemo_jobs::JobContext;
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::ann::{AnnSettings, NeighbourGraph, NeighbourSearch, neighbours_of_all};
use crate::pca::{Pca, PcaError};
use affinity::{SparseAffinities, conditional, symmetrise};
use attraction::Attraction;
use repulsion::FftRepulsion;

/// The knobs of a t-SNE run. The defaults are openTSNE's.
#[derive(Clone, Debug, PartialEq)]
pub struct TsneSettings {
    /// Effective number of neighbours.
    pub perplexity: f64,
    /// Dimensions kept by the PCA before the neighbour search (0: none).
    pub pca_dimensions: usize,
    /// Iterations with exaggerated attraction.
    pub early_exaggeration_iterations: usize,
    /// The exaggeration factor of those iterations.
    pub early_exaggeration: f64,
    /// Iterations after them.
    pub iterations: usize,
    /// Learning rate; `None` is N / exaggeration in each phase (N/12, then N).
    pub learning_rate: Option<f64>,
    /// Each point's step is clipped to this length (openTSNE's `max_step_norm`).
    pub max_step_norm: f64,
    /// Momentum during early exaggeration.
    pub initial_momentum: f64,
    /// Momentum after it.
    pub final_momentum: f64,
    /// The callback hears every this many iterations.
    pub report_every: usize,
    /// How the 3·perplexity neighbours are searched.
    pub neighbour_search: NeighbourSearch,
    /// Seed of the approximate search and of the sample its recall is measured on.
    pub seed: u64,
}

impl Default for TsneSettings {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            pca_dimensions: 50,
            early_exaggeration_iterations: 250,
            early_exaggeration: 12.0,
            iterations: 500,
            learning_rate: None,
            max_step_norm: 5.0,
            initial_momentum: 0.5,
            final_momentum: 0.8,
            report_every: 10,
            neighbour_search: NeighbourSearch::Auto,
            seed: 0,
        }
    }
}

/// Why t-SNE could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsneError {
    /// Too few rows for the perplexity.
    #[error("t-SNE with perplexity {perplexity} needs more than {needed} rows, got {rows}")]
    TooFewRows {
        /// Rows given.
        rows: usize,
        /// Rows needed.
        needed: usize,
        /// The perplexity asked for.
        perplexity: f64,
    },
    /// A setting is out of range.
    #[error("invalid t-SNE setting: {0}")]
    Settings(String),
    /// The PCA step failed.
    #[error(transparent)]
    Pca(#[from] PcaError),
    /// The caller cancelled.
    #[error("cancelled")]
    Cancelled,
}

/// What the layout callback of [`tsne`] sees.
#[derive(Debug)]
pub struct TsneProgress<'a> {
    /// The stage in words ("nearest neighbours", "optimising", …).
    pub stage: &'static str,
    /// Iterations done; during the neighbour search, rows searched.
    pub iteration: usize,
    /// Iterations planned; during the neighbour search, rows in all.
    pub iterations: usize,
    /// KL divergence of the current layout (computed at reports during optimisation).
    pub kl_divergence: Option<f64>,
    /// The current layout, N × 2 row-major (during optimisation).
    pub layout: Option<&'a [[f32; 2]]>,
}

/// A finished t-SNE map, able to place new points.
#[derive(Clone, Debug)]
pub struct TsneMap {
    /// The layout, N × 2.
    pub embedding: Array2<f32>,
    /// KL divergence of the final layout.
    pub kl_divergence: f64,
    /// The settings it was made with.
    pub settings: TsneSettings,
    /// Fraction of the exact neighbours the search found, on a seeded sample of 1,000
    /// rows (1 for the exact search; `None` for a map read back from a cache).
    pub knn_recall: Option<f64>,
    /// The PCA applied before the neighbour search (`None` when the data was used as is).
    pca: Option<Pca>,
    /// The data the neighbours were searched in (after PCA).
    reduced: Array2<f32>,
}

impl TsneMap {
    /// A map rebuilt from a stored layout of `data` (e.g. from a [`crate::MapCache`]): the
    /// PCA is fitted again (as a part of `job`) so new points can be placed.
    pub fn from_layout(
        data: ArrayView2<'_, f32>,
        embedding: Array2<f32>,
        kl_divergence: f64,
        settings: &TsneSettings,
        job: JobContext<'_>,
    ) -> Result<Self, TsneError> {
        let (pca, reduced) = reduce_for_tsne(data, settings, job)?;
        Ok(Self {
            embedding,
            kl_divergence,
            settings: settings.clone(),
            knn_recall: None,
            pca,
            reduced,
        })
    }

    /// The words a cache key is made of: every setting that changes the map.
    pub fn cache_parameters(settings: &TsneSettings) -> String {
        format!(
            "tsne v3 perplexity={} pca={} ee={}x{} iterations={} learning_rate={:?} max_step={} momentum={}/{} search={} seed={}",
            settings.perplexity,
            settings.pca_dimensions,
            settings.early_exaggeration,
            settings.early_exaggeration_iterations,
            settings.iterations,
            settings.learning_rate,
            settings.max_step_norm,
            settings.initial_momentum,
            settings.final_momentum,
            settings.neighbour_search.name(),
            settings.seed
        )
    }
}

/// The PCA of `dimensions` components of `data` and the data projected on it, or the data
/// as is when `dimensions` is 0 or not below its width.
pub(crate) fn reduce(
    data: ArrayView2<'_, f32>,
    dimensions: usize,
    job: JobContext<'_>,
) -> Result<(Option<Pca>, Array2<f32>), PcaError> {
    if dimensions > 0 && dimensions < data.ncols() {
        let pca = Pca::fit_job(data, dimensions, job)?;
        let reduced = pca.transform(data)?;
        Ok((Some(pca), reduced))
    } else {
        Ok((None, data.to_owned()))
    }
}

fn reduce_for_tsne(
    data: ArrayView2<'_, f32>,
    settings: &TsneSettings,
    job: JobContext<'_>,
) -> Result<(Option<Pca>, Array2<f32>), TsneError> {
    reduce(data, settings.pca_dimensions, job).map_err(|e| match e {
        PcaError::Cancelled => TsneError::Cancelled,
        other => TsneError::from(other),
    })
}

/// Runs t-SNE on the rows of `data`. `job` hears each stage and iteration and stops the
/// run (with [`TsneError::Cancelled`]) once cancelled; `on_layout` sees the layout every
/// `report_every` iterations, so a viewer can animate it.
pub fn tsne(
    data: ArrayView2<'_, f32>,
    settings: &TsneSettings,
    job: JobContext<'_>,
    on_layout: &mut dyn FnMut(TsneProgress<'_>),
) -> Result<TsneMap, TsneError> {
    validate(settings)?;
    let rows = data.nrows();
    let k = ((3.0 * settings.perplexity).ceil() as usize).max(1);
    if rows <= k {
        return Err(TsneError::TooFewRows {
            rows,
            needed: k,
            perplexity: settings.perplexity,
        });
    }
    let total = settings.early_exaggeration_iterations + settings.iterations;
    let stage = |name: &str| -> Result<(), TsneError> {
        job.report(format!("t-SNE: {name}"), 0, total as u64);
        job.check_cancelled().map_err(|_| TsneError::Cancelled)
    };
    stage("PCA")?;
    let (pca, reduced) = reduce_for_tsne(data, settings, job)?;
    stage("nearest neighbours")?;
    // The neighbour search is the longest stage: it reports and can be cancelled.
    let search = AnnSettings {
        seed: settings.seed,
        ..AnnSettings::default()
    };
    let NeighbourGraph { neighbours, recall } =
        neighbours_of_all(reduced.view(), k, settings.neighbour_search, search, job)
            .map_err(|_| TsneError::Cancelled)?;
    stage("affinities")?;
    let p = symmetrise(&neighbours, &conditional(&neighbours, settings.perplexity));
    let start = initial_layout(reduced.view())?;
    let (layout, kl_divergence) = optimise(&p, start, settings, job, on_layout)?;
    let embedding = Array2::from_shape_fn((rows, 2), |(i, d)| layout[i][d] as f32);
    Ok(TsneMap {
        embedding,
        kl_divergence,
        settings: settings.clone(),
        knn_recall: Some(recall),
        pca,
        reduced,
    })
}

fn validate(settings: &TsneSettings) -> Result<(), TsneError> {
    let bad = |message: String| Err(TsneError::Settings(message));
    if !(settings.perplexity.is_finite() && settings.perplexity >= 1.0) {
        return bad(format!(
            "perplexity {} must be at least 1",
            settings.perplexity
        ));
    }
    if settings.max_step_norm.is_nan() || settings.max_step_norm <= 0.0 {
        return bad("the maximum step norm must be positive".to_owned());
    }
    if settings
        .learning_rate
        .is_some_and(|r| !(r.is_finite() && r > 0.0))
    {
        return bad("the learning rate must be positive".to_owned());
    }
    if !(settings.early_exaggeration.is_finite() && settings.early_exaggeration >= 1.0) {
        return bad("early exaggeration must be at least 1".to_owned());
    }
    Ok(())
}

/// The first two principal components, scaled so the first has standard deviation 1e-4.
fn initial_layout(data: ArrayView2<'_, f32>) -> Result<Vec<[f64; 2]>, TsneError> {
    let pca = Pca::fit(data, 2)?;
    let coordinates = pca.transform(data)?;
    let first = coordinates.column(0);
    let mean = first.iter().map(|&v| f64::from(v)).sum::<f64>() / first.len() as f64;
    let variance = first
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / first.len() as f64;
    let scale = 1e-4 / variance.sqrt().max(f64::MIN_POSITIVE);
    Ok(coordinates
        .axis_iter(Axis(0))
        .map(|row| [f64::from(row[0]) * scale, f64::from(row[1]) * scale])
        .collect())
}

/// `Σ p ln p`, the part of the KL divergence that does not change with the layout (once,
/// in order, so the KL divergence repeats to the last digit).
fn entropy_term(p: &SparseAffinities) -> f64 {
    p.values
        .iter()
        .filter(|&&v| v > 0.0)
        .map(|&v| v * v.ln())
        .sum()
}

fn kl_divergence(entropy_term: f64, sum_p_log_w: f64, z: f64) -> f64 {
    // KL = Σ p ln p − Σ p ln w + ln Z (Σ p = 1).
    entropy_term - sum_p_log_w + z.ln()
}

/// Iterations between two evaluations of the KL divergence (and the last one), as
/// openTSNE's default callback interval: its logarithms cost as much as the forces.
const KL_EVERY: usize = 50;

fn optimise(
    p: &SparseAffinities,
    mut layout: Vec<[f64; 2]>,
    settings: &TsneSettings,
    job: JobContext<'_>,
    on_layout: &mut dyn FnMut(TsneProgress<'_>),
) -> Result<(Vec<[f64; 2]>, f64), TsneError> {
    let rows = p.rows();
    let total = settings.early_exaggeration_iterations + settings.iterations;
    let mut update = vec![[0.0f64; 2]; rows];
    let mut gains = vec![[1.0f64; 2]; rows];
    let mut attraction = vec![[0.0f64; 2]; rows];
    let mut repulsion = vec![[0.0f64; 2]; rows];
    let mut fft = FftRepulsion::new();
    let entropy = entropy_term(p);
    let mut attractive = Attraction::new(p);
    let mut single_layout = vec![[0.0_f32; 2]; rows];
    let mut kl = f64::NAN;
    for iteration in 0..total {
        let early = iteration < settings.early_exaggeration_iterations;
        let (exaggeration, momentum) = if early {
            (settings.early_exaggeration, settings.initial_momentum)
        } else {
            (1.0, settings.final_momentum)
        };
        let learning_rate = settings
            .learning_rate
            .unwrap_or((rows as f64 / exaggeration).max(50.0));
        let max_step = settings.max_step_norm;
        let report = (iteration + 1) % settings.report_every.max(1) == 0 || iteration + 1 == total;
        let with_kl = (iteration + 1) % KL_EVERY == 0 || iteration + 1 == total;
        for (single, &[x, y]) in single_layout.iter_mut().zip(&layout) {
            *single = [x as f32, y as f32];
        }
        let sum_p_log_w = attractive.forces(&single_layout, &mut attraction, with_kl);
        let z = fft.forces(&layout, &mut repulsion);
        if with_kl {
            kl = kl_divergence(entropy, sum_p_log_w, z);
        }
        layout
            .par_iter_mut()
            .zip(update.par_iter_mut())
            .zip(gains.par_iter_mut())
            .zip(attraction.par_iter().zip(&repulsion))
            .for_each(|(((position, step), gain), (attract, repel))| {
                for d in 0..2 {
                    let gradient = exaggeration * attract[d] - repel[d];
                    gain[d] = if (gradient > 0.0) == (step[d] > 0.0) {
                        (gain[d] * 0.8).max(0.01)
                    } else {
                        gain[d] + 0.2
                    };
                    step[d] = momentum * step[d] - learning_rate * gain[d] * gradient;
                }
                // Steps are bounded, so the squared norm cannot overflow (libm's hypot
                // cost as much as the whole update).
                let squared = step[0] * step[0] + step[1] * step[1];
                if squared > max_step * max_step {
                    let norm = squared.sqrt();
                    step[0] *= max_step / norm;
                    step[1] *= max_step / norm;
                }
                position[0] += step[0];
                position[1] += step[1];
            });
        let mean = layout
            .iter()
            .fold([0.0; 2], |m, p| [m[0] + p[0], m[1] + p[1]]);
        let mean = [mean[0] / rows as f64, mean[1] / rows as f64];
        layout.par_iter_mut().for_each(|p| {
            p[0] -= mean[0];
            p[1] -= mean[1];
        });
        if report {
            let snapshot: Vec<[f32; 2]> =
                layout.iter().map(|p| [p[0] as f32, p[1] as f32]).collect();
            on_layout(TsneProgress {
                stage: "optimising",
                iteration: iteration + 1,
                iterations: total,
                // The last evaluation (every KL_EVERY iterations) once there is one, so
                // every report shows the newest.
                kl_divergence: (!kl.is_nan()).then_some(kl),
                layout: Some(&snapshot),
            });
        }
        if report || iteration % 5 == 0 {
            job.report("t-SNE: optimising", (iteration + 1) as u64, total as u64);
            job.check_cancelled().map_err(|_| TsneError::Cancelled)?;
        }
    }
    Ok((layout, kl))
}

/// Neighbours of a new point among the reference points, as openTSNE's `transform` uses.
const TRANSFORM_NEIGHBOURS: usize = 25;
/// openTSNE's `transform` defaults.
const TRANSFORM_PERPLEXITY: f64 = 5.0;
const TRANSFORM_LEARNING_RATE: f64 = 0.1;
const TRANSFORM_ITERATIONS: usize = 250;
const TRANSFORM_MOMENTUM: f64 = 0.8;

impl TsneMap {
    /// Places new rows (of the original data's width) into the finished map without moving
    /// it: each starts at the median position of its 25 nearest reference points and is
    /// optimised alone against the frozen map (perplexity 5, learning rate 0.1, 250
    /// iterations), as openTSNE's `transform` does.
    pub fn transform(&self, new_rows: ArrayView2<'_, f32>) -> Result<Array2<f32>, TsneError> {
        let reduced = match &self.pca {
            Some(pca) => pca.transform(new_rows)?,
            None => new_rows.to_owned(),
        };
        let reference = self.reduced.view();
        let k = TRANSFORM_NEIGHBOURS.min(reference.nrows());
        let embedding: Vec<[f64; 2]> = self
            .embedding
            .axis_iter(Axis(0))
            .map(|r| [f64::from(r[0]), f64::from(r[1])])
            .collect();
        let queries: Vec<Vec<f32>> = reduced.axis_iter(Axis(0)).map(|r| r.to_vec()).collect();
        let placed: Vec<[f64; 2]> = queries
            .par_iter()
            .map(|row| {
                let (indices, distances) = nearest_reference(reference, row, k);
                let mut p = vec![0.0; indices.len()];
                affinity::gaussian_with_perplexity(&distances, TRANSFORM_PERPLEXITY, &mut p);
                place_one(&embedding, &indices, &p)
            })
            .collect();
        Ok(Array2::from_shape_fn((placed.len(), 2), |(i, d)| {
            placed[i][d] as f32
        }))
    }
}

/// The `k` nearest reference rows of a query (squared distances), nearest first.
pub(crate) fn nearest_reference(
    reference: ArrayView2<'_, f32>,
    query: &[f32],
    k: usize,
) -> (Vec<usize>, Vec<f32>) {
    let mut all: Vec<(f32, usize)> = reference
        .axis_iter(Axis(0))
        .enumerate()
        .map(|(i, r)| {
            (
                r.iter()
                    .zip(query)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>(),
                i,
            )
        })
        .collect();
    let k = k.min(all.len());
    if k == 0 {
        return (Vec::new(), Vec::new());
    }
    all.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.truncate(k);
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.into_iter().map(|(d, i)| (i, d)).unzip()
}

/// Optimises one new point against the frozen map: attraction to its neighbours with
/// weights `p`, repulsion from every reference point, normalised by its own `Σ_j w_ij`.
fn place_one(embedding: &[[f64; 2]], neighbours: &[usize], p: &[f64]) -> [f64; 2] {
    let median = |d: usize| {
        let mut values: Vec<f64> = neighbours.iter().map(|&j| embedding[j][d]).collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(0.0)
    };
    let mut position = [median(0), median(1)];
    let mut step = [0.0f64; 2];
    let mut gains = [1.0f64; 2];
    for _ in 0..TRANSFORM_ITERATIONS {
        let mut attract = [0.0; 2];
        for (&j, &pij) in neighbours.iter().zip(p) {
            let (dx, dy) = (position[0] - embedding[j][0], position[1] - embedding[j][1]);
            let w = 1.0 / (1.0 + dx * dx + dy * dy);
            attract[0] += pij * w * dx;
            attract[1] += pij * w * dy;
        }
        let mut repel = [0.0; 2];
        let mut z = 0.0;
        for other in embedding {
            let (dx, dy) = (position[0] - other[0], position[1] - other[1]);
            let w = 1.0 / (1.0 + dx * dx + dy * dy);
            z += w;
            repel[0] += w * w * dx;
            repel[1] += w * w * dy;
        }
        for d in 0..2 {
            let gradient = attract[d] - repel[d] / z.max(f64::MIN_POSITIVE);
            gains[d] = if (gradient > 0.0) == (step[d] > 0.0) {
                (gains[d] * 0.8).max(0.01)
            } else {
                gains[d] + 0.2
            };
            step[d] = TRANSFORM_MOMENTUM * step[d] - TRANSFORM_LEARNING_RATE * gains[d] * gradient;
            position[d] += step[d];
        }
    }
    position
}

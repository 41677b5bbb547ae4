//! The full domain-shift report of a release, and the comparison of two selections: what
//! `faceemo shift` prints and the window's Domain shift view shows.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use faceemo_jobs::{Cancelled, JobContext};
use faceemo_projection::sample_rows;
use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;
use serde::Serialize;

use crate::classification::{GroupMetrics, MetricsAccumulator};
use crate::distance::{GaussianFit, cosine_distance, euclidean_distance, frechet_distance};
use crate::logistic::{BinaryModel, MultinomialModel, Standardiser, roc_auc, stratified_folds};
use crate::mmd::mmd_test;
use crate::neighbourhood::{NeighbourhoodShare, neighbour_agreement, silhouette, unit_rows};
use crate::{ShiftData, ShiftError};

/// How the sampled measures are sampled and fitted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShiftSettings {
    /// Seed of every sample and permutation.
    pub seed: u64,
    /// Most rows per dataset (or selection) for MMD, the domain classifier, the
    /// neighbourhood shares and the silhouettes.
    pub sample: usize,
    /// Permutations of the MMD test.
    pub permutations: usize,
    /// Folds of the domain classifier's cross-validation.
    pub folds: usize,
    /// Inverse regularisation strength of the logistic regressions.
    pub c: f64,
}

impl Default for ShiftSettings {
    fn default() -> Self {
        Self {
            seed: 0,
            sample: 1000,
            permutations: 1000,
            folds: 5,
            c: 1.0,
        }
    }
}

/// The measures between two groups of rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairMeasures {
    /// `1 − cos` of the two centroids.
    pub centroid_cosine: f64,
    /// Euclidean distance of the two centroids.
    pub centroid_euclidean: f64,
    /// Fréchet distance of the Gaussian fits (`None` when a side has fewer than 2 rows).
    pub frechet: Option<f64>,
    /// Unbiased MMD² on the samples (`None` when a side has fewer than 2 rows).
    pub mmd2: Option<f64>,
    /// Its permutation p-value.
    pub mmd_p: Option<f64>,
    /// Cross-validated ROC AUC of a logistic regression telling the samples apart (`None`
    /// when a side has fewer rows than folds).
    pub domain_auc: Option<f64>,
}

/// A sample some measures were computed on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sampling {
    /// The measures that use it.
    pub measures: String,
    /// The dataset or selection sampled.
    pub group: String,
    /// Rows drawn.
    pub rows: usize,
    /// Rows it was drawn from.
    pub of: usize,
    /// The seed it was drawn with.
    pub seed: u64,
}

/// Silhouette coefficients (cosine) of the pooled sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SilhouetteScores {
    /// With the datasets as clusters.
    pub by_dataset: Option<f64>,
    /// With the emotions as clusters (labelled rows).
    pub by_emotion: Option<f64>,
}

/// Two selections measured against each other.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Figures of selection A.
    pub a: GroupMetrics,
    /// Figures of selection B.
    pub b: GroupMetrics,
    /// The pair measures A vs B.
    pub pair: PairMeasures,
    /// Seconds the comparison took.
    pub seconds: f64,
}

/// Everything the lab measures on a release.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShiftReport {
    /// Class names in logit-column order (the confusion matrices' order).
    pub label_order: Vec<String>,
    /// Figures per dataset over all its rows.
    pub per_dataset: BTreeMap<String, GroupMetrics>,
    /// Figures per split, then dataset (only combinations with rows).
    pub per_split: BTreeMap<String, BTreeMap<String, GroupMetrics>>,
    /// Measures of every ordered pair of distinct datasets.
    pub pairwise: BTreeMap<String, BTreeMap<String, PairMeasures>>,
    /// `probe[A][B]`: accuracy on B's rows outside the train split of an emotion classifier
    /// trained on A's train rows.
    pub probe: BTreeMap<String, BTreeMap<String, f64>>,
    /// Neighbourhood shares per dataset.
    pub neighbourhood: BTreeMap<String, NeighbourhoodShare>,
    /// Silhouettes of the pooled sample.
    pub silhouette: SilhouetteScores,
    /// The samples used.
    pub sampling: Vec<Sampling>,
    /// What was left out or could not be measured, and why.
    pub notes: Vec<String>,
    /// Seconds the report took.
    pub seconds: f64,
    /// Two selections against each other, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
}

/// Figures of the labelled rows among `rows`.
pub fn group_metrics(data: &ShiftData, rows: impl IntoIterator<Item = usize>) -> GroupMetrics {
    let mut group = MetricsAccumulator::new(data.classes());
    for i in rows {
        if let Some(t) = data.truth[i] {
            group.add(
                usize::from(t),
                usize::from(data.predicted[i]),
                data.confidence[i],
            );
        }
    }
    group.finish(&data.label_names)
}

/// One side of a pair: its Gaussian fit and its sample (lab rows).
struct Side {
    fit: GaussianFit,
    sample: Vec<usize>,
}

impl Side {
    fn new(data: &ShiftData, rows: &[usize], sample_size: usize, seed: u64) -> Self {
        let sample = sample_rows(rows.len(), sample_size, seed)
            .into_iter()
            .map(|i| rows[i])
            .collect();
        Self {
            fit: GaussianFit::fit(data.features_of(rows).view()),
            sample,
        }
    }
}

/// Cross-validated AUC of a logistic regression telling sample A (negative) from B.
fn domain_auc(
    data: &ShiftData,
    a: &[usize],
    b: &[usize],
    settings: &ShiftSettings,
    job: JobContext<'_>,
) -> Result<Option<f64>, Cancelled> {
    let rows: Vec<usize> = a.iter().chain(b).copied().collect();
    let positive: Vec<bool> = (0..rows.len()).map(|i| i >= a.len()).collect();
    let class: Vec<usize> = positive.iter().map(|&p| usize::from(p)).collect();
    let Some(folds) = stratified_folds(&class, settings.folds) else {
        return Ok(None);
    };
    let x = data.features_of(&rows);
    let mut scores = vec![0.0; rows.len()];
    for fold in 0..settings.folds {
        let (test, train): (Vec<usize>, Vec<usize>) =
            (0..rows.len()).partition(|&i| folds[i] == fold);
        let train_x = x.select(Axis(0), &train);
        let scaler = Standardiser::fit(train_x.view());
        let train_labels: Vec<bool> = train.iter().map(|&i| positive[i]).collect();
        let model = BinaryModel::fit(
            scaler.apply(train_x.view()).view(),
            &train_labels,
            settings.c,
            job,
        )?;
        let test_x = scaler.apply(x.select(Axis(0), &test).view());
        for (&i, score) in test.iter().zip(model.decision(test_x.view())) {
            scores[i] = score;
        }
    }
    Ok(roc_auc(&scores, &positive))
}

fn pair_measures(
    data: &ShiftData,
    a: &Side,
    b: &Side,
    settings: &ShiftSettings,
    permutation_seed: u64,
    job: JobContext<'_>,
) -> Result<PairMeasures, Cancelled> {
    let sample_a = data.features_of(&a.sample);
    let sample_b = data.features_of(&b.sample);
    let mmd = mmd_test(
        sample_a.view(),
        sample_b.view(),
        settings.permutations,
        permutation_seed,
        job,
    )?;
    Ok(PairMeasures {
        centroid_cosine: cosine_distance(&a.fit.mean, &b.fit.mean),
        centroid_euclidean: euclidean_distance(&a.fit.mean, &b.fit.mean),
        frechet: frechet_distance(&a.fit, &b.fit),
        mmd2: mmd.map(|m| m.mmd2),
        mmd_p: mmd.map(|m| m.p_value),
        domain_auc: domain_auc(data, &a.sample, &b.sample, settings, job)?,
    })
}

/// The seed of the permutations of pair `(a, b)`.
fn permutation_seed(seed: u64, a: usize, b: usize) -> u64 {
    seed ^ 0xA5A5_0000_0000_0000 ^ ((a as u64) << 20 | b as u64)
}

/// Accuracy on each other dataset's held-out rows of an emotion classifier trained on one
/// dataset's train rows.
fn probe_matrix(
    data: &ShiftData,
    settings: &ShiftSettings,
    notes: &mut Vec<String>,
    job: JobContext<'_>,
) -> Result<BTreeMap<String, BTreeMap<String, f64>>, Cancelled> {
    let Some(train) = data.split_index("train") else {
        notes.push("probe: no train split loaded, so no transfer matrix".to_owned());
        return Ok(BTreeMap::new());
    };
    let labelled = |i: usize| data.truth[i].is_some();
    let held_out: Vec<Vec<usize>> = (0..data.dataset_names.len())
        .map(|d| {
            (0..data.rows())
                .filter(|&i| usize::from(data.dataset[i]) == d && data.split[i] != train)
                .filter(|&i| labelled(i))
                .collect()
        })
        .collect();
    let datasets = data.dataset_names.len();
    let results: Vec<Result<Option<BTreeMap<String, f64>>, Cancelled>> = (0..datasets)
        .into_par_iter()
        .map(|d| {
            let rows: Vec<usize> = (0..data.rows())
                .filter(|&i| usize::from(data.dataset[i]) == d && data.split[i] == train)
                .filter(|&i| labelled(i))
                .collect();
            // Classes present in training, numbered compactly (as scikit-learn's classes_).
            let mut present: Vec<u8> = rows.iter().filter_map(|&i| data.truth[i]).collect();
            present.sort_unstable();
            present.dedup();
            if present.len() < 2 {
                return Ok(None);
            }
            // (datasets with no train rows at all are evaluation-only, like AffectNet)
            let class: Vec<usize> = rows
                .iter()
                .filter_map(|&i| data.truth[i])
                .map(|t| present.partition_point(|&p| p < t))
                .collect();
            let x = data.features_of(&rows);
            let scaler = Standardiser::fit(x.view());
            let model = MultinomialModel::fit(
                scaler.apply(x.view()).view(),
                &class,
                present.len(),
                settings.c,
                job,
            )?;
            let mut row = BTreeMap::new();
            for (target, rows) in held_out.iter().enumerate() {
                if rows.is_empty() {
                    continue;
                }
                let predicted = model.predict(scaler.apply(data.features_of(rows).view()).view());
                let correct = rows
                    .iter()
                    .zip(predicted)
                    .filter(|&(&i, p)| data.truth[i] == present.get(p).copied())
                    .count();
                row.insert(
                    data.dataset_names[target].clone(),
                    correct as f64 / rows.len() as f64,
                );
            }
            Ok(Some(row))
        })
        .collect();
    let mut matrix = BTreeMap::new();
    for (d, result) in results.into_iter().enumerate() {
        match result? {
            Some(row) => {
                matrix.insert(data.dataset_names[d].clone(), row);
            }
            None => notes.push(format!(
                "probe: {} has no train rows with two or more emotions, so no classifier is \
                 trained on it (its row of the matrix is absent)",
                data.dataset_names[d]
            )),
        }
    }
    Ok(matrix)
}

/// Figures per dataset (all its rows) and per split × dataset (combinations with rows).
type MetricTables = (
    BTreeMap<String, GroupMetrics>,
    BTreeMap<String, BTreeMap<String, GroupMetrics>>,
);

fn metric_tables(data: &ShiftData, members: &[Vec<usize>]) -> MetricTables {
    let names = &data.dataset_names;
    let per_dataset = names
        .iter()
        .zip(members)
        .map(|(name, rows)| (name.clone(), group_metrics(data, rows.iter().copied())))
        .collect();
    let mut per_split: BTreeMap<String, BTreeMap<String, GroupMetrics>> = BTreeMap::new();
    for (s, split) in data.split_names.iter().enumerate() {
        for (name, rows) in names.iter().zip(members) {
            let in_split: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&i| usize::from(data.split[i]) == s)
                .collect();
            if !in_split.is_empty() {
                per_split
                    .entry(split.clone())
                    .or_default()
                    .insert(name.clone(), group_metrics(data, in_split));
            }
        }
    }
    (per_dataset, per_split)
}

/// The pair measures of every two datasets, both orders, pairs in parallel.
fn pairwise_measures(
    data: &ShiftData,
    sides: &[Side],
    settings: &ShiftSettings,
    job: JobContext<'_>,
) -> Result<BTreeMap<String, BTreeMap<String, PairMeasures>>, Cancelled> {
    let names = &data.dataset_names;
    let count = sides.len();
    let pairs: Vec<(usize, usize)> = (0..count)
        .flat_map(|a| (a + 1..count).map(move |b| (a, b)))
        .collect();
    let finished = AtomicUsize::new(0);
    let measured: Vec<Result<PairMeasures, Cancelled>> = pairs
        .par_iter()
        .map(|&(a, b)| {
            let seed = permutation_seed(settings.seed, a, b);
            let result = pair_measures(data, &sides[a], &sides[b], settings, seed, job);
            let done = finished.fetch_add(1, Ordering::Relaxed) + 1;
            job.report(
                "distances between datasets",
                done as u64,
                pairs.len() as u64,
            );
            result
        })
        .collect();
    let mut pairwise: BTreeMap<String, BTreeMap<String, PairMeasures>> = BTreeMap::new();
    for (&(a, b), result) in pairs.iter().zip(measured) {
        let measures = result?;
        for (from, to) in [(a, b), (b, a)] {
            pairwise
                .entry(names[from].clone())
                .or_default()
                .insert(names[to].clone(), measures.clone());
        }
    }
    Ok(pairwise)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (count > 0).then(|| sum / count as f64)
}

/// Neighbourhood shares per dataset over its sample (`queries` = the samples, in order).
fn neighbourhood_shares(
    data: &ShiftData,
    unit: ArrayView2<'_, f32>,
    sides: &[Side],
    queries: &[usize],
    job: JobContext<'_>,
) -> Result<BTreeMap<String, NeighbourhoodShare>, Cancelled> {
    let shares = neighbour_agreement(unit, queries, &data.truth, &data.dataset, job)?;
    let mut neighbourhood = BTreeMap::new();
    let mut offset = 0;
    for (name, side) in data.dataset_names.iter().zip(sides) {
        let own = &shares[offset..offset + side.sample.len()];
        offset += side.sample.len();
        neighbourhood.insert(
            name.clone(),
            NeighbourhoodShare {
                same_emotion: mean(own.iter().filter_map(|s| s.0)),
                same_dataset: mean(own.iter().map(|s| s.1)),
                rows: own.len(),
            },
        );
    }
    Ok(neighbourhood)
}

/// Silhouettes of the pooled sample by dataset and (labelled rows) by emotion.
fn silhouettes(data: &ShiftData, unit: ArrayView2<'_, f32>, queries: &[usize]) -> SilhouetteScores {
    let pooled = unit.select(Axis(0), queries);
    let by_dataset: Vec<usize> = queries
        .iter()
        .map(|&i| usize::from(data.dataset[i]))
        .collect();
    let labelled: Vec<usize> = (0..queries.len())
        .filter(|&q| data.truth[queries[q]].is_some())
        .collect();
    let by_emotion: Vec<usize> = labelled
        .iter()
        .filter_map(|&q| data.truth[queries[q]].map(usize::from))
        .collect();
    SilhouetteScores {
        by_dataset: silhouette(pooled.view(), &by_dataset),
        by_emotion: silhouette(pooled.select(Axis(0), &labelled).view(), &by_emotion),
    }
}

/// Measures everything on `data`. Progress goes to `job` stage by stage; a cancelled job
/// stops at the next check.
pub fn shift_report(
    data: &ShiftData,
    settings: &ShiftSettings,
    job: JobContext<'_>,
) -> Result<ShiftReport, ShiftError> {
    let started = Instant::now();
    let mut notes = data.notes.clone();
    let names = &data.dataset_names;

    job.report("metrics per dataset and split", 0, 1);
    let members: Vec<Vec<usize>> = (0..names.len())
        .map(|d| data.rows_of_dataset(d as u16))
        .collect();
    let (per_dataset, per_split) = metric_tables(data, &members);
    job.check_cancelled()?;

    job.report("Gaussian fits of the datasets", 0, 1);
    let seed_of = |d: usize| settings.seed.wrapping_add(d as u64);
    let sides: Vec<Side> = members
        .par_iter()
        .enumerate()
        .map(|(d, rows)| Side::new(data, rows, settings.sample, seed_of(d)))
        .collect();
    let mut sampling = Vec::new();
    for (d, side) in sides.iter().enumerate() {
        sampling.push(Sampling {
            measures: "mmd2, mmd_p, domain_auc, neighbourhood, silhouette".to_owned(),
            group: names[d].clone(),
            rows: side.sample.len(),
            of: members[d].len(),
            seed: seed_of(d),
        });
        if members[d].len() < settings.folds {
            notes.push(format!(
                "{} has only {} measurable rows: too few for some of its pair measures \
                 (covariance needs 2, MMD 2, the domain classifier {})",
                names[d],
                members[d].len(),
                settings.folds
            ));
        }
    }
    job.check_cancelled()?;
    let pairwise = pairwise_measures(data, &sides, settings, job)?;

    job.report("linear probes", 0, 1);
    let probe = probe_matrix(data, settings, &mut notes, job)?;

    let unit = unit_rows(data.feature_view());
    let queries: Vec<usize> = sides
        .iter()
        .flat_map(|s| s.sample.iter().copied())
        .collect();
    let neighbourhood = neighbourhood_shares(data, unit.view(), &sides, &queries, job)?;
    job.report("silhouettes", 0, 1);
    let silhouette = silhouettes(data, unit.view(), &queries);

    Ok(ShiftReport {
        label_order: data.label_names.clone(),
        per_dataset,
        per_split,
        pairwise,
        probe,
        neighbourhood,
        silhouette,
        sampling,
        notes,
        seconds: started.elapsed().as_secs_f64(),
        comparison: None,
    })
}

/// Measures selection `a` against selection `b` (lab rows): each side's figures and the
/// pair measures, sampled with `seed` for A and `seed + 1` for B.
pub fn compare_selections(
    data: &ShiftData,
    a: &[usize],
    b: &[usize],
    settings: &ShiftSettings,
    job: JobContext<'_>,
) -> Result<(Comparison, Vec<Sampling>), ShiftError> {
    job.report("comparing the selections", 0, 1);
    let started = Instant::now();
    let side_a = Side::new(data, a, settings.sample, settings.seed);
    let side_b = Side::new(data, b, settings.sample, settings.seed.wrapping_add(1));
    let pair = pair_measures(
        data,
        &side_a,
        &side_b,
        settings,
        permutation_seed(settings.seed, usize::MAX >> 44, 0),
        job,
    )?;
    let sampling = [("A", &side_a, a.len(), 0), ("B", &side_b, b.len(), 1)]
        .into_iter()
        .map(|(name, side, of, offset)| Sampling {
            measures: "comparison mmd2, mmd_p, domain_auc".to_owned(),
            group: format!("selection {name}"),
            rows: side.sample.len(),
            of,
            seed: settings.seed.wrapping_add(offset),
        })
        .collect();
    Ok((
        Comparison {
            a: group_metrics(data, a.iter().copied()),
            b: group_metrics(data, b.iter().copied()),
            pair,
            seconds: started.elapsed().as_secs_f64(),
        },
        sampling,
    ))
}

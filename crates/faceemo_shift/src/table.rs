//! The rows the lab measures: every row of a release with finite values and joined metadata,
//! stacked once, with its true class, prediction, confidence, dataset and split.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use faceemo_data::{Release, SplitData};
use ndarray::{Array2, ArrayView2, Axis};

use crate::ShiftError;

/// Most classes (logit columns) the lab accepts; a release has seven.
pub const MAX_CLASSES: usize = 64;
/// Most source datasets the lab accepts; a release has five.
pub const MAX_DATASETS: usize = 256;

/// The rows of a release the lab works on, in release order (splits, then file rows).
#[derive(Clone, Debug)]
pub struct ShiftData {
    /// Class names in logit-column order.
    pub label_names: Vec<String>,
    /// Source datasets, sorted by name; a row's `dataset` indexes this.
    pub dataset_names: Vec<String>,
    /// Splits in release order; a row's `split` indexes this.
    pub split_names: Vec<String>,
    /// Features of the rows, `(rows, width)`.
    pub features: Array2<f32>,
    /// True class of each row (`None` when its emotion is not among the label names).
    pub truth: Vec<Option<u8>>,
    /// Predicted class of each row: the arg-max of its logits (the first on ties;
    /// [`SplitData::predicted_classes`]).
    pub predicted: Vec<u8>,
    /// Confidence of each row: the largest of its probabilities.
    pub confidence: Vec<f64>,
    /// Dataset index of each row.
    pub dataset: Vec<u16>,
    /// Split index of each row.
    pub split: Vec<u16>,
    /// Row of each row in its split's file.
    pub source_row: Vec<u32>,
    /// What was left out and why, for the report.
    pub notes: Vec<String>,
}

fn row_is_finite(split: &SplitData, row: usize) -> bool {
    [&split.features, &split.logits, &split.probs]
        .iter()
        .all(|array| array.row(row).iter().all(|v| v.is_finite()))
}

/// The datasets of the kept rows, sorted (a dataset whose rows were all left out is not
/// measured, so it is not listed).
fn sorted_dataset_names(joined: &[&SplitData], keep: &[(usize, usize)]) -> Vec<String> {
    keep.iter()
        .filter_map(|&(split, row)| joined.get(split)?.samples.as_ref()?.get(row))
        .map(|sample| &*sample.dataset)
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// `(split, row)` of every row with finite values and a sample in a split of the common
/// shape; what is left out gets a note.
fn measurable_rows(
    joined: &[&SplitData],
    width: usize,
    classes: usize,
    notes: &mut Vec<String>,
) -> Vec<(usize, usize)> {
    let mut keep: Vec<(usize, usize)> = Vec::new();
    for (split_index, split) in joined.iter().enumerate() {
        if split.feature_dim() != width || split.num_classes() != classes {
            notes.push(format!(
                "split {} left out: {} features and {} classes, the others have {width} and {classes}",
                split.kind.name(),
                split.feature_dim(),
                split.num_classes(),
            ));
            continue;
        }
        let bad: BTreeSet<usize> = (0..split.rows())
            .filter(|&row| !row_is_finite(split, row))
            .collect();
        if !bad.is_empty() {
            notes.push(format!(
                "split {}: {} rows with NaN or infinity left out",
                split.kind.name(),
                bad.len()
            ));
        }
        let has_sample = |row: usize| split.samples.as_ref().is_some_and(|s| row < s.len());
        keep.extend(
            (0..split.rows())
                .filter(|&row| !bad.contains(&row) && has_sample(row))
                .map(|row| (split_index, row)),
        );
    }
    keep
}

/// The per-row columns of [`ShiftData`], and the labels that named no class.
struct Columns {
    features: Array2<f32>,
    truth: Vec<Option<u8>>,
    predicted: Vec<u8>,
    confidence: Vec<f64>,
    dataset: Vec<u16>,
    split: Vec<u16>,
    source_row: Vec<u32>,
    unknown_labels: BTreeMap<String, usize>,
}

/// Copies the kept rows (each with its sample: see [`measurable_rows`]) into columns.
fn copy_rows(
    joined: &[&SplitData],
    keep: &[(usize, usize)],
    width: usize,
    dataset_index: &HashMap<&str, u16>,
    class_of_name: &HashMap<&str, u8>,
) -> Columns {
    let predictions: Vec<Vec<usize>> = joined.iter().map(|s| s.predicted_classes()).collect();
    let rows = keep.len();
    let mut features = Array2::<f32>::zeros((rows, width));
    let mut truth = Vec::with_capacity(rows);
    let mut predicted = Vec::with_capacity(rows);
    let mut confidence = Vec::with_capacity(rows);
    let mut dataset = Vec::with_capacity(rows);
    let mut split_of = Vec::with_capacity(rows);
    let mut source_row = Vec::with_capacity(rows);
    let mut unknown_labels: BTreeMap<String, usize> = BTreeMap::new();
    for (out, &(split_index, row)) in features.axis_iter_mut(Axis(0)).zip(keep) {
        let split = joined[split_index];
        let Some(sample) = split.samples.as_ref().and_then(|s| s.get(row)) else {
            continue;
        };
        let mut out = out;
        out.assign(&split.features.row(row));
        let class = class_of_name.get(sample.emotion.name()).copied();
        if class.is_none() {
            *unknown_labels
                .entry(sample.emotion.name().to_owned())
                .or_default() += 1;
        }
        truth.push(class);
        predicted.push(predictions[split_index].get(row).copied().unwrap_or(0) as u8);
        confidence.push(f64::from(
            split
                .probs
                .row(row)
                .iter()
                .copied()
                .fold(f32::NEG_INFINITY, f32::max),
        ));
        dataset.push(dataset_index.get(&*sample.dataset).copied().unwrap_or(0));
        split_of.push(split_index as u16);
        source_row.push(row as u32);
    }
    Columns {
        features,
        truth,
        predicted,
        confidence,
        dataset,
        split: split_of,
        source_row,
        unknown_labels,
    }
}

impl ShiftData {
    /// Collects the measurable rows of `release`. Splits without metadata and rows with a
    /// NaN or infinity are left out, each with a note saying how many and where.
    pub fn from_release(release: &Release) -> Result<Self, ShiftError> {
        let label_names = release.labels.names();
        if label_names.len() > MAX_CLASSES {
            return Err(ShiftError::TooManyClasses {
                count: label_names.len(),
                limit: MAX_CLASSES,
            });
        }
        let joined: Vec<&SplitData> = release
            .splits
            .iter()
            .filter(|s| s.samples.is_some())
            .collect();
        if joined.is_empty() {
            return Err(ShiftError::NoMetadata);
        }
        let mut notes: Vec<String> = release
            .splits
            .iter()
            .filter(|s| s.samples.is_none())
            .map(|split| {
                format!(
                    "split {} ({} rows) left out: its metadata did not join",
                    split.kind.name(),
                    split.rows()
                )
            })
            .collect();
        let width = joined.first().map_or(0, |s| s.feature_dim());
        let split_names = joined.iter().map(|s| s.kind.name().to_owned()).collect();
        let keep = measurable_rows(&joined, width, label_names.len(), &mut notes);
        if keep.is_empty() {
            return Err(ShiftError::NoRows);
        }
        let dataset_names = sorted_dataset_names(&joined, &keep);
        if dataset_names.len() > MAX_DATASETS {
            return Err(ShiftError::TooManyDatasets {
                count: dataset_names.len(),
                limit: MAX_DATASETS,
            });
        }
        let dataset_index: HashMap<&str, u16> = (0u16..)
            .zip(&dataset_names)
            .map(|(i, name)| (name.as_str(), i))
            .collect();
        let class_of_name: HashMap<&str, u8> = (0u8..)
            .zip(&label_names)
            .map(|(i, name)| (name.as_str(), i))
            .collect();

        let Columns {
            features,
            truth,
            predicted,
            confidence,
            dataset,
            split: split_of,
            source_row,
            unknown_labels,
        } = copy_rows(&joined, &keep, width, &dataset_index, &class_of_name);
        for (label, count) in unknown_labels {
            notes.push(format!(
                "{count} rows labelled {label:?}, which is not among the model's classes: \
                 left out of the label metrics"
            ));
        }
        Ok(Self {
            label_names,
            dataset_names,
            split_names,
            features,
            truth,
            predicted,
            confidence,
            dataset,
            split: split_of,
            source_row,
            notes,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.truth.len()
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.label_names.len()
    }

    /// The rows of one dataset, in release order.
    pub fn rows_of_dataset(&self, dataset: u16) -> Vec<usize> {
        (0..self.rows())
            .filter(|&i| self.dataset[i] == dataset)
            .collect()
    }

    /// The split index of a split name, if that split was loaded with metadata.
    pub fn split_index(&self, name: &str) -> Option<u16> {
        self.split_names
            .iter()
            .position(|s| s == name)
            .map(|i| i as u16)
    }

    /// The features of some rows, copied into one matrix.
    pub fn features_of(&self, rows: &[usize]) -> Array2<f32> {
        self.features.select(Axis(0), rows)
    }

    /// A view of every row's features.
    pub fn feature_view(&self) -> ArrayView2<'_, f32> {
        self.features.view()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_release_gives_rows_with_datasets_and_labels() {
        let release = faceemo_data::synthetic_release(3);
        let data = ShiftData::from_release(&release).expect("demo data");
        assert_eq!(data.rows(), release.total_rows());
        assert!(data.dataset_names.len() >= 2);
        assert!(data.truth.iter().all(Option::is_some));
        assert_eq!(data.features.ncols(), release.feature_dim().unwrap_or(0));
    }

    #[test]
    fn a_release_without_metadata_is_an_error_that_says_so() {
        let mut release = faceemo_data::synthetic_release(3);
        for split in &mut release.splits {
            split.samples = None;
        }
        let error = ShiftData::from_release(&release).expect_err("no metadata");
        assert!(error.to_string().contains("metadata"), "{error}");
    }

    #[test]
    fn a_dataset_whose_rows_are_all_left_out_is_not_listed() {
        let mut release = faceemo_data::synthetic_release(3);
        let split = &mut release.splits[0];
        split.samples.as_mut().expect("metadata")[4].dataset = "Broken".into();
        split.features[[4, 0]] = f32::NAN;
        let data = ShiftData::from_release(&release).expect("data");
        assert!(!data.dataset_names.iter().any(|d| d == "Broken"));
    }

    #[test]
    fn rows_with_nan_are_left_out_with_a_note() {
        let mut release = faceemo_data::synthetic_release(3);
        let total = release.total_rows();
        let split = &mut release.splits[0];
        split.features[[2, 0]] = f32::NAN;
        let data = ShiftData::from_release(&release).expect("data");
        assert_eq!(data.rows(), total - 1);
        assert!(data.features.iter().all(|v| v.is_finite()));
        assert!(
            data.notes.iter().any(|n| n.contains("NaN")),
            "{:?}",
            data.notes
        );
    }
}

//! The map's points: one per released sample, with where it came from and the codes that
//! colour it (dataset, emotion, split, prediction, correctness, confidence). Where a point
//! lies is the business of each map's layout; the points are the same on every map.

use std::collections::BTreeMap;

use faceemo_data::{Release, SplitData};

/// What colours the points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Colouring {
    /// The source dataset (FER2013, RAF-DB, …).
    #[default]
    Dataset,
    /// The labelled emotion.
    Emotion,
    /// The split file.
    Split,
    /// The model's predicted emotion.
    Prediction,
    /// Whether the prediction matches the label.
    Correctness,
    /// The probability of the predicted class, in bins.
    Confidence,
}

impl Colouring {
    /// Every colouring, in menu order.
    pub const ALL: [Self; 6] = [
        Self::Dataset,
        Self::Emotion,
        Self::Split,
        Self::Prediction,
        Self::Correctness,
        Self::Confidence,
    ];

    /// The name shown to the user.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dataset => "Dataset",
            Self::Emotion => "Emotion",
            Self::Split => "Split",
            Self::Prediction => "Predicted emotion",
            Self::Correctness => "Correct / incorrect",
            Self::Confidence => "Confidence",
        }
    }
}

/// Confidence bins: lower edges.
const CONFIDENCE_EDGES: [f32; 5] = [0.0, 0.4, 0.6, 0.8, 0.95];
const CONFIDENCE_NAMES: [&str; 5] = ["< 0.40", "0.40-0.60", "0.60-0.80", "0.80-0.95", ">= 0.95"];

/// Where a point came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PointSource {
    /// Index into the release's splits.
    pub split: usize,
    /// Row in that split.
    pub row: usize,
}

/// Every row of a release as a point, in split order.
#[derive(Clone, Debug, Default)]
pub struct MapPoints {
    /// Which split and row each point is.
    pub sources: Vec<PointSource>,
    /// Group of each point under each colouring, indexed by `Colouring as usize`.
    groups: [Vec<u16>; 6],
    /// Group names under each colouring.
    names: [Vec<String>; 6],
    /// Points per group under each colouring (counted once, for the legend).
    totals: [Vec<usize>; 6],
}

impl MapPoints {
    /// The points of every row of `release`. The prediction is the arg-max of the released
    /// logits ([`SplitData::predicted_classes`]), the confidence its probability.
    pub fn new(release: &Release) -> Self {
        let mut points = Self::default();
        let labels = release.labels.names();
        let mut datasets = Interner::default();
        let mut emotions = Interner::default();
        let splits: Vec<String> = release
            .splits
            .iter()
            .map(|s| s.kind.name().to_owned())
            .collect();
        let mut correctness = Interner::default();
        for name in ["correct", "incorrect", "unlabelled"] {
            correctness.code(name);
        }
        for label in &labels {
            emotions.code(label);
        }
        for (split_index, split) in release.splits.iter().enumerate() {
            let predicted = split.predicted_classes();
            for row in 0..split.rows() {
                points.sources.push(PointSource {
                    split: split_index,
                    row,
                });
                let (dataset, emotion) = sample_labels(split, row);
                let predicted_class = predicted.get(row).copied().unwrap_or(0);
                let predicted_name = labels.get(predicted_class).map_or("?", String::as_str);
                let confidence = split
                    .probs
                    .row(row)
                    .get(predicted_class)
                    .copied()
                    .unwrap_or(0.0);
                let correct = match emotion {
                    None => "unlabelled",
                    Some(e) if e == predicted_name => "correct",
                    Some(_) => "incorrect",
                };
                points.groups[Colouring::Dataset as usize]
                    .push(datasets.code(dataset.unwrap_or(split.kind.name())));
                points.groups[Colouring::Emotion as usize]
                    .push(emotions.code(emotion.unwrap_or("unlabelled")));
                points.groups[Colouring::Split as usize].push(split_index as u16);
                points.groups[Colouring::Prediction as usize].push(emotions.code(predicted_name));
                points.groups[Colouring::Correctness as usize].push(correctness.code(correct));
                points.groups[Colouring::Confidence as usize].push(confidence_bin(confidence));
            }
        }
        points.names = [
            datasets.names,
            emotions.names.clone(),
            splits,
            emotions.names,
            correctness.names,
            CONFIDENCE_NAMES.iter().map(|s| (*s).to_owned()).collect(),
        ];
        points.totals = Colouring::ALL.map(|c| points.group_counts(c, None));
        points
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The name of point `point`'s group under `colouring`.
    pub fn group_name(&self, colouring: Colouring, point: usize) -> Option<&str> {
        let group = *self.groups(colouring).get(point)?;
        self.group_names(colouring)
            .get(usize::from(group))
            .map(String::as_str)
    }

    /// The group of every point under a colouring.
    pub fn groups(&self, colouring: Colouring) -> &[u16] {
        &self.groups[colouring as usize]
    }

    /// The group names under a colouring.
    pub fn group_names(&self, colouring: Colouring) -> &[String] {
        &self.names[colouring as usize]
    }

    /// How many points each group has (counted once, when the points were made).
    pub fn group_totals(&self, colouring: Colouring) -> &[usize] {
        &self.totals[colouring as usize]
    }

    /// How many points each group has, optionally only among `among`.
    pub fn group_counts(&self, colouring: Colouring, among: Option<&[usize]>) -> Vec<usize> {
        let groups = self.groups(colouring);
        let mut counts = vec![0; self.group_names(colouring).len()];
        let mut add = |g: u16| {
            if let Some(count) = counts.get_mut(usize::from(g)) {
                *count += 1;
            }
        };
        match among {
            Some(points) => points
                .iter()
                .filter_map(|&p| groups.get(p))
                .for_each(|&g| add(g)),
            None => groups.iter().for_each(|&g| add(g)),
        }
        counts
    }
}

fn sample_labels(split: &SplitData, row: usize) -> (Option<&str>, Option<&str>) {
    let Some(sample) = split.samples.as_ref().and_then(|s| s.get(row)) else {
        return (None, None);
    };
    (Some(&sample.dataset), Some(sample.emotion.name()))
}

fn confidence_bin(confidence: f32) -> u16 {
    CONFIDENCE_EDGES
        .iter()
        .rposition(|&edge| confidence >= edge)
        .unwrap_or(0) as u16
}

/// The most groups one colouring shows; names past them share one "other" group (a
/// release has a few dozen datasets and classes; metadata with thousands is not a legend).
pub const MAX_GROUPS: usize = 1024;

/// The group every name past [`MAX_GROUPS`] shares.
const OTHER_GROUP: &str = "(other names)";

/// Gives each distinct name a small code, in order of first appearance.
#[derive(Default)]
struct Interner {
    codes: BTreeMap<String, u16>,
    names: Vec<String>,
}

impl Interner {
    fn code(&mut self, name: &str) -> u16 {
        if let Some(&code) = self.codes.get(name) {
            return code;
        }
        if self.names.len() + 1 >= MAX_GROUPS && name != OTHER_GROUP {
            return self.code(OTHER_GROUP);
        }
        let code = self.names.len() as u16;
        self.codes.insert(name.to_owned(), code);
        self.names.push(name.to_owned());
        code
    }
}

/// The points of a synthetic demo set (for tests of what reads them).
#[cfg(test)]
pub(crate) fn demo_points(seed: u64) -> MapPoints {
    MapPoints::new(&faceemo_data::synthetic_release(seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_sample_becomes_a_point_with_its_labels() {
        let points = demo_points(7);
        let rows = faceemo_data::synthetic_release(7).total_rows();
        assert_eq!(points.len(), rows);
        assert_eq!(
            points
                .group_counts(Colouring::Dataset, None)
                .iter()
                .sum::<usize>(),
            rows
        );
        let datasets = points.group_names(Colouring::Dataset);
        assert!(datasets.iter().any(|d| d == "AffectNet"), "{datasets:?}");
        assert_eq!(points.group_names(Colouring::Emotion).len(), 7);
        let correctness = points.group_counts(Colouring::Correctness, None);
        assert!(correctness[0] > 0 && correctness[1] > 0, "{correctness:?}");
    }

    #[test]
    fn names_past_the_group_limit_share_one_group_instead_of_wrapping() {
        let mut interner = Interner::default();
        let codes: Vec<u16> = (0..70_000)
            .map(|i| interner.code(&format!("d{i}")))
            .collect();
        assert_eq!(interner.names.len(), MAX_GROUPS);
        assert_eq!(codes[5], 5);
        assert_eq!(codes[69_999], (MAX_GROUPS - 1) as u16);
        assert_eq!(interner.names[MAX_GROUPS - 1], OTHER_GROUP);
        assert_eq!(interner.code("d5"), 5, "known names keep their group");
    }

    #[test]
    fn confidence_bins_by_lower_edge() {
        assert_eq!(confidence_bin(0.1), 0);
        assert_eq!(confidence_bin(0.4), 1);
        assert_eq!(confidence_bin(0.97), 4);
    }
}

//! How well the released predictions agree with the labels within a group of rows:
//! accuracy, macro-F1, per-class recall, confusion, calibration (ECE, reliability diagram)
//! and a confidence histogram.

use std::collections::BTreeMap;

use serde::Serialize;

/// Equal-width confidence bins of the calibration measures.
pub const CALIBRATION_BINS: usize = 15;

/// One bin of a reliability diagram: confidences in `(lower, upper]` (0 falls in the first).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReliabilityBin {
    /// Lower edge of the bin.
    pub lower: f64,
    /// Upper edge of the bin.
    pub upper: f64,
    /// Labelled rows whose confidence falls in the bin.
    pub count: u64,
    /// Their accuracy (`None` for an empty bin).
    pub accuracy: Option<f64>,
    /// Their mean confidence (`None` for an empty bin).
    pub confidence: Option<f64>,
}

/// Counts per confidence bin, of correct and of wrong predictions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfidenceHistogram {
    /// Correct predictions per bin.
    pub correct: Vec<u64>,
    /// Wrong predictions per bin.
    pub incorrect: Vec<u64>,
}

/// Classification figures of one group of rows (a dataset, a split of it, a selection).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupMetrics {
    /// Rows in the group whose label is one of the classes (the rows every figure uses).
    pub rows: u64,
    /// Share predicted correctly (`None` without rows).
    pub accuracy: Option<f64>,
    /// Mean F1 over all classes, 0 for a class with neither rows nor predictions
    /// (scikit-learn's `f1_score(average="macro", labels=all, zero_division=0)`).
    pub macro_f1: Option<f64>,
    /// Expected calibration error over [`CALIBRATION_BINS`] bins of the top probability.
    pub ece: Option<f64>,
    /// Recall of each class, `None` where the group has no row of it.
    pub per_class_recall: BTreeMap<String, Option<f64>>,
    /// `confusion[true][predicted]`, in the label order.
    pub confusion: Vec<Vec<u64>>,
    /// Rows of each true class.
    pub class_counts: BTreeMap<String, u64>,
    /// The reliability diagram.
    pub reliability: Vec<ReliabilityBin>,
    /// Confidence of correct and wrong predictions.
    pub confidence_histogram: ConfidenceHistogram,
}

/// The calibration bin of a confidence: `(i/15, (i+1)/15]` is bin `i`, 0 is bin 0.
pub fn calibration_bin(confidence: f64) -> usize {
    let last = (CALIBRATION_BINS - 1) as f64;
    // A NaN confidence lands in the first bin (`as` maps NaN to 0).
    ((confidence * CALIBRATION_BINS as f64).ceil() - 1.0).clamp(0.0, last) as usize
}

/// Accumulates one group's rows, then turns into [`GroupMetrics`].
#[derive(Clone, Debug)]
pub struct MetricsAccumulator {
    confusion: Vec<Vec<u64>>,
    bin_count: [u64; CALIBRATION_BINS],
    bin_correct: [u64; CALIBRATION_BINS],
    bin_confidence: [f64; CALIBRATION_BINS],
}

impl MetricsAccumulator {
    /// An empty group over `classes` classes.
    pub fn new(classes: usize) -> Self {
        Self {
            confusion: vec![vec![0; classes]; classes],
            bin_count: [0; CALIBRATION_BINS],
            bin_correct: [0; CALIBRATION_BINS],
            bin_confidence: [0.0; CALIBRATION_BINS],
        }
    }

    /// Adds one labelled row (classes out of range are ignored).
    pub fn add(&mut self, truth: usize, predicted: usize, confidence: f64) {
        let classes = self.confusion.len();
        if truth >= classes || predicted >= classes {
            return;
        }
        self.confusion[truth][predicted] += 1;
        let bin = calibration_bin(confidence);
        self.bin_count[bin] += 1;
        self.bin_correct[bin] += u64::from(truth == predicted);
        self.bin_confidence[bin] += confidence;
    }

    /// The figures, with classes named by `label_names`.
    pub fn finish(self, label_names: &[String]) -> GroupMetrics {
        let confusion = self.confusion;
        let classes = confusion.len();
        let rows: u64 = confusion.iter().flatten().sum();
        let correct: u64 = (0..classes).map(|c| confusion[c][c]).sum();
        let actual: Vec<u64> = confusion.iter().map(|row| row.iter().sum()).collect();
        let called: Vec<u64> = (0..classes)
            .map(|c| confusion.iter().map(|row| row[c]).sum())
            .collect();
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        let f1_sum: f64 = (0..classes)
            .map(|c| ratio(2 * confusion[c][c], actual[c] + called[c]).unwrap_or(0.0))
            .sum();
        let reliability: Vec<ReliabilityBin> = (0..CALIBRATION_BINS)
            .map(|b| ReliabilityBin {
                lower: b as f64 / CALIBRATION_BINS as f64,
                upper: (b + 1) as f64 / CALIBRATION_BINS as f64,
                count: self.bin_count[b],
                accuracy: ratio(self.bin_correct[b], self.bin_count[b]),
                confidence: (self.bin_count[b] > 0)
                    .then(|| self.bin_confidence[b] / self.bin_count[b] as f64),
            })
            .collect();
        let ece = (rows > 0).then(|| {
            reliability
                .iter()
                .filter_map(|bin| {
                    Some(bin.count as f64 / rows as f64 * (bin.accuracy? - bin.confidence?).abs())
                })
                .sum()
        });
        let name = |c: usize| {
            label_names
                .get(c)
                .cloned()
                .unwrap_or_else(|| format!("class {c}"))
        };
        GroupMetrics {
            rows,
            accuracy: ratio(correct, rows),
            macro_f1: (rows > 0 && classes > 0).then(|| f1_sum / classes as f64),
            ece,
            per_class_recall: (0..classes)
                .map(|c| (name(c), ratio(confusion[c][c], actual[c])))
                .collect(),
            class_counts: (0..classes).map(|c| (name(c), actual[c])).collect(),
            confidence_histogram: ConfidenceHistogram {
                correct: self.bin_correct.to_vec(),
                incorrect: self
                    .bin_count
                    .iter()
                    .zip(&self.bin_correct)
                    .map(|(n, c)| n - c)
                    .collect(),
            },
            reliability,
            confusion,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(count: usize) -> Vec<String> {
        (0..count).map(|c| format!("c{c}")).collect()
    }

    #[test]
    fn confidences_fall_in_half_open_bins_from_above() {
        assert_eq!(calibration_bin(0.0), 0);
        assert_eq!(calibration_bin(1.0 / 15.0), 0);
        assert_eq!(calibration_bin(1.0 / 15.0 + 1e-12), 1);
        assert_eq!(calibration_bin(1.0), 14);
        assert_eq!(calibration_bin(0.5), 7);
    }

    #[test]
    fn figures_of_a_small_group_match_hand_computation() {
        // truth [0, 0, 1, 1], predicted [0, 1, 1, 1]; class 2 absent.
        let mut group = MetricsAccumulator::new(3);
        for (t, p, c) in [(0, 0, 0.9), (0, 1, 0.6), (1, 1, 0.8), (1, 1, 0.95)] {
            group.add(t, p, c);
        }
        let m = group.finish(&names(3));
        assert_eq!(m.rows, 4);
        assert_eq!(m.accuracy, Some(0.75));
        assert_eq!(m.per_class_recall["c0"], Some(0.5));
        assert_eq!(m.per_class_recall["c2"], None);
        // F1: 2/3, 4/5 and 0 for the absent class, averaged over all three (zero_division=0).
        let want = (2.0 / 3.0 + 0.8) / 3.0;
        assert!((m.macro_f1.expect("f1") - want).abs() < 1e-12);
        assert_eq!(
            m.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![0, 0, 0]]
        );
        // Bins: 0.6 -> 8 (wrong), 0.8 -> 11, 0.9 -> 13, 0.95 -> 14: ECE = (0.6 + 0.2 + 0.1 + 0.05) / 4.
        let ece = m.ece.expect("ece");
        assert!(
            (ece - (0.6 + 0.2 + 0.1 + 0.05) / 4.0).abs() < 1e-12,
            "{ece}"
        );
        assert_eq!(m.confidence_histogram.incorrect[8], 1);
        assert_eq!(m.reliability[8].accuracy, Some(0.0));
        assert_eq!(m.reliability[0].accuracy, None);
    }

    #[test]
    fn an_empty_group_has_no_figures_rather_than_zeros() {
        let m = MetricsAccumulator::new(7).finish(&names(7));
        assert_eq!(m.rows, 0);
        assert_eq!(m.accuracy, None);
        assert_eq!(m.macro_f1, None);
        assert_eq!(m.ece, None);
    }
}

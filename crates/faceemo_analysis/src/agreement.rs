//! How well predictions agree with labels within each group (dataset): accuracy, recall of
//! every class, and macro-F1 — the figures a model card reports per test set.

/// Per-group classification figures.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupAgreement {
    /// Labelled items in the group.
    pub labelled: usize,
    /// Fraction predicted correctly.
    pub accuracy: f64,
    /// Recall of each class (`None` where the group has no item of that class).
    pub recall: Vec<Option<f64>>,
    /// Mean F1 over the classes present in the group's labels or predictions.
    pub macro_f1: f64,
}

/// Computes [`GroupAgreement`] for every group. `truth[i]` is item i's class (`None` when
/// unlabelled), `predicted[i]` its predicted class, `group[i]` its group; classes are
/// `0..classes`, groups `0..groups`.
pub fn agreement_by_group(
    truth: &[Option<usize>],
    predicted: &[usize],
    group: &[usize],
    classes: usize,
    groups: usize,
) -> Vec<GroupAgreement> {
    // confusion[g][t][p]
    let mut confusion = vec![vec![vec![0usize; classes]; classes]; groups];
    for ((t, &p), &g) in truth.iter().zip(predicted).zip(group) {
        if let Some(t) = *t
            && t < classes
            && p < classes
            && g < groups
        {
            confusion[g][t][p] += 1;
        }
    }
    confusion
        .iter()
        .map(|matrix| {
            let labelled: usize = matrix.iter().flatten().sum();
            let correct: usize = (0..classes).map(|c| matrix[c][c]).sum();
            let recall = (0..classes)
                .map(|c| {
                    let actual: usize = matrix[c].iter().sum();
                    (actual > 0).then(|| matrix[c][c] as f64 / actual as f64)
                })
                .collect();
            let f1: Vec<f64> = (0..classes)
                .filter_map(|c| {
                    let actual: usize = matrix[c].iter().sum();
                    let called: usize = matrix.iter().map(|row| row[c]).sum();
                    (actual + called > 0)
                        .then(|| 2.0 * matrix[c][c] as f64 / (actual + called) as f64)
                })
                .collect();
            GroupAgreement {
                labelled,
                accuracy: if labelled > 0 {
                    correct as f64 / labelled as f64
                } else {
                    0.0
                },
                recall,
                macro_f1: if f1.is_empty() {
                    0.0
                } else {
                    f1.iter().sum::<f64>() / f1.len() as f64
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_recall_and_macro_f1_of_a_small_confusion() {
        // Group 0: truth [0, 0, 1, 1], predicted [0, 1, 1, 1]; group 1: one unlabelled item.
        let truth = [Some(0), Some(0), Some(1), Some(1), None];
        let predicted = [0, 1, 1, 1, 0];
        let group = [0, 0, 0, 0, 1];
        let figures = agreement_by_group(&truth, &predicted, &group, 3, 2);
        let first = &figures[0];
        assert_eq!(first.labelled, 4);
        assert!((first.accuracy - 0.75).abs() < 1e-12);
        assert_eq!(first.recall, vec![Some(0.5), Some(1.0), None]);
        // F1: class 0 = 2·1/(2+1) = 2/3; class 1 = 2·2/(2+3) = 4/5; class 2 absent.
        assert!((first.macro_f1 - f64::midpoint(2.0 / 3.0, 0.8)).abs() < 1e-12);
        assert_eq!(figures[1].labelled, 0);
    }
}

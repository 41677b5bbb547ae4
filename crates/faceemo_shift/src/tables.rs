//! A report as flat tables (one CSV each): what `faceemo shift --out` writes and the
//! window exports.

use crate::{GroupMetrics, PairMeasures, ShiftReport};

/// One table: a file stem, a header and rows of cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// File stem, safe as a file name (`per_dataset`, `confusion_FER2013`).
    pub name: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells; an unmeasured value is an empty cell.
    pub rows: Vec<Vec<String>>,
}

/// A value as a cell: empty when unmeasured.
fn cell(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

/// A name made safe for a file stem: anything but letters, digits, `-` and `_` becomes `_`.
pub fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() {
        "_".to_owned()
    } else {
        stem
    }
}

fn metrics_header(first: &[&str], labels: &[String]) -> Vec<String> {
    let mut header: Vec<String> = first.iter().map(|s| (*s).to_owned()).collect();
    header.extend(["rows", "accuracy", "macro_f1", "ece"].map(str::to_owned));
    header.extend(labels.iter().map(|l| format!("recall_{l}")));
    header
}

fn metrics_cells(first: &[&str], metrics: &GroupMetrics, labels: &[String]) -> Vec<String> {
    let mut row: Vec<String> = first.iter().map(|s| (*s).to_owned()).collect();
    row.push(metrics.rows.to_string());
    row.extend([metrics.accuracy, metrics.macro_f1, metrics.ece].map(cell));
    row.extend(
        labels
            .iter()
            .map(|l| cell(metrics.per_class_recall.get(l).copied().flatten())),
    );
    row
}

fn pair_cells(measures: &PairMeasures) -> [String; 6] {
    [
        cell(Some(measures.centroid_cosine)),
        cell(Some(measures.centroid_euclidean)),
        cell(measures.frechet),
        cell(measures.mmd2),
        cell(measures.mmd_p),
        cell(measures.domain_auc),
    ]
}

const PAIR_COLUMNS: [&str; 6] = [
    "centroid_cosine",
    "centroid_euclidean",
    "frechet",
    "mmd2",
    "mmd_p",
    "domain_auc",
];

fn confusion_table(name: String, metrics: &GroupMetrics, labels: &[String]) -> Table {
    let mut header = vec!["true \\ predicted".to_owned()];
    header.extend(labels.iter().cloned());
    Table {
        name,
        header,
        rows: metrics
            .confusion
            .iter()
            .zip(labels)
            .map(|(counts, label)| {
                std::iter::once(label.clone())
                    .chain(counts.iter().map(ToString::to_string))
                    .collect()
            })
            .collect(),
    }
}

fn reliability_table(name: String, metrics: &GroupMetrics) -> Table {
    Table {
        name,
        header: ["lower", "upper", "count", "accuracy", "confidence"]
            .map(str::to_owned)
            .to_vec(),
        rows: metrics
            .reliability
            .iter()
            .map(|bin| {
                vec![
                    bin.lower.to_string(),
                    bin.upper.to_string(),
                    bin.count.to_string(),
                    cell(bin.accuracy),
                    cell(bin.confidence),
                ]
            })
            .collect(),
    }
}

impl ShiftReport {
    /// The tables of the whole release: per dataset, per split, pairwise, probe,
    /// neighbourhood.
    fn summary_tables(&self) -> Vec<Table> {
        let labels = &self.label_order;
        vec![
            Table {
                name: "per_dataset".to_owned(),
                header: metrics_header(&["dataset"], labels),
                rows: self
                    .per_dataset
                    .iter()
                    .map(|(d, m)| metrics_cells(&[d], m, labels))
                    .collect(),
            },
            Table {
                name: "per_split".to_owned(),
                header: metrics_header(&["split", "dataset"], labels),
                rows: self
                    .per_split
                    .iter()
                    .flat_map(|(s, by)| {
                        by.iter()
                            .map(move |(d, m)| metrics_cells(&[s, d], m, labels))
                    })
                    .collect(),
            },
            Table {
                name: "pairwise".to_owned(),
                header: ["a", "b"]
                    .iter()
                    .chain(&PAIR_COLUMNS)
                    .map(|s| (*s).to_owned())
                    .collect(),
                rows: self
                    .pairwise
                    .iter()
                    .flat_map(|(a, by)| {
                        by.iter().map(move |(b, m)| {
                            [a.clone(), b.clone()]
                                .into_iter()
                                .chain(pair_cells(m))
                                .collect()
                        })
                    })
                    .collect(),
            },
            Table {
                name: "probe".to_owned(),
                header: ["trained_on", "tested_on", "accuracy"]
                    .map(str::to_owned)
                    .to_vec(),
                rows: self
                    .probe
                    .iter()
                    .flat_map(|(a, by)| {
                        by.iter().map(move |(b, accuracy)| {
                            vec![a.clone(), b.clone(), accuracy.to_string()]
                        })
                    })
                    .collect(),
            },
            Table {
                name: "neighbourhood".to_owned(),
                header: ["dataset", "rows", "same_emotion", "same_dataset"]
                    .map(str::to_owned)
                    .to_vec(),
                rows: self
                    .neighbourhood
                    .iter()
                    .map(|(d, share)| {
                        vec![
                            d.clone(),
                            share.rows.to_string(),
                            cell(share.same_emotion),
                            cell(share.same_dataset),
                        ]
                    })
                    .collect(),
            },
        ]
    }

    /// The report as tables: per dataset, per split, pairwise, probe, neighbourhood, and a
    /// confusion and a reliability table per dataset (and per selection when compared).
    pub fn tables(&self) -> Vec<Table> {
        let labels = &self.label_order;
        let mut tables = self.summary_tables();
        // Stems compared in lower case (case-insensitive file systems), the comparison's own
        // names reserved first.
        let mut used: std::collections::BTreeSet<String> = ["a", "b"]
            .iter()
            .map(|side| format!("selection_{side}"))
            .collect();
        for (dataset, metrics) in &self.per_dataset {
            // Names that differ only in unsafe characters get a number, not one file.
            let base = file_stem(dataset);
            let mut stem = base.clone();
            let mut number = 2;
            while !used.insert(stem.to_lowercase()) {
                stem = format!("{base}_{number}");
                number += 1;
            }
            tables.push(confusion_table(
                format!("confusion_{stem}"),
                metrics,
                labels,
            ));
            tables.push(reliability_table(format!("reliability_{stem}"), metrics));
        }
        if let Some(comparison) = &self.comparison {
            tables.push(Table {
                name: "comparison".to_owned(),
                header: ["a", "b"]
                    .iter()
                    .chain(&PAIR_COLUMNS)
                    .map(|s| (*s).to_owned())
                    .collect(),
                rows: vec![
                    ["selection A".to_owned(), "selection B".to_owned()]
                        .into_iter()
                        .chain(pair_cells(&comparison.pair))
                        .collect(),
                ],
            });
            for (side, metrics) in [("a", &comparison.a), ("b", &comparison.b)] {
                tables.push(confusion_table(
                    format!("confusion_selection_{side}"),
                    metrics,
                    labels,
                ));
                tables.push(reliability_table(
                    format!("reliability_selection_{side}"),
                    metrics,
                ));
            }
        }
        tables
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_never_collide() {
        let metrics = crate::MetricsAccumulator::new(2).finish(&["x".to_owned(), "y".to_owned()]);
        let mut report = ShiftReport {
            label_order: vec!["x".to_owned(), "y".to_owned()],
            per_dataset: ["FER2013", "fer2013", "selection_a", "A/B", "A_B"]
                .into_iter()
                .map(|d| (d.to_owned(), metrics.clone()))
                .collect(),
            per_split: std::collections::BTreeMap::new(),
            pairwise: std::collections::BTreeMap::new(),
            probe: std::collections::BTreeMap::new(),
            neighbourhood: std::collections::BTreeMap::new(),
            silhouette: crate::SilhouetteScores {
                by_dataset: None,
                by_emotion: None,
            },
            sampling: Vec::new(),
            notes: Vec::new(),
            seconds: 0.0,
            comparison: None,
        };
        report.comparison = Some(crate::Comparison {
            a: metrics.clone(),
            b: metrics,
            pair: PairMeasures {
                centroid_cosine: 0.0,
                centroid_euclidean: 0.0,
                frechet: None,
                mmd2: None,
                mmd_p: None,
                domain_auc: None,
            },
            seconds: 0.0,
        });
        let names: Vec<String> = report
            .tables()
            .into_iter()
            .map(|t| t.name.to_lowercase())
            .collect();
        let unique: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }

    #[test]
    fn hostile_dataset_names_become_safe_file_stems() {
        assert_eq!(file_stem("RAF-DB"), "RAF-DB");
        assert_eq!(file_stem("../../etc/passwd"), "______etc_passwd");
        assert_eq!(file_stem(""), "_");
        assert_eq!(file_stem(&"x".repeat(500)).len(), 64);
    }
}

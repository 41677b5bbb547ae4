//! `faceemo info`: load a release and report what is in it.

use std::collections::BTreeMap;
use std::process::ExitCode;

use faceemo_data::{LabelSource, Release, accuracy};
use serde::Serialize;

use super::release_args::ReleaseArgs;

/// Arguments of `faceemo info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    #[command(flatten)]
    release: ReleaseArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `faceemo info`.
pub fn run(args: &InfoArgs) -> anyhow::Result<ExitCode> {
    let release = args.release.load(args.json)?;
    let report = InfoReport::new(&release);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

/// The report, in the JSON shape other tools rely on.
#[derive(Debug, Serialize)]
struct InfoReport {
    source: String,
    synthetic: bool,
    labels: Vec<String>,
    label_source: String,
    splits: Vec<SplitReport>,
    counts: BTreeMap<String, BTreeMap<String, usize>>,
    warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
struct SplitReport {
    name: String,
    rows: usize,
    feature_dim: usize,
    num_classes: usize,
    metadata_joined: bool,
    nonfinite_rows: usize,
    accuracy: Option<f64>,
    file: Option<String>,
}

impl InfoReport {
    fn new(release: &Release) -> Self {
        Self {
            source: release.describe_origin(),
            synthetic: release.is_synthetic(),
            labels: release.labels.names(),
            label_source: match &release.labels.source {
                LabelSource::ReleaseDefault => "release default order".to_owned(),
                LabelSource::ModelConfig(path) => format!("id2label of {}", path.display()),
                LabelSource::Numbered => "numbered".to_owned(),
            },
            splits: release
                .splits
                .iter()
                .map(|split| SplitReport {
                    name: split.kind.name().to_owned(),
                    rows: split.rows(),
                    feature_dim: split.feature_dim(),
                    num_classes: split.num_classes(),
                    metadata_joined: split.metadata_joined(),
                    nonfinite_rows: split.nonfinite_rows.len(),
                    accuracy: accuracy(split, &release.labels),
                    file: split.source_file.as_ref().map(|f| f.display().to_string()),
                })
                .collect(),
            counts: release.counts(),
            warnings: release.warnings.clone(),
        }
    }

    fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        if self.synthetic {
            out.push_str("*** SYNTHETIC DEMO SET — not the FaceEmo-Set release ***\n");
        }
        writeln!(out, "Source: {}", self.source).ok();
        writeln!(
            out,
            "Labels: {} ({})",
            self.labels.join(", "),
            self.label_source
        )
        .ok();
        writeln!(
            out,
            "\n{:<16} {:>8} {:>6} {:>8} {:>10} {:>11} {:>9}",
            "split", "rows", "dim", "classes", "metadata", "non-finite", "accuracy"
        )
        .ok();
        for split in &self.splits {
            writeln!(
                out,
                "{:<16} {:>8} {:>6} {:>8} {:>10} {:>11} {:>9}",
                split.name,
                split.rows,
                split.feature_dim,
                split.num_classes,
                if split.metadata_joined {
                    "joined"
                } else {
                    "missing"
                },
                split.nonfinite_rows,
                split
                    .accuracy
                    .map_or_else(|| "-".to_owned(), |a| format!("{:.2}%", a * 100.0))
            )
            .ok();
        }
        let total: usize = self.splits.iter().map(|s| s.rows).sum();
        writeln!(out, "{:<16} {:>8}", "total", total).ok();
        if !self.counts.is_empty() {
            let emotions: std::collections::BTreeSet<&String> =
                self.counts.values().flat_map(BTreeMap::keys).collect();
            writeln!(out, "\nSamples per dataset × emotion:").ok();
            write!(out, "{:<14}", "dataset").ok();
            for emotion in &emotions {
                write!(out, " {:>9}", truncate(emotion, 9)).ok();
            }
            writeln!(out, " {:>9}", "total").ok();
            for (dataset, per_emotion) in &self.counts {
                write!(out, "{:<14}", truncate(dataset, 14)).ok();
                for emotion in &emotions {
                    write!(
                        out,
                        " {:>9}",
                        per_emotion.get(*emotion).copied().unwrap_or(0)
                    )
                    .ok();
                }
                writeln!(out, " {:>9}", per_emotion.values().sum::<usize>()).ok();
            }
        }
        if !self.warnings.is_empty() {
            writeln!(out, "\nWarnings:").ok();
            for warning in &self.warnings {
                writeln!(out, "  - {warning}").ok();
            }
        }
        out
    }
}

fn truncate(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}

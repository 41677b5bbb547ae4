//! `faceemo info`: load a release and report what is in it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use faceemo_data::{
    DEFAULT_DEMO_SEED, LabelOrder, LabelSource, Release, ReleaseFiles, accuracy, cache_location,
    find_release_in_cache, load_release, synthetic_release,
};
use faceemo_hub::HubSettings;
use faceemo_jobs::{CancelToken, JobContext};
use serde::Serialize;

use super::progress::TerminalProgress;

/// Arguments of `faceemo info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// Release folder(s) or files (NPZ splits, metadata CSV). Without any, the release is
    /// taken from the local Hugging Face cache.
    paths: Vec<PathBuf>,
    /// Use the synthetic demo set instead of a release.
    #[arg(long, conflicts_with = "paths")]
    demo: bool,
    /// Seed of the synthetic demo set.
    #[arg(long, default_value_t = DEFAULT_DEMO_SEED, requires = "demo")]
    seed: u64,
    /// Model folder (or its config.json) whose id2label gives the logits' column order.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `faceemo info`.
pub fn run(args: &InfoArgs) -> anyhow::Result<ExitCode> {
    let labels = match &args.model {
        Some(model) => LabelOrder::from_model_config(&config_path(model))?,
        None => LabelOrder::release_default(),
    };
    let release = if args.demo {
        let mut release = synthetic_release(args.seed);
        release.labels = labels;
        release
    } else {
        let files = resolve_files(&args.paths)?;
        let progress = TerminalProgress::bytes(args.json);
        let cancel = CancelToken::new();
        let release = load_release(&files, labels, JobContext::new(&progress, &cancel))?;
        progress.finish();
        release
    };
    let report = InfoReport::new(&release);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

fn config_path(model: &Path) -> PathBuf {
    if model.is_dir() {
        model.join("config.json")
    } else {
        model.to_owned()
    }
}

fn resolve_files(paths: &[PathBuf]) -> anyhow::Result<ReleaseFiles> {
    if !paths.is_empty() {
        return Ok(ReleaseFiles::from_paths(paths)?);
    }
    let settings = HubSettings::from_env().context("cannot locate the Hugging Face cache")?;
    find_release_in_cache(&settings).with_context(|| {
        format!(
            "no release given and none in the Hugging Face cache at {}; pass a folder or \
             files, run `faceemo download`, or use --demo",
            cache_location(&settings)
        )
    })
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

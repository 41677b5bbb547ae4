//! `faceemo project`: a 2-D or 3-D map of the feature space, as CSV.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use faceemo_data::{Release, SplitData};
use faceemo_jobs::{ProgressSink as _, ProgressUpdate};
use faceemo_projection::{Pca, TsneMap, TsneSettings, knn_preservation, sample_rows, tsne};
use ndarray::{Array2, Axis};
use serde::Serialize;

use super::progress::TerminalProgress;
use super::release_args::ReleaseArgs;

/// Projection methods.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Method {
    /// Principal component analysis of all selected rows.
    Pca,
    /// t-SNE (PCA to 50 dimensions, exact neighbours, FFT-accelerated repulsion).
    Tsne,
}

/// Arguments of `faceemo project`.
#[derive(Debug, clap::Args)]
pub struct ProjectArgs {
    #[command(flatten)]
    release: ReleaseArgs,
    /// The projection.
    #[arg(long, value_enum, default_value = "pca")]
    method: Method,
    /// Splits to project, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    splits: Vec<String>,
    /// Map dimensions (t-SNE maps are 2-D).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..=3))]
    dims: u8,
    /// t-SNE perplexity (effective number of neighbours).
    #[arg(long, default_value_t = 30.0)]
    perplexity: f64,
    /// Seed of the sample the quality is measured on.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The CSV to write: `split,row,sample_id,dataset,emotion,x,y[,z]`.
    #[arg(short, long, value_name = "COORDS.csv")]
    output: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct ProjectReport {
    method: &'static str,
    rows: usize,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    explained_variance_ratio: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kl_divergence: Option<f64>,
    knn_preservation: f64,
    knn_k: usize,
    knn_sample: usize,
    synthetic: bool,
}

/// Points whose neighbourhoods are compared, and how many neighbours.
const QUALITY_SAMPLE: usize = 1000;
const QUALITY_K: usize = 10;

/// Runs `faceemo project`.
pub fn run(args: &ProjectArgs) -> anyhow::Result<ExitCode> {
    let release = args.release.load(args.json)?;
    let splits = select_splits(&release, &args.splits)?;
    let features = stack_features(&splits);
    let start = Instant::now();
    let (coords, explained_variance_ratio, kl_divergence) = match args.method {
        Method::Pca => {
            let pca = Pca::fit(features.view(), usize::from(args.dims))?;
            (
                pca.transform(features.view())?,
                Some(pca.explained_variance_ratio),
                None,
            )
        }
        Method::Tsne => {
            if args.dims != 2 {
                anyhow::bail!("t-SNE maps are 2-D: drop --dims {}", args.dims);
            }
            let map = run_tsne(&features, args.perplexity, args.json)?;
            (map.embedding, None, Some(map.kl_divergence))
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let sample = sample_rows(features.nrows(), QUALITY_SAMPLE, args.seed);
    let preservation = knn_preservation(features.view(), coords.view(), &sample, QUALITY_K);
    write_csv(&args.output, &splits, &coords)?;
    let report = ProjectReport {
        method: match args.method {
            Method::Pca => "pca",
            Method::Tsne => "tsne",
        },
        rows: features.nrows(),
        seconds,
        explained_variance_ratio,
        kl_divergence,
        knn_preservation: preservation,
        knn_k: QUALITY_K,
        knn_sample: sample.len(),
        synthetic: release.is_synthetic(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        if report.synthetic {
            println!("*** SYNTHETIC DEMO SET — not the FaceEmo-Set release ***");
        }
        let quality = match (&report.explained_variance_ratio, report.kl_divergence) {
            (Some(ratios), _) => format!(
                "explained variance ratio {}",
                ratios
                    .iter()
                    .map(|r| format!("{r:.4}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (None, Some(kl)) => format!("KL divergence {kl:.4}"),
            (None, None) => String::new(),
        };
        println!(
            "{} of {} rows in {:.2} s; {quality}; {}-NN preservation {:.3} on {} rows; wrote {}",
            report.method.to_uppercase(),
            report.rows,
            report.seconds,
            QUALITY_K,
            report.knn_preservation,
            report.knn_sample,
            args.output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// t-SNE with a progress bar of iterations (hidden for JSON output).
fn run_tsne(features: &Array2<f32>, perplexity: f64, quiet: bool) -> anyhow::Result<TsneMap> {
    let progress = TerminalProgress::count(quiet);
    let settings = TsneSettings {
        perplexity,
        ..TsneSettings::default()
    };
    let map = tsne(features.view(), &settings, &mut |update| {
        progress.report(ProgressUpdate {
            stage: match update.kl_divergence {
                Some(kl) => format!("t-SNE, KL {kl:.3}"),
                None => update.stage.to_owned(),
            },
            done: update.iteration as u64,
            total: update.iterations as u64,
        });
        true
    })?;
    progress.finish();
    Ok(map)
}

fn select_splits<'r>(release: &'r Release, names: &[String]) -> anyhow::Result<Vec<&'r SplitData>> {
    if names.is_empty() {
        return Ok(release.splits.iter().collect());
    }
    names
        .iter()
        .map(|name| {
            let kind = faceemo_data::SplitKind::from_name(name);
            release.split(&kind).with_context(|| {
                let loaded: Vec<&str> = release.splits.iter().map(|s| s.kind.name()).collect();
                format!("no split {name:?} (loaded: {})", loaded.join(", "))
            })
        })
        .collect()
}

fn stack_features(splits: &[&SplitData]) -> Array2<f32> {
    let views: Vec<_> = splits.iter().map(|s| s.features.view()).collect();
    ndarray::concatenate(Axis(0), &views).unwrap_or_else(|_| Array2::zeros((0, 0)))
}

fn write_csv(path: &PathBuf, splits: &[&SplitData], coords: &Array2<f32>) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_path(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let mut header = vec!["split", "row", "sample_id", "dataset", "emotion", "x", "y"];
    if coords.ncols() == 3 {
        header.push("z");
    }
    csv.write_record(&header)?;
    let mut coord_rows = coords.axis_iter(Axis(0));
    for split in splits {
        for row in 0..split.rows() {
            let sample = split.samples.as_ref().and_then(|s| s.get(row));
            let mut record = vec![
                split.kind.name().to_owned(),
                row.to_string(),
                sample.map_or_else(String::new, |s| s.sample_id.to_string()),
                sample.map_or_else(String::new, |s| s.dataset.to_string()),
                sample.map_or_else(String::new, |s| s.emotion.name().to_owned()),
            ];
            if let Some(point) = coord_rows.next() {
                record.extend(point.iter().map(ToString::to_string));
            }
            csv.write_record(&record)?;
        }
    }
    csv.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

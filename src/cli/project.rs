//! `faceemo project`: a 2-D or 3-D map of the feature space, as CSV.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use faceemo::output::write_csv_atomically;
use faceemo_data::{Release, SplitData};
use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext, ProgressSink as _, ProgressUpdate};
use faceemo_maps::{FeatureMatrix, TsneResult, UmapResult, pca_map, tsne_map, umap_map};
use faceemo_projection::{
    MapCache, NeighbourSearch, TsneSettings, UmapSettings, knn_preservation, sample_rows,
};
use ndarray::{Array2, Axis};
use serde::Serialize;

use super::progress::TerminalProgress;
use super::release_args::ReleaseArgs;

/// Projection methods.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Method {
    /// Principal component analysis of all selected rows.
    Pca,
    /// t-SNE (PCA to 50 dimensions, the neighbour graph, FFT-accelerated repulsion).
    Tsne,
    /// UMAP as umap-learn runs it (PCA to 50 dimensions, the neighbour graph, a spectral
    /// start, negative sampling).
    Umap,
}

/// How the neighbour graph of t-SNE and UMAP is searched.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Knn {
    /// Approximate above 20,000 rows, exact below.
    Auto,
    /// Every row against every row.
    Exact,
    /// The approximate search (k-means cells), whatever the size.
    Approximate,
}

impl From<Knn> for NeighbourSearch {
    fn from(knn: Knn) -> Self {
        match knn {
            Knn::Auto => Self::Auto,
            Knn::Exact => Self::Exact,
            Knn::Approximate => Self::Approximate,
        }
    }
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
    /// Map dimensions (t-SNE and UMAP maps are 2-D).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..=3))]
    dims: u8,
    /// t-SNE perplexity (effective number of neighbours).
    #[arg(long, default_value_t = 30.0)]
    perplexity: f64,
    /// UMAP: neighbours of each point, itself included (umap-learn's `n_neighbors`).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u16).range(2..=1000))]
    neighbors: u16,
    /// UMAP: the smallest distance between points on the map.
    #[arg(long, default_value_t = 0.1)]
    min_dist: f64,
    /// How t-SNE and UMAP search the neighbour graph.
    #[arg(long, value_enum, default_value = "auto")]
    knn: Knn,
    /// Seed of the sample the quality is measured on.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The CSV to write: `split,row,sample_id,dataset,emotion,x,y[,z]`.
    #[arg(short, long, value_name = "COORDS.csv")]
    output: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Folder of finished t-SNE and UMAP maps, shared with the window (default: its cache,
    /// `~/.cache/faceemo/maps`).
    #[arg(long, value_name = "DIR", conflicts_with = "no_map_cache")]
    map_cache: Option<PathBuf>,
    /// Compute the t-SNE or UMAP map even when a cached one exists, and store nothing.
    #[arg(long)]
    no_map_cache: bool,
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
    /// How the neighbour graph was searched (`exact`, `approximate`), for t-SNE and UMAP.
    #[serde(skip_serializing_if = "Option::is_none")]
    knn: Option<&'static str>,
    /// Fraction of the exact neighbours the graph holds, on a seeded sample of 1,000 rows
    /// (absent when the map came from the cache: no graph was searched).
    #[serde(skip_serializing_if = "Option::is_none")]
    knn_recall: Option<f64>,
    knn_preservation: f64,
    knn_k: usize,
    knn_sample: usize,
    /// Rows left off the map (NaN or infinite features): empty coordinates in the CSV.
    left_out: usize,
    /// Whether the t-SNE or UMAP map was read from the map cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    from_cache: Option<bool>,
    synthetic: bool,
}

/// Points whose neighbourhoods are compared, and how many neighbours.
const QUALITY_SAMPLE: usize = 1000;
const QUALITY_K: usize = 10;

/// Runs `faceemo project`.
pub fn run(args: &ProjectArgs) -> anyhow::Result<ExitCode> {
    let release = args.release.load(args.json)?;
    let splits = select_splits(&release, &args.splits)?;
    let matrix = FeatureMatrix::of_splits(&splits)?;
    if let Some(warning) = matrix.warning() {
        eprintln!("warning: {warning}");
    }
    let start = Instant::now();
    let cache = map_cache(args);
    let search = NeighbourSearch::from(args.knn);
    let searched = || {
        Some(if search.is_approximate(matrix.finite.len()) {
            "approximate"
        } else {
            "exact"
        })
    };
    let mut made = Made::default();
    let coords = match args.method {
        Method::Pca => {
            let cancel = CancelToken::new();
            let job = JobContext::new(&IgnoreProgress, &cancel);
            let (pca, coords) = pca_map(&matrix, usize::from(args.dims), job)?;
            made.explained_variance_ratio = Some(pca.explained_variance_ratio);
            coords
        }
        Method::Tsne | Method::Umap if args.dims != 2 => {
            let name = if matches!(args.method, Method::Tsne) {
                "t-SNE"
            } else {
                "UMAP"
            };
            anyhow::bail!("{name} maps are 2-D: drop --dims {}", args.dims);
        }
        Method::Tsne => {
            let settings = TsneSettings {
                perplexity: args.perplexity,
                neighbour_search: search,
                seed: args.seed,
                ..TsneSettings::default()
            };
            let result = run_tsne(&matrix, &settings, cache.as_ref(), args.json)?;
            made.kl_divergence = Some(result.map.kl_divergence);
            made.knn = searched();
            made.knn_recall = result.map.knn_recall;
            made.from_cache = Some(result.from_cache);
            matrix.scatter(result.map.embedding.view())
        }
        Method::Umap => {
            let settings = UmapSettings {
                neighbours: usize::from(args.neighbors),
                min_dist: args.min_dist,
                neighbour_search: search,
                seed: args.seed,
                ..UmapSettings::default()
            };
            let result = run_umap(&matrix, &settings, cache.as_ref(), args.json)?;
            made.knn = searched();
            made.knn_recall = result.map.knn_recall;
            made.from_cache = Some(result.from_cache);
            matrix.scatter(result.map.embedding.view())
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    // Quality on the rows that are on the map.
    let finite_rows = matrix.finite_rows();
    let finite_coords = coords.select(Axis(0), &matrix.finite);
    let sample = sample_rows(finite_rows.nrows(), QUALITY_SAMPLE, args.seed);
    let preservation =
        knn_preservation(finite_rows.view(), finite_coords.view(), &sample, QUALITY_K);
    write_csv(&args.output, &splits, &coords)?;
    let report = ProjectReport {
        method: match args.method {
            Method::Pca => "pca",
            Method::Tsne => "tsne",
            Method::Umap => "umap",
        },
        rows: matrix.rows(),
        seconds,
        explained_variance_ratio: made.explained_variance_ratio,
        kl_divergence: made.kl_divergence,
        knn: made.knn,
        knn_recall: made.knn_recall,
        knn_preservation: preservation,
        knn_k: QUALITY_K,
        knn_sample: sample.len(),
        left_out: matrix.rows() - matrix.finite.len(),
        from_cache: made.from_cache,
        synthetic: release.is_synthetic(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report, &args.output);
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as one line of text (with the synthetic-data banner when it applies).
fn print_text(report: &ProjectReport, output: &Path) {
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
    let quality = match report.knn_recall {
        Some(recall) => format!("{quality}; neighbour graph recall {recall:.4}")
            .trim_start_matches("; ")
            .to_owned(),
        None => quality,
    };
    println!(
        "{} of {} rows in {:.2} s; {quality}; {}-NN preservation {:.3} on {} rows; wrote {}",
        report.method.to_uppercase(),
        report.rows,
        report.seconds,
        QUALITY_K,
        report.knn_preservation,
        report.knn_sample,
        output.display()
    );
}

/// The map cache the command reads and writes, if any.
fn map_cache(args: &ProjectArgs) -> Option<MapCache> {
    if args.no_map_cache {
        return None;
    }
    args.map_cache
        .clone()
        .or_else(MapCache::default_location)
        .map(MapCache::new)
}

/// What a method made besides the coordinates.
#[derive(Default)]
struct Made {
    explained_variance_ratio: Option<Vec<f64>>,
    kl_divergence: Option<f64>,
    knn: Option<&'static str>,
    knn_recall: Option<f64>,
    from_cache: Option<bool>,
}

/// t-SNE of the finite rows through the map cache, with a progress bar of iterations
/// (hidden for JSON output).
fn run_tsne(
    matrix: &FeatureMatrix,
    settings: &TsneSettings,
    cache: Option<&MapCache>,
    quiet: bool,
) -> anyhow::Result<TsneResult> {
    let progress = TerminalProgress::count(quiet);
    let data = matrix.finite_rows();
    let cancel = CancelToken::new();
    let result = tsne_map(
        data.view(),
        settings,
        cache,
        JobContext::new(&progress, &cancel),
        &mut |update| {
            let stage = update
                .kl_divergence
                .map_or_else(|| "t-SNE".to_owned(), |kl| format!("t-SNE, KL {kl:.3}"));
            progress.report(ProgressUpdate {
                stage,
                done: update.iteration as u64,
                total: update.iterations as u64,
            });
        },
        &mut |error| eprintln!("warning: cannot store the t-SNE map in the map cache: {error}"),
    )?;
    progress.finish();
    Ok(result)
}

/// UMAP of the finite rows through the map cache, with a progress bar of epochs (hidden for
/// JSON output).
fn run_umap(
    matrix: &FeatureMatrix,
    settings: &UmapSettings,
    cache: Option<&MapCache>,
    quiet: bool,
) -> anyhow::Result<UmapResult> {
    let progress = TerminalProgress::count(quiet);
    let data = matrix.finite_rows();
    let cancel = CancelToken::new();
    let result = umap_map(
        data.view(),
        settings,
        cache,
        JobContext::new(&progress, &cancel),
        &mut |_| {},
        &mut |error| eprintln!("warning: cannot store the UMAP map in the map cache: {error}"),
    )?;
    progress.finish();
    Ok(result)
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

/// Writes the map CSV atomically; a row left off the map has empty coordinates.
fn write_csv(path: &Path, splits: &[&SplitData], coords: &Array2<f32>) -> anyhow::Result<()> {
    let mut header: Vec<String> = ["split", "row", "sample_id", "dataset", "emotion", "x", "y"]
        .map(str::to_owned)
        .to_vec();
    if coords.ncols() == 3 {
        header.push("z".to_owned());
    }
    let mut rows = Vec::with_capacity(coords.nrows());
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
                record.extend(point.iter().map(|v| {
                    if v.is_finite() {
                        v.to_string()
                    } else {
                        String::new()
                    }
                }));
            }
            rows.push(record);
        }
    }
    write_csv_atomically(path, &header, &rows)
}

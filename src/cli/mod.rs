//! The command-line interface: one module per subcommand.

mod download;
mod extract;
mod info;
mod invert;
mod model_args;
mod predict;
mod progress;
mod project;
mod release_args;
mod shift;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// FaceEmo Workbench: explore, measure and invert ViT facial-emotion features.
///
/// Without a subcommand, opens the workbench window.
#[derive(Debug, Parser)]
#[command(name = "faceemo", version, about, long_about = None)]
pub struct Cli {
    /// What to do; without one, the window opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load a release and report its splits, per-dataset × emotion counts and warnings.
    Info(info::InfoArgs),
    /// Download the feature release from the Hugging Face hub into the local cache.
    Download(download::DownloadArgs),
    /// Predict the emotion of face images with the ViT (labels, probabilities, CLS features).
    Predict(predict::PredictArgs),
    /// Write features, logits and probs of a folder of images in the release's NPZ layout.
    Extract(extract::ExtractArgs),
    /// Reconstruct an image from a CLS feature by gradient descent and report how close it came.
    Invert(invert::InvertArgs),
    /// Project the feature space to a 2-D or 3-D map (PCA) and write it as CSV.
    Project(project::ProjectArgs),
    /// Measure domain shift: per-dataset and per-split metrics and calibration, distances,
    /// MMD, domain classifiers and probe transfer between datasets (or two selections).
    Shift(shift::ShiftArgs),
    /// Open the window on release files or folders (and a model).
    Open(OpenArgs),
}

/// Arguments of `faceemo open`.
#[derive(Debug, clap::Args)]
pub struct OpenArgs {
    /// Release folders or NPZ/CSV files; face images are predicted once the model is loaded.
    paths: Vec<std::path::PathBuf>,
    /// Model folder or hub id.
    #[arg(long, value_name = "DIR|HUB-ID")]
    model: Option<String>,
    /// Open the synthetic demo set.
    #[arg(long)]
    demo: bool,
}

fn open_window(options: faceemo::StartOptions) -> anyhow::Result<ExitCode> {
    faceemo::run_window(options).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the window: {e}\n(no display? The command line works without one: `faceemo --help`)"
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => open_window(faceemo::StartOptions {
            use_cache: true,
            ..faceemo::StartOptions::default()
        }),
        Some(Command::Open(args)) => open_window(faceemo::StartOptions {
            sources: args.paths,
            model: args.model,
            demo: args.demo,
            use_cache: true,
            map_cache: None,
        }),
        Some(Command::Info(args)) => info::run(&args),
        Some(Command::Download(args)) => download::run(&args),
        Some(Command::Predict(args)) => predict::run(&args),
        Some(Command::Extract(args)) => extract::run(&args),
        Some(Command::Invert(args)) => invert::run(&args),
        Some(Command::Project(args)) => project::run(&args),
        Some(Command::Shift(args)) => shift::run(&args),
    }
}

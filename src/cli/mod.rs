//! The command-line interface: one module per subcommand.

mod download;
mod extract;
mod info;
mod model_args;
mod predict;
mod progress;
mod project;
mod release_args;

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
    /// Project the feature space to a 2-D or 3-D map (PCA) and write it as CSV.
    Project(project::ProjectArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => {
            println!(
                "The FaceEmo Workbench window is not part of this build yet.\n\
                 Use the command line meanwhile: `faceemo info --demo`, `faceemo info PATH…`,\n\
                 `faceemo download`; `faceemo --help` lists everything."
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Info(args)) => info::run(&args),
        Some(Command::Download(args)) => download::run(&args),
        Some(Command::Predict(args)) => predict::run(&args),
        Some(Command::Extract(args)) => extract::run(&args),
        Some(Command::Project(args)) => project::run(&args),
    }
}

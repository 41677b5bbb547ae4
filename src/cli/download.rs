//! `faceemo download`: fetch the release into the Hugging Face cache.

use std::process::ExitCode;

use anyhow::Context as _;
use faceemo_data::{RELEASE_REPO_ID, download_release};
use faceemo_hub::HubSettings;
use faceemo_jobs::{CancelToken, JobContext};

use super::progress::TerminalProgress;

/// Arguments of `faceemo download`.
#[derive(Debug, clap::Args)]
pub struct DownloadArgs {
    /// Print one JSON object (`{"folder", "files"}`) instead of text.
    #[arg(long)]
    json: bool,
}

/// Downloads the release (resuming partial files) and prints where it landed.
pub fn run(args: &DownloadArgs) -> anyhow::Result<ExitCode> {
    let settings = HubSettings::from_env().context("cannot locate the Hugging Face cache")?;
    let progress = TerminalProgress::bytes(args.json);
    let cancel = CancelToken::new();
    let files = download_release(&settings, JobContext::new(&progress, &cancel))
        .with_context(|| format!("cannot download {RELEASE_REPO_ID}"))?;
    progress.finish();
    let folder = files
        .split_files
        .first()
        .and_then(|f| f.parent())
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let all: Vec<String> = files
        .split_files
        .iter()
        .chain(&files.metadata_files)
        .chain(&files.summary_file)
        .map(|p| p.display().to_string())
        .collect();
    if args.json {
        println!("{}", serde_json::json!({ "folder": folder, "files": all }));
    } else {
        println!("Downloaded {RELEASE_REPO_ID} into {folder}");
        for file in all {
            println!("  {file}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

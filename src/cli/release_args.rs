//! The options every release-reading subcommand shares, and loading the release from them.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use faceemo_data::{
    DEFAULT_DEMO_SEED, LabelOrder, Release, ReleaseFiles, cache_location, find_release_in_cache,
    load_release, synthetic_release,
};
use faceemo_hub::HubSettings;
use faceemo_jobs::{CancelToken, JobContext};

use super::progress::TerminalProgress;

/// `[PATH…] --demo --demo-seed --model`.
#[derive(Debug, clap::Args)]
pub struct ReleaseArgs {
    /// Release folder(s) or files (NPZ splits, metadata CSV). Without any, the release is
    /// taken from the local Hugging Face cache.
    pub paths: Vec<PathBuf>,
    /// Use the synthetic demo set instead of a release.
    #[arg(long, conflicts_with = "paths")]
    pub demo: bool,
    /// Seed of the synthetic demo set.
    #[arg(long = "demo-seed", default_value_t = DEFAULT_DEMO_SEED, requires = "demo")]
    pub demo_seed: u64,
    /// Model folder (or its config.json) whose `id2label` gives the logits' column order.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
}

impl ReleaseArgs {
    /// Loads the release (or makes the demo set), with a progress bar unless `quiet`.
    pub fn load(&self, quiet: bool) -> anyhow::Result<Release> {
        let labels = match &self.model {
            Some(model) => LabelOrder::from_model_config(&config_path(model))?,
            None => LabelOrder::release_default(),
        };
        if self.demo {
            let mut release = synthetic_release(self.demo_seed);
            release.labels = labels;
            return Ok(release);
        }
        let files = resolve_files(&self.paths)?;
        let progress = TerminalProgress::bytes(quiet);
        let cancel = CancelToken::new();
        let release = load_release(&files, labels, JobContext::new(&progress, &cancel))?;
        progress.finish();
        Ok(release)
    }
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

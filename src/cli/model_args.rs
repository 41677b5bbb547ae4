//! The options every model-using subcommand shares, and loading the model from them.

use anyhow::Context as _;
use faceemo_hub::HubSettings;
use faceemo_jobs::{CancelToken, JobContext};
use faceemo_model::{BackendChoice, DEFAULT_BATCH_SIZE, EmotionModel, FACEEMO_MODEL_ID};

use super::progress::TerminalProgress;

/// `--model`, `--backend`, `--batch-size`.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Model folder (`config.json` + `model.safetensors` or `pytorch_model.bin`) or a hub id,
    /// looked up in the Hugging Face cache and downloaded if missing.
    #[arg(long, value_name = "DIR|HUB-ID", default_value = FACEEMO_MODEL_ID)]
    pub model: String,
    /// Where the model runs: auto (a GPU if there is a real one, else the CPU), wgpu or cpu.
    #[arg(long, default_value = "auto")]
    pub backend: BackendChoice,
    /// Images per forward pass.
    #[arg(long, default_value_t = DEFAULT_BATCH_SIZE)]
    pub batch_size: usize,
}

impl ModelArgs {
    /// Resolves, downloads if needed, and loads the model; reports the backend on stderr.
    pub fn load(&self, quiet: bool) -> anyhow::Result<EmotionModel> {
        let settings = HubSettings::from_env().context("cannot locate the Hugging Face cache")?;
        let progress = TerminalProgress::bytes(quiet);
        let cancel = CancelToken::new();
        let model = faceemo_model::open_model(
            &self.model,
            self.backend,
            &settings,
            JobContext::new(&progress, &cancel),
        )
        .with_context(|| format!("cannot load the model {:?}", self.model))?;
        progress.finish();
        eprintln!("backend: {}", model.backend.description);
        Ok(model)
    }
}

//! Where a model comes from: a local folder, the Hugging Face cache, or the hub.

use std::path::{Path, PathBuf};

use faceemo_hub::{HubRepo, HubSettings};
use faceemo_jobs::JobContext;

use crate::{BackendChoice, EmotionModel, ModelError, select_backend};

/// The fine-tuned FaceEmo model on the hub.
pub const FACEEMO_MODEL_ID: &str = "jihedjabnoun/faceemo-set";

/// The files a model folder needs.
const MODEL_FILES: [&str; 4] = [
    "config.json",
    "preprocessor_config.json",
    "model.safetensors",
    "pytorch_model.bin",
];

/// Whether a folder holds a model: `config.json` and weights (`model.safetensors` or
/// `pytorch_model.bin`). The one test window and CLI use for a dropped or named folder.
pub fn is_model_folder(folder: &Path) -> bool {
    folder.join("config.json").is_file()
        && (folder.join("model.safetensors").is_file()
            || folder.join("pytorch_model.bin").is_file())
}

/// Resolves `DIR` or a hub id (`owner/name`) to a local model folder: the folder itself,
/// else the cached snapshot, else a download (unless `HF_HUB_OFFLINE`).
pub fn resolve_model(
    spec: &str,
    settings: &HubSettings,
    job: JobContext<'_>,
) -> Result<PathBuf, ModelError> {
    let path = Path::new(spec);
    if path.is_dir() {
        return if is_model_folder(path) {
            Ok(path.to_owned())
        } else {
            Err(ModelError::NoWeights {
                folder: path.to_owned(),
            })
        };
    }
    let repo = HubRepo::model(spec);
    if let Some(snapshot) = faceemo_hub::cached_snapshot(settings, &repo)
        && is_model_folder(&snapshot)
    {
        return Ok(snapshot);
    }
    // Safetensors when the repository has it; the pickle only when it is all there is.
    let select = |listing: &[String]| -> Vec<String> {
        let has_safetensors = listing.iter().any(|f| f == "model.safetensors");
        listing
            .iter()
            .filter(|f| MODEL_FILES.contains(&f.as_str()))
            .filter(|f| !(has_safetensors && f.as_str() == "pytorch_model.bin"))
            .cloned()
            .collect()
    };
    let folder = faceemo_hub::download_selected_files(settings, &repo, &select, job)?;
    if is_model_folder(&folder) {
        Ok(folder)
    } else {
        Err(ModelError::NoWeights { folder })
    }
}

/// Finds the model `spec` names (a folder or a hub id: [`resolve_model`]), picks the backend
/// `choice` asks for and loads it: the one way the window and the command line load a model.
pub fn open_model(
    spec: &str,
    choice: BackendChoice,
    settings: &HubSettings,
    job: JobContext<'_>,
) -> Result<EmotionModel, ModelError> {
    let folder = resolve_model(spec, settings, job)?;
    job.check_cancelled().map_err(|_| ModelError::Cancelled)?;
    let backend = select_backend(choice)?;
    EmotionModel::load(&folder, backend)
}

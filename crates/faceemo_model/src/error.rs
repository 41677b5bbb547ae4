//! The model crate's error type. Every variant names the file or input it is about.

use std::path::PathBuf;

/// Everything that can go wrong loading or running the model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A file could not be read.
    #[error("cannot read {path:?}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file is malformed or describes an impossible model.
    #[error("bad model configuration ({reason}) in {path:?}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The weights do not fit the architecture.
    #[error("weights do not fit the model: {problems} in {path:?}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// Each missing, unexpected or wrongly shaped tensor.
        problems: String,
    },
    /// No weights file in the model folder.
    #[error("no model.safetensors or pytorch_model.bin in {folder:?}")]
    NoWeights {
        /// The folder.
        folder: PathBuf,
    },
    /// An image could not be read.
    #[error("cannot use image ({reason}): {path:?}")]
    Image {
        /// The image file (or the name given to in-memory bytes).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The requested backend is not available.
    #[error("backend unavailable: {reason}")]
    Backend {
        /// Why.
        reason: String,
    },
    /// Finding or downloading the model on the hub failed.
    #[error(transparent)]
    Hub(#[from] faceemo_hub::HubError),
    /// A feature vector does not have the model's width.
    #[error("a feature vector of {found} values does not fit a model of width {expected}")]
    FeatureWidth {
        /// The model's hidden size.
        expected: usize,
        /// The vector's length.
        found: usize,
    },
    /// The caller cancelled the job.
    #[error("cancelled")]
    Cancelled,
}

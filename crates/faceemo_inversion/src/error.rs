//! The inversion crate's error type.

use faceemo_model::ModelError;

/// Everything that can stop an inversion before it starts or while it runs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InversionError {
    /// The model failed (a target of the wrong width, a backend failure).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The target feature holds NaN or infinite values.
    #[error("the target feature has {count} non-finite values (NaN or infinity)")]
    NonFiniteTarget {
        /// How many.
        count: usize,
    },
    /// A setting is out of its range.
    #[error("invalid inversion setting: {0}")]
    Settings(String),
    /// The backend returned something unreadable.
    #[error("backend failure during inversion: {0}")]
    Backend(String),
}

//! What can stop a domain-shift report.

use std::path::PathBuf;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShiftError {
    /// No split's metadata joined its features, so no row has a dataset.
    #[error(
        "the release has no metadata joined to its features: there are no datasets to compare \
         (open the metadata CSV with the NPZ files)"
    )]
    NoMetadata,
    /// Every row had a NaN or infinity, or no split could be used.
    #[error("no row of the release has finite features, logits and probabilities with metadata")]
    NoRows,
    /// More logit columns than the lab measures.
    #[error("the logits have {count} columns; the lab measures at most {limit} classes")]
    TooManyClasses {
        /// Columns found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// More datasets than the lab compares.
    #[error("the metadata names {count} datasets; the lab compares at most {limit}")]
    TooManyDatasets {
        /// Datasets found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A selection file could not be read.
    #[error("cannot read the selection file {path:?}")]
    SelectionIo {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: csv::Error,
    },
    /// A selection file names something that is not there.
    #[error("bad selection file, line {line}: {problem}: {path:?}")]
    BadSelection {
        /// The file.
        path: PathBuf,
        /// Its line (1 is the header).
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// A selection file has no rows.
    #[error("the selection file has no rows: {path:?}")]
    EmptySelection {
        /// The file.
        path: PathBuf,
    },
    /// The caller cancelled the report.
    #[error("cancelled")]
    Cancelled,
}

impl From<faceemo_jobs::Cancelled> for ShiftError {
    fn from(_: faceemo_jobs::Cancelled) -> Self {
        Self::Cancelled
    }
}

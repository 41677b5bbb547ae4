//! Finds Hugging Face repositories in the local cache and downloads them from the hub.
//!
//! The cache layout is the one `huggingface_hub` writes
//! (`<cache>/datasets--owner--name/{refs,blobs,snapshots}`), so a release that Python
//! already downloaded is found without any network access. Downloads go through a small
//! client of our own on `ureq` (`http.rs`, `download.rs`): resumable (`.part` files),
//! retried, checked against the hub's sizes and hashes, with progress reports, and
//! pointed at `HF_ENDPOINT` when that is set.

mod cache;
mod download;
mod http;
mod listing;
mod settings;

pub use cache::{cached_snapshot, find_files_in_snapshot};
pub use download::{download_repo_files, download_selected_files};
pub use http::{HttpError, MAX_REDIRECTS};
pub use listing::{
    BlobId, ListedFile, MAX_LISTING_BYTES, RepoListing, is_plain_relative, parse_listing,
};
pub use settings::HubSettings;

use std::path::PathBuf;

/// Which kind of repository on the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepoKind {
    /// A dataset repository (`/datasets/owner/name`).
    Dataset,
    /// A model repository (`/owner/name`).
    Model,
}

/// A repository on the hub at one revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubRepo {
    /// `owner/name`.
    pub id: String,
    /// Dataset or model.
    pub kind: RepoKind,
    /// Branch, tag or commit; `main` by default.
    pub revision: String,
}

impl HubRepo {
    /// A dataset repository at `main`.
    pub fn dataset(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            kind: RepoKind::Dataset,
            revision: "main".to_owned(),
        }
    }

    /// A model repository at `main`.
    pub fn model(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            kind: RepoKind::Model,
            revision: "main".to_owned(),
        }
    }

    /// The same repository at another revision.
    #[must_use]
    pub fn at_revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = revision.into();
        self
    }

    /// The folder name the cache uses, e.g. `datasets--owner--name`.
    pub fn cache_folder_name(&self) -> String {
        let prefix = match self.kind {
            RepoKind::Dataset => "datasets",
            RepoKind::Model => "models",
        };
        format!("{prefix}--{}", self.id.replace('/', "--"))
    }
}

impl std::fmt::Display for HubRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            RepoKind::Dataset => write!(f, "dataset {}@{}", self.id, self.revision),
            RepoKind::Model => write!(f, "model {}@{}", self.id, self.revision),
        }
    }
}

/// Everything that can go wrong talking to the hub or its cache.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// `HF_HUB_OFFLINE` is set, so nothing may be downloaded.
    #[error("cannot download {repo}: HF_HUB_OFFLINE is set")]
    Offline {
        /// The repository that was asked for.
        repo: HubRepo,
    },
    /// No cache folder could be worked out (no `HF_HUB_CACHE`, `HF_HOME` or home folder).
    #[error("no Hugging Face cache folder: set HF_HUB_CACHE or HF_HOME")]
    NoCacheDir,
    /// The hub (or the server at `HF_ENDPOINT`) refused or failed a request.
    #[error(
        "downloading {} of {repo} from {endpoint} failed",
        if file.is_empty() { "the file list" } else { file.as_str() }
    )]
    Request {
        /// The repository.
        repo: HubRepo,
        /// The file in the repository, or `""` for the listing.
        file: String,
        /// The endpoint in use.
        endpoint: String,
        /// What went wrong with the request.
        #[source]
        source: Box<HttpError>,
    },
    /// The hub's listing of the repository cannot be used.
    #[error("the hub's file list of {repo} cannot be used: {reason}")]
    Listing {
        /// The repository.
        repo: HubRepo,
        /// What is wrong with it.
        reason: String,
    },
    /// A file's bytes do not match the size or hash the hub lists; they are not kept.
    #[error("{file} of {repo} does not match the hub's listing ({reason}): not kept")]
    Integrity {
        /// The file in the repository.
        file: String,
        /// The repository.
        repo: HubRepo,
        /// What differs.
        reason: String,
    },
    /// Writing into the cache failed.
    #[error("cannot write to the Hugging Face cache at {path:?}")]
    CacheWrite {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The repository lists none of the files that were asked for.
    #[error("{repo} has none of the expected files ({expected})")]
    NothingToDownload {
        /// The repository.
        repo: HubRepo,
        /// A human-readable description of what was looked for.
        expected: String,
    },
    /// The caller cancelled the download.
    #[error("download of {repo} cancelled")]
    Cancelled {
        /// The repository.
        repo: HubRepo,
    },
    /// A file in the cache could not be read.
    #[error("cannot read the Hugging Face cache at {path:?}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_folder_names_follow_huggingface_hub() {
        assert_eq!(
            HubRepo::dataset("jihedjabnoun/faceemo-set-features").cache_folder_name(),
            "datasets--jihedjabnoun--faceemo-set-features"
        );
        assert_eq!(
            HubRepo::model("jihedjabnoun/faceemo-set").cache_folder_name(),
            "models--jihedjabnoun--faceemo-set"
        );
    }
}

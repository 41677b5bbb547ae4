//! Finds Hugging Face repositories in the local cache and downloads them from the hub.
//!
//! The cache layout is the one `huggingface_hub` writes
//! (`<cache>/datasets--owner--name/{refs,blobs,snapshots}`), so a release that Python
//! already downloaded is found without any network access. Downloads go through the
//! `hf-hub` crate: resumable (`.part` files), retried, with progress reports, and
//! pointed at `HF_ENDPOINT` when that is set.

mod cache;
mod download;
mod settings;

pub use cache::{cached_snapshot, find_files_in_snapshot};
pub use download::{download_repo_files, download_selected_files};
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

    fn to_hf_hub(&self) -> hf_hub::Repo {
        let kind = match self.kind {
            RepoKind::Dataset => hf_hub::RepoType::Dataset,
            RepoKind::Model => hf_hub::RepoType::Model,
        };
        hf_hub::Repo::with_revision(self.id.clone(), kind, self.revision.clone())
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
    #[error("downloading {file:?} of {repo} from {endpoint} failed")]
    Request {
        /// The repository.
        repo: HubRepo,
        /// The file in the repository, or `""` for the listing.
        file: String,
        /// The endpoint in use.
        endpoint: String,
        /// What `hf-hub` reported.
        #[source]
        source: Box<hf_hub::api::sync::ApiError>,
    },
    /// The repository lists none of the files that were asked for.
    #[error("{repo} has none of the expected files ({expected})")]
    NothingToDownload {
        /// The repository.
        repo: HubRepo,
        /// A human-readable description of what was looked for.
        expected: String,
    },
    /// The hub listed a file name that would land outside the snapshot folder.
    #[error("{repo} lists a file named {name:?}, which is not a plain relative path: refused")]
    UnsafeFileName {
        /// The repository.
        repo: HubRepo,
        /// The name as listed (shortened).
        name: String,
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

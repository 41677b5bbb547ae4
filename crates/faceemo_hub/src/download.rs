//! Downloading repository files into the cache with `hf-hub`.

use std::path::{Path, PathBuf};

use faceemo_jobs::JobContext;
use hf_hub::api::sync::{Api, ApiBuilder, ApiError};

use crate::{HubError, HubRepo, HubSettings};

/// How often `hf-hub` retries a broken transfer, resuming where it stopped.
const MAX_RETRIES: usize = 3;

/// Downloads every file of `repo` whose repository path satisfies `wanted` into the
/// cache, and returns the snapshot folder that holds them.
///
/// Files already in the snapshot are not fetched again; a partly downloaded file
/// (`blobs/<etag>.part`) resumes where it stopped. Progress is reported in bytes per
/// file. Cancellation is checked between files: the file in flight finishes (or is left
/// as a resumable `.part` file if the process ends).
pub fn download_repo_files(
    settings: &HubSettings,
    repo: &HubRepo,
    wanted: &dyn Fn(&str) -> bool,
    job: JobContext<'_>,
) -> Result<PathBuf, HubError> {
    let select = |listing: &[String]| -> Vec<String> {
        listing
            .iter()
            .filter(|name| wanted(name))
            .cloned()
            .collect()
    };
    download_selected_files(settings, repo, &select, job)
}

/// Like [`download_repo_files`], with the choice made on the whole listing (e.g. "the
/// safetensors weights if listed, else the pickle").
pub fn download_selected_files(
    settings: &HubSettings,
    repo: &HubRepo,
    select: &dyn Fn(&[String]) -> Vec<String>,
    job: JobContext<'_>,
) -> Result<PathBuf, HubError> {
    if settings.offline {
        return Err(HubError::Offline { repo: repo.clone() });
    }
    let request_error = |file: &str, source: ApiError| HubError::Request {
        repo: repo.clone(),
        file: file.to_owned(),
        endpoint: settings.endpoint.clone(),
        source: Box::new(source),
    };
    let api = build_api(settings).map_err(|e| request_error("", e))?;
    let api_repo = api.repo(repo.to_hf_hub());
    job.report(format!("listing {repo}"), 0, 0);
    let info = api_repo.info().map_err(|e| request_error("", e))?;
    let listing: Vec<String> = info.siblings.into_iter().map(|s| s.rfilename).collect();
    let mut files = select(&listing);
    files.sort();
    if let Some(name) = files.iter().find(|name| !is_plain_relative(name)) {
        return Err(HubError::UnsafeFileName {
            repo: repo.clone(),
            name: name.chars().take(120).collect(),
        });
    }
    if files.is_empty() {
        return Err(HubError::NothingToDownload {
            repo: repo.clone(),
            expected: "the files asked for".to_owned(),
        });
    }
    let snapshot = settings
        .cache_dir
        .join(repo.cache_folder_name())
        .join("snapshots")
        .join(&info.sha);
    let count = files.len();
    let mut snapshot_root = None;
    for (index, file) in files.iter().enumerate() {
        if job.cancel.is_cancelled() {
            return Err(HubError::Cancelled { repo: repo.clone() });
        }
        let stage = format!("downloading {file} ({}/{count})", index + 1);
        if snapshot.join(file).is_file() {
            job.report(stage, 1, 1);
            snapshot_root.get_or_insert_with(|| snapshot.clone());
            continue;
        }
        let progress = ByteProgress {
            job,
            stage,
            done: 0,
            total: 0,
        };
        let local = api_repo
            .download_with_progress(file, progress)
            .map_err(|e| request_error(file, e))?;
        snapshot_root.get_or_insert_with(|| strip_relative(&local, file));
    }
    Ok(snapshot_root.unwrap_or(snapshot))
}

fn build_api(settings: &HubSettings) -> Result<Api, ApiError> {
    ApiBuilder::from_cache(hf_hub::Cache::new(settings.cache_dir.clone()))
        .with_endpoint(settings.endpoint.clone())
        .with_token(settings.token_for_endpoint().map(str::to_owned))
        .with_progress(false)
        .with_retries(MAX_RETRIES)
        .build()
}

/// Whether a listed name is a plain relative path inside the repository: no root, no
/// `..`, no backslash or drive, nothing empty.
fn is_plain_relative(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('\\')
        && !name.contains(':')
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// `snapshots/<commit>/sub/file.npz` minus `sub/file.npz`.
fn strip_relative(local: &Path, relative: &str) -> PathBuf {
    let depth = Path::new(relative).components().count();
    let mut root = local.to_path_buf();
    for _ in 0..depth {
        root.pop();
    }
    root
}

struct ByteProgress<'a> {
    job: JobContext<'a>,
    stage: String,
    done: u64,
    total: u64,
}

impl hf_hub::api::Progress for ByteProgress<'_> {
    fn init(&mut self, size: usize, _filename: &str) {
        self.total = size as u64;
        self.done = 0;
        self.job.report(self.stage.clone(), 0, self.total);
    }

    fn update(&mut self, size: usize) {
        self.done += size as u64;
        self.job.report(self.stage.clone(), self.done, self.total);
    }

    fn finish(&mut self) {
        self.job.report(self.stage.clone(), self.total, self.total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_names_that_leave_the_snapshot_are_refused() {
        for good in ["model.safetensors", "data/train.npz", "a.b/c"] {
            assert!(is_plain_relative(good), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "c:\\x",
            "a\\..\\b",
            "./a",
        ] {
            assert!(!is_plain_relative(bad), "{bad}");
        }
    }

    #[test]
    fn the_snapshot_root_is_the_local_path_minus_the_repository_path() {
        let local = Path::new("/c/snapshots/abc/sub/file.npz");
        assert_eq!(
            strip_relative(local, "sub/file.npz"),
            PathBuf::from("/c/snapshots/abc")
        );
    }
}

//! Where a release comes from: a folder or files, the Hugging Face cache, or the hub.

use std::path::{Path, PathBuf};

use faceemo_hub::{HubRepo, HubSettings};
use faceemo_jobs::JobContext;

use crate::{DataError, ReleaseFiles};

/// The release's dataset repository on the hub.
pub const RELEASE_REPO_ID: &str = "jihedjabnoun/faceemo-set-features";

/// The release's repository at `main`.
pub fn release_repo() -> HubRepo {
    HubRepo::dataset(RELEASE_REPO_ID)
}

/// Whether a file of the release repository belongs to the release (NPZ and CSV files).
pub fn is_release_repo_file(repo_path: &str) -> bool {
    Path::new(repo_path)
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("npz") || ext.eq_ignore_ascii_case("csv"))
}

/// The release in the local Hugging Face cache, if it was downloaded before.
pub fn find_release_in_cache(settings: &HubSettings) -> Option<ReleaseFiles> {
    let snapshot = faceemo_hub::cached_snapshot(settings, &release_repo())?;
    ReleaseFiles::from_paths(&[snapshot]).ok()
}

/// Downloads the release into the Hugging Face cache (resuming partial files) and returns
/// its files.
pub fn download_release(
    settings: &HubSettings,
    job: JobContext<'_>,
) -> Result<ReleaseFiles, DataError> {
    let snapshot: PathBuf =
        faceemo_hub::download_repo_files(settings, &release_repo(), &is_release_repo_file, job)?;
    ReleaseFiles::from_paths(&[snapshot])
}

/// A short description of where the cache lookup went, for messages.
pub fn cache_location(settings: &HubSettings) -> String {
    let folder: &Path = &settings.cache_dir;
    format!("{:?}", folder.join(release_repo().cache_folder_name()))
}

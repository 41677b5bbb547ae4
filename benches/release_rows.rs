//! Shared by the projection benchmarks (`#[path]`-included): every finite feature row of a
//! release folder, stacked in split order as `faceemo project` maps them.

use std::path::Path;

use faceemo_data::{LabelOrder, ReleaseFiles, load_release};
use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext};
use faceemo_maps::FeatureMatrix;
use ndarray::Array2;

/// The finite feature rows of every split of the release in `folder`.
pub fn release_rows(folder: &Path) -> Result<Array2<f32>, Box<dyn std::error::Error>> {
    let cancel = CancelToken::new();
    let release = load_release(
        &ReleaseFiles::from_paths(&[folder.to_path_buf()])?,
        LabelOrder::release_default(),
        JobContext::new(&IgnoreProgress, &cancel),
    )?;
    let splits: Vec<_> = release.splits.iter().collect();
    Ok(FeatureMatrix::of_splits(&splits)?
        .finite_rows()
        .into_owned())
}

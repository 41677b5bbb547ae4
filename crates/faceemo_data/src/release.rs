//! A loaded release: its splits, the label order, and what was noticed while loading.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use faceemo_jobs::JobContext;
use ndarray::Array2;

use crate::join::MetadataIndex;
use crate::npz::display_name;
use crate::{
    DataError, LabelOrder, MetadataTable, Sample, SplitArrays, SplitKind, read_metadata_file,
    read_split_file,
};

/// The feature, metadata and summary files that make up a release on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseFiles {
    /// NPZ split files.
    pub split_files: Vec<PathBuf>,
    /// Metadata CSVs (`combined_vit_metadata_all.csv`, or a user set's own).
    pub metadata_files: Vec<PathBuf>,
    /// The release's summary CSV, when present.
    pub summary_file: Option<PathBuf>,
}

impl ReleaseFiles {
    /// Classifies explicit files and searches folders (three levels deep) for a release.
    ///
    /// In a folder, `*.npz` files are splits, CSVs named `*metadata*` are metadata and
    /// `*summary*` the summary. An explicit CSV is metadata unless named `*summary*`.
    pub fn from_paths(paths: &[PathBuf]) -> Result<Self, DataError> {
        let mut files = Self::default();
        for path in paths {
            if path.is_dir() {
                let found = faceemo_hub::find_files_in_snapshot(path, &|relative| {
                    is_npz(relative) || is_csv(relative)
                });
                for file in found {
                    let name = file_name_lower(&file);
                    if is_npz(&name) {
                        files.split_files.push(file);
                    } else if name.contains("summary") {
                        files.summary_file.get_or_insert(file);
                    } else if name.contains("metadata") {
                        files.metadata_files.push(file);
                    }
                }
            } else if path.is_file() {
                let name = file_name_lower(path);
                if is_npz(&name) {
                    files.split_files.push(path.clone());
                } else if is_csv(&name) && name.contains("summary") {
                    files.summary_file = Some(path.clone());
                } else {
                    files.metadata_files.push(path.clone());
                }
            } else {
                return Err(DataError::Io {
                    path: path.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such file or folder",
                    ),
                });
            }
        }
        if files.split_files.is_empty() {
            return Err(DataError::NoReleaseFiles {
                searched: paths
                    .iter()
                    .map(|p| format!("{p:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        files.split_files.sort();
        files.split_files.dedup();
        files.metadata_files.sort();
        files.metadata_files.dedup();
        Ok(files)
    }

    /// The files `load_release` reads (the summary is only located).
    pub fn files_to_read(&self) -> impl Iterator<Item = &PathBuf> {
        self.split_files.iter().chain(&self.metadata_files)
    }
}

fn file_name_lower(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn has_extension(name: &str, extension: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case(extension))
}

fn is_npz(name: &str) -> bool {
    has_extension(name, "npz")
}

fn is_csv(name: &str) -> bool {
    has_extension(name, "csv")
}

/// One split with its arrays and, when the join succeeded, its metadata.
#[derive(Clone, Debug)]
pub struct SplitData {
    /// Which split.
    pub kind: SplitKind,
    /// The NPZ it came from; `None` for the synthetic demo set.
    pub source_file: Option<PathBuf>,
    /// CLS features, `(rows, width)`.
    pub features: Array2<f32>,
    /// Logits, `(rows, classes)`.
    pub logits: Array2<f32>,
    /// Probabilities, `(rows, classes)`.
    pub probs: Array2<f32>,
    /// One entry per row, or `None` when the metadata is unavailable for this split.
    pub samples: Option<Vec<Sample>>,
    /// Rows with a NaN or infinity in any of the three arrays.
    pub nonfinite_rows: Vec<usize>,
}

impl SplitData {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.features.nrows()
    }

    /// Width of the feature vectors.
    pub fn feature_dim(&self) -> usize {
        self.features.ncols()
    }

    /// Number of classes (logit columns).
    pub fn num_classes(&self) -> usize {
        self.logits.ncols()
    }

    /// Whether every row has its metadata.
    pub fn metadata_joined(&self) -> bool {
        self.samples.is_some()
    }

    /// The predicted class of each row (arg-max of the logits).
    pub fn predicted_classes(&self) -> Vec<usize> {
        self.logits
            .rows()
            .into_iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (i, &x)| {
                        if x > best.1 { (i, x) } else { best }
                    })
                    .0
            })
            .collect()
    }
}

/// Where a release came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseOrigin {
    /// Files on disk (a folder, explicit files, or the Hugging Face cache).
    Files(ReleaseFiles),
    /// The synthetic demo set generated in memory: not the FaceEmo-Set release.
    SyntheticDemo {
        /// The generator's seed.
        seed: u64,
    },
}

/// A loaded release.
#[derive(Clone, Debug)]
pub struct Release {
    /// Where it came from.
    pub origin: ReleaseOrigin,
    /// The logits' column order.
    pub labels: LabelOrder,
    /// The splits, in release order.
    pub splits: Vec<SplitData>,
    /// Everything noticed while loading that the user should know.
    pub warnings: Vec<String>,
}

/// The banner shown wherever the synthetic set is displayed.
pub const SYNTHETIC_NOTICE: &str =
    "SYNTHETIC DEMO SET: generated in memory, not the FaceEmo-Set release";

impl Release {
    /// Whether this is the synthetic demo set.
    pub fn is_synthetic(&self) -> bool {
        matches!(self.origin, ReleaseOrigin::SyntheticDemo { .. })
    }

    /// A one-line description of the origin for titles and reports.
    pub fn describe_origin(&self) -> String {
        match &self.origin {
            ReleaseOrigin::SyntheticDemo { seed } => format!("{SYNTHETIC_NOTICE} (seed {seed})"),
            ReleaseOrigin::Files(files) => {
                let folders: std::collections::BTreeSet<_> = files
                    .split_files
                    .iter()
                    .filter_map(|f| f.parent())
                    .map(|p| p.display().to_string())
                    .collect();
                format!(
                    "{} split file(s) from {}",
                    files.split_files.len(),
                    folders.into_iter().collect::<Vec<_>>().join(", ")
                )
            }
        }
    }

    /// Rows over all splits.
    pub fn total_rows(&self) -> usize {
        self.splits.iter().map(SplitData::rows).sum()
    }

    /// The common feature width, if any split is loaded.
    pub fn feature_dim(&self) -> Option<usize> {
        self.splits.first().map(SplitData::feature_dim)
    }

    /// Rows per source dataset and emotion, over every split whose metadata joined.
    pub fn counts(&self) -> BTreeMap<String, BTreeMap<String, usize>> {
        let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for sample in self
            .splits
            .iter()
            .filter_map(|s| s.samples.as_ref())
            .flatten()
        {
            *counts
                .entry(sample.dataset.to_string())
                .or_default()
                .entry(sample.emotion.name().to_owned())
                .or_default() += 1;
        }
        counts
    }

    /// The split of a kind, if loaded.
    pub fn split(&self, kind: &SplitKind) -> Option<&SplitData> {
        self.splits.iter().find(|s| &s.kind == kind)
    }
}

/// Loads the files of a release: metadata first, then the splits in parallel, then the join.
///
/// Reports progress in bytes read and stops at the next file when cancelled. Any broken
/// file is an error naming it; a metadata table that does not line up with a split is a
/// warning, and that split loads without metadata.
pub fn load_release(
    files: &ReleaseFiles,
    labels: LabelOrder,
    job: JobContext<'_>,
) -> Result<Release, DataError> {
    let total_bytes: u64 = files
        .files_to_read()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let done_bytes = AtomicU64::new(0);
    let file_done = |path: &Path| {
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        let done = done_bytes.fetch_add(size, Ordering::Relaxed) + size;
        job.report(format!("read {}", display_name(path)), done, total_bytes);
    };

    // The metadata is read on its own thread while the splits are read on theirs.
    let (tables, arrays) = std::thread::scope(|scope| {
        let read_tables = || -> Result<Vec<MetadataTable>, DataError> {
            let mut tables = Vec::with_capacity(files.metadata_files.len());
            for path in &files.metadata_files {
                job.check_cancelled()?;
                tables.push(read_metadata_file(path)?);
                file_done(path);
            }
            Ok(tables)
        };
        let metadata_thread = std::thread::Builder::new()
            .name("load metadata".to_owned())
            .spawn_scoped(scope, read_tables);
        let arrays = read_splits_in_parallel(&files.split_files, job, &file_done);
        let tables = match metadata_thread {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(DataError::Io {
                    path: files.metadata_files.first().cloned().unwrap_or_default(),
                    source: std::io::Error::other("metadata reader thread panicked"),
                })
            }),
            Err(source) => Err(DataError::Io {
                path: files.metadata_files.first().cloned().unwrap_or_default(),
                source,
            }),
        };
        (tables, arrays)
    });
    let (tables, arrays) = (tables?, arrays?);
    job.check_cancelled()?;

    let mut release = assemble(files.split_files.iter().zip(arrays), &tables, labels)?;
    release.origin = ReleaseOrigin::Files(files.clone());
    Ok(release)
}

/// A split as read by its thread: the arrays and the rows holding NaN or infinity.
struct ReadSplit {
    arrays: SplitArrays,
    nonfinite_rows: Vec<usize>,
}

fn read_splits_in_parallel(
    paths: &[PathBuf],
    job: JobContext<'_>,
    file_done: &(dyn Fn(&Path) + Sync),
) -> Result<Vec<ReadSplit>, DataError> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .iter()
            .map(|path| {
                let read_one = move || -> Result<ReadSplit, DataError> {
                    job.check_cancelled()?;
                    job.report(format!("reading {}", display_name(path)), 0, 0);
                    let arrays = read_split_file(path)?;
                    let nonfinite_rows = arrays.nonfinite_rows();
                    file_done(path);
                    Ok(ReadSplit {
                        arrays,
                        nonfinite_rows,
                    })
                };
                std::thread::Builder::new()
                    .name(format!("load {}", display_name(path)))
                    .spawn_scoped(scope, read_one)
                    .map_err(|source| DataError::Io {
                        path: path.clone(),
                        source,
                    })
            })
            .collect();
        handles
            .into_iter()
            .zip(paths)
            .map(|(handle, path)| {
                handle?.join().unwrap_or_else(|_| {
                    Err(DataError::Io {
                        path: path.clone(),
                        source: std::io::Error::other("reader thread panicked"),
                    })
                })
            })
            .collect()
    })
}

/// Builds a release from already-read splits and metadata.
fn assemble<'p>(
    arrays: impl IntoIterator<Item = (&'p PathBuf, ReadSplit)>,
    tables: &[MetadataTable],
    labels: LabelOrder,
) -> Result<Release, DataError> {
    let index = MetadataIndex::new(tables);
    let mut warnings = Vec::new();
    let mut splits: Vec<SplitData> = Vec::new();
    for (path, read) in arrays {
        let ReadSplit {
            arrays: split_arrays,
            nonfinite_rows,
        } = read;
        let mut kind = SplitKind::from_file_stem(
            &path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        if splits.iter().any(|s| s.kind == kind) {
            let stem = display_name(path);
            warnings.push(format!(
                "two files claim split {kind}; {stem} is loaded as a set of its own"
            ));
            kind = SplitKind::Other(stem);
        }
        warnings.extend(split_arrays.notes.iter().cloned());
        let file_name = display_name(path);
        let samples = if index.is_empty() {
            None
        } else {
            match index.join(
                &kind,
                &file_name,
                split_arrays.rows(),
                split_arrays.sample_ids.as_deref(),
            ) {
                Ok(samples) => Some(samples),
                Err(warning) => {
                    warnings.push(warning);
                    None
                }
            }
        };
        if !nonfinite_rows.is_empty() {
            let examples: Vec<String> = nonfinite_rows
                .iter()
                .take(5)
                .map(ToString::to_string)
                .collect();
            warnings.push(format!(
                "split {kind}: {} rows contain NaN or infinity (rows {}{}) in {file_name}",
                nonfinite_rows.len(),
                examples.join(", "),
                if nonfinite_rows.len() > 5 {
                    ", …"
                } else {
                    ""
                }
            ));
        }
        splits.push(SplitData {
            kind,
            source_file: Some(path.clone()),
            features: split_arrays.features,
            logits: split_arrays.logits,
            probs: split_arrays.probs,
            samples,
            nonfinite_rows,
        });
    }
    splits.sort_by(|a, b| SplitKind::release_order(&a.kind, &b.kind));

    check_widths(&splits)?;
    let labels = fit_labels(labels, &splits, &mut warnings);
    if index.is_empty() {
        warnings.push("no metadata CSV loaded: datasets and emotions are unknown".to_owned());
    } else {
        let loaded: Vec<SplitKind> = splits.iter().map(|s| s.kind.clone()).collect();
        for (split, rows) in index.unmatched_splits(&loaded) {
            warnings.push(format!(
                "metadata: {rows} valid rows of split {split:?} match no loaded feature file"
            ));
        }
        if index.repeated_ids > 0 {
            warnings.push(format!(
                "metadata: {} sample ids appear in more than one CSV; the last one wins",
                index.repeated_ids
            ));
        }
    }
    for table in tables {
        for (label, rows) in &table.unknown_emotions {
            warnings.push(format!(
                "metadata: {rows} rows have the unrecognised emotion {label:?} (kept as written) in {}",
                display_name(&table.path)
            ));
        }
    }
    Ok(Release {
        origin: ReleaseOrigin::Files(ReleaseFiles::default()),
        labels,
        splits,
        warnings,
    })
}

fn check_widths(splits: &[SplitData]) -> Result<(), DataError> {
    let Some(first) = splits.first() else {
        return Ok(());
    };
    if splits
        .iter()
        .all(|s| s.feature_dim() == first.feature_dim())
    {
        return Ok(());
    }
    Err(DataError::InconsistentWidth {
        details: splits
            .iter()
            .map(|s| format!("{} {}", s.kind, s.feature_dim()))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn fit_labels(labels: LabelOrder, splits: &[SplitData], warnings: &mut Vec<String>) -> LabelOrder {
    let Some(classes) = splits.first().map(SplitData::num_classes) else {
        return labels;
    };
    if splits.iter().any(|s| s.num_classes() != classes) {
        warnings.push("splits disagree on the number of classes; columns are numbered".to_owned());
        return LabelOrder::numbered(classes);
    }
    if labels.labels.len() == classes {
        return labels;
    }
    warnings.push(format!(
        "the logits have {classes} columns but the label order has {}; columns are numbered",
        labels.labels.len()
    ));
    LabelOrder::numbered(classes)
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_prediction_is_the_first_of_equal_maxima_and_never_a_nan() {
        let mut split = crate::synthetic_release(1).splits.remove(0);
        split.logits = ndarray::array![[0.1, 0.5, 0.5], [f32::NAN, 0.2, 0.1]];
        assert_eq!(split.predicted_classes(), vec![1, 1]);
    }
}

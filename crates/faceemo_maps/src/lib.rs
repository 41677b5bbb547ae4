//! The one map pipeline the window and the command line share: a release (or some of its
//! splits) → its feature matrix, rows with NaN or infinity left out and said so
//! ([`FeatureMatrix`]) → a PCA map ([`pca_map`]), or a t-SNE or UMAP map through the disk
//! cache ([`tsne_map`], [`umap_map`]), with the left-out rows kept as NaN positions so every row keeps its
//! place. It knows nothing of any user interface.

// ndarray views are cheap handles; taking them by value is ndarray's own convention.
#![allow(clippy::needless_pass_by_value)]

use std::borrow::Cow;

mod grid;

pub use grid::{PointGrid, bounds};

use faceemo_data::{Release, SplitData};
use faceemo_jobs::JobContext;
use faceemo_projection::{
    CachedMap, MapCache, Pca, PcaError, TsneError, TsneMap, TsneProgress, TsneSettings, UmapError,
    UmapMap, UmapProgress, UmapSettings, tsne, umap,
};
use ndarray::{Array2, ArrayView2, Axis};

/// Why a map cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// Nothing to stack.
    #[error("the release has no splits to map")]
    NoSplits,
    /// The splits disagree on the feature width.
    #[error("the splits have different feature widths ({widths}): they cannot share one map")]
    MixedWidths {
        /// The widths, in split order.
        widths: String,
    },
    /// Too few finite rows.
    #[error("fewer than three rows with finite features ({finite}): nothing to map")]
    TooFewRows {
        /// Finite rows found.
        finite: usize,
    },
    /// The PCA failed.
    #[error(transparent)]
    Pca(#[from] PcaError),
    /// t-SNE failed or was cancelled.
    #[error(transparent)]
    Tsne(#[from] TsneError),
    /// UMAP failed or was cancelled.
    #[error(transparent)]
    Umap(#[from] UmapError),
}

impl MapError {
    /// Whether the map stopped because it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            Self::Pca(PcaError::Cancelled)
                | Self::Tsne(TsneError::Cancelled)
                | Self::Umap(UmapError::Cancelled)
        )
    }
}

/// The features of some splits stacked in order, and which rows are finite.
#[derive(Clone, Debug)]
pub struct FeatureMatrix {
    /// Every row, in split order.
    pub all: Array2<f32>,
    /// Indices of the rows whose features are all finite.
    pub finite: Vec<usize>,
    /// Rows left out, per split: `(split name, count)`.
    pub left_out: Vec<(String, usize)>,
}

impl FeatureMatrix {
    /// Stacks the features of `splits`.
    pub fn of_splits(splits: &[&SplitData]) -> Result<Self, MapError> {
        if splits.is_empty() {
            return Err(MapError::NoSplits);
        }
        let views: Vec<ArrayView2<'_, f32>> = splits.iter().map(|s| s.features.view()).collect();
        let all = ndarray::concatenate(Axis(0), &views).map_err(|_| MapError::MixedWidths {
            widths: splits
                .iter()
                .map(|s| format!("{} {}", s.kind.name(), s.feature_dim()))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        let mut finite = Vec::with_capacity(all.nrows());
        let mut left_out = Vec::new();
        let mut offset = 0;
        for split in splits {
            let before = finite.len();
            finite.extend(
                (0..split.rows())
                    .filter(|&row| split.features.row(row).iter().all(|v| v.is_finite()))
                    .map(|row| offset + row),
            );
            let dropped = split.rows() - (finite.len() - before);
            if dropped > 0 {
                left_out.push((split.kind.name().to_owned(), dropped));
            }
            offset += split.rows();
        }
        Ok(Self {
            all,
            finite,
            left_out,
        })
    }

    /// Stacks every split of `release`.
    pub fn of_release(release: &Release) -> Result<Self, MapError> {
        let splits: Vec<&SplitData> = release.splits.iter().collect();
        Self::of_splits(&splits)
    }

    /// Rows in all.
    pub fn rows(&self) -> usize {
        self.all.nrows()
    }

    /// What was left out, in words, or `None` when every row is finite.
    pub fn warning(&self) -> Option<String> {
        if self.left_out.is_empty() {
            return None;
        }
        let total: usize = self.left_out.iter().map(|(_, n)| n).sum();
        let parts: Vec<String> = self
            .left_out
            .iter()
            .map(|(split, n)| format!("{n} in {split}"))
            .collect();
        Some(format!(
            "{total} rows with NaN or infinite features left off the map ({})",
            parts.join(", ")
        ))
    }

    /// The finite rows (borrowed when every row is finite).
    pub fn finite_rows(&self) -> Cow<'_, Array2<f32>> {
        if self.finite.len() == self.all.nrows() {
            Cow::Borrowed(&self.all)
        } else {
            Cow::Owned(self.all.select(Axis(0), &self.finite))
        }
    }

    /// Positions of the finite rows spread back over every row, NaN for the left-out ones.
    pub fn scatter(&self, embedded: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut out = Array2::from_elem((self.rows(), embedded.ncols()), f32::NAN);
        for (&row, position) in self.finite.iter().zip(embedded.rows()) {
            out.row_mut(row).assign(&position);
        }
        out
    }

    fn check_enough(&self) -> Result<(), MapError> {
        if self.finite.len() < 3 {
            return Err(MapError::TooFewRows {
                finite: self.finite.len(),
            });
        }
        Ok(())
    }
}

/// A PCA of `dims` components fitted on the finite rows; every row placed, NaN for the
/// left-out ones. `job` hears each pass and stops the fit between passes.
pub fn pca_map(
    matrix: &FeatureMatrix,
    dims: usize,
    job: JobContext<'_>,
) -> Result<(Pca, Array2<f32>), MapError> {
    matrix.check_enough()?;
    let finite_rows = matrix.finite_rows();
    let pca = Pca::fit_job(finite_rows.view(), dims, job)?;
    let coordinates = matrix.scatter(pca.transform(finite_rows.view())?.view());
    Ok((pca, coordinates))
}

/// A finished map and whether it came from the cache.
pub struct FromCache<M> {
    /// The map of the finite rows (their order).
    pub map: M,
    /// Whether it was read from the cache instead of computed.
    pub from_cache: bool,
}

/// A finished t-SNE map and whether it came from the cache.
pub type TsneResult = FromCache<TsneMap>;
/// A finished UMAP map and whether it came from the cache.
pub type UmapResult = FromCache<UmapMap>;

/// t-SNE of `data` (finite rows): read from `cache` when a map of the same data and settings
/// is there, else computed (`job` hears each stage and iteration and stops it; `on_layout`
/// sees the layout as it converges) and stored. A cache that cannot be written is not an
/// error: the map is returned and `cache_error` says why.
pub fn tsne_map(
    data: ArrayView2<'_, f32>,
    settings: &TsneSettings,
    cache: Option<&MapCache>,
    job: JobContext<'_>,
    on_layout: &mut dyn FnMut(TsneProgress<'_>),
    cache_error: &mut dyn FnMut(std::io::Error),
) -> Result<TsneResult, MapError> {
    through_cache(
        data,
        &TsneMap::cache_parameters(settings),
        cache,
        cache_error,
        |embedding, kl| Ok(TsneMap::from_layout(data, embedding, kl, settings, job)?),
        || Ok(tsne(data, settings, job, on_layout)?),
        |map| (map.embedding.view(), map.kl_divergence),
    )
}

/// UMAP of `data` (finite rows): read from `cache` when a map of the same data and settings
/// is there, else computed (`job` hears each stage and epoch and stops it; `on_layout` sees
/// the layout as it settles) and stored. A cache that cannot be written is not an error:
/// the map is returned and `cache_error` says why.
pub fn umap_map(
    data: ArrayView2<'_, f32>,
    settings: &UmapSettings,
    cache: Option<&MapCache>,
    job: JobContext<'_>,
    on_layout: &mut dyn FnMut(UmapProgress<'_>),
    cache_error: &mut dyn FnMut(std::io::Error),
) -> Result<UmapResult, MapError> {
    through_cache(
        data,
        &UmapMap::cache_parameters(settings),
        cache,
        cache_error,
        |embedding, _| Ok(UmapMap::from_layout(data, embedding, settings, job)?),
        || Ok(umap(data, settings, job, on_layout)?),
        |map| (map.embedding.view(), f64::NAN),
    )
}

/// A map of `data` made with `parameters`: `rebuild` makes it from a layout (and score)
/// found in `cache`, else `compute` makes it and its layout (`stored`) goes into the cache.
fn through_cache<M>(
    data: ArrayView2<'_, f32>,
    parameters: &str,
    cache: Option<&MapCache>,
    cache_error: &mut dyn FnMut(std::io::Error),
    rebuild: impl FnOnce(Array2<f32>, f64) -> Result<M, MapError>,
    compute: impl FnOnce() -> Result<M, MapError>,
    stored: impl Fn(&M) -> (ArrayView2<'_, f32>, f64),
) -> Result<FromCache<M>, MapError> {
    if data.nrows() < 3 {
        return Err(MapError::TooFewRows {
            finite: data.nrows(),
        });
    }
    let key = MapCache::key(data, parameters);
    if let Some(cached) = cache.and_then(|c| c.load(&key, data.nrows())) {
        let embedding =
            Array2::from_shape_fn((cached.layout.len(), 2), |(i, d)| cached.layout[i][d]);
        return Ok(FromCache {
            map: rebuild(embedding, cached.kl_divergence)?,
            from_cache: true,
        });
    }
    let map = compute()?;
    if let Some(cache) = cache {
        let (embedding, kl_divergence) = stored(&map);
        let layout = CachedMap {
            layout: embedding.rows().into_iter().map(|r| [r[0], r[1]]).collect(),
            kl_divergence,
        };
        if let Err(error) = cache.store(&key, &layout) {
            cache_error(error);
        }
    }
    Ok(FromCache {
        map,
        from_cache: false,
    })
}

/// Where a new feature (one row of the map's width) lands on a PCA map: its first two
/// components, or `None` when its width differs from the fit's or it is not finite.
pub fn place_on_pca(pca: &Pca, feature: &[f32]) -> Option<[f32; 2]> {
    let query = ArrayView2::from_shape((1, feature.len()), feature).ok()?;
    let placed = pca.transform(query).ok()?;
    let position = [placed[[0, 0]], *placed.get([0, 1])?];
    position.iter().all(|v| v.is_finite()).then_some(position)
}

/// Where a new feature lands on a finished UMAP map, placed as umap-learn's `transform`
/// places it (the map does not move); `None` when its width differs or it is not finite.
pub fn place_on_umap(map: &UmapMap, feature: &[f32]) -> Option<[f32; 2]> {
    let query = ArrayView2::from_shape((1, feature.len()), feature).ok()?;
    if query.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let placed = map.transform(query).ok()?;
    let position = [placed[[0, 0]], placed[[0, 1]]];
    position.iter().all(|v| v.is_finite()).then_some(position)
}

/// Where a new feature lands on a finished t-SNE map, placed as openTSNE's `transform`
/// places it (the map does not move); `None` when its width differs or it is not finite.
pub fn place_on_tsne(map: &TsneMap, feature: &[f32]) -> Option<[f32; 2]> {
    let query = ArrayView2::from_shape((1, feature.len()), feature).ok()?;
    if query.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let placed = map.transform(query).ok()?;
    Some([placed[[0, 0]], placed[[0, 1]]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_with_nan() -> Release {
        let mut release = faceemo_data::synthetic_release(4);
        release.splits[1].features[[3, 5]] = f32::NAN;
        release.splits[1].features[[7, 0]] = f32::INFINITY;
        release
    }

    #[test]
    fn non_finite_rows_are_left_out_said_so_and_kept_as_nan_positions() {
        let release = demo_with_nan();
        let matrix = FeatureMatrix::of_release(&release).expect("matrix");
        assert_eq!(matrix.rows(), release.total_rows());
        assert_eq!(matrix.finite.len(), release.total_rows() - 2);
        let warning = matrix.warning().expect("a warning");
        assert!(
            warning.contains("2 rows") && warning.contains(release.splits[1].kind.name()),
            "{warning}"
        );
        let cancel = faceemo_jobs::CancelToken::new();
        let job = JobContext::new(&faceemo_jobs::IgnoreProgress, &cancel);
        let (pca, coordinates) = pca_map(&matrix, 2, job).expect("pca");
        let offset = release.splits[0].rows();
        assert!(coordinates.row(offset + 3).iter().all(|v| v.is_nan()));
        assert!(coordinates.row(0).iter().all(|v| v.is_finite()));
        // A released row placed again lands where the map put it; a wrong width nowhere.
        let placed = place_on_pca(
            &pca,
            release.splits[0].features.row(0).as_slice().expect("row"),
        )
        .expect("placed");
        assert!((placed[0] - coordinates[[0, 0]]).abs() < 1e-4);
        assert_eq!(place_on_pca(&pca, &[1.0, 2.0]), None);
        cancel.cancel();
        assert!(matches!(
            pca_map(&matrix, 2, job),
            Err(MapError::Pca(PcaError::Cancelled))
        ));
    }

    #[test]
    fn a_t_sne_map_is_cached_and_read_back() {
        let release = faceemo_data::synthetic_release(4);
        let splits: Vec<&SplitData> = release.splits.iter().take(1).collect();
        let matrix = FeatureMatrix::of_splits(&splits).expect("matrix");
        let data = matrix.finite_rows();
        let folder = tempfile::tempdir().expect("tempdir");
        let cache = MapCache::new(folder.path());
        let settings = TsneSettings {
            iterations: 50,
            early_exaggeration_iterations: 25,
            ..TsneSettings::default()
        };
        let mut never = |_: std::io::Error| panic!("the cache is writable");
        let cancel = faceemo_jobs::CancelToken::new();
        let job = JobContext::new(&faceemo_jobs::IgnoreProgress, &cancel);
        let mut map = || {
            tsne_map(
                data.view(),
                &settings,
                Some(&cache),
                job,
                &mut |_| {},
                &mut never,
            )
            .expect("t-SNE")
        };
        let first = map();
        assert!(!first.from_cache);
        let second = map();
        assert!(second.from_cache);
        assert_eq!(first.map.embedding, second.map.embedding);
    }

    #[test]
    fn a_umap_map_is_cached_read_back_and_places_a_released_row_near_itself() {
        let release = faceemo_data::synthetic_release(4);
        let matrix = FeatureMatrix::of_release(&release).expect("matrix");
        let data = matrix.finite_rows();
        let folder = tempfile::tempdir().expect("tempdir");
        let cache = MapCache::new(folder.path());
        let settings = UmapSettings {
            epochs: Some(60),
            ..UmapSettings::default()
        };
        let mut never = |_: std::io::Error| panic!("the cache is writable");
        let cancel = faceemo_jobs::CancelToken::new();
        let job = JobContext::new(&faceemo_jobs::IgnoreProgress, &cancel);
        let mut map = || {
            umap_map(
                data.view(),
                &settings,
                Some(&cache),
                job,
                &mut |_| {},
                &mut never,
            )
            .expect("UMAP")
        };
        let first = map();
        assert!(!first.from_cache);
        let second = map();
        assert!(second.from_cache);
        assert_eq!(first.map.embedding, second.map.embedding);
        let row = data.row(5).to_vec();
        let placed = place_on_umap(&second.map, &row).expect("placed");
        let own = [first.map.embedding[[5, 0]], first.map.embedding[[5, 1]]];
        let (low, high) = extent(&first.map.embedding);
        let tolerance = 0.1 * (high - low);
        assert!(
            (placed[0] - own[0]).hypot(placed[1] - own[1]) < tolerance,
            "{placed:?} vs {own:?}"
        );
        assert_eq!(place_on_umap(&second.map, &[1.0, 2.0]), None);
    }

    fn extent(embedding: &Array2<f32>) -> (f32, f32) {
        embedding
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            })
    }
}

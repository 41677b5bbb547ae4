//! The maps behind the window, through the one map pipeline of window and CLI
//! (`faceemo_maps`): PCA of every released feature with the points and the neighbour index,
//! t-SNE and UMAP through the map cache, where a new feature lands, and the nearest released
//! samples.

use std::sync::Arc;
use std::time::Instant;

use faceemo_analysis::{CosineIndex, Neighbour};
use faceemo_data::Release;
use faceemo_jobs::JobContext;
use faceemo_maps::{
    FeatureMatrix, PointGrid, pca_map, place_on_pca, place_on_tsne, place_on_umap, tsne_map,
    umap_map,
};
use faceemo_projection::{MapCache, Pca, TsneMap, TsneSettings, UmapMap, UmapSettings};
use ndarray::ArrayView2;

use crate::core::Embedding;
use crate::points::{Colouring, MapPoints};
use crate::work::error_text;

/// Where every point of one map lies, with the grid its hit-tests use (built with it, off
/// the UI thread). NaN positions are rows that are not on this map.
#[derive(Debug, Default)]
pub struct Layout {
    /// One position per point.
    pub positions: Vec<[f32; 2]>,
    /// The points bucketed for hover, click, box and lasso.
    pub grid: PointGrid,
}

impl Layout {
    /// Buckets `positions` into their grid.
    pub fn new(positions: Vec<[f32; 2]>) -> Self {
        let grid = PointGrid::new(&positions);
        Self { positions, grid }
    }
}

/// The PCA map of a release: what every other map and measurement of the window builds on.
pub struct Projection {
    /// The fitted PCA (places new features).
    pub pca: Pca,
    /// Every row as a point, with its colouring groups.
    pub points: MapPoints,
    /// Where the PCA puts each point.
    pub layout: Arc<Layout>,
    /// Cosine neighbours over all splits.
    pub index: CosineIndex,
    /// Seconds the fit and transform took.
    pub seconds: f64,
    /// How many rows were left off the map and why, when any were.
    pub warning: Option<String>,
}

/// Where a dropped image landed and its nearest released samples.
pub struct Placement {
    /// Its map position (`None` when its feature width differs from the release's).
    pub position: Option<[f32; 2]>,
    /// Nearest samples by cosine, best first.
    pub neighbours: Vec<NeighbourRow>,
    /// Why there is nothing, when there is nothing.
    pub note: Option<String>,
}

/// One nearest sample, described for the list.
#[derive(Clone, Debug, PartialEq)]
pub struct NeighbourRow {
    /// Index of the point on the map.
    pub point: usize,
    /// Its sample id (or split:row when there is no metadata).
    pub sample_id: String,
    /// Its dataset.
    pub dataset: String,
    /// Its labelled emotion.
    pub emotion: String,
    /// The model's prediction for it (from the released logits).
    pub predicted: String,
    /// Cosine similarity.
    pub similarity: f32,
}

/// Neighbours listed for a dropped image.
pub const NEIGHBOURS: usize = 10;

/// Fits a 2-D PCA on every finite row of the release and places every row (rows with NaN
/// or infinite features are left off the map, and the warning says how many and where).
pub fn project(release: &Release, job: JobContext<'_>) -> Result<Projection, String> {
    let started = Instant::now();
    job.report("stacking features", 0, 0);
    let matrix = FeatureMatrix::of_release(release).map_err(|e| error_text(&e))?;
    job.check_cancelled().map_err(|e| error_text(&e))?;
    let (pca, coordinates) = pca_map(&matrix, 2, job).map_err(|e| error_text(&e))?;
    job.check_cancelled().map_err(|e| error_text(&e))?;
    job.report("placing points", 0, 0);
    let positions: Vec<[f32; 2]> = coordinates
        .rows()
        .into_iter()
        .map(|r| [r[0], r[1]])
        .collect();
    let layout = Arc::new(Layout::new(positions));
    let points = MapPoints::new(release);
    job.check_cancelled().map_err(|e| error_text(&e))?;
    let views: Vec<ArrayView2<'_, f32>> =
        release.splits.iter().map(|s| s.features.view()).collect();
    let index = CosineIndex::new(&views);
    Ok(Projection {
        pca,
        points,
        layout,
        index,
        seconds: started.elapsed().as_secs_f64(),
        warning: matrix.warning(),
    })
}

/// Places a feature on the PCA map and finds its nearest released samples.
pub fn place(release: &Release, projection: &Projection, feature: &[f32]) -> Placement {
    let width = release.feature_dim().unwrap_or(0);
    if feature.len() != width {
        return Placement {
            position: None,
            neighbours: Vec::new(),
            note: Some(format!(
                "the model's features have {} values but the release's have {width}: \
                 it cannot be placed on this map",
                feature.len()
            )),
        };
    }
    let position = place_on_pca(&projection.pca, feature);
    let neighbours = nearest_samples(release, projection, feature, NEIGHBOURS, None);
    Placement {
        position,
        neighbours,
        note: None,
    }
}

/// The `k` released samples nearest `feature` (cosine, full feature space), best first,
/// leaving out map point `exclude` (the sample itself, when its neighbours are asked for).
pub fn nearest_samples(
    release: &Release,
    projection: &Projection,
    feature: &[f32],
    k: usize,
    exclude: Option<usize>,
) -> Vec<NeighbourRow> {
    let views: Vec<ArrayView2<'_, f32>> =
        release.splits.iter().map(|s| s.features.view()).collect();
    let offsets: Vec<usize> = release
        .splits
        .iter()
        .scan(0, |start, split| {
            let here = *start;
            *start += split.rows();
            Some(here)
        })
        .collect();
    let wanted = k + usize::from(exclude.is_some());
    projection
        .index
        .nearest(&views, feature, wanted)
        .into_iter()
        .filter(|n| Some(offsets[n.block] + n.row) != exclude)
        .take(k)
        .map(
            |Neighbour {
                 block,
                 row,
                 similarity,
             }| {
                let split = &release.splits[block];
                let sample = split.samples.as_ref().and_then(|s| s.get(row));
                let point = offsets[block] + row;
                NeighbourRow {
                    point,
                    sample_id: sample.map_or_else(
                        || format!("{}:{row}", split.kind),
                        |s| s.sample_id.to_string(),
                    ),
                    dataset: sample
                        .map_or_else(|| split.kind.to_string(), |s| s.dataset.to_string()),
                    emotion: sample
                        .map_or_else(|| "unlabelled".to_owned(), |s| s.emotion.name().to_owned()),
                    predicted: projection
                        .points
                        .group_name(Colouring::Prediction, point)
                        .unwrap_or_default()
                        .to_owned(),
                    similarity,
                }
            },
        )
        .collect()
}

/// The nearest released samples of map point `point` (itself left out).
pub fn neighbours_of_point(
    release: &Release,
    projection: &Projection,
    point: usize,
) -> Vec<NeighbourRow> {
    let Some(source) = projection.points.sources.get(point) else {
        return Vec::new();
    };
    let Some(split) = release.splits.get(source.split) else {
        return Vec::new();
    };
    if source.row >= split.rows() {
        return Vec::new();
    }
    let feature = split.features.row(source.row).to_vec();
    nearest_samples(release, projection, &feature, NEIGHBOURS, Some(point))
}

/// A finished t-SNE or UMAP map, able to place new points.
#[derive(Debug)]
pub enum EmbeddingMap {
    /// A t-SNE map.
    Tsne(TsneMap),
    /// A UMAP map.
    Umap(UmapMap),
}

impl EmbeddingMap {
    /// Where a new feature lands on the map (which does not move); `None` when its width
    /// differs or it is not finite.
    pub fn place(&self, feature: &[f32]) -> Option<[f32; 2]> {
        match self {
            Self::Tsne(map) => place_on_tsne(map, feature),
            Self::Umap(map) => place_on_umap(map, feature),
        }
    }

    /// The KL divergence of a t-SNE map.
    pub fn kl_divergence(&self) -> Option<f64> {
        match self {
            Self::Tsne(map) => Some(map.kl_divergence),
            Self::Umap(_) => None,
        }
    }
}

/// A t-SNE or UMAP layout on its way.
pub struct EmbeddingLayout {
    /// Iterations (epochs) done.
    pub iteration: usize,
    /// Iterations (epochs) planned.
    pub iterations: usize,
    /// KL divergence now (t-SNE).
    pub kl_divergence: Option<f64>,
    /// Where every point is now.
    pub layout: Arc<Layout>,
}

/// A finished t-SNE or UMAP map.
pub struct EmbeddingReady {
    /// The map (places new points).
    pub map: Arc<EmbeddingMap>,
    /// Where every point is.
    pub layout: Arc<Layout>,
    /// Seconds it took.
    pub seconds: f64,
    /// Whether it was read from the map cache.
    pub from_cache: bool,
}

/// Runs t-SNE or UMAP (the command line's defaults) on every finite row of the release
/// through the map cache, handing a layout to `on_layout` every few iterations so the map
/// animates; rows with NaN features stay off the map (NaN positions).
pub fn run_embedding(
    embedding: Embedding,
    release: &Release,
    cache: Option<&MapCache>,
    job: JobContext<'_>,
    on_layout: &mut dyn FnMut(EmbeddingLayout),
) -> Result<EmbeddingReady, String> {
    let started = Instant::now();
    let matrix = FeatureMatrix::of_release(release).map_err(|e| error_text(&e))?;
    let data = matrix.finite_rows();
    let scatter = |embedded: &[[f32; 2]]| -> Arc<Layout> {
        let mut positions = vec![[f32::NAN; 2]; matrix.rows()];
        for (&row, &position) in matrix.finite.iter().zip(embedded) {
            positions[row] = position;
        }
        Arc::new(Layout::new(positions))
    };
    let name = embedding.name();
    let mut cache_error = |error: std::io::Error| eprintln!("cannot cache the {name} map: {error}");
    let (map, from_cache) = match embedding {
        Embedding::Tsne => {
            let result = tsne_map(
                data.view(),
                &TsneSettings::default(),
                cache,
                job,
                &mut |progress| {
                    if let Some(layout) = progress.layout {
                        on_layout(EmbeddingLayout {
                            iteration: progress.iteration,
                            iterations: progress.iterations,
                            kl_divergence: progress.kl_divergence,
                            layout: scatter(layout),
                        });
                    }
                },
                &mut cache_error,
            )
            .map_err(|e| error_text(&e))?;
            (EmbeddingMap::Tsne(result.map), result.from_cache)
        }
        Embedding::Umap => {
            let result = umap_map(
                data.view(),
                &UmapSettings::default(),
                cache,
                job,
                &mut |progress| {
                    on_layout(EmbeddingLayout {
                        iteration: progress.epoch,
                        iterations: progress.epochs,
                        kl_divergence: None,
                        layout: scatter(progress.layout),
                    });
                },
                &mut cache_error,
            )
            .map_err(|e| error_text(&e))?;
            (EmbeddingMap::Umap(result.map), result.from_cache)
        }
    };
    let positions = match &map {
        EmbeddingMap::Tsne(map) => &map.embedding,
        EmbeddingMap::Umap(map) => &map.embedding,
    };
    let embedded: Vec<[f32; 2]> = positions.rows().into_iter().map(|r| [r[0], r[1]]).collect();
    Ok(EmbeddingReady {
        layout: scatter(&embedded),
        map: Arc::new(map),
        seconds: started.elapsed().as_secs_f64(),
        from_cache,
    })
}

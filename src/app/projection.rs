//! The map behind the window: PCA of every released feature, the points it places, the
//! neighbour index, and where a new feature lands.

use std::sync::Arc;
use std::time::Instant;

use faceemo_analysis::{CosineIndex, Neighbour};
use faceemo_data::Release;
use faceemo_jobs::JobContext;
use faceemo_maps::{FeatureMatrix, MapError, pca_map, tsne_map};
use faceemo_projection::{MapCache, Pca, TsneError, TsneMap, TsneSettings};
use ndarray::ArrayView2;

use super::points::MapPoints;
use super::worker::{Event, EventSender, Stamp, TsneLayout, TsneReady};

/// A finished map of a release.
pub struct Projection {
    /// The fitted PCA (places new features).
    pub pca: Pca,
    /// The points, coloured and placed.
    pub points: MapPoints,
    /// Cosine neighbours over all splits.
    pub index: CosineIndex,
    /// Seconds the fit and transform took.
    pub seconds: f64,
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

/// Fits a 2-D PCA on every finite row of the release and places every row.
pub fn project(release: &Release, job: JobContext<'_>) -> Result<Projection, String> {
    let started = Instant::now();
    job.report("stacking features", 0, 3);
    let matrix = FeatureMatrix::of_release(release).map_err(|e| e.to_string())?;
    let views: Vec<ArrayView2<'_, f32>> =
        release.splits.iter().map(|s| s.features.view()).collect();
    job.check_cancelled().map_err(|_| "cancelled".to_owned())?;
    job.report("fitting PCA", 1, 3);
    let (pca, coordinates) = pca_map(&matrix, 2).map_err(|e| e.to_string())?;
    job.check_cancelled().map_err(|_| "cancelled".to_owned())?;
    job.report("placing points", 2, 3);
    let points = MapPoints::new(release, &coordinates.view());
    let index = CosineIndex::new(&views);
    job.report("done", 3, 3);
    Ok(Projection {
        pca,
        points,
        index,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Places a feature on the map and finds its nearest released samples.
pub fn place(release: &Release, projection: &Arc<Projection>, feature: &[f32]) -> Placement {
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
    let query = ArrayView2::from_shape((1, width), feature).ok();
    let position = query
        .and_then(|q| projection.pca.transform(q).ok())
        .map(|c| [c[[0, 0]], c[[0, 1]]]);
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
    let predictions = projection
        .points
        .groups(super::points::Colouring::Prediction);
    let prediction_names = projection
        .points
        .group_names(super::points::Colouring::Prediction);
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
                    predicted: predictions
                        .get(point)
                        .and_then(|&g| prediction_names.get(usize::from(g)))
                        .cloned()
                        .unwrap_or_default(),
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

/// Runs t-SNE on every finite row of the release, sending a layout every few iterations
/// so the map animates; rows with NaN features stay off the map (NaN positions).
pub fn run_tsne(
    release: &Release,
    cache: Option<&MapCache>,
    job: JobContext<'_>,
    events: &EventSender,
    stamp: Stamp,
) -> Result<TsneReady, String> {
    let started = Instant::now();
    let matrix = FeatureMatrix::of_release(release).map_err(|e| e.to_string())?;
    let data = matrix.finite_rows();
    let scatter = |embedded: &[[f32; 2]]| -> Arc<Vec<[f32; 2]>> {
        let mut layout = vec![[f32::NAN; 2]; matrix.rows()];
        for (&row, &position) in matrix.finite.iter().zip(embedded) {
            layout[row] = position;
        }
        Arc::new(layout)
    };
    let settings = TsneSettings::default();
    let result = tsne_map(
        data.view(),
        &settings,
        cache,
        &mut |progress| {
            job.report(
                format!("t-SNE: {}", progress.stage),
                progress.iteration as u64,
                progress.iterations as u64,
            );
            if let Some(layout) = progress.layout {
                events.send(Event::TsneLayout(
                    stamp,
                    TsneLayout {
                        iteration: progress.iteration,
                        iterations: progress.iterations,
                        kl_divergence: progress.kl_divergence,
                        layout: scatter(layout),
                    },
                ));
            }
            job.check_cancelled().is_ok()
        },
        &mut |error| eprintln!("cannot cache the t-SNE map: {error}"),
    )
    .map_err(|e| match e {
        MapError::Tsne(TsneError::Cancelled) => "t-SNE cancelled".to_owned(),
        other => other.to_string(),
    })?;
    let embedded: Vec<[f32; 2]> = result
        .map
        .embedding
        .rows()
        .into_iter()
        .map(|r| [r[0], r[1]])
        .collect();
    Ok(TsneReady {
        layout: scatter(&embedded),
        map: Arc::new(result.map),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Where a feature lands on a finished t-SNE map.
pub fn place_on_tsne(map: &TsneMap, feature: &[f32]) -> Option<[f32; 2]> {
    let query = ArrayView2::from_shape((1, feature.len()), feature).ok()?;
    let placed = map.transform(query).ok()?;
    Some([placed[[0, 0]], placed[[0, 1]]])
}

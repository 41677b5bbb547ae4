//! The map behind the window: PCA of every released feature, the points it places, the
//! neighbour index, and where a new feature lands.

use std::sync::Arc;
use std::time::Instant;

use faceemo_analysis::{CosineIndex, Neighbour};
use faceemo_data::Release;
use faceemo_jobs::JobContext;
use faceemo_projection::Pca;
use ndarray::{ArrayView2, Axis};

use super::points::MapPoints;

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
pub struct NeighbourRow {
    /// Index of the point on the map.
    pub point: usize,
    /// Its sample id (or split:row when there is no metadata).
    pub sample_id: String,
    /// Its dataset.
    pub dataset: String,
    /// Its labelled emotion.
    pub emotion: String,
    /// Cosine similarity.
    pub similarity: f32,
}

/// Neighbours listed for a dropped image.
pub const NEIGHBOURS: usize = 10;

/// Fits a 2-D PCA on every finite row of the release and places every row.
pub fn project(release: &Release, job: JobContext<'_>) -> Result<Projection, String> {
    let started = Instant::now();
    job.report("stacking features", 0, 3);
    let views: Vec<ArrayView2<'_, f32>> =
        release.splits.iter().map(|s| s.features.view()).collect();
    if views.is_empty() {
        return Err("the release has no splits".to_owned());
    }
    let all = ndarray::concatenate(Axis(0), &views)
        .map_err(|e| format!("the splits have different feature widths: {e}"))?;
    let finite_rows: Vec<usize> = (0..all.nrows())
        .filter(|&r| all.row(r).iter().all(|v| v.is_finite()))
        .collect();
    if finite_rows.len() < 3 {
        return Err("fewer than three rows with finite features: nothing to project".to_owned());
    }
    job.check_cancelled().map_err(|_| "cancelled".to_owned())?;
    job.report("fitting PCA", 1, 3);
    let fit_rows = if finite_rows.len() == all.nrows() {
        None
    } else {
        Some(all.select(Axis(0), &finite_rows))
    };
    let pca = Pca::fit(
        fit_rows
            .as_ref()
            .map_or_else(|| all.view(), |rows| rows.view()),
        2,
    )
    .map_err(|e| e.to_string())?;
    job.check_cancelled().map_err(|_| "cancelled".to_owned())?;
    job.report("placing points", 2, 3);
    let mut coordinates = pca.transform(all.view()).map_err(|e| e.to_string())?;
    for (row, mut place) in coordinates.rows_mut().into_iter().enumerate() {
        if !all.row(row).iter().all(|v| v.is_finite()) {
            place.fill(f32::NAN);
        }
    }
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
    let neighbours = projection
        .index
        .nearest(&views, feature, NEIGHBOURS)
        .into_iter()
        .map(
            |Neighbour {
                 block,
                 row,
                 similarity,
             }| {
                let split = &release.splits[block];
                let sample = split.samples.as_ref().and_then(|s| s.get(row));
                NeighbourRow {
                    point: offsets[block] + row,
                    sample_id: sample.map_or_else(
                        || format!("{}:{row}", split.kind),
                        |s| s.sample_id.to_string(),
                    ),
                    dataset: sample
                        .map_or_else(|| split.kind.to_string(), |s| s.dataset.to_string()),
                    emotion: sample
                        .map_or_else(|| "unlabelled".to_owned(), |s| s.emotion.name().to_owned()),
                    similarity,
                }
            },
        )
        .collect();
    Placement {
        position,
        neighbours,
        note: None,
    }
}

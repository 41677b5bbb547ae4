//! t-SNE on data with known structure: clusters stay apart and neighbourhoods survive, the
//! run repeats exactly, reports its progress, stops when asked, and places new points
//! where their neighbours are.

use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext, ProgressUpdate, SplitMix64};
use faceemo_projection::{TsneError, TsneSettings, knn_preservation, sample_rows, tsne};
use ndarray::{Array2, ArrayView1};

/// Three well-separated Gaussian clusters in 20 dimensions; row i is in cluster i % 3.
fn clusters(rows: usize) -> Array2<f32> {
    let mut random = SplitMix64::new(11);
    Array2::from_shape_fn((rows, 20), |(i, j)| {
        let centre = if j == i % 3 { 12.0 } else { 0.0 };
        (centre + random.normal()) as f32
    })
}

/// Runs t-SNE to the end, reporting to nobody (views are passed by value, as ndarray does).
#[allow(clippy::needless_pass_by_value)]
fn run(
    data: ndarray::ArrayView2<'_, f32>,
    settings: &TsneSettings,
) -> Result<faceemo_projection::TsneMap, TsneError> {
    let cancel = CancelToken::new();
    tsne(
        data,
        settings,
        JobContext::new(&IgnoreProgress, &cancel),
        &mut |_| {},
    )
}

fn quick() -> TsneSettings {
    TsneSettings {
        perplexity: 20.0,
        early_exaggeration_iterations: 100,
        iterations: 200,
        report_every: 50,
        ..TsneSettings::default()
    }
}

fn centroid(map: &Array2<f32>, cluster: usize) -> [f32; 2] {
    let rows: Vec<ArrayView1<'_, f32>> = map.rows().into_iter().skip(cluster).step_by(3).collect();
    let n = rows.len() as f32;
    [
        rows.iter().map(|r| r[0]).sum::<f32>() / n,
        rows.iter().map(|r| r[1]).sum::<f32>() / n,
    ]
}

#[test]
fn clusters_stay_apart_and_neighbourhoods_survive() {
    let data = clusters(450);
    let map = run(data.view(), &quick()).expect("t-SNE runs");
    assert_eq!(map.embedding.dim(), (450, 2));
    let sample = sample_rows(450, 200, 1);
    let preserved = knn_preservation(data.view(), map.embedding.view(), &sample, 10);
    assert!(preserved > 0.3, "kNN preservation {preserved}");
    // Each point is nearer its own cluster's centre than any other's.
    let centres: Vec<[f32; 2]> = (0..3).map(|c| centroid(&map.embedding, c)).collect();
    for (i, row) in map.embedding.rows().into_iter().enumerate() {
        let distance = |c: &[f32; 2]| (row[0] - c[0]).powi(2) + (row[1] - c[1]).powi(2);
        let own = distance(&centres[i % 3]);
        assert!(centres.iter().all(|c| own <= distance(c)), "row {i}");
    }
    assert!(map.kl_divergence.is_finite() && map.kl_divergence > 0.0);
}

#[test]
fn runs_repeat_exactly_report_progress_and_can_be_cancelled() {
    let data = clusters(300);
    let mut reports = Vec::new();
    let cancel = CancelToken::new();
    let first = tsne(
        data.view(),
        &quick(),
        JobContext::new(&IgnoreProgress, &cancel),
        &mut |progress| {
            if let (Some(kl), Some(layout)) = (progress.kl_divergence, progress.layout) {
                reports.push((progress.iteration, kl, layout.len()));
            }
        },
    )
    .expect("t-SNE runs");
    let iterations: Vec<usize> = reports.iter().map(|r| r.0).collect();
    assert_eq!(iterations, vec![50, 100, 150, 200, 250, 300]);
    assert!(reports.iter().all(|r| r.2 == 300));
    // After early exaggeration the KL divergence goes down.
    assert!(reports[5].1 < reports[2].1, "{reports:?}");
    let second = run(data.view(), &quick()).expect("t-SNE runs");
    assert_eq!(first.embedding, second.embedding);

    // Cancelled from the progress sink once iteration 100 is reported: it stops there.
    let last = std::sync::Mutex::new(0u64);
    let stopper = CancelToken::new();
    let sink = |update: ProgressUpdate| {
        if update.stage == "t-SNE: optimising" {
            *last.lock().expect("lock") = update.done;
            if update.done >= 100 {
                stopper.cancel();
            }
        }
    };
    let cancelled = tsne(
        data.view(),
        &quick(),
        JobContext::new(&sink, &stopper),
        &mut |_| {},
    );
    assert!(matches!(cancelled, Err(TsneError::Cancelled)));
    let stopped_at = *last.lock().expect("lock");
    assert!((100..110).contains(&stopped_at), "stopped at {stopped_at}");
}

#[test]
fn new_points_land_beside_their_neighbours_without_moving_the_map() {
    let data = clusters(300);
    let map = run(data.view(), &quick()).expect("t-SNE runs");
    let before = map.embedding.clone();
    // Fresh draws from cluster 1 and cluster 2.
    let mut random = SplitMix64::new(99);
    let new_rows = Array2::from_shape_fn((2, 20), |(i, j)| {
        let centre = if j == i + 1 { 12.0 } else { 0.0 };
        (centre + random.normal()) as f32
    });
    let placed = map.transform(new_rows.view()).expect("transform");
    assert_eq!(map.embedding, before);
    for (i, row) in placed.rows().into_iter().enumerate() {
        let distance = |c: [f32; 2]| (row[0] - c[0]).powi(2) + (row[1] - c[1]).powi(2);
        let own = distance(centroid(&map.embedding, i + 1));
        let other = distance(centroid(&map.embedding, (i + 2) % 3));
        assert!(own < other, "new point {i} placed at {row:?}");
    }
}

#[test]
fn too_few_rows_or_a_bad_perplexity_is_refused() {
    let data = clusters(30);
    let error = run(data.view(), &TsneSettings::default()).unwrap_err();
    assert!(
        error.to_string().contains("needs more than 90 rows"),
        "{error}"
    );
    let settings = TsneSettings {
        perplexity: 0.5,
        ..TsneSettings::default()
    };
    assert!(run(clusters(300).view(), &settings).is_err());
}

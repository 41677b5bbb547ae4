//! The workbench's flows without any window: intents in, jobs run on the real runner's
//! threads, events applied, state checked. Each test reads as what a user does and what
//! they must then see.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use faceemo_workbench::{
    Colouring, Command, EventKind, Intent, MapMethod, ReconstructFrom, Runner, Settings,
    ShiftIntent, Slot, StartOptions, Workbench, shift_lab::Side,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn tiny_model() -> String {
    fixtures().join("models/tiny32").display().to_string()
}

/// A core with a runner, as the window holds them.
struct Session {
    core: Workbench,
    runner: Runner,
}

impl Session {
    fn new() -> Self {
        Self::with_settings(Settings::default())
    }

    fn with_settings(settings: Settings) -> Self {
        Self {
            core: Workbench::new(settings, None),
            runner: Runner::new(Arc::new(|| {})),
        }
    }

    fn start(options: StartOptions) -> Self {
        let mut session = Self::new();
        let commands = session.core.start(options);
        session.runner.execute(commands);
        session
    }

    fn demo() -> Self {
        let mut session = Self::start(StartOptions {
            demo: true,
            ..StartOptions::default()
        });
        session.settle();
        session
    }

    /// The demo set and the tiny model, started with a face image to predict, and
    /// reconstructions of `steps` steps.
    fn demo_with_a_face(steps: usize) -> Self {
        let mut session = Self::with_settings(Settings {
            inversion_steps: steps,
            ..Settings::default()
        });
        let commands = session.core.start(StartOptions {
            demo: true,
            model: Some(tiny_model()),
            sources: vec![fixtures().join("images/photo.jpg")],
            ..StartOptions::default()
        });
        session.runner.execute(commands);
        session.settle();
        session
    }

    fn ask(&mut self, intent: Intent) {
        let commands = self.core.handle(intent);
        self.runner.execute(commands);
    }

    /// Applies events until `done` holds.
    fn until(&mut self, what: &str, done: impl Fn(&Workbench) -> bool) {
        let deadline = Instant::now() + Duration::from_mins(3);
        while !done(&self.core) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; messages {:?}",
                self.core.messages()
            );
            if let Some(event) = self.runner.wait(Duration::from_millis(50)) {
                let commands = self.core.apply(event);
                self.runner.execute(commands);
            }
        }
    }

    /// Applies events until no job runs.
    fn settle(&mut self) {
        self.until("every job to end", |core| !core.is_busy());
    }

    fn errors(&self) -> Vec<String> {
        self.core
            .messages()
            .iter()
            .filter(|m| m.is_error)
            .map(|m| m.text.clone())
            .collect()
    }

    fn notes(&self) -> String {
        self.core
            .messages()
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn job_id(&self, slot: Slot) -> u64 {
        self.core
            .jobs()
            .iter()
            .rev()
            .find(|j| j.slot == slot)
            .map(|j| j.id)
            .expect("a running job of that slot")
    }
}

#[test]
fn the_demo_set_opens_with_every_point_on_the_map_and_its_shift_measured() {
    let session = Session::demo();
    let core = &session.core;
    let rows = core.release().expect("release").total_rows();
    let projection = core.projection().expect("map");
    assert_eq!(projection.points.len(), rows);
    assert_eq!(projection.layout.positions.len(), rows);
    assert!(core.shift_report().is_some());
    assert!(session.errors().is_empty(), "{:?}", session.errors());
    assert_eq!(core.map().method, MapMethod::Pca);
    assert!(core.sources().is_empty(), "the demo set has no sources");
}

#[test]
fn of_two_overlapping_loads_the_last_asked_for_wins_whichever_ends_first() {
    let mut session = Session::new();
    let first = session
        .core
        .handle(Intent::OpenSources(vec![fixtures().join("data/release")]));
    let second = session.core.handle(Intent::OpenDemo);
    // The later request runs and ends first; the earlier one ends after it.
    session.runner.execute(second);
    session.until("the demo set", |core| core.release().is_some());
    session.runner.execute(first);
    session.settle();
    let release = session.core.release().expect("release");
    assert!(
        release.is_synthetic(),
        "the earlier request overwrote the later one"
    );
}

#[test]
fn a_cancelled_pca_says_cancelled_leaves_no_spinner_and_can_be_asked_again() {
    let mut session = Session::new();
    let commands = session.core.handle(Intent::OpenDemo);
    session.runner.execute(commands);
    session.until("the release", |core| core.release().is_some());
    // The PCA job is registered as soon as the release is applied: cancel it at once.
    let pca = session.job_id(Slot::Projection);
    session.ask(Intent::Cancel(pca));
    session.until("the PCA to stop", |core| !core.running(Slot::Projection));
    let core = &session.core;
    assert!(core.projection().is_none());
    assert_eq!(core.map().pca_stopped.as_deref(), Some("cancelled"));
    assert!(
        session.notes().contains("Projecting (PCA): cancelled"),
        "{}",
        session.notes()
    );
    assert!(
        !session.notes().contains("cannot project"),
        "a cancellation is not an error: {}",
        session.notes()
    );
    session.ask(Intent::Reproject);
    session.settle();
    assert!(session.core.projection().is_some());
    assert!(session.core.map().pca_stopped.is_none());
}

#[test]
fn cancelling_a_running_t_sne_leaves_the_pca_map_shown_and_nothing_running() {
    let mut session = Session::demo();
    session.ask(Intent::ShowMap(MapMethod::Tsne));
    let tsne = session.job_id(Slot::Tsne);
    // Wait for it to be under way (a progress report), then cancel.
    session.until("t-SNE progress", |core| {
        core.jobs()
            .iter()
            .any(|j| j.id == tsne && j.progress.is_some())
    });
    session.ask(Intent::Cancel(tsne));
    assert!(
        session
            .core
            .jobs()
            .iter()
            .any(|j| j.id == tsne && j.stopping)
    );
    session.settle();
    let core = &session.core;
    assert_eq!(core.map().method, MapMethod::Pca);
    assert!(core.map().tsne.map.is_none() && core.map().tsne.layout.is_none());
    assert!(session.errors().is_empty(), "{:?}", session.errors());
    assert!(session.notes().contains("t-SNE of every point: cancelled"));
}

#[test]
fn a_panic_in_a_job_or_in_the_model_worker_fails_that_job_and_nothing_else() {
    let mut session = Session::start(StartOptions {
        demo: true,
        model: Some(tiny_model()),
        ..StartOptions::default()
    });
    session.settle();
    assert!(session.core.model().is_some());
    session.ask(Intent::InjectPanic {
        in_model_worker: false,
    });
    session.ask(Intent::InjectPanic {
        in_model_worker: true,
    });
    session.settle();
    let errors = session.errors();
    assert_eq!(
        errors
            .iter()
            .filter(|e| e.contains("it panicked (injected"))
            .count(),
        2,
        "{errors:?}"
    );
    // The model worker goes on: a prediction after the panic works.
    session.ask(Intent::OpenPaths(vec![fixtures().join("images/photo.jpg")]));
    session.settle();
    assert!(session.core.lab().image.is_some(), "{:?}", session.errors());
    assert!(!session.core.model_loading());
}

#[test]
fn a_second_reconstruct_replaces_the_first_whose_steps_are_dropped() {
    let mut session = Session::demo_with_a_face(30);
    assert!(session.core.lab().image.is_some(), "{:?}", session.errors());
    assert!(
        session.core.release().is_some_and(|r| r.is_synthetic()),
        "an image on the command line does not keep the demo set from opening"
    );
    session.ask(Intent::SetInversionSteps(12));
    let first = session
        .core
        .handle(Intent::Reconstruct(ReconstructFrom::DroppedImage));
    let Some(Command::Run(first_job)) = first.first() else {
        panic!("a reconstruction job");
    };
    let first_token = first_job.cancel.clone();
    session.runner.execute(first);
    session.ask(Intent::SetInversionSteps(10));
    session.ask(Intent::Reconstruct(ReconstructFrom::DroppedImage));
    assert!(first_token.is_cancelled(), "the first run is stopped");
    session.settle();
    let run = session.core.lab().inversion.as_ref().expect("a run");
    let result = run.result.as_ref().expect("finished");
    assert_eq!(run.steps, 10);
    assert_eq!(result.steps_run, 10);
    assert_eq!(run.curve.len(), 10, "only the second run's steps");
    assert!(run.curve.iter().enumerate().all(|(i, r)| r.step == i));
    assert!(run.pixels.is_some(), "compared with the dropped image");
}

#[test]
fn stopping_a_reconstruction_keeps_its_best_image() {
    let mut session = Session::demo_with_a_face(1000);
    session.ask(Intent::Reconstruct(ReconstructFrom::DroppedImage));
    session.until("a few steps", |core| {
        core.lab()
            .inversion
            .as_ref()
            .is_some_and(|r| r.curve.len() >= 3)
    });
    let job = session.job_id(Slot::Inversion);
    session.ask(Intent::Cancel(job));
    session.settle();
    let run = session.core.lab().inversion.as_ref().expect("kept");
    let result = run.result.as_ref().expect("the best image so far");
    assert!(result.cancelled && result.steps_run < 1000);
    assert!(run.image.is_some());
    assert!(session.errors().is_empty(), "{:?}", session.errors());
}

#[test]
fn box_lasso_and_click_select_through_the_layout_grid_and_export_the_rows() {
    let mut session = Session::demo();
    let layout = Arc::clone(&session.core.projection().expect("map").layout);
    let (min, max) = layout.grid.bounds().expect("points");
    let mid = [
        f64::from(min[0] + max[0]) / 2.0,
        f64::from(min[1] + max[1]) / 2.0,
    ];
    let low = [f64::from(min[0]) - 1.0, f64::from(min[1]) - 1.0];
    // The lower-left quarter by box; the same by a lasso square.
    session.ask(Intent::SelectBox(low, mid));
    let boxed = session.core.map().selection.to_vec();
    let expected: Vec<usize> = (0..layout.positions.len())
        .filter(|&i| {
            let [x, y] = layout.positions[i];
            f64::from(x) <= mid[0] && f64::from(y) <= mid[1]
        })
        .collect();
    assert_eq!(boxed, expected);
    assert!(!boxed.is_empty() && boxed.len() < layout.positions.len());
    session.ask(Intent::SelectLasso(vec![
        low,
        [mid[0], low[1]],
        mid,
        [low[0], mid[1]],
    ]));
    assert_eq!(session.core.map().selection.to_vec(), boxed);
    let summary = session.core.map().summary.as_ref().expect("summary");
    assert_eq!(summary.crosstab.total(), boxed.len());
    assert_eq!(
        summary.counts(Colouring::Dataset).iter().sum::<usize>(),
        boxed.len()
    );
    // Export what is selected.
    let folder = tempfile::tempdir().expect("tempdir");
    let path = folder.path().join("chosen.csv");
    session.ask(Intent::ExportSelection(path.clone()));
    session.settle();
    let written = std::fs::read_to_string(&path).expect("written");
    assert_eq!(written.lines().count(), boxed.len() + 1);
    assert!(written.starts_with("split,row,sample_id,dataset,emotion"));
    // A click on a point selects it alone and finds its neighbours.
    let [x, y] = layout.positions[7];
    session.ask(Intent::SelectAt {
        at: [f64::from(x), f64::from(y)],
        reach: 1e-6,
    });
    assert_eq!(session.core.map().selection.as_slice(), [7]);
    session.settle();
    let (point, neighbours) = session
        .core
        .map()
        .sample_neighbours
        .as_ref()
        .expect("neighbours");
    assert_eq!(*point, 7);
    assert_eq!(neighbours.len(), faceemo_workbench::NEIGHBOURS);
    assert!(neighbours.iter().all(|n| n.point != 7));
    // Clicking empty space clears the selection.
    session.ask(Intent::SelectAt {
        at: [f64::from(max[0]) + 100.0, 0.0],
        reach: 1.0,
    });
    assert!(session.core.map().selection.is_empty());
    assert!(session.core.map().summary.is_none());
}

#[test]
fn a_comparison_is_kept_only_for_the_sides_it_was_started_with() {
    let mut session = Session::demo();
    session.ask(Intent::Shift(ShiftIntent::SetSideGroup(Side::A, Some(0))));
    session.ask(Intent::Shift(ShiftIntent::SetSideGroup(Side::B, None)));
    session.ask(Intent::Shift(ShiftIntent::Compare));
    // Changing a side while it runs makes its result stale.
    session.ask(Intent::Shift(ShiftIntent::SetSideGroup(Side::B, Some(1))));
    session.settle();
    assert!(session.core.shift().comparison.is_none());
    session.ask(Intent::Shift(ShiftIntent::Compare));
    session.settle();
    let comparison = session.core.shift().comparison.as_ref().expect("compared");
    assert!(comparison.a.rows > 0 && comparison.b.rows > 0);
}

#[test]
fn predicting_without_a_model_says_so() {
    let mut session = Session::demo();
    session.ask(Intent::OpenPaths(vec![fixtures().join("images/photo.jpg")]));
    session.settle();
    let errors = session.errors();
    assert!(
        errors.iter().any(|e| e.contains("no model is loaded")),
        "{errors:?}"
    );
}

#[test]
fn a_dropped_release_opens_although_earlier_sources_were_deleted_since() {
    let folder = tempfile::tempdir().expect("tempdir");
    let copy = |to: &Path| {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(fixtures().join("data/release")).expect("fixtures") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    };
    let first = folder.path().join("first");
    let second = folder.path().join("second");
    copy(&first);
    copy(&second);
    let mut session = Session::new();
    session.ask(Intent::OpenPaths(vec![first.clone()]));
    session.settle();
    assert_eq!(session.core.sources(), std::slice::from_ref(&first));
    std::fs::remove_dir_all(&first).expect("delete");
    session.ask(Intent::OpenPaths(vec![second.clone()]));
    session.settle();
    assert!(session.errors().is_empty(), "{:?}", session.errors());
    assert_eq!(session.core.sources(), [second]);
    assert!(
        session.notes().contains("no longer exist"),
        "{}",
        session.notes()
    );
    assert_eq!(
        session.core.settings().recent_sources.first().map(Vec::len),
        Some(1)
    );
}

#[test]
fn a_release_with_nan_rows_is_mapped_without_them_and_says_how_many() {
    let folder = tempfile::tempdir().expect("tempdir");
    let mut release = faceemo_data::synthetic_release(3);
    release.splits[0].features[[2, 4]] = f32::NAN;
    let path = folder.path().join("train.npz");
    let split = &release.splits[0];
    let mut npz = ndarray_npy::NpzWriter::new(std::fs::File::create(&path).expect("create"));
    npz.add_array("features", &split.features)
        .expect("features");
    npz.add_array("logits", &split.logits).expect("logits");
    npz.add_array("probs", &split.probs).expect("probs");
    npz.finish().expect("npz");
    let mut session = Session::new();
    session.ask(Intent::OpenPaths(vec![path]));
    session.settle();
    let projection = session
        .core
        .projection()
        .expect("a map despite the NaN row");
    assert!(projection.layout.positions[2][0].is_nan());
    assert!(projection.layout.positions[3][0].is_finite());
    assert!(session.notes().contains("1 row"), "{}", session.notes());
}

#[test]
fn the_last_sources_reopen_at_start_when_they_still_exist() {
    let mut session = Session::with_settings(Settings {
        recent_sources: vec![vec![fixtures().join("data/release")]],
        ..Settings::default()
    });
    let commands = session.core.start(StartOptions::default());
    session.runner.execute(commands);
    session.settle();
    let release = session.core.release().expect("release");
    assert!(!release.is_synthetic());
    let gone = Session::with_settings(Settings {
        recent_sources: vec![vec![fixtures().join("data/no-such-folder")]],
        ..Settings::default()
    });
    let mut gone = gone;
    let commands = gone.core.start(StartOptions::default());
    gone.runner.execute(commands);
    gone.settle();
    assert!(gone.core.release().expect("release").is_synthetic());
}

#[test]
fn progress_reaches_the_job_board_and_the_board_empties() {
    let mut session = Session::new();
    session.ask(Intent::OpenDemo);
    let mut saw_progress = false;
    let deadline = Instant::now() + Duration::from_mins(1);
    while session.core.is_busy() && Instant::now() < deadline {
        if let Some(event) = session.runner.wait(Duration::from_millis(50)) {
            saw_progress |= matches!(event.kind, EventKind::Progress(_));
            let commands = session.core.apply(event);
            session.runner.execute(commands);
        }
    }
    assert!(saw_progress);
    assert!(session.core.jobs().is_empty());
}

#[test]
fn a_drop_sorted_after_a_newer_request_does_not_open_over_it() {
    let mut session = Session::new();
    let drop = session
        .core
        .handle(Intent::OpenPaths(vec![fixtures().join("data/release")]));
    let demo = session.core.handle(Intent::OpenDemo);
    session.runner.execute(demo);
    session.until("the demo set", |core| core.release().is_some());
    // The folder dropped first is sorted only now.
    session.runner.execute(drop);
    session.settle();
    assert!(
        session.core.release().expect("release").is_synthetic(),
        "the older drop opened over the newer request"
    );
}

#[test]
fn a_job_asked_to_stop_that_finishes_anyway_counts_as_cancelled() {
    let mut session = Session::demo();
    session.ask(Intent::Select(vec![5]));
    let neighbours = session.job_id(Slot::Neighbours);
    session.ask(Intent::Cancel(neighbours));
    session.settle();
    assert!(session.core.map().sample_neighbours.is_none());
    assert!(
        session
            .notes()
            .contains("Finding the selected sample's neighbours: cancelled"),
        "{}",
        session.notes()
    );
    assert_eq!(session.core.map().selection.as_slice(), [5]);
}

#[test]
fn a_very_wide_dropped_image_is_predicted_and_shown_as_a_small_thumbnail() {
    let folder = tempfile::tempdir().expect("tempdir");
    let path = folder.path().join("strip.png");
    image::RgbImage::from_pixel(12_000, 3, image::Rgb([200, 40, 40]))
        .save(&path)
        .expect("png");
    let mut session = Session::start(StartOptions {
        demo: true,
        model: Some(tiny_model()),
        ..StartOptions::default()
    });
    session.settle();
    session.ask(Intent::OpenPaths(vec![path]));
    session.settle();
    let image = session.core.lab().image.as_ref().expect("predicted");
    assert_eq!(image.image.dimensions(), (12_000, 3));
    let (width, height) = image.thumbnail.dimensions();
    assert!(
        width <= faceemo_workbench::THUMBNAIL_SIDE && height >= 1,
        "{width} x {height}"
    );
}

#[test]
fn a_reconstruction_set_to_stop_at_a_cosine_stops_there_and_reports_its_speed() {
    let mut session = Session::demo_with_a_face(500);
    session.ask(Intent::SetUntilCosine(Some(0.97)));
    session.ask(Intent::Reconstruct(ReconstructFrom::DroppedImage));
    session.settle();
    let run = session.core.lab().inversion.as_ref().expect("a run");
    let result = run.result.as_ref().expect("finished");
    assert!(result.steps_run < 500, "{} steps", result.steps_run);
    assert!(run.curve.last().expect("steps").cosine() >= 0.97);
    assert_eq!(
        result.steps_to_target.map(|s| s + 1),
        Some(result.steps_run)
    );
    assert!(run.steps_per_second().is_some_and(|r| r > 0.0));
    // Values from an edited settings file are brought into range.
    session.ask(Intent::SetUntilCosine(Some(7.0)));
    assert_eq!(session.core.settings().until_cosine, Some(1.0));
}

#[test]
fn the_umap_map_animates_to_a_finished_layout_and_switching_back_reuses_it() {
    let mut session = Session::demo();
    session.ask(Intent::ShowMap(MapMethod::Umap));
    let umap = session.job_id(Slot::Umap);
    session.until("a UMAP layout on its way", |core| {
        core.map().umap.iterations > 0 || core.map().umap.map.is_some()
    });
    session.settle();
    let core = &session.core;
    let state = &core.map().umap;
    assert!(state.map.is_some(), "{:?}", session.errors());
    assert!(state.iteration > 0 && state.iteration == state.iterations);
    let (layout, x, _) = core.map().shown().expect("a map is shown");
    assert_eq!(x, "UMAP 1");
    let points = core.projection().expect("the PCA map").points.len();
    assert_eq!(layout.positions.len(), points);
    assert!(
        layout
            .positions
            .iter()
            .all(|p| p[0].is_finite() && p[1].is_finite())
    );
    // Back to PCA and to UMAP again: the finished map is reused, no new job.
    session.ask(Intent::ShowMap(MapMethod::Pca));
    session.ask(Intent::ShowMap(MapMethod::Umap));
    assert!(!session.core.is_busy());
    assert!(session.core.jobs().iter().all(|j| j.id != umap));
    assert!(session.errors().is_empty(), "{:?}", session.errors());
}

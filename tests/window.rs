//! The workbench window driven as a user drives it, through `egui_kittest`: open the demo
//! set, colour and hide groups, hover, click, box and lasso points, export them, pan, zoom
//! and reset the view, drop a face, reconstruct it (and stop it), open a recent source, and
//! survive a broken file and a panicking job.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use faceemo::{StartOptions, WorkbenchApp};
use faceemo_workbench::{Embedding, MapMethod, Slot, Workbench};

/// What the tests read of the window's state, through its core.
trait Seen {
    fn core(&self) -> &Workbench;

    fn messages(&self) -> Vec<String> {
        self.core()
            .messages()
            .iter()
            .map(|m| m.text.clone())
            .collect()
    }

    fn errors(&self) -> Vec<String> {
        self.core()
            .messages()
            .iter()
            .filter(|m| m.is_error)
            .map(|m| m.text.clone())
            .collect()
    }

    fn selection(&self) -> Vec<usize> {
        self.core().map().selection.to_vec()
    }

    fn is_busy(&self) -> bool {
        self.core().is_busy()
    }
}

impl Seen for WorkbenchApp {
    fn core(&self) -> &Workbench {
        self.workbench()
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn tiny_model() -> String {
    fixtures().join("models/tiny32").display().to_string()
}

fn open(options: StartOptions) -> Harness<'static, WorkbenchApp> {
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| WorkbenchApp::new(cc, options))
}

/// Steps the UI until `done` holds (workers run on their own threads meanwhile). The first
/// step comes before the first check, so a click queued just before is handled first.
fn wait_for(
    harness: &mut Harness<'_, WorkbenchApp>,
    what: &str,
    done: impl Fn(&WorkbenchApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_mins(3);
    harness.step();
    while !done(harness.state()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; messages: {:?}",
            harness.state().messages()
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.step();
    harness.step();
}

/// A file dropped from the desktop, as the window integration hands it to egui.
#[derive(Debug)]
struct DesktopFile(PathBuf);

impl egui::DroppedFile for DesktopFile {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

fn drop_file(harness: &mut Harness<'_, WorkbenchApp>, path: PathBuf) {
    harness
        .input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DesktopFile(path)));
    harness.step();
}

fn demo_with_model() -> Harness<'static, WorkbenchApp> {
    let mut harness = open(StartOptions {
        demo: true,
        model: Some(tiny_model()),
        ..StartOptions::default()
    });
    wait_for(&mut harness, "the demo map and the model", |app| {
        app.core().projection().is_some() && app.core().model().is_some() && !app.is_busy()
    });
    harness
}

#[test]
fn the_demo_set_opens_labelled_synthetic_with_every_point_on_the_map() {
    let harness = demo_with_model();
    let app = harness.state();
    let rows = app.core().release().expect("release").total_rows();
    assert_eq!(app.core().projection().expect("map").points.len(), rows);
    assert!(
        !harness
            .get_all_by_label_contains("SYNTHETIC DEMO SET")
            .collect::<Vec<_>>()
            .is_empty()
    );
    harness.get_by_label_contains(&format!("PCA of {rows} points"));
    // The status bar names the backend the model runs on, whatever the machine has.
    let backend = app.core().model().expect("model").backend.clone();
    harness.get_by_label_contains(&backend);
    // The legend lists every source dataset with its count.
    harness.get_by_label_contains("AffectNet  (");
    // The domain-shift report was measured in the background on opening.
    let report = app.core().shift_report().expect("the domain-shift report");
    assert_eq!(report.per_dataset.len(), 5);
    harness.get_by_label_contains("Open the Domain shift lab");
}

/// Drags a box on the map from `from` to `to` (fractions of the map's size).
fn box_select(harness: &mut Harness<'_, WorkbenchApp>, from: [f32; 2], to: [f32; 2]) {
    harness.get_by_label("Box select").click();
    harness.step();
    let map = harness.state().map_rect().expect("the map is drawn");
    let at = |f: [f32; 2]| map.left_top() + egui::vec2(map.width() * f[0], map.height() * f[1]);
    harness.drag_at(at(from));
    harness.step();
    harness.hover_at(at([
        f32::midpoint(from[0], to[0]),
        f32::midpoint(from[1], to[1]),
    ]));
    harness.step();
    harness.hover_at(at(to));
    harness.step();
    harness.drop_at(at(to));
    harness.step();
    harness.step();
}

/// Clicks Compare A with B and waits for the comparison (`what` names it in a timeout).
fn compare_a_with_b(
    harness: &mut Harness<'_, WorkbenchApp>,
    what: &str,
) -> faceemo_shift::Comparison {
    harness.get_by_label("Compare A with B").click();
    wait_for(harness, what, |app| {
        app.core().shift().comparison.is_some() && !app.is_busy()
    });
    harness
        .state()
        .core()
        .shift()
        .comparison
        .clone()
        .expect("comparison")
}

fn toggle_lab(harness: &mut Harness<'_, WorkbenchApp>) {
    harness
        .get_by_label_contains("the Domain shift lab")
        .scroll_to_me();
    harness.run_steps(3);
    harness
        .get_by_label_contains("the Domain shift lab")
        .click();
    // Long enough for the window's open or close animation to end.
    harness.run_steps(30);
}

#[test]
fn the_domain_shift_lab_reads_test_splits_and_compares_two_selections() {
    let mut harness = demo_with_model();
    // A: the left half of the map, B: the right half.
    box_select(&mut harness, [0.02, 0.02], [0.5, 0.98]);
    let left = harness.state().selection().len();
    assert!(left > 10, "{left} selected");
    toggle_lab(&mut harness);
    harness.get_by_label("Compare two selections").click();
    harness.run_steps(3);
    harness.get_by_label("Set selection as A").click();
    harness.run_steps(2);
    harness.get_by_label(&format!("A: {left} selected points"));
    toggle_lab(&mut harness);
    box_select(&mut harness, [0.5, 0.02], [0.98, 0.98]);
    let right = harness.state().selection().len();
    assert!(right > 10, "{right} selected");
    toggle_lab(&mut harness);
    harness.get_by_label("Set selection as B").click();
    harness.run_steps(2);
    let comparison = compare_a_with_b(&mut harness, "the comparison");
    assert_eq!(comparison.a.rows as usize, left);
    assert_eq!(comparison.b.rows as usize, right);
    let auc = comparison.pair.domain_auc.expect("auc");
    assert!((0.0..=1.0).contains(&auc), "{auc}");
    harness.get_by_label("domain-classifier AUC");

    harness.get_by_label("Per dataset").click();
    harness.run_steps(3);
    // The split selector: the FER2013 test split's accuracy, not a pool of every split.
    harness
        .get_by_role_and_label(egui::accesskit::Role::ComboBox, "Rows")
        .click();
    harness.run_steps(3);
    harness.get_by_label("test_fer2013 (test)").click();
    harness.run_steps(3);
    let report = harness
        .state()
        .core()
        .shift_report()
        .expect("report")
        .clone();
    let test = &report.per_split["test_fer2013"]["FER2013"];
    let pooled = &report.per_dataset["FER2013"];
    assert_ne!(test.rows, pooled.rows);
    let shown = format!("{:.2} %", 100.0 * test.accuracy.expect("accuracy"));
    harness.get_by_label(&shown);

    // A dataset against the rest of the release.
    let affectnet = report.per_dataset["AffectNet"].rows as usize;
    let total = harness
        .state()
        .core()
        .release()
        .expect("release")
        .total_rows();
    let choose = |harness: &mut Harness<'_, WorkbenchApp>, group: &str| {
        harness
            .get_by_role_and_label(egui::accesskit::Role::ComboBox, "or a group")
            .click();
        harness.run_steps(3);
        harness.get_by_label(group).click();
        harness.run_steps(3);
    };
    choose(&mut harness, "dataset AffectNet");
    harness.get_by_label("as A").click();
    harness.run_steps(2);
    choose(&mut harness, "the rest");
    harness.get_by_label("as B").click();
    harness.run_steps(2);
    let comparison = compare_a_with_b(&mut harness, "dataset against the rest");
    assert_eq!(comparison.a.rows as usize, affectnet);
    assert_eq!(comparison.b.rows as usize, total - affectnet);
}

#[test]
fn the_shift_axes_map_puts_the_picked_datasets_centroids_at_zero_and_one() {
    let mut harness = demo_with_model();
    harness.get_by_label("Shift axes").click();
    harness.run_steps(3);
    // Defaults: the first two datasets across, the first two emotions up.
    harness.get_by_label("Draw").click();
    wait_for(&mut harness, "the shift axes", |app| {
        app.core().map().axes.is_some() && !app.is_busy()
    });
    let app = harness.state();
    assert_eq!(app.core().map().method, MapMethod::ShiftAxes);
    let axes = app.core().map().axes.as_ref().expect("map");
    let (layout, (x_label, y_label)) = (&axes.layout.positions, &axes.labels);
    assert_eq!(
        layout.len(),
        app.core().release().expect("release").total_rows()
    );
    let (from, to) = x_label
        .split_once(" -> ")
        .expect("an x label naming both ends");
    assert!(y_label.contains(" -> "), "{y_label}");
    // The rows of each end average to 0 and 1 across.
    let release = app.core().release().expect("release");
    let mean_across = |dataset: &str| {
        let xs: Vec<f64> = release
            .splits
            .iter()
            .flat_map(|s| s.samples.iter().flatten())
            .zip(layout)
            .filter(|(sample, _)| &*sample.dataset == dataset)
            .map(|(_, p)| f64::from(p[0]))
            .collect();
        xs.iter().sum::<f64>() / xs.len() as f64
    };
    assert!(
        mean_across(from).abs() < 1e-3,
        "{from}: {}",
        mean_across(from)
    );
    assert!(
        (mean_across(to) - 1.0).abs() < 1e-3,
        "{to}: {}",
        mean_across(to)
    );
}

#[test]
fn colouring_switches_and_legend_entries_hide_groups() {
    let mut harness = demo_with_model();
    harness
        .get_by_role_and_label(egui::accesskit::Role::ComboBox, "Colour by")
        .click();
    harness.run_steps(3);
    harness.get_by_label("Emotion").click();
    harness.run_steps(3);
    let happiness = harness.get_by_label_contains("happiness  (");
    happiness.click();
    harness.step();
    assert_eq!(
        harness.state().core().hidden_groups(),
        vec!["happiness".to_owned()]
    );
    harness.get_by_label_contains("happiness  (").click();
    harness.step();
    assert!(harness.state().core().hidden_groups().is_empty());
}

#[test]
fn a_box_drawn_on_the_map_selects_points_and_counts_them() {
    let mut harness = demo_with_model();
    harness.get_by_label("Box select").click();
    harness.step();
    let map = harness.state().map_rect().expect("the map is drawn");
    harness.drag_at(map.left_top() + egui::vec2(5.0, 5.0));
    harness.step();
    harness.hover_at(map.center());
    harness.step();
    harness.hover_at(map.right_bottom() - egui::vec2(5.0, 5.0));
    harness.step();
    harness.drop_at(map.right_bottom() - egui::vec2(5.0, 5.0));
    harness.step();
    harness.step();
    let selected = harness.state().selection().len();
    assert!(selected > 100, "{selected} selected");
    harness.get_by_label(&format!("Selected: {selected} points"));
    harness.get_by_label("dataset \\ emotion");
}

/// The fixture images extracted by the tiny model into a set of their own (so features
/// match the model's), opened with that model.
fn extracted_set_with_model(folder: &Path, model: &str) -> Harness<'static, WorkbenchApp> {
    let out = folder.join("mine.npz");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_faceemo"))
        .args(["extract", "--backend", "cpu", "--model", model])
        .arg(fixtures().join("images"))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("faceemo extract runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let mut harness = open(StartOptions {
        sources: vec![out, folder.join("mine_metadata.csv")],
        model: Some(model.to_owned()),
        ..StartOptions::default()
    });
    wait_for(&mut harness, "the extracted set and the model", |app| {
        app.core().projection().is_some() && app.core().model().is_some() && !app.is_busy()
    });
    harness
}

#[test]
fn a_dropped_face_is_predicted_placed_among_its_neighbours_and_reconstructed() {
    let folder = tempfile::tempdir().expect("tempdir");
    let mut harness = extracted_set_with_model(folder.path(), &tiny_model());

    drop_file(&mut harness, fixtures().join("images/colour.png"));
    wait_for(&mut harness, "the prediction and neighbours", |app| {
        app.core().dropped_image_label().is_some() && !app.is_busy()
    });
    harness.get_by_label_contains("Predicted:");
    harness.get_by_label("Nearest released samples (cosine, 768-d)");
    // The image itself is in the extracted set: its nearest sample, at cosine 1.
    harness.get_by_label("1.000");
    assert!(harness.state().core().dropped_image_position().is_some());

    // Clicking a neighbour selects it, and the selected sample's own neighbours are listed.
    harness
        .get_all_by_role(egui::accesskit::Role::Link)
        .next()
        .expect("a neighbour link")
        .click();
    wait_for(&mut harness, "the selected sample's neighbours", |app| {
        app.core().map().sample_neighbours.is_some() && !app.is_busy()
    });
    let (point, neighbours) = harness
        .state()
        .core()
        .map()
        .sample_neighbours
        .clone()
        .expect("neighbours");
    assert_eq!(harness.state().selection(), [point]);
    assert!(!neighbours.is_empty());
    assert!(
        neighbours.iter().all(|n| n.point != point),
        "the sample itself is left out"
    );
    let next = neighbours[0].point;
    harness.get_by_label_contains("nearest samples (cosine, 768-d)");
    harness
        .get_all_by_label(&neighbours[0].sample_id)
        .next()
        .expect("the neighbour's link")
        .click();
    harness.run_steps(2);
    assert_eq!(harness.state().selection(), [next]);

    harness.get_by_label("Reconstruct this face").click();
    wait_for(&mut harness, "the reconstruction", |app| {
        app.core().reconstruction().is_some()
    });
    let result = harness.state().core().reconstruction().expect("result");
    assert!(result.cosine > 0.95, "cosine {}", result.cosine);
    harness.get_by_label_contains("CLS MSE");
    harness.get_by_label_contains("against the original: PSNR");
    harness.get_by_label("reconstruction");
    harness.get_by_label("original");

    // Saved as PNG to the typed path.
    let png = folder.path().join("recon.png");
    retype(
        &mut harness,
        "reconstruction.png",
        &png.display().to_string(),
    );
    harness.run_steps(2);
    click_in_view(&mut harness, "Save reconstruction PNG");
    wait_for(&mut harness, "the PNG", |app| {
        app.messages()
            .iter()
            .any(|m| m.contains("saved the reconstruction"))
    });
    let saved = image::open(&png).expect("a PNG").to_rgb8();
    let shown = harness
        .state()
        .core()
        .reconstruction()
        .expect("result")
        .image
        .clone();
    assert_eq!(saved, shown);
}

#[test]
fn a_second_reconstruct_replaces_the_first_and_cancel_stops_one_from_a_sample() {
    let folder = tempfile::tempdir().expect("tempdir");
    // The 224-pixel tiny model: slow enough that a reconstruction is still running when
    // Cancel is clicked.
    let model = fixtures().join("models/tiny224").display().to_string();
    let mut harness = extracted_set_with_model(folder.path(), &model);
    drop_file(&mut harness, fixtures().join("images/colour.png"));
    wait_for(&mut harness, "the prediction", |app| {
        app.core().lab().placement.is_some() && !app.is_busy()
    });
    let first = click_reconstruct(&mut harness);
    let second = click_reconstruct(&mut harness);
    assert_ne!(first, second);
    wait_for(&mut harness, "the second reconstruction", |app| {
        app.core().reconstruction().is_some() && !app.is_busy()
    });
    let run = harness
        .state()
        .core()
        .lab()
        .inversion
        .as_ref()
        .expect("a run");
    assert_eq!(run.job, second);
    assert_eq!(run.curve.len(), run.steps, "only the second run's steps");
    assert!(run.curve.iter().enumerate().all(|(i, r)| r.step == i));

    // From a selected released sample, stopped from the status bar.
    harness
        .state_mut()
        .ask(faceemo_workbench::Intent::SetInversionSteps(1000));
    harness
        .get_all_by_role(egui::accesskit::Role::Link)
        .next()
        .expect("a neighbour link")
        .click();
    wait_for(&mut harness, "the selection", |app| {
        app.selection().len() == 1 && !app.is_busy()
    });
    harness.get_by_label("Reconstruct first selected").click();
    // The click is handled in the next frame: until then the finished second run is shown.
    wait_for(&mut harness, "a few steps of the third run", |app| {
        app.core()
            .lab()
            .inversion
            .as_ref()
            .is_some_and(|r| r.job != second && r.curve.len() >= 2)
    });
    harness.get_by_label("Cancel").click();
    wait_for(&mut harness, "the stop", |app| !app.is_busy());
    let messages = format!("{:?}", harness.state().core().messages());
    let run = harness
        .state()
        .core()
        .lab()
        .inversion
        .as_ref()
        .unwrap_or_else(|| panic!("the stopped run is kept; messages: {messages}"));
    let result = run.result.as_ref().expect("the best image so far");
    assert!(result.cancelled && result.steps_run < 1000);
    assert!(
        run.original.is_none(),
        "a released sample has no original image"
    );
    harness.get_by_label_contains("(stopped early)");
    assert!(
        harness.state().errors().is_empty(),
        "{:?}",
        harness.state().errors()
    );
}

#[test]
fn a_broken_file_dropped_shows_its_error_and_keeps_what_was_open() {
    let mut harness = demo_with_model();
    let rows = harness
        .state()
        .core()
        .release()
        .expect("release")
        .total_rows();
    let broken = fixtures().join("data/broken/truncated.npz");
    drop_file(&mut harness, broken);
    wait_for(&mut harness, "the error", |app| {
        !app.messages().is_empty() && !app.is_busy()
    });
    let messages = harness.state().messages().join("\n");
    assert!(messages.contains("truncated.npz"), "{messages}");
    assert_eq!(
        harness
            .state()
            .core()
            .release()
            .expect("still open")
            .total_rows(),
        rows
    );
    harness.get_by_label_contains("truncated.npz");
    // Dismissing the message (the newest is listed first) removes it.
    harness
        .get_all_by_label("x")
        .next()
        .expect("a dismiss button")
        .click();
    harness.step();
    assert!(
        !harness
            .state()
            .messages()
            .join("\n")
            .contains("truncated.npz")
    );
}

#[test]
fn an_unreadable_image_dropped_is_an_error_not_a_crash() {
    let mut harness = demo_with_model();
    drop_file(&mut harness, fixtures().join("images/not_an_image.png"));
    wait_for(&mut harness, "the error", |app| {
        !app.messages().is_empty() && !app.is_busy()
    });
    let messages = harness.state().messages().join("\n");
    assert!(messages.contains("not_an_image.png"), "{messages}");
    assert!(harness.state().core().dropped_image_label().is_none());
}

/// The demo set with maps cached in `folder`, once its PCA map is up.
fn demo_with_map_cache(folder: &Path) -> Harness<'static, WorkbenchApp> {
    let mut harness = open(StartOptions {
        demo: true,
        map_cache: Some(folder.to_owned()),
        ..StartOptions::default()
    });
    wait_for(&mut harness, "the demo map", |app| {
        app.core().projection().is_some() && !app.is_busy()
    });
    harness
}

/// Clicks the map bar's button of `embedding` and waits for its finished map.
fn show_embedding(harness: &mut Harness<'_, WorkbenchApp>, embedding: Embedding) {
    harness.get_by_label(embedding.name()).click();
    wait_for(harness, &format!("the {} map", embedding.name()), |app| {
        app.core().map().embedding(embedding).map.is_some() && !app.is_busy()
    });
    assert_eq!(harness.state().core().map().method, embedding.method());
}

/// How many map files `folder` holds.
fn cached_maps(folder: &Path) -> usize {
    std::fs::read_dir(folder).expect("the cache folder").count()
}

#[test]
fn the_t_sne_map_animates_to_a_finished_layout_and_is_cached() {
    let cache = tempfile::tempdir().expect("tempdir");
    let mut harness = demo_with_map_cache(cache.path());
    show_embedding(&mut harness, Embedding::Tsne);
    harness.get_by_label_contains("t-SNE of every point");
    assert_eq!(cached_maps(cache.path()), 1, "one map file");
    harness.get_by_label("PCA").click();
    harness.step();
    assert_eq!(harness.state().core().map().method, MapMethod::Pca);

    // Opened again: the map comes from the cache, without iterations.
    let mut again = demo_with_map_cache(cache.path());
    show_embedding(&mut again, Embedding::Tsne);
    assert_eq!(
        again.state().core().map().tsne.iteration,
        0,
        "no iterations were run"
    );
}

#[test]
fn the_umap_map_is_a_third_method_of_the_map_bar_and_is_cached() {
    let cache = tempfile::tempdir().expect("tempdir");
    let mut harness = demo_with_map_cache(cache.path());
    show_embedding(&mut harness, Embedding::Umap);
    harness.get_by_label_contains("UMAP of every point");
    assert_eq!(cached_maps(cache.path()), 1, "one map file");
    let mut again = demo_with_map_cache(cache.path());
    show_embedding(&mut again, Embedding::Umap);
    again.get_by_label_contains("from the map cache");
}

/// The text field that holds `value` now.
fn text_field<'h>(
    harness: &'h Harness<'_, WorkbenchApp>,
    value: &'h str,
) -> egui_kittest::Node<'h> {
    harness
        .get_all_by_value(value)
        .find(|node| node.accesskit_node().role() == egui::accesskit::Role::TextInput)
        .expect("a text field with that value")
}

/// Clicks "Reconstruct this face"; returns the job of the run it started.
fn click_reconstruct(harness: &mut Harness<'_, WorkbenchApp>) -> u64 {
    harness.get_by_label("Reconstruct this face").click();
    harness.step();
    harness
        .state()
        .core()
        .lab()
        .inversion
        .as_ref()
        .expect("a run")
        .job
}

/// Types `text` into the field that holds `value` now, replacing it, as a user does: click
/// into it, select everything, type.
fn retype(harness: &mut Harness<'_, WorkbenchApp>, value: &str, text: &str) {
    text_field(harness, value).scroll_to_me();
    harness.run_steps(3);
    text_field(harness, value).click();
    harness.run_steps(2);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness.event(egui::Event::Text(text.to_owned()));
    harness.run_steps(2);
    assert!(
        harness.query_all_by_value(text).next().is_some(),
        "the field now reads {text}"
    );
}

/// Scrolls the button labelled `label` into view and clicks it.
fn click_in_view(harness: &mut Harness<'_, WorkbenchApp>, label: &str) {
    harness.get_by_label(label).scroll_to_me();
    harness.run_steps(3);
    harness.get_by_label(label).click();
}

/// The screen position of map point `point` in the last frame.
fn on_screen(app: &WorkbenchApp, point: usize) -> egui::Pos2 {
    let rect = app.map_rect().expect("the map is drawn");
    let (min, max) = app.map_view().expect("the map's view");
    let (layout, _, _) = app.core().map().shown().expect("a map");
    let [x, y] = layout.positions[point];
    egui::pos2(
        rect.left() + ((f64::from(x) - min[0]) / (max[0] - min[0])) as f32 * rect.width(),
        rect.bottom() - ((f64::from(y) - min[1]) / (max[1] - min[1])) as f32 * rect.height(),
    )
}

/// The point farthest (on screen) from every other point, and that distance.
fn most_isolated_point(app: &WorkbenchApp) -> (usize, f32) {
    let rect = app.map_rect().expect("the map is drawn");
    let count = app.core().projection().expect("map").points.len();
    let screen: Vec<egui::Pos2> = (0..count).map(|p| on_screen(app, p)).collect();
    (0..count)
        .filter(|&p| rect.shrink(20.0).contains(screen[p]))
        .map(|p| {
            let nearest = (0..count)
                .filter(|&q| q != p)
                .map(|q| screen[p].distance(screen[q]))
                .fold(f32::INFINITY, f32::min);
            (p, nearest)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("a point inside the map")
}

#[test]
fn hovering_a_point_describes_it_and_clicking_selects_it_alone() {
    let mut harness = demo_with_model();
    let (point, clearance) = most_isolated_point(harness.state());
    assert!(clearance > 6.0, "no point stands alone ({clearance} px)");
    let at = on_screen(harness.state(), point);
    harness.hover_at(at);
    harness.run_steps(3);
    let text = harness
        .state()
        .core()
        .describe_point(point)
        .expect("a description");
    assert!(
        text.contains("dataset: ") && text.contains("predicted: "),
        "{text}"
    );
    harness.get_by_label(&text);
    harness.drag_at(at);
    harness.step();
    harness.drop_at(at);
    harness.run_steps(2);
    assert_eq!(harness.state().selection(), [point]);
    harness.get_by_label("Selected: 1 points");
    // A click on empty space clears it.
    let empty = harness.state().map_rect().expect("map").left_top() + egui::vec2(3.0, 3.0);
    harness.drag_at(empty);
    harness.step();
    harness.drop_at(empty);
    harness.run_steps(2);
    assert!(harness.state().selection().is_empty());
}

#[test]
fn a_lasso_selects_the_points_inside_the_shape_drawn() {
    let mut harness = demo_with_model();
    harness.get_by_label("Lasso select").click();
    harness.step();
    let rect = harness.state().map_rect().expect("the map is drawn");
    let at = |f: [f32; 2]| rect.left_top() + egui::vec2(rect.width() * f[0], rect.height() * f[1]);
    // A triangle over the left of the map.
    let corners = [[0.05, 0.05], [0.6, 0.5], [0.05, 0.95]];
    harness.drag_at(at(corners[0]));
    harness.step();
    for pair in [[0, 1], [1, 2]] {
        let (a, b) = (corners[pair[0]], corners[pair[1]]);
        for t in [0.25f32, 0.5, 0.75, 1.0] {
            harness.hover_at(at([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]));
            harness.step();
        }
    }
    harness.drop_at(at(corners[2]));
    harness.run_steps(2);
    let app = harness.state();
    let selected = app.selection();
    let total = app.core().projection().expect("map").points.len();
    assert!(
        !selected.is_empty() && selected.len() < total,
        "{} of {total}",
        selected.len()
    );
    // Every point well inside the triangle is selected, and none well outside.
    let inside = |p: egui::Pos2, margin: f32| {
        let f = [
            (p.x - rect.left()) / rect.width(),
            (p.y - rect.top()) / rect.height(),
        ];
        let edge = |a: [f32; 2], b: [f32; 2]| {
            ((b[0] - a[0]) * (f[1] - a[1]) - (b[1] - a[1]) * (f[0] - a[0]))
                / ((b[0] - a[0]).hypot(b[1] - a[1]))
        };
        let d = [
            edge(corners[0], corners[1]),
            edge(corners[1], corners[2]),
            edge(corners[2], corners[0]),
        ];
        d.iter().all(|&v| v > margin / rect.width())
            || d.iter().all(|&v| v < -margin / rect.width())
    };
    for point in 0..total {
        let screen = on_screen(app, point);
        let chosen = selected.binary_search(&point).is_ok();
        if inside(screen, 2.0) {
            assert!(chosen, "point {point} inside the lasso is not selected");
        }
        let outside = !inside(screen, -2.0);
        if outside {
            assert!(!chosen, "point {point} outside the lasso is selected");
        }
    }
}

#[test]
fn the_selection_exports_as_csv_to_the_typed_path() {
    let mut harness = demo_with_model();
    box_select(&mut harness, [0.02, 0.02], [0.98, 0.98]);
    let selected = harness.state().selection().len();
    assert!(selected > 100, "{selected}");
    let folder = tempfile::tempdir().expect("tempdir");
    let path = folder.path().join("picked.csv");
    retype(&mut harness, "selection.csv", &path.display().to_string());
    harness.run_steps(2);
    click_in_view(&mut harness, "Export CSV");
    wait_for(&mut harness, "the CSV", |app| {
        app.messages()
            .iter()
            .any(|m| m.contains("selected samples to"))
    });
    let written = std::fs::read_to_string(&path).expect("the CSV is written");
    assert_eq!(written.lines().count(), selected + 1);
    let first = written.lines().nth(1).expect("a row");
    assert_eq!(first.split(',').count(), 5, "{first}");
    let messages = harness.state().messages().join("\n");
    assert!(
        messages.contains(&format!("wrote {selected} selected samples")),
        "{messages}"
    );
}

#[test]
fn dragging_pans_zooming_zooms_and_reset_brings_the_whole_map_back() {
    let mut harness = demo_with_model();
    harness.run_steps(2);
    let fitted = harness.state().map_view().expect("a view");
    let rect = harness.state().map_rect().expect("map");
    harness.drag_at(rect.center());
    harness.step();
    harness.hover_at(rect.center() + egui::vec2(120.0, 0.0));
    harness.step();
    harness.drop_at(rect.center() + egui::vec2(120.0, 0.0));
    harness.run_steps(2);
    let panned = harness.state().map_view().expect("a view");
    assert!(
        panned.0[0] < fitted.0[0],
        "dragging right shows what is left: {panned:?}"
    );
    let width = |b: ([f64; 2], [f64; 2])| b.1[0] - b.0[0];
    assert!((width(panned) - width(fitted)).abs() < 1e-6 * width(fitted));
    harness.hover_at(rect.center());
    harness.event(egui::Event::Zoom(2.0));
    harness.run_steps(2);
    let zoomed = harness.state().map_view().expect("a view");
    assert!(width(zoomed) < 0.75 * width(fitted), "{zoomed:?}");
    harness.get_by_label("View").click();
    harness.run_steps(2);
    harness.get_by_label("Reset the view").click();
    harness.run_steps(3);
    let reset = harness.state().map_view().expect("a view");
    for d in 0..2 {
        assert!(
            (reset.0[d] - fitted.0[d]).abs() < 1e-6 * width(fitted),
            "{reset:?}"
        );
        assert!(
            (reset.1[d] - fitted.1[d]).abs() < 1e-6 * width(fitted),
            "{reset:?}"
        );
    }
}

#[test]
fn the_point_size_slider_sets_the_radius_that_is_remembered() {
    let mut harness = demo_with_model();
    harness.get_by_label("View").click();
    harness.run_steps(2);
    // The first slider of the View menu is the point size.
    harness
        .get_all_by_role(egui::accesskit::Role::Slider)
        .next()
        .expect("the point size slider")
        .set_value_accesskit(4.0);
    harness.run_steps(2);
    assert_eq!(harness.state().core().settings().point_radius, 4);
}

#[test]
fn cancel_in_the_status_bar_stops_a_running_t_sne_and_the_pca_map_stays() {
    let mut harness = demo_with_model();
    harness.get_by_label("t-SNE").click();
    wait_for(&mut harness, "t-SNE under way", |app| {
        app.core()
            .jobs()
            .iter()
            .any(|j| j.slot == Slot::Tsne && j.progress.is_some())
    });
    harness.get_by_label("Cancel").click();
    wait_for(&mut harness, "t-SNE to stop", |app| !app.is_busy());
    let app = harness.state();
    assert_eq!(app.core().map().method, MapMethod::Pca);
    assert!(app.core().projection().is_some());
    assert!(app.errors().is_empty(), "{:?}", app.errors());
    harness.get_by_label_contains("t-SNE of every point: cancelled");
    assert!(harness.query_by_label("Cancel").is_none(), "no job is left");
}

#[test]
fn a_panicking_job_fails_alone_and_the_window_goes_on() {
    let mut harness = demo_with_model();
    harness
        .state_mut()
        .ask(faceemo_workbench::Intent::InjectPanic {
            in_model_worker: false,
        });
    harness
        .state_mut()
        .ask(faceemo_workbench::Intent::InjectPanic {
            in_model_worker: true,
        });
    wait_for(&mut harness, "the panics", |app| !app.is_busy());
    let errors = harness.state().errors();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors.iter().all(|e| e.contains("it panicked")),
        "{errors:?}"
    );
    assert_eq!(harness.get_all_by_label_contains("it panicked").count(), 2);
    // The window and the model worker still work.
    drop_file(&mut harness, fixtures().join("images/colour.png"));
    wait_for(&mut harness, "a prediction", |app| {
        app.core().dropped_image_label().is_some() && !app.is_busy()
    });
    box_select(&mut harness, [0.02, 0.02], [0.5, 0.98]);
    assert!(!harness.state().selection().is_empty());
}

#[test]
fn a_recent_source_reopens_from_the_file_menu() {
    let mut harness = open(StartOptions {
        sources: vec![fixtures().join("data/release")],
        ..StartOptions::default()
    });
    wait_for(&mut harness, "the fixture release", |app| {
        app.core().projection().is_some() && !app.is_busy()
    });
    let rows = harness
        .state()
        .core()
        .release()
        .expect("release")
        .total_rows();
    harness.get_by_label("File").click();
    harness.run_steps(2);
    harness.get_by_label("Open the synthetic demo set").click();
    wait_for(&mut harness, "the demo set", |app| {
        app.core().release().is_some_and(|r| r.is_synthetic()) && !app.is_busy()
    });
    harness.get_by_label("File").click();
    harness.run_steps(2);
    harness
        .get_by_label(&fixtures().join("data/release").display().to_string())
        .click();
    wait_for(&mut harness, "the recent release", |app| {
        app.core().release().is_some_and(|r| !r.is_synthetic())
            && app.core().projection().is_some()
            && !app.is_busy()
    });
    assert_eq!(
        harness
            .state()
            .core()
            .release()
            .expect("release")
            .total_rows(),
        rows
    );
}

#[test]
fn the_stop_at_cosine_box_sets_where_reconstructions_stop() {
    let mut harness = demo_with_model();
    harness.get_by_label("View").click();
    harness.run_steps(2);
    harness.get_by_label("Stop at cosine").click();
    harness.run_steps(2);
    assert_eq!(harness.state().core().settings().until_cosine, Some(0.999));
    if harness.query_by_label("Stop at cosine").is_none() {
        // The menu closed with the click: open it again.
        harness.get_by_label("View").click();
        harness.run_steps(2);
    }
    harness.get_by_label("Stop at cosine").click();
    harness.run_steps(2);
    assert_eq!(harness.state().core().settings().until_cosine, None);
}

#[test]
fn each_hostile_file_gets_one_message_in_the_window_with_the_clis_text() {
    let mut harness = demo_with_model();
    let rows = harness
        .state()
        .core()
        .release()
        .expect("release")
        .total_rows();
    let cache = tempfile::tempdir().expect("tempdir");
    for name in [
        "object_dtype.npz",
        "duplicate_members.npz",
        "encrypted.npz",
        "wrong_length_ids.npz",
    ] {
        let path = fixtures().join("data/broken").join(name);
        let output = common::run(common::faceemo(cache.path()).arg("info").arg(&path));
        assert!(!output.status.success(), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: one line on stderr: {stderr}");
        let cli_text = lines[0].trim_start_matches("error: ");
        assert!(cli_text.contains(name), "{cli_text}");

        let before = harness.state().messages().len();
        drop_file(&mut harness, path);
        wait_for(&mut harness, name, |app| {
            app.messages().len() > before && !app.is_busy()
        });
        let messages = harness.state().messages().join("\n");
        assert!(
            messages.contains(cli_text),
            "{name}: the window says\n{messages}\nthe CLI says\n{cli_text}"
        );
        assert_eq!(
            harness
                .state()
                .core()
                .release()
                .expect("still open")
                .total_rows(),
            rows,
            "{name}: the open release is kept"
        );
    }
}

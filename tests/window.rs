//! The workbench window driven as a user drives it, through `egui_kittest`: open the demo
//! set, colour and hide groups, select points, drop a face, reconstruct it, and drop a
//! broken file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use faceemo::{StartOptions, WorkbenchApp};

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

/// Steps the UI until `done` holds (workers run on their own threads meanwhile).
fn wait_for(
    harness: &mut Harness<'_, WorkbenchApp>,
    what: &str,
    done: impl Fn(&WorkbenchApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_mins(3);
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
        app.projection().is_some() && app.model_backend().is_some() && !app.is_busy()
    });
    harness
}

#[test]
fn the_demo_set_opens_labelled_synthetic_with_every_point_on_the_map() {
    let harness = demo_with_model();
    let app = harness.state();
    let rows = app.release().expect("release").total_rows();
    assert_eq!(app.projection().expect("map").points.len(), rows);
    assert!(
        !harness
            .get_all_by_label_contains("SYNTHETIC DEMO SET")
            .collect::<Vec<_>>()
            .is_empty()
    );
    harness.get_by_label_contains(&format!("PCA of {rows} points"));
    // The status bar names the backend the model runs on, whatever the machine has.
    let backend = app.model_backend().expect("backend").to_owned();
    harness.get_by_label_contains(&backend);
    // The legend lists every source dataset with its count.
    harness.get_by_label_contains("AffectNet  (");
    // The domain-shift report was measured in the background on opening.
    let report = app.shift_report().expect("the domain-shift report");
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

fn toggle_lab(harness: &mut Harness<'_, WorkbenchApp>) {
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
    harness.get_by_label("Compare A with B").click();
    wait_for(&mut harness, "the comparison", |app| {
        app.shift_comparison().is_some() && !app.is_busy()
    });
    let comparison = harness.state().shift_comparison().expect("comparison");
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
    let report = harness.state().shift_report().expect("report").clone();
    let test = &report.per_split["test_fer2013"]["FER2013"];
    let pooled = &report.per_dataset["FER2013"];
    assert_ne!(test.rows, pooled.rows);
    let shown = format!("{:.2} %", 100.0 * test.accuracy.expect("accuracy"));
    harness.get_by_label(&shown);

    // A dataset against the rest of the release.
    let affectnet = report.per_dataset["AffectNet"].rows as usize;
    let total = harness.state().release().expect("release").total_rows();
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
    harness.get_by_label("Compare A with B").click();
    wait_for(&mut harness, "dataset against the rest", |app| {
        app.shift_comparison().is_some() && !app.is_busy()
    });
    let comparison = harness.state().shift_comparison().expect("comparison");
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
        app.shift_axes_map().is_some() && !app.is_busy()
    });
    let app = harness.state();
    assert_eq!(app.map_method(), faceemo::app::MapMethod::ShiftAxes);
    let (layout, x_label, y_label) = app.shift_axes_map().expect("map");
    assert_eq!(layout.len(), app.release().expect("release").total_rows());
    let (from, to) = x_label
        .split_once(" -> ")
        .expect("an x label naming both ends");
    assert!(y_label.contains(" -> "), "{y_label}");
    // The rows of each end average to 0 and 1 across.
    let release = app.release().expect("release");
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
        harness.state().hidden_groups(),
        vec!["happiness".to_owned()]
    );
    harness.get_by_label_contains("happiness  (").click();
    harness.step();
    assert!(harness.state().hidden_groups().is_empty());
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

#[test]
fn a_dropped_face_is_predicted_placed_among_its_neighbours_and_reconstructed() {
    // A release made from the fixture images by the same tiny model, so features match.
    let folder = tempfile::tempdir().expect("tempdir");
    let out = folder.path().join("mine.npz");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_faceemo"))
        .args(["extract", "--backend", "cpu", "--model", &tiny_model()])
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
        sources: vec![out.clone(), folder.path().join("mine_metadata.csv")],
        model: Some(tiny_model()),
        ..StartOptions::default()
    });
    wait_for(&mut harness, "the extracted set and the model", |app| {
        app.projection().is_some() && app.model_backend().is_some() && !app.is_busy()
    });

    drop_file(&mut harness, fixtures().join("images/colour.png"));
    wait_for(&mut harness, "the prediction and neighbours", |app| {
        app.dropped_image_label().is_some() && !app.is_busy()
    });
    harness.get_by_label_contains("Predicted:");
    harness.get_by_label("Nearest released samples (cosine, 768-d)");
    // The image itself is in the extracted set: its nearest sample, at cosine 1.
    harness.get_by_label("1.000");
    assert!(harness.state().dropped_image_position().is_some());

    // Clicking a neighbour selects it, and the selected sample's own neighbours are listed.
    harness
        .get_all_by_role(egui::accesskit::Role::Link)
        .next()
        .expect("a neighbour link")
        .click();
    wait_for(&mut harness, "the selected sample's neighbours", |app| {
        app.sample_neighbours().is_some() && !app.is_busy()
    });
    let (point, neighbours) = harness.state().sample_neighbours().expect("neighbours");
    let neighbours = neighbours.to_vec();
    assert_eq!(harness.state().selection(), &[point]);
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
    assert_eq!(harness.state().selection(), &[next]);

    harness.get_by_label("Reconstruct this face").click();
    wait_for(&mut harness, "the reconstruction", |app| {
        app.reconstruction().is_some()
    });
    let result = harness.state().reconstruction().expect("result");
    assert!(result.cosine > 0.95, "cosine {}", result.cosine);
    harness.get_by_label_contains("CLS MSE");
    harness.get_by_label_contains("against the original: PSNR");
    harness.get_by_label("reconstruction");
    harness.get_by_label("original");
}

#[test]
fn a_broken_file_dropped_shows_its_error_and_keeps_what_was_open() {
    let mut harness = demo_with_model();
    let rows = harness.state().release().expect("release").total_rows();
    let broken = fixtures().join("data/broken/truncated.npz");
    drop_file(&mut harness, broken);
    wait_for(&mut harness, "the error", |app| {
        !app.messages().is_empty() && !app.is_busy()
    });
    let messages = harness.state().messages().join("\n");
    assert!(messages.contains("truncated.npz"), "{messages}");
    assert_eq!(
        harness.state().release().expect("still open").total_rows(),
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
    assert!(harness.state().dropped_image_label().is_none());
}

/// The demo set with maps cached in `folder`, once its PCA map is up.
fn demo_with_map_cache(folder: &Path) -> Harness<'static, WorkbenchApp> {
    let mut harness = open(StartOptions {
        demo: true,
        map_cache: Some(folder.to_owned()),
        ..StartOptions::default()
    });
    wait_for(&mut harness, "the demo map", |app| {
        app.projection().is_some() && !app.is_busy()
    });
    harness
}

#[test]
fn the_t_sne_map_animates_to_a_finished_layout_and_is_cached() {
    let cache = tempfile::tempdir().expect("tempdir");
    let mut harness = demo_with_map_cache(cache.path());
    harness.get_by_label("t-SNE").click();
    wait_for(&mut harness, "the t-SNE map", |app| {
        app.tsne_progress().1 && !app.is_busy()
    });
    assert_eq!(harness.state().map_method(), faceemo::app::MapMethod::Tsne);
    harness.get_by_label_contains("t-SNE of every point");
    let stored: Vec<_> = std::fs::read_dir(cache.path())
        .expect("the cache folder")
        .collect();
    assert_eq!(stored.len(), 1, "one map file");
    harness.get_by_label("PCA").click();
    harness.step();
    assert_eq!(harness.state().map_method(), faceemo::app::MapMethod::Pca);

    // Opened again: the map comes from the cache, without iterations.
    let mut again = demo_with_map_cache(cache.path());
    again.get_by_label("t-SNE").click();
    wait_for(&mut again, "the cached t-SNE map", |app| {
        app.tsne_progress().1 && !app.is_busy()
    });
    assert_eq!(again.state().tsne_progress().0, 0, "no iterations were run");
}

//! `faceemo predict` and `faceemo extract` with the tiny fixture model, as a user runs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use faceemo_testhub::{Faults, LocalHub, RepoKindPath, ServedRepo};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn faceemo(cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_faceemo"));
    command
        .env_remove("HF_HOME")
        .env("HF_HUB_CACHE", cache)
        .env("HF_ENDPOINT", "http://127.0.0.1:1");
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("faceemo runs")
}

fn assert_succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn model_args() -> Vec<String> {
    vec![
        "--model".to_owned(),
        fixtures().join("models/tiny32").display().to_string(),
        "--backend".to_owned(),
        "cpu".to_owned(),
    ]
}

#[test]
fn predict_json_gives_label_probabilities_logits_and_features() {
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(faceemo(cache.path())
        .arg("predict")
        .args(model_args())
        .arg(fixtures().join("images/colour.png"))
        .arg(fixtures().join("images/photo.jpg"))
        .args(["--json", "--with-features"]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("backend: CPU"));
    let reports: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let reports = reports.as_array().expect("array");
    assert_eq!(reports.len(), 2);
    for report in reports {
        let probs = report["probs"].as_object().expect("probs");
        assert_eq!(probs.len(), 7);
        let total: f64 = probs.values().filter_map(Value::as_f64).sum();
        assert!((total - 1.0).abs() < 1e-4);
        assert!(probs.contains_key(report["label"].as_str().expect("label")));
        assert_eq!(report["logits"].as_array().expect("logits").len(), 7);
        assert_eq!(report["features"].as_array().expect("features").len(), 32);
    }
}

#[test]
fn predict_reports_an_unreadable_image_and_goes_on() {
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(faceemo(cache.path())
        .arg("predict")
        .args(model_args())
        .arg(fixtures().join("images/not_an_image.png"))
        .arg(fixtures().join("images/gray.png")));
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("gray.png: "), "{stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("not_an_image.png"));
}

#[test]
fn extract_writes_a_set_that_opens_beside_the_release() {
    let cache = tempfile::tempdir().expect("tempdir");
    let images = tempfile::tempdir().expect("tempdir");
    let folder = images.path().join("my_faces");
    for (emotion, file) in [
        ("happy", "colour.png"),
        ("happy", "wide.png"),
        ("sad", "gray.png"),
    ] {
        std::fs::create_dir_all(folder.join(emotion)).expect("mkdir");
        std::fs::copy(
            fixtures().join("images").join(file),
            folder.join(emotion).join(file),
        )
        .expect("copy");
    }
    std::fs::copy(
        fixtures().join("images/alpha.png"),
        folder.join("loose.png"),
    )
    .expect("copy");
    std::fs::copy(
        fixtures().join("images/not_an_image.png"),
        folder.join("sad/broken.png"),
    )
    .expect("copy");
    let out = images.path().join("mine.npz");
    let output = run(faceemo(cache.path())
        .arg("extract")
        .args(model_args())
        .arg(&folder)
        .arg("-o")
        .arg(&out));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("wrote 4 rows"), "{stdout}");
    assert!(stdout.contains("broken.png"), "{stdout}");

    let metadata = std::fs::read_to_string(images.path().join("mine_metadata.csv")).expect("csv");
    assert!(metadata.starts_with("sample_id,Dataset,Emotion,Split,valid_image"));
    assert!(
        metadata.contains("happy/colour.png,my_faces,happiness,mine,True"),
        "{metadata}"
    );
    assert!(
        metadata.contains("sad/broken.png,my_faces,sadness,mine,False"),
        "{metadata}"
    );
    assert!(
        metadata.contains("loose.png,my_faces,unknown,mine,True"),
        "{metadata}"
    );

    // The set opens with the data layer, metadata joined.
    let report = run(faceemo(cache.path())
        .arg("info")
        .arg(&out)
        .arg(images.path().join("mine_metadata.csv"))
        .arg("--json"));
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let report: Value = serde_json::from_slice(&report.stdout).expect("JSON");
    assert_eq!(report["splits"][0]["name"], "mine");
    assert_eq!(report["splits"][0]["rows"], 4);
    assert_eq!(report["splits"][0]["feature_dim"], 32);
    assert_eq!(report["splits"][0]["metadata_joined"], true);
    assert_eq!(report["counts"]["my_faces"]["happiness"], 2);
}

#[test]
fn a_missing_model_is_a_clear_error() {
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(faceemo(cache.path())
        .env("HF_HUB_OFFLINE", "1")
        .args(["predict", "--model", "nobody/no-such-model"])
        .arg(fixtures().join("images/colour.png")));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nobody/no-such-model"), "{stderr}");
    assert!(stderr.contains("HF_HUB_OFFLINE"), "{stderr}");
}

const PREDICT_WITH_HUB_MODEL: [&str; 6] = [
    "predict",
    "--model",
    "someone/tiny-emotions",
    "--backend",
    "cpu",
    "--json",
];

#[test]
fn a_hub_model_is_downloaded_once_then_used_from_the_cache() {
    let folder = fixtures().join("models/tiny32");
    let files = [
        "config.json",
        "preprocessor_config.json",
        "model.safetensors",
    ]
    .iter()
    .map(|name| {
        (
            (*name).to_owned(),
            std::fs::read(folder.join(name)).expect("read"),
        )
    })
    .chain(std::iter::once((
        "pytorch_model.bin".to_owned(),
        std::fs::read(fixtures().join("models/tiny32_bin/pytorch_model.bin")).expect("read"),
    )))
    .collect();
    let hub = LocalHub::start(
        ServedRepo {
            kind: RepoKindPath::Models,
            id: "someone/tiny-emotions".to_owned(),
            commit: "abcdefabcdefabcdefabcdefabcdefabcdefabcd".to_owned(),
            files,
        },
        Faults::default(),
    )
    .expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let image = fixtures().join("images/colour.png");
    let first = run(faceemo(cache.path())
        .env("HF_ENDPOINT", hub.endpoint())
        .args(PREDICT_WITH_HUB_MODEL)
        .arg(&image));
    assert_succeeded(&first);
    let fetched: Vec<String> = hub
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/resolve/") && r.range.as_deref() != Some("bytes=0-0"))
        .map(|r| r.path)
        .collect();
    assert!(
        fetched.iter().any(|p| p.ends_with("model.safetensors")),
        "{fetched:?}"
    );
    assert!(
        !fetched.iter().any(|p| p.ends_with("pytorch_model.bin")),
        "the pickle is not fetched when safetensors exist: {fetched:?}"
    );

    // Offline, from the cache, same answer.
    let second = run(faceemo(cache.path())
        .env("HF_HUB_OFFLINE", "1")
        .args(PREDICT_WITH_HUB_MODEL)
        .arg(&image));
    assert_succeeded(&second);
    let label = |output: &Output| -> Value {
        serde_json::from_slice::<Value>(&output.stdout).expect("JSON")[0]["label"].clone()
    };
    assert_eq!(label(&first), label(&second));
}

#[test]
fn predict_json_keeps_the_order_of_the_images_given() {
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(faceemo(cache.path())
        .arg("predict")
        .args(model_args())
        .arg(fixtures().join("images/gray.png"))
        .arg(fixtures().join("images/not_an_image.png"))
        .arg(fixtures().join("images/wide.png"))
        .arg("--json"));
    assert!(!output.status.success());
    let reports: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let paths: Vec<&str> = reports
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["path"].as_str().expect("path"))
        .collect();
    assert!(
        paths[0].ends_with("gray.png") && paths[2].ends_with("wide.png"),
        "{paths:?}"
    );
    assert!(
        reports[1]["error"]
            .as_str()
            .expect("error")
            .contains("not_an_image.png")
    );
    assert!(reports[1].get("label").is_none());
}

/// `faceemo invert` of the colour fixture into `recon` with its curve in `curve`, and
/// `extra` arguments; it must succeed.
fn invert_colour(cache: &Path, recon: &Path, curve: &Path, extra: &[&str]) -> Output {
    let output = run(faceemo(cache)
        .arg("invert")
        .args(model_args())
        .arg("--image")
        .arg(fixtures().join("images/colour.png"))
        .arg("-o")
        .arg(recon)
        .arg("--curve")
        .arg(curve)
        .args(extra));
    assert_succeeded(&output);
    output
}

#[test]
fn invert_an_image_writes_the_png_the_curve_and_the_json_contract() {
    let cache = tempfile::tempdir().expect("tempdir");
    let (recon, curve) = (
        cache.path().join("recon.png"),
        cache.path().join("curve.csv"),
    );
    let output = invert_colour(cache.path(), &recon, &curve, &["--steps", "60", "--json"]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    for key in [
        "cosine",
        "cls_mse",
        "target_label",
        "target_prob",
        "recon_label",
        "recon_prob",
        "steps",
        "seconds",
        "steps_to_target",
        "seconds_to_target",
        "psnr",
        "ssim",
    ] {
        assert!(report.get(key).is_some(), "{key} missing from {report}");
    }
    assert_eq!(report["steps"], 60);
    // The first crossing of 0.95 (no --until-cosine) happened within the run.
    let reached = report["steps_to_target"].as_u64().expect("reached 0.95");
    assert!(reached < 60, "{report}");
    assert!(
        report["seconds_to_target"].as_f64().expect("seconds")
            <= report["seconds"].as_f64().expect("seconds")
    );
    assert!(report["cosine"].as_f64().expect("cosine") > 0.9, "{report}");
    let image = image::open(&recon).expect("a PNG");
    assert_eq!((image.width(), image.height()), (32, 32));
    let lines = std::fs::read_to_string(&curve).expect("curve");
    assert!(lines.starts_with("step,loss,feature_mse,one_minus_cosine"));
    assert_eq!(lines.lines().count(), 61);
}

#[test]
fn invert_until_cosine_stops_at_the_first_step_that_reaches_it() {
    let cache = tempfile::tempdir().expect("tempdir");
    let (recon, curve) = (
        cache.path().join("recon.png"),
        cache.path().join("curve.csv"),
    );
    let output = invert_colour(
        cache.path(),
        &recon,
        &curve,
        &["--steps", "500", "--until-cosine", "0.97", "--json"],
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let steps = report["steps"].as_u64().expect("steps");
    let reached = report["steps_to_target"].as_u64().expect("reached 0.97");
    assert!(steps < 500, "stopped early: {report}");
    assert_eq!(
        steps,
        reached + 1,
        "the run stops at the step that reached it: {report}"
    );
    // Every step before the last stayed below the cosine asked for, the last reached it.
    let rows: Vec<f64> = std::fs::read_to_string(&curve)
        .expect("curve")
        .lines()
        .skip(1)
        .map(|line| {
            1.0 - line
                .split(',')
                .nth(3)
                .expect("column")
                .parse::<f64>()
                .expect("number")
        })
        .collect();
    assert_eq!(rows.len() as u64, steps);
    assert!(rows[..rows.len() - 1].iter().all(|&c| c < 0.97), "{rows:?}");
    assert!(*rows.last().expect("a step") >= 0.97);
    let bad = run(faceemo(cache.path())
        .arg("invert")
        .args(model_args())
        .arg("--image")
        .arg(fixtures().join("images/colour.png"))
        .arg("-o")
        .arg(&recon)
        .args(["--until-cosine", "2"]));
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cosine to stop at"));
}

#[test]
fn invert_a_released_row_has_no_pixel_scores_and_bad_rows_are_named() {
    let cache = tempfile::tempdir().expect("tempdir");
    let set = cache.path().join("mine.npz");
    assert_succeeded(&run(faceemo(cache.path())
        .arg("extract")
        .args(model_args())
        .arg(fixtures().join("images"))
        .arg("-o")
        .arg(&set)));
    let recon = cache.path().join("recon.png");
    let invert = |index: &str| {
        run(faceemo(cache.path())
            .arg("invert")
            .args(model_args())
            .arg("--npz")
            .arg(&set)
            .args(["--index", index, "--steps", "20", "--json", "-o"])
            .arg(&recon))
    };
    let output = invert("1");
    assert_succeeded(&output);
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(
        report.get("psnr").is_none() && report.get("ssim").is_none(),
        "{report}"
    );
    let output = invert("99");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("row 99 is out of range") && stderr.contains("mine.npz"),
        "{stderr}"
    );
}

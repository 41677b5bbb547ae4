//! The `faceemo` command line, run as a user runs it.

mod common;

use std::path::{Path, PathBuf};

use common::{faceemo, json, run};
use faceemo_testhub::{Faults, LocalHub, RepoKindPath, ServedRepo};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data")
}

#[test]
fn info_json_on_the_demo_set_has_the_documented_keys() {
    let cache = tempfile::tempdir().expect("tempdir");
    let report = json(&run(
        faceemo(cache.path()).args(["info", "--demo", "--json"])
    ));
    assert_eq!(report["synthetic"], true);
    let splits = report["splits"].as_array().expect("splits");
    assert_eq!(splits.len(), 4);
    for split in splits {
        for key in [
            "name",
            "rows",
            "feature_dim",
            "num_classes",
            "metadata_joined",
        ] {
            assert!(split.get(key).is_some(), "split lacks {key}: {split}");
        }
        assert_eq!(split["feature_dim"], 768);
        assert_eq!(split["num_classes"], 7);
    }
    assert_eq!(report["counts"].as_object().expect("counts").len(), 5);
    assert!(
        report["warnings"][0]
            .as_str()
            .expect("warning")
            .contains("SYNTHETIC")
    );
}

#[test]
fn info_text_on_the_demo_set_says_it_is_synthetic() {
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(faceemo(cache.path()).args(["info", "--demo"]));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(text.starts_with("*** SYNTHETIC DEMO SET"), "{text}");
    assert!(text.contains("test_affectnet"), "{text}");
}

#[test]
fn info_reads_a_release_folder() {
    let cache = tempfile::tempdir().expect("tempdir");
    let report = json(&run(faceemo(cache.path())
        .arg("info")
        .arg(fixtures().join("release"))
        .arg("--json")));
    assert_eq!(report["synthetic"], false);
    let rows: Vec<u64> = report["splits"]
        .as_array()
        .expect("splits")
        .iter()
        .map(|s| s["rows"].as_u64().expect("rows"))
        .collect();
    assert_eq!(rows, [6, 3, 2, 2]);
    assert!(
        report["splits"]
            .as_array()
            .expect("splits")
            .iter()
            .all(|s| s["metadata_joined"] == true)
    );
    assert_eq!(
        report["counts"]["AffectNet"]
            .as_object()
            .map(|o| o.values().filter_map(Value::as_u64).sum::<u64>()),
        Some(2)
    );
}

#[test]
fn info_takes_the_label_order_from_a_model_config() {
    let cache = tempfile::tempdir().expect("tempdir");
    let model = tempfile::tempdir().expect("tempdir");
    let id2label: serde_json::Map<String, Value> = [
        "surprise", "sad", "neutral", "happy", "fear", "disgust", "angry",
    ]
    .iter()
    .enumerate()
    .map(|(i, l)| (i.to_string(), Value::from(*l)))
    .collect();
    std::fs::write(
        model.path().join("config.json"),
        serde_json::json!({ "id2label": id2label }).to_string(),
    )
    .expect("write config");
    let report = json(&run(faceemo(cache.path())
        .arg("info")
        .arg(fixtures().join("release"))
        .arg("--model")
        .arg(model.path())
        .arg("--json")));
    assert_eq!(report["labels"][0], "surprise");
    assert_eq!(report["labels"][6], "anger");
}

#[test]
fn a_broken_file_fails_with_its_name_on_stderr() {
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(faceemo(cache.path())
        .arg("info")
        .arg(fixtures().join("broken/wrong_dtype.npz")));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("wrong_dtype.npz"), "{stderr}");
    assert!(stderr.contains("'<i4'"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn info_without_a_release_explains_what_to_do() {
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(faceemo(cache.path()).arg("info"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("faceemo download"), "{stderr}");
    assert!(stderr.contains("--demo"), "{stderr}");
}

fn served_release() -> ServedRepo {
    let folder = fixtures().join("release");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&folder)
        .expect("fixture release")
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    files.push((".gitattributes".to_owned(), b"*.npz lfs".to_vec()));
    ServedRepo {
        kind: RepoKindPath::Datasets,
        id: "jihedjabnoun/faceemo-set-features".to_owned(),
        commit: "1234567890123456789012345678901234567890".to_owned(),
        files,
    }
}

#[test]
fn download_then_info_finds_the_release_in_the_cache() {
    let hub = LocalHub::start(served_release(), Faults::default()).expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let downloaded = json(&run(faceemo(cache.path())
        .env("HF_ENDPOINT", hub.endpoint())
        .args(["download", "--json"])));
    assert_eq!(downloaded["files"].as_array().expect("files").len(), 6);

    // Offline, with no path: the cached release is found.
    let report = json(&run(faceemo(cache.path())
        .env("HF_HUB_OFFLINE", "1")
        .args(["info", "--json"])));
    assert_eq!(report["splits"].as_array().expect("splits").len(), 4);
    assert!(
        report["source"]
            .as_str()
            .expect("source")
            .contains("datasets--jihedjabnoun--faceemo-set-features")
    );
}

#[test]
fn download_in_offline_mode_fails_clearly() {
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(faceemo(cache.path())
        .env("HF_HUB_OFFLINE", "1")
        .arg("download"));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("HF_HUB_OFFLINE"));
}

#[test]
fn without_a_display_the_window_explains_itself_instead_of_crashing() {
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(faceemo(cache.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .args(["open", "--demo"]));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot open the window"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn every_subcommand_has_help() {
    let cache = tempfile::tempdir().expect("tempdir");
    for args in [
        vec!["--help"],
        vec!["info", "--help"],
        vec!["download", "--help"],
        vec!["predict", "--help"],
        vec!["extract", "--help"],
        vec!["invert", "--help"],
        vec!["project", "--help"],
        vec!["open", "--help"],
    ] {
        let output = run(faceemo(cache.path()).args(&args));
        assert!(output.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn project_writes_a_pca_map_of_the_demo_set_as_csv() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = cache.path().join("coords.csv");
    let report = json(&run(faceemo(cache.path())
        .args([
            "project",
            "--demo",
            "--method",
            "pca",
            "--splits",
            "train,test_affectnet",
            "--json",
            "-o",
        ])
        .arg(&out)));
    assert_eq!(report["method"], "pca");
    assert_eq!(report["rows"], 2400 + 400);
    let ratios = report["explained_variance_ratio"]
        .as_array()
        .expect("ratios");
    assert_eq!(ratios.len(), 2);
    assert!(ratios[0].as_f64() >= ratios[1].as_f64());
    let preservation = report["knn_preservation"].as_f64().expect("knn");
    assert!((0.0..=1.0).contains(&preservation));
    assert!(report["seconds"].as_f64().is_some());

    let csv = std::fs::read_to_string(&out).expect("csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("split,row,sample_id,dataset,emotion,x,y")
    );
    let first = lines.next().expect("a row");
    assert!(first.starts_with("train,0,demo-train-00000,"), "{first}");
    assert_eq!(csv.lines().count(), 1 + 2800);
    assert!(csv.lines().any(|l| l.starts_with("test_affectnet,399,")));
}

#[test]
fn an_absurd_step_count_is_refused_before_anything_is_allocated() {
    let cache = tempfile::tempdir().expect("tempdir");
    let output = run(faceemo(cache.path()).args([
        "invert",
        "--steps",
        "1000000000000000",
        "--image",
        "face.png",
        "-o",
        "out.png",
    ]));
    assert_eq!(output.status.code(), Some(2), "a usage error, not an abort");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--steps"), "{stderr}");
}

#[test]
fn project_leaves_rows_with_nan_off_the_map_and_says_so() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = cache.path().join("coords.csv");
    let output = run(faceemo(cache.path())
        .args(["project", "--method", "pca", "--json", "-o"])
        .arg(&out)
        .arg(fixtures().join("variants/with_nan.npz")));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = json(&output);
    assert_eq!(report["rows"], 6);
    assert_eq!(report["left_out"], 2);
    assert!(
        stderr.contains("2 rows with NaN or infinite features"),
        "{stderr}"
    );
    let csv = std::fs::read_to_string(&out).expect("csv");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 6);
    // Rows 1 and 4 hold NaN and infinity: on the list, off the map.
    assert!(rows[1].ends_with(",,"), "{}", rows[1]);
    assert!(rows[4].ends_with(",,"), "{}", rows[4]);
    assert!(!rows[0].ends_with(",,"), "{}", rows[0]);
}

#[test]
fn project_t_sne_reuses_the_map_cache_it_shares_with_the_window() {
    let cache = tempfile::tempdir().expect("tempdir");
    let maps = cache.path().join("maps");
    let project = |name: &str| {
        json(&run(faceemo(cache.path())
            .args([
                "project",
                "--demo",
                "--method",
                "tsne",
                "--splits",
                "test_affectnet",
            ])
            .args(["--json", "--map-cache"])
            .arg(&maps)
            .arg("-o")
            .arg(cache.path().join(name))))
    };
    let first = project("first.csv");
    assert_eq!(first["from_cache"], false);
    let second = project("second.csv");
    assert_eq!(second["from_cache"], true);
    assert_eq!(first["kl_divergence"], second["kl_divergence"]);
    let read = |name: &str| std::fs::read_to_string(cache.path().join(name)).expect("csv");
    assert_eq!(read("first.csv"), read("second.csv"));
}

#[test]
fn project_writes_a_t_sne_map_with_its_kl_divergence_and_beats_pca_on_neighbours() {
    let cache = tempfile::tempdir().expect("tempdir");
    let project = |method: &str| {
        let out = cache.path().join(format!("{method}.csv"));
        json(&run(faceemo(cache.path())
            .args(["project", "--demo", "--method", method, "--json", "-o"])
            .arg(&out)))
    };
    let tsne = project("tsne");
    assert_eq!(tsne["method"], "tsne");
    assert_eq!(tsne["rows"], 3900);
    assert!(tsne.get("explained_variance_ratio").is_none());
    let kl = tsne["kl_divergence"].as_f64().expect("KL divergence");
    assert!(kl > 0.0 && kl.is_finite(), "{tsne}");
    let pca = project("pca");
    let better = tsne["knn_preservation"].as_f64().expect("knn");
    let worse = pca["knn_preservation"].as_f64().expect("knn");
    assert!(better > worse, "t-SNE {better} vs PCA {worse}");
    let csv = std::fs::read_to_string(cache.path().join("tsne.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 1 + 3900);

    let output = run(faceemo(cache.path())
        .args(["project", "--demo", "--method", "tsne", "--dims", "3", "-o"])
        .arg(cache.path().join("x.csv")));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("t-SNE maps are 2-D"));
}

#[test]
fn project_writes_a_umap_map_with_the_graph_it_searched_and_beats_pca_on_neighbours() {
    let cache = tempfile::tempdir().expect("tempdir");
    let project = |args: &[&str]| {
        let out = cache.path().join("map.csv");
        json(&run(faceemo(cache.path())
            .args(["project", "--demo", "--json", "--no-map-cache", "-o"])
            .arg(&out)
            .args(args)))
    };
    let umap = project(&["--method", "umap"]);
    assert_eq!(umap["method"], "umap");
    assert_eq!(umap["rows"], 3900);
    // 3,900 rows: below the approximate search's threshold, so exact, and every neighbour.
    assert_eq!(umap["knn"], "exact");
    assert_eq!(umap["knn_recall"], 1.0);
    assert!(umap.get("kl_divergence").is_none());
    let pca = project(&["--method", "pca"]);
    assert!(pca.get("knn_recall").is_none());
    let better = umap["knn_preservation"].as_f64().expect("knn");
    let worse = pca["knn_preservation"].as_f64().expect("knn");
    assert!(better > worse, "UMAP {better} vs PCA {worse}");
    let approximate = project(&[
        "--method",
        "umap",
        "--knn",
        "approximate",
        "--neighbors",
        "10",
    ]);
    assert_eq!(approximate["knn"], "approximate");
    let recall = approximate["knn_recall"].as_f64().expect("recall");
    assert!((0.95..=1.0).contains(&recall), "{approximate}");

    let output = run(faceemo(cache.path())
        .args([
            "project",
            "--demo",
            "--method",
            "umap",
            "--min-dist",
            "7",
            "-o",
        ])
        .arg(cache.path().join("x.csv")));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("min_dist 7"));
}

#[test]
fn project_in_3d_and_an_unknown_split_is_an_error() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = cache.path().join("coords.csv");
    let report = json(&run(faceemo(cache.path())
        .args(["project", "--demo", "--dims", "3", "--json", "-o"])
        .arg(&out)));
    assert_eq!(
        report["explained_variance_ratio"]
            .as_array()
            .expect("ratios")
            .len(),
        3
    );
    assert!(
        std::fs::read_to_string(&out)
            .expect("csv")
            .starts_with("split,row,sample_id,dataset,emotion,x,y,z")
    );
    let output = run(faceemo(cache.path())
        .args(["project", "--demo", "--splits", "nope", "-o"])
        .arg(&out));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no split \"nope\""));
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let cache = tempfile::tempdir().expect("tempdir");
    let mut child = faceemo(cache.path())
        .args(["info", "--demo", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take()); // the reader goes away before anything is written
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

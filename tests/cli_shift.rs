//! `faceemo shift`, run as a researcher runs it: the JSON contract, the CSV tables, two
//! selections compared, and bad input answered with a message naming the file.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{json, run};
use serde_json::Value;

/// `faceemo` without a Hugging Face cache (every test names its release).
fn faceemo() -> Command {
    common::faceemo(Path::new("/nonexistent-faceemo-cache"))
}

fn shift_json(extra: &[&str]) -> Value {
    json(&run(faceemo()
        .args(["shift", "--demo", "--json"])
        .args(extra)))
}

const METRIC_KEYS: [&str; 9] = [
    "rows",
    "accuracy",
    "macro_f1",
    "ece",
    "per_class_recall",
    "confusion",
    "class_counts",
    "reliability",
    "confidence_histogram",
];

fn assert_metrics(m: &Value) {
    for key in METRIC_KEYS {
        assert!(m.get(key).is_some(), "metrics lack {key}: {m}");
    }
    assert_eq!(m["confusion"].as_array().expect("confusion").len(), 7);
    assert_eq!(m["reliability"].as_array().expect("bins").len(), 15);
    for bin in m["reliability"].as_array().expect("bins") {
        for key in ["lower", "upper", "count", "accuracy", "confidence"] {
            assert!(bin.get(key).is_some(), "bin lacks {key}: {bin}");
        }
    }
}

#[test]
fn shift_json_has_the_documented_layout() {
    let report = shift_json(&[]);
    assert_eq!(report["label_order"].as_array().expect("labels").len(), 7);
    let per_dataset = report["per_dataset"].as_object().expect("per_dataset");
    assert_eq!(per_dataset.len(), 5);
    per_dataset.values().for_each(assert_metrics);
    // The test splits hold one dataset each, read off on their own.
    let fer_test = &report["per_split"]["test_fer2013"];
    assert_eq!(fer_test.as_object().expect("split").len(), 1);
    assert_metrics(&fer_test["FER2013"]);
    assert_ne!(
        fer_test["FER2013"]["rows"],
        report["per_dataset"]["FER2013"]["rows"]
    );
    // Both orders of every pair, with every pair measure.
    let pairwise = report["pairwise"].as_object().expect("pairwise");
    for (a, row) in pairwise {
        let row = row.as_object().expect("row");
        assert_eq!(row.len(), 4, "{a}: {row:?}");
        for (b, pair) in row {
            for key in [
                "centroid_cosine",
                "centroid_euclidean",
                "frechet",
                "mmd2",
                "mmd_p",
                "domain_auc",
            ] {
                assert!(pair[key].is_number(), "{a}–{b} lacks {key}: {pair}");
            }
            assert_eq!(pair, &report["pairwise"][b][a]);
        }
    }
    // AffectNet (test only) trains no probe; every other dataset does.
    let probe = report["probe"].as_object().expect("probe");
    assert!(!probe.contains_key("AffectNet"));
    assert_eq!(probe.len(), 4);
    for share in report["neighbourhood"]
        .as_object()
        .expect("shares")
        .values()
    {
        assert!(share["same_emotion"].is_number() && share["same_dataset"].is_number());
    }
    assert!(report["silhouette"]["by_dataset"].is_number());
    assert!(report["silhouette"]["by_emotion"].is_number());
    assert!(!report["sampling"].as_array().expect("sampling").is_empty());
    assert!(report["seconds"].is_number());
}

#[test]
fn the_same_seed_gives_the_same_report_and_another_seed_another_sample() {
    let strip = |mut v: Value| {
        v["seconds"] = Value::Null;
        v
    };
    let first = strip(shift_json(&["--seed", "5", "--sample", "300"]));
    let again = strip(shift_json(&["--seed", "5", "--sample", "300"]));
    assert_eq!(first, again);
    let other = strip(shift_json(&["--seed", "6", "--sample", "300"]));
    assert_ne!(first["pairwise"], other["pairwise"]);
    // Unsampled figures do not depend on the seed.
    assert_eq!(first["per_dataset"], other["per_dataset"]);
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

#[test]
fn two_selections_are_compared_and_every_table_is_written() {
    let folder = tempfile::tempdir().expect("tempdir");
    let a = folder.path().join("a.csv");
    let b = folder.path().join("b.csv");
    let rows = |split: &str, range: std::ops::Range<usize>| {
        let lines: Vec<String> = range.map(|r| format!("{split},{r},x,y,z")).collect();
        lines.join("\n")
    };
    write(
        &a,
        &format!(
            "split,row,sample_id,dataset,emotion\n{}",
            rows("test_fer2013", 0..80)
        ),
    );
    write(
        &b,
        &format!(
            "split,row,sample_id,dataset,emotion\n{}",
            rows("test_affectnet", 0..90)
        ),
    );
    let out = folder.path().join("tables");
    let report = json(&run(faceemo()
        .args(["shift", "--demo", "--json", "--a"])
        .arg(&a)
        .arg("--b")
        .arg(&b)
        .arg("--out")
        .arg(&out)));
    let comparison = &report["comparison"];
    assert_eq!(comparison["a"]["rows"], 80);
    assert_eq!(comparison["b"]["rows"], 90);
    assert_metrics(&comparison["a"]);
    let auc = comparison["pair"]["domain_auc"].as_f64().expect("auc");
    assert!(
        auc > 0.9,
        "FER2013 vs AffectNet test rows are told apart: {auc}"
    );
    for name in [
        "per_dataset.csv",
        "per_split.csv",
        "pairwise.csv",
        "probe.csv",
        "neighbourhood.csv",
        "confusion_FER2013.csv",
        "reliability_AffectNet.csv",
        "comparison.csv",
        "report.json",
    ] {
        assert!(out.join(name).is_file(), "{name} not written");
    }
    let written: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("read"))
            .expect("report.json is JSON");
    assert_eq!(written["per_dataset"], report["per_dataset"]);
    let per_split = std::fs::read_to_string(out.join("per_split.csv")).expect("read");
    assert!(per_split.starts_with("split,dataset,rows,accuracy,macro_f1,ece,recall_anger"));
    // No temporary file is left beside the tables.
    assert!(std::fs::read_dir(&out).expect("list").all(|e| {
        !e.expect("entry")
            .file_name()
            .to_string_lossy()
            .ends_with(".part")
    }));
}

fn stderr_of(output: &Output) -> String {
    assert!(!output.status.success(), "expected a failure");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_selection_files_are_errors_naming_the_file_and_line() {
    let folder = tempfile::tempdir().expect("tempdir");
    let good = folder.path().join("good.csv");
    write(&good, "split,row\nval,1\n");
    let cases = [
        (
            "missing_row.csv",
            "split,row\nval,1\nval,99999999\n",
            "line 3",
        ),
        ("unknown_split.csv", "split,row\nnope,1\n", "\"nope\""),
        ("empty.csv", "split,row\n", "no rows"),
        ("no_columns.csv", "a,b\n1,2\n", "`split` and `row`"),
        ("not_a_number.csv", "split,row\nval,ten\n", "\"ten\""),
    ];
    for (name, text, expected) in cases {
        let bad = folder.path().join(name);
        write(&bad, text);
        let message = stderr_of(&run(faceemo()
            .args(["shift", "--demo", "--a"])
            .arg(&bad)
            .arg("--b")
            .arg(&good)));
        assert!(message.contains(name), "{name}: {message}");
        assert!(message.contains(expected), "{name}: {message}");
        assert!(!message.contains("panicked"), "{message}");
    }
}

#[test]
fn a_release_without_metadata_says_there_are_no_datasets_to_compare() {
    let folder = tempfile::tempdir().expect("tempdir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data/release");
    let npz = std::fs::read_dir(&fixtures)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "npz"))
        .expect("an NPZ fixture");
    let copy = folder.path().join("combined_vit_features_val.npz");
    std::fs::copy(&npz, &copy).expect("copy");
    let message = stderr_of(&run(faceemo().arg("shift").arg(&copy)));
    assert!(message.contains("no datasets to compare"), "{message}");
}

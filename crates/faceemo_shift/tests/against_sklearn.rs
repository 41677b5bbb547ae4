//! The lab's measures against numpy, scipy and scikit-learn on a small release
//! (`tests/fixtures/shift`, written with its reference by `scripts/make_shift_reference.py`).
//!
//! Tolerances: counts, accuracy, macro-F1, recall, confusion, ECE and the reliability bins
//! exactly (to rounding, 1e-9); centroid distances 1e-9 relative; Fréchet 1e-4 relative;
//! MMD² on the same sample 1e-6; neighbourhood shares and silhouettes 1e-6; the fitted
//! classifiers — L-BFGS here, lbfgs to tol 1e-8 there — domain AUC within 0.01 and probe
//! accuracy within 0.02; the permutation p-values (different random permutations) within
//! 0.05 of each other.

use std::path::{Path, PathBuf};

use faceemo_data::{LabelOrder, ReleaseFiles, load_release};
use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext};
use faceemo_shift::{RowLookup, ShiftData, ShiftSettings, compare_selections, shift_report};
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/shift")
}

fn reference() -> Value {
    let text = std::fs::read_to_string(fixture().join("reference.json")).expect("reference");
    serde_json::from_str(&text).expect("reference is JSON")
}

fn data() -> ShiftData {
    let files = ReleaseFiles::from_paths(&[fixture().join("release")]).expect("fixture files");
    let cancel = CancelToken::new();
    let release = load_release(
        &files,
        LabelOrder::release_default(),
        JobContext::new(&IgnoreProgress, &cancel),
    )
    .expect("fixture release");
    ShiftData::from_release(&release).expect("measurable")
}

fn settings(sample: usize, seed: u64) -> ShiftSettings {
    ShiftSettings {
        seed,
        sample,
        ..ShiftSettings::default()
    }
}

/// The tolerance of a number at `path` (its last key names the measure).
fn tolerance(path: &[String]) -> (f64, bool) {
    let key = path.last().map_or("", String::as_str);
    let section = path.first().map_or("", String::as_str);
    match (section, key) {
        (_, "frechet") => (1e-4, true),
        (_, "centroid_cosine" | "centroid_euclidean") => (1e-9, true),
        (_, "mmd2") => (1e-6, false),
        (_, "mmd_p") => (0.05, false),
        (_, "domain_auc") => (0.01, false),
        ("probe", _) => (0.02, false),
        ("neighbourhood" | "silhouette", _) => (1e-6, false),
        _ => (1e-9, false),
    }
}

/// Checks every value of `want` against `got`; returns the mismatches.
fn compare(got: &Value, want: &Value, path: &mut Vec<String>, errors: &mut Vec<String>) {
    match want {
        Value::Object(fields) => {
            for (key, value) in fields {
                path.push(key.clone());
                match got.get(key) {
                    Some(ours) => compare(ours, value, path, errors),
                    None => errors.push(format!("{}: missing", path.join("/"))),
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let ours = got.as_array().map_or(&[][..], Vec::as_slice);
            if ours.len() != items.len() {
                errors.push(format!(
                    "{}: {} items, want {}",
                    path.join("/"),
                    ours.len(),
                    items.len()
                ));
            }
            for (index, (ours, value)) in ours.iter().zip(items).enumerate() {
                path.push(index.to_string());
                compare(ours, value, path, errors);
                path.pop();
            }
        }
        Value::Number(number) => {
            let want = number.as_f64().unwrap_or(f64::NAN);
            let Some(ours) = got.as_f64() else {
                errors.push(format!("{}: {got}, want {want}", path.join("/")));
                return;
            };
            let (limit, relative) = tolerance(path);
            let scale = if relative { want.abs().max(1e-12) } else { 1.0 };
            if (ours - want).abs() > limit * scale {
                errors.push(format!("{}: {ours}, want {want}", path.join("/")));
            }
        }
        other => {
            if got != other {
                errors.push(format!("{}: {got}, want {other}", path.join("/")));
            }
        }
    }
}

fn assert_matches(got: &Value, want: &Value) {
    let mut errors = Vec::new();
    compare(got, want, &mut Vec::new(), &mut errors);
    assert!(
        errors.is_empty(),
        "{} mismatches:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

fn report_json(sample: usize, seed: u64) -> Value {
    let cancel = CancelToken::new();
    let report = shift_report(
        &data(),
        &settings(sample, seed),
        JobContext::new(&IgnoreProgress, &cancel),
    )
    .expect("report");
    serde_json::to_value(&report).expect("serialisable")
}

#[test]
fn the_unsampled_report_matches_numpy_scipy_and_scikit_learn() {
    assert_matches(&report_json(1000, 0), &reference()["full"]);
}

#[test]
fn the_sampled_report_draws_the_reference_sample_and_matches_it() {
    let reference = reference();
    let ours = report_json(40, 7);
    assert_matches(&ours, &reference["sampled"]);
    // The samples themselves: the same SplitMix64 draw as the script's.
    let data = data();
    for (d, name) in data.dataset_names.iter().enumerate() {
        let rows = data.rows_of_dataset(d as u16).len();
        let want: Vec<usize> = reference["samples"][name]
            .as_array()
            .expect("sample")
            .iter()
            .filter_map(Value::as_u64)
            .map(|i| i as usize)
            .collect();
        assert_eq!(
            faceemo_projection::sample_rows(rows, 40, 7 + d as u64),
            want,
            "{name}"
        );
    }
}

#[test]
fn two_selection_files_compare_as_the_reference_does() {
    let data = data();
    let lookup = RowLookup::new(&data);
    let a = lookup.read_selection(&fixture().join("a.csv")).expect("a");
    let b = lookup.read_selection(&fixture().join("b.csv")).expect("b");
    let cancel = CancelToken::new();
    let (comparison, _) = compare_selections(
        &data,
        &a,
        &b,
        &settings(1000, 0),
        JobContext::new(&IgnoreProgress, &cancel),
    )
    .expect("comparison");
    assert_matches(
        &serde_json::to_value(&comparison).expect("serialisable"),
        &reference()["comparison"],
    );
}

#[test]
fn a_cancelled_report_stops_with_cancelled() {
    let cancel = CancelToken::new();
    cancel.cancel();
    let error = shift_report(
        &data(),
        &ShiftSettings::default(),
        JobContext::new(&IgnoreProgress, &cancel),
    )
    .expect_err("cancelled");
    assert_eq!(error.to_string(), "cancelled");
}

#[test]
fn a_dataset_of_one_row_gets_nulls_and_a_note_not_numbers() {
    let mut release = faceemo_data::synthetic_release(3);
    // One train row becomes the only row of a dataset of its own.
    let samples = release.splits[0].samples.as_mut().expect("metadata");
    samples[0].dataset = "Lonely".into();
    let data = ShiftData::from_release(&release).expect("data");
    let cancel = CancelToken::new();
    let report = shift_report(
        &data,
        &settings(200, 0),
        JobContext::new(&IgnoreProgress, &cancel),
    )
    .expect("report");
    let pair = &report.pairwise["Lonely"]["FER2013"];
    assert!(pair.centroid_cosine.is_finite());
    assert_eq!(pair.frechet, None);
    assert_eq!(pair.mmd2, None);
    assert_eq!(pair.domain_auc, None);
    assert!(
        report.notes.iter().any(|n| n.contains("Lonely")),
        "{:?}",
        report.notes
    );
    assert_eq!(report.per_dataset["Lonely"].rows, 1);
    // Nothing unmeasurable reaches the JSON as a number (NaN would serialise as null too,
    // so check the values themselves).
    for row in report.pairwise.values() {
        for measures in row.values() {
            for value in [
                measures.frechet,
                measures.mmd2,
                measures.mmd_p,
                measures.domain_auc,
            ]
            .into_iter()
            .flatten()
            {
                assert!(value.is_finite());
            }
        }
    }
}

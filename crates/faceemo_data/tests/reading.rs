//! The data layer read against numpy-written fixtures (`scripts/make_data_fixtures.py`).

use std::path::{Path, PathBuf};

use faceemo_data::{
    DataError, LabelOrder, ReleaseFiles, SplitKind, load_release, read_metadata_file,
    read_split_file,
};
use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data")
}

fn variant(name: &str) -> PathBuf {
    fixtures().join("variants").join(name)
}

fn broken(name: &str) -> PathBuf {
    fixtures().join("broken").join(name)
}

fn reference_features() -> Vec<Vec<f32>> {
    std::fs::read_to_string(variant("reference_features.txt"))
        .expect("reference")
        .lines()
        .map(|line| {
            line.split_whitespace()
                .map(|x| x.parse().expect("float"))
                .collect()
        })
        .collect()
}

fn assert_features_match(path: &Path, tolerance: f32) {
    let arrays = read_split_file(path).unwrap_or_else(|e| panic!("{}: {e:#?}", path.display()));
    let reference = reference_features();
    assert_eq!(arrays.features.nrows(), reference.len());
    for (row, expected) in arrays.features.rows().into_iter().zip(&reference) {
        for (got, want) in row.iter().zip(expected) {
            assert!(
                (got - want).abs() <= tolerance,
                "{}: {got} vs {want}",
                path.display()
            );
        }
    }
    assert_eq!(arrays.logits.shape(), [6, 7]);
    assert_eq!(arrays.probs.shape(), [6, 7]);
}

mod every_storage_variant_reads_the_same_numbers {
    use super::*;

    #[test]
    fn stored_members() {
        assert_features_match(&variant("stored.npz"), 0.0);
    }

    #[test]
    fn deflated_members() {
        assert_features_match(&variant("deflated.npz"), 0.0);
    }

    #[test]
    fn fortran_order() {
        assert_features_match(&variant("fortran.npz"), 0.0);
    }

    #[test]
    fn big_endian() {
        assert_features_match(&variant("big_endian.npz"), 0.0);
    }

    #[test]
    fn float64_is_converted_with_a_note() {
        assert_features_match(&variant("float64.npz"), 0.0);
        let notes = read_split_file(&variant("float64.npz"))
            .expect("read")
            .notes;
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("float64") && notes[0].contains("float64.npz"));
    }

    #[test]
    fn float16_is_converted_with_a_note() {
        assert_features_match(&variant("float16.npz"), 2e-3);
        let notes = read_split_file(&variant("float16.npz"))
            .expect("read")
            .notes;
        assert!(notes.iter().any(|n| n.contains("float16")), "{notes:?}");
    }
}

#[test]
fn string_sample_ids_are_read() {
    let arrays = read_split_file(&variant("with_ids.npz")).expect("read");
    assert_eq!(
        arrays.sample_ids.expect("ids"),
        ["id_0", "id_1", "id_2", "id_3", "id_4", "id_5"]
    );
}

#[test]
fn integer_sample_ids_are_read() {
    let arrays = read_split_file(&variant("with_int_ids.npz")).expect("read");
    assert_eq!(
        arrays.sample_ids.expect("ids"),
        ["-2", "-1", "0", "1", "2", "3"]
    );
}

fn load(paths: &[PathBuf]) -> Result<faceemo_data::Release, DataError> {
    let files = ReleaseFiles::from_paths(paths)?;
    let cancel = CancelToken::new();
    load_release(
        &files,
        LabelOrder::release_default(),
        JobContext::new(&IgnoreProgress, &cancel),
    )
}

#[test]
fn a_release_folder_loads_with_metadata_joined() {
    let release = load(&[fixtures().join("release")]).expect("release");
    let names: Vec<_> = release.splits.iter().map(|s| s.kind.name()).collect();
    assert_eq!(names, ["train", "val", "test_fer2013", "test_affectnet"]);
    assert!(
        release
            .splits
            .iter()
            .all(faceemo_data::SplitData::metadata_joined)
    );
    assert_eq!(release.total_rows(), 13);
    let counts = release.counts();
    assert_eq!(counts["AffectNet"].values().sum::<usize>(), 2);
    assert_eq!(counts["FER2013"].values().sum::<usize>(), 2 + 2 + 1);
    assert!(
        release.warnings.is_empty(),
        "unexpected warnings: {:?}",
        release.warnings
    );
    let files = match &release.origin {
        faceemo_data::ReleaseOrigin::Files(files) => files,
        faceemo_data::ReleaseOrigin::SyntheticDemo { .. } => panic!("not synthetic"),
    };
    assert!(files.summary_file.is_some());
}

#[test]
fn a_metadata_count_mismatch_keeps_the_features_and_warns() {
    let release = load(&[
        fixtures().join("release/combined_vit_features_train.npz"),
        variant("stored.npz"),
        fixtures().join("release/combined_vit_metadata_all.csv"),
    ])
    .expect("release");
    let train = release.split(&SplitKind::Train).expect("train");
    assert!(train.metadata_joined());
    let other = release
        .split(&SplitKind::Other("stored".into()))
        .expect("stored");
    assert!(!other.metadata_joined());
    assert_eq!(other.rows(), 6);
    assert!(
        release
            .warnings
            .iter()
            .any(|w| w.contains("split stored") && w.contains("6 rows fewer")),
        "{:?}",
        release.warnings
    );
}

#[test]
fn rows_with_nan_or_infinity_are_reported() {
    let release = load(&[variant("with_nan.npz")]).expect("release");
    assert_eq!(release.splits[0].nonfinite_rows, [1, 4]);
    assert!(
        release
            .warnings
            .iter()
            .any(|w| w.contains("2 rows contain NaN or infinity")),
        "{:?}",
        release.warnings
    );
}

#[test]
fn progress_ends_with_every_byte_read() {
    let files = ReleaseFiles::from_paths(&[fixtures().join("release")]).expect("files");
    let seen = std::sync::Mutex::new(Vec::new());
    let sink = |update: faceemo_jobs::ProgressUpdate| seen.lock().expect("lock").push(update);
    let cancel = CancelToken::new();
    load_release(
        &files,
        LabelOrder::release_default(),
        JobContext::new(&sink, &cancel),
    )
    .expect("release");
    let seen = seen.into_inner().expect("lock");
    let largest = seen.iter().map(|u| u.done).max().expect("reports");
    let total = seen.iter().map(|u| u.total).max().expect("reports");
    assert!(total > 0);
    assert_eq!(largest, total, "progress stopped short: {seen:?}");
}

#[test]
fn a_cancelled_load_stops() {
    let files = ReleaseFiles::from_paths(&[fixtures().join("release")]).expect("files");
    let cancel = CancelToken::new();
    cancel.cancel();
    let result = load_release(
        &files,
        LabelOrder::release_default(),
        JobContext::new(&IgnoreProgress, &cancel),
    );
    assert!(matches!(result, Err(DataError::Cancelled)));
}

#[test]
fn a_folder_without_npz_files_says_where_it_looked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let message = load(&[dir.path().to_owned()])
        .expect_err("empty")
        .to_string();
    assert!(message.contains("no NPZ feature files"), "{message}");
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
}

/// Each broken input is an error that names the file and says what is wrong.
mod broken_inputs {
    use super::*;

    fn npz_error(name: &str) -> String {
        let path = broken(name);
        let error = read_split_file(&path).expect_err(name);
        let message = format!("{error} / {error:?}");
        assert!(
            message.contains(name),
            "{name}: message does not name the file: {message}"
        );
        message
    }

    fn csv_error(name: &str) -> String {
        let path = broken(name);
        let error = read_metadata_file(&path).expect_err(name);
        let message = error.to_string();
        assert!(
            message.contains(name),
            "{name}: message does not name the file: {message}"
        );
        message
    }

    #[test]
    fn a_truncated_zip() {
        assert!(npz_error("truncated.npz").contains("not a readable NPZ"));
    }

    #[test]
    fn an_empty_file() {
        assert!(npz_error("empty.npz").contains("not a readable NPZ"));
    }

    #[test]
    fn a_csv_renamed_to_npz() {
        assert!(npz_error("not_zip.npz").contains("not a readable NPZ"));
    }

    #[test]
    fn a_member_that_is_not_npy() {
        let message = npz_error("member_not_npy.npz");
        assert!(message.contains("not a valid .npy member"), "{message}");
        assert!(message.contains("features"), "{message}");
    }

    #[test]
    fn a_wrong_dtype() {
        let message = npz_error("wrong_dtype.npz");
        assert!(message.contains("dtype '<i4'"), "{message}");
    }

    #[test]
    fn mismatched_row_counts() {
        let message = npz_error("mismatched_rows.npz");
        assert!(
            message.contains("features: 6, logits: 5, probs: 6"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_array() {
        let message = npz_error("missing_logits.npz");
        assert!(message.contains("no array \"logits\""), "{message}");
        assert!(message.contains("features.npy"), "{message}");
    }

    #[test]
    fn a_one_dimensional_feature_array() {
        assert!(npz_error("one_dimensional.npz").contains("expected 2 dimensions"));
    }

    #[test]
    fn a_split_with_zero_rows() {
        assert!(npz_error("zero_rows.npz").contains("zero rows"));
    }

    #[test]
    fn a_member_shorter_than_its_header() {
        let message = npz_error("short_member.npz");
        assert!(message.contains("truncated or padded"), "{message}");
    }

    #[test]
    fn a_csv_with_a_missing_column() {
        let message = csv_error("missing_column.csv");
        assert!(message.contains("no \"emotion\" column"), "{message}");
    }

    #[test]
    fn a_csv_that_is_not_utf8() {
        let message = csv_error("not_utf8.csv");
        assert!(
            message.contains("UTF-8") && message.contains("line 3"),
            "{message}"
        );
    }

    #[test]
    fn duplicate_sample_ids() {
        let message = csv_error("duplicate_ids.csv");
        assert!(
            message.contains("\"a\" appears on line 2 and again on line 4"),
            "{message}"
        );
    }

    #[test]
    fn an_empty_csv() {
        assert!(csv_error("empty.csv").contains("empty"));
    }

    #[test]
    fn object_arrays_are_pickles_and_are_refused() {
        let message = npz_error("object_dtype.npz");
        assert!(message.contains("'|O'"), "{message}");
    }

    #[test]
    fn two_members_of_one_name_are_refused() {
        let message = npz_error("duplicate_members.npz");
        assert!(message.contains("is in it twice"), "{message}");
    }

    #[test]
    fn an_encrypted_member_is_refused() {
        let message = npz_error("encrypted.npz");
        assert!(message.contains("encrypted"), "{message}");
    }

    #[test]
    fn sample_ids_of_another_length_are_refused() {
        let message = npz_error("wrong_length_ids.npz");
        assert!(
            message.contains("features: 6") && message.contains("sample ids: 5"),
            "{message}"
        );
    }

    #[test]
    fn a_csv_with_only_its_header_has_no_rows() {
        let message = csv_error("header_only.csv");
        assert!(message.contains("no rows"), "{message}");
    }

    #[test]
    fn windows_line_ends_and_quoted_newlines_are_read() {
        let table = read_metadata_file(&broken("crlf_quoted.csv")).expect("a valid CSV");
        assert_eq!(table.rows.len(), 2);
        assert_eq!(&*table.rows[0].dataset, "RAF-DB\r\n(second line), more");
        assert_eq!(&*table.rows[1].dataset, "FER2013");
        assert_eq!(
            &*table.rows[1].split, "train",
            "no \\r left on the last field's row"
        );
    }

    #[test]
    fn a_broken_split_in_a_folder_fails_the_load_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "combined_vit_features_train.npz",
            "combined_vit_metadata_all.csv",
        ] {
            std::fs::copy(fixtures().join("release").join(name), dir.path().join(name))
                .expect("copy");
        }
        std::fs::copy(
            broken("truncated.npz"),
            dir.path().join("combined_vit_features_val.npz"),
        )
        .expect("copy");
        let message = load(&[dir.path().to_owned()])
            .expect_err("broken")
            .to_string();
        assert!(
            message.contains("combined_vit_features_val.npz"),
            "{message}"
        );
    }
}

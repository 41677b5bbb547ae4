//! Any folder of release files — a metadata CSV and NPZ splits, cut from the input — loads
//! as a release (features, metadata joined or warned about) or gives an error naming a file.
#![no_main]

use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext};
use libfuzzer_sys::fuzz_target;

thread_local! {
    static FOLDER: tempfile::TempDir = tempfile::tempdir().expect("scratch folder");
}

/// Between files in an input (the seeds are written with it).
const SEPARATOR: &[u8] = b"--faceemo-file--";

const NAMES: [&str; 3] = [
    "combined_vit_metadata_all.csv",
    "combined_vit_features_train.npz",
    "combined_vit_features_test_fer2013.npz",
];

fn split_files(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() + 1 < NAMES.len() {
        let Some(at) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) else {
            break;
        };
        parts.push(&rest[..at]);
        rest = &rest[at + SEPARATOR.len()..];
    }
    parts.push(rest);
    parts
}

fuzz_target!(|data: &[u8]| {
    FOLDER.with(|folder| {
        for name in NAMES {
            std::fs::remove_file(folder.path().join(name)).ok();
        }
        for (name, bytes) in NAMES.iter().zip(split_files(data)) {
            std::fs::write(folder.path().join(name), bytes).expect("scratch write");
        }
        let Ok(files) = faceemo_data::ReleaseFiles::from_paths(&[folder.path().to_owned()]) else {
            return;
        };
        let cancel = CancelToken::new();
        let job = JobContext::new(&IgnoreProgress, &cancel);
        match faceemo_data::load_release(&files, faceemo_data::LabelOrder::release_default(), job) {
            Ok(release) => {
                assert!(release.total_rows() > 0);
                for split in &release.splits {
                    assert_eq!(split.features.nrows(), split.logits.nrows());
                }
            }
            Err(error) => {
                let message = error.to_string();
                assert!(message.len() < 4096, "an error quotes too much: {} bytes", message.len());
            }
        }
    });
});

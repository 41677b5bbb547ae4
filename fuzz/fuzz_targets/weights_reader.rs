//! Any bytes given as a model's weights — safetensors, or a PyTorch pickle — load into the
//! tiny test ViT or give an error naming the file; nothing panics and no pickled code runs.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;

thread_local! {
    static MODEL: std::cell::RefCell<faceemo_model::VitForImageClassification> = {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/models/tiny32/config.json");
        let config = faceemo_model::VitConfig::from_file(&fixture).expect("tiny32 config");
        let labels = config.labels().expect("labels").len();
        let backend = faceemo_model::cpu_backend();
        std::cell::RefCell::new(faceemo_model::VitForImageClassification::new(
            &config,
            labels,
            &backend.device,
        ))
    };
    static FOLDER: tempfile::TempDir = tempfile::tempdir().expect("scratch folder");
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    let name = if kind % 2 == 0 { "model.safetensors" } else { "pytorch_model.bin" };
    let path: PathBuf = FOLDER.with(|folder| folder.path().join(name));
    std::fs::write(&path, bytes).expect("scratch write");
    MODEL.with(|model| {
        let result = faceemo_model::load_weights(&mut model.borrow_mut(), &path);
        if let Err(error) = result {
            assert!(error.to_string().contains(name), "{error}");
        }
    });
});

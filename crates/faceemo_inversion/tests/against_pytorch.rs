//! Inversion on the tiny fixture models, checked against the same objective run in PyTorch
//! by `scripts/make_vit_reference.py` (`tests/fixtures/models/tiny224/inversion_reference.npz`).

use std::path::{Path, PathBuf};

use faceemo_inversion::{InversionError, InversionSettings, Reconstruction, Target, invert};
use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext};
use faceemo_model::{BackendChoice, EmotionModel, load_rgb_image, select_backend};
use ndarray::{Array0, Array1};
use ndarray_npy::NpzReader;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn load_model(name: &str, choice: BackendChoice) -> EmotionModel {
    let backend = select_backend(choice).expect("backend");
    EmotionModel::load(&fixtures().join("models").join(name), backend).expect("fixture model")
}

fn npz(path: &Path) -> NpzReader<std::fs::File> {
    NpzReader::new(std::fs::File::open(path).expect("reference file")).expect("npz")
}

fn vector(reader: &mut NpzReader<std::fs::File>, name: &str) -> Vec<f32> {
    let array: Array1<f32> = reader.by_name(name).expect(name);
    array.to_vec()
}

fn run(model: &EmotionModel, target: &Target, settings: &InversionSettings) -> Reconstruction {
    let cancel = CancelToken::new();
    invert(
        model,
        target,
        settings,
        JobContext::new(&IgnoreProgress, &cancel),
        &mut |_| {},
    )
    .expect("inversion runs")
}

/// The target of the PyTorch run: the tiny224 model's feature of colour.png.
fn pytorch_target() -> Target {
    let mut reference = npz(&fixtures().join("models/tiny224/reference.npz"));
    Target {
        cls: vector(&mut reference, "colour_cls"),
        logits: vector(&mut reference, "colour_logits"),
    }
}

fn pytorch_settings() -> InversionSettings {
    InversionSettings {
        seed: 3,
        preview_every: 0,
        ..InversionSettings::default()
    }
}

#[test]
fn the_loss_curve_follows_pytorch_step_by_step_and_ends_at_least_as_close() {
    let model = load_model("tiny224", BackendChoice::Cpu);
    let result = run(&model, &pytorch_target(), &pytorch_settings());
    let mut reference = npz(&fixtures().join("models/tiny224/inversion_reference.npz"));
    let curve = |reader: &mut NpzReader<std::fs::File>, name: &str| -> Vec<f64> {
        let array: Array1<f64> = reader.by_name(name).expect(name);
        array.to_vec()
    };
    let losses = curve(&mut reference, "loss");
    let tv = curve(&mut reference, "total_variation");
    assert_eq!(result.curve.len(), losses.len());
    // The same start, objective and gradients: the first steps agree closely; later steps
    // drift apart only through float rounding amplified by the optimisation.
    for (step, (ours, theirs)) in result.curve.iter().zip(&losses).take(10).enumerate() {
        let relative = (ours.loss - theirs).abs() / theirs.abs();
        assert!(
            relative < 2e-3,
            "step {step}: loss {} vs PyTorch {theirs}",
            ours.loss
        );
        let tv_relative = (ours.total_variation - tv[step]).abs() / tv[step];
        assert!(
            tv_relative < 2e-3,
            "step {step}: TV {} vs {}",
            ours.total_variation,
            tv[step]
        );
    }
    let final_cosine: Array0<f64> = reference.by_name("final_cosine").expect("final cosine");
    let theirs = final_cosine.into_scalar();
    assert!(
        result.cosine >= theirs - 1e-4,
        "final cosine {} below PyTorch's {theirs}",
        result.cosine
    );
    assert!(
        result.cosine >= 0.95 && result.cls_mse <= 0.01,
        "{result:?}"
    );
    assert!(result.class_kept());
    assert_eq!(result.image.dimensions(), (224, 224));
}

#[test]
fn default_settings_invert_an_image_feature_from_noise_deterministically() {
    let model = load_model("tiny32", BackendChoice::Cpu);
    let image = load_rgb_image(&fixtures().join("images/colour.png")).expect("fixture image");
    let prediction = model.predict(&[image]).pop().expect("prediction");
    let target = Target::from_prediction(&prediction);
    let settings = InversionSettings::default();
    let first = run(&model, &target, &settings);
    assert!(first.cosine >= 0.95, "cosine {}", first.cosine);
    assert!(first.cls_mse <= 0.01, "CLS MSE {}", first.cls_mse);
    assert!(
        first.class_kept(),
        "{:?} vs {:?}",
        first.target,
        first.reconstruction
    );
    let second = run(&model, &target, &settings);
    assert_eq!(first.curve, second.curve, "same seed, same run");
    assert_eq!(first.image, second.image);
    let other_seed = run(
        &model,
        &target,
        &InversionSettings {
            seed: 9,
            steps: 3,
            ..settings
        },
    );
    assert_ne!(other_seed.curve[0], first.curve[0]);
}

#[test]
fn a_released_feature_row_is_a_target_and_its_logits_come_from_the_head() {
    let model = load_model("tiny32", BackendChoice::Cpu);
    let mut reference = npz(&fixtures().join("models/tiny32/reference.npz"));
    let cls = vector(&mut reference, "gray_cls");
    let logits = vector(&mut reference, "gray_logits");
    let target = Target::from_features(&model, cls).expect("valid target");
    for (ours, theirs) in target.logits.iter().zip(&logits) {
        assert!(
            (ours - theirs).abs() < 1e-4,
            "{:?} vs {logits:?}",
            target.logits
        );
    }
}

#[test]
fn bad_targets_are_refused_with_the_reason() {
    let model = load_model("tiny32", BackendChoice::Cpu);
    let mut nan = vec![0.5f32; 32];
    nan[3] = f32::NAN;
    let message = Target::from_features(&model, nan).unwrap_err().to_string();
    assert!(message.contains("1 non-finite"), "{message}");
    let message = Target::from_features(&model, vec![0.0; 768])
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("768") && message.contains("32"),
        "{message}"
    );
    let wrong = Target {
        cls: vec![0.0; 5],
        logits: vec![0.0; 7],
    };
    let cancel = CancelToken::new();
    let outcome = invert(
        &model,
        &wrong,
        &InversionSettings::default(),
        JobContext::new(&IgnoreProgress, &cancel),
        &mut |_| {},
    );
    assert!(matches!(outcome, Err(InversionError::Model(_))));
}

#[test]
fn cancelling_keeps_the_best_image_so_far_and_previews_arrive_on_schedule() {
    let model = load_model("tiny32", BackendChoice::Cpu);
    let image = load_rgb_image(&fixtures().join("images/wide.png")).expect("fixture image");
    let target = Target::from_prediction(&model.predict(&[image]).pop().expect("prediction"));
    let cancel = CancelToken::new();
    let mut previews = Vec::new();
    let mut seen = 0;
    let settings = InversionSettings {
        preview_every: 5,
        ..InversionSettings::default()
    };
    let result = invert(
        &model,
        &target,
        &settings,
        JobContext::new(&IgnoreProgress, &cancel),
        &mut |update| {
            seen += 1;
            if let Some(preview) = update.preview {
                previews.push((update.report.step, preview.dimensions()));
            }
            if update.report.step == 11 {
                cancel.cancel();
            }
        },
    )
    .expect("a cancelled run still returns its best image");
    assert!(result.cancelled);
    assert_eq!(result.steps_run, 12);
    assert_eq!(seen, 12);
    assert_eq!(previews, vec![(0, (32, 32)), (5, (32, 32)), (10, (32, 32))]);
    let best_seen = result
        .curve
        .iter()
        .map(faceemo_inversion::StepReport::cosine)
        .fold(f64::MIN, f64::max);
    assert!(
        result.cosine > best_seen - 0.05,
        "{} vs {best_seen}",
        result.cosine
    );
}

#[test]
fn the_wgpu_backend_computes_the_same_steps_as_the_cpu() {
    // lavapipe in CI; a real GPU where there is one.
    let Ok(backend) = select_backend(BackendChoice::Wgpu) else {
        eprintln!("no wgpu adapter: skipped");
        return;
    };
    let gpu = EmotionModel::load(&fixtures().join("models/tiny32"), backend).expect("model");
    let cpu = load_model("tiny32", BackendChoice::Cpu);
    let image = load_rgb_image(&fixtures().join("images/colour.png")).expect("fixture image");
    let target = Target::from_prediction(&cpu.predict(&[image]).pop().expect("prediction"));
    let settings = InversionSettings {
        steps: 5,
        preview_every: 0,
        ..InversionSettings::default()
    };
    let on_gpu = run(&gpu, &target, &settings);
    let on_cpu = run(&cpu, &target, &settings);
    for (g, c) in on_gpu.curve.iter().zip(&on_cpu.curve) {
        assert!(
            (g.loss - c.loss).abs() < 1e-3 * c.loss.abs().max(1.0),
            "{g:?} vs {c:?}"
        );
    }
}

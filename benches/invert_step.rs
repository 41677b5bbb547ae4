//! Feature inversion at full size: seconds per optimisation step (forward + backward to
//! the image + Adam) and the quality a run reaches, for a model folder and a target image.
//! The peer is `benches/pytorch_inversion_step.py`; `benches/inversion_vs_pytorch.sh` runs both.
//!
//! `invert_step MODEL_DIR IMAGE STEPS [cpu|wgpu|auto]`

use std::path::PathBuf;

use faceemo_inversion::{InversionSettings, Target, invert};
use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext};
use faceemo_model::{EmotionModel, load_rgb_image, select_backend};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As the `faceemo` binary does, so the benchmark times what users run.
    faceemo::process::keep_freed_memory_for_reuse();
    let mut args = std::env::args().skip(1);
    let usage = "usage: invert_step MODEL_DIR IMAGE STEPS [cpu|wgpu|auto]";
    let folder = PathBuf::from(args.next().ok_or(usage)?);
    let image = PathBuf::from(args.next().ok_or(usage)?);
    let steps: usize = args.next().ok_or(usage)?.parse()?;
    let backend = select_backend(args.next().unwrap_or_else(|| "cpu".to_owned()).parse()?)?;
    println!("backend: {}", backend.description);
    let model = EmotionModel::load(&folder, backend)?;
    let original = load_rgb_image(&image)?;
    let prediction = model
        .predict(std::slice::from_ref(&original))
        .pop()
        .ok_or("no prediction")?;
    let target = Target::from_prediction(&prediction);
    let settings = InversionSettings {
        steps,
        preview_every: 0,
        ..InversionSettings::default()
    };
    let cancel = CancelToken::new();
    let mut stamps = Vec::with_capacity(steps + 1);
    stamps.push(std::time::Instant::now());
    let result = invert(
        &model,
        &target,
        &settings,
        JobContext::new(&IgnoreProgress, &cancel),
        &mut |_| {
            stamps.push(std::time::Instant::now());
        },
    )?;
    let mut per_step: Vec<f64> = stamps
        .windows(2)
        .skip(1)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    per_step.sort_by(f64::total_cmp);
    println!(
        "faceemo: {} steps in {:.1} s; median step {:.3} s (first step excluded); cosine {:.4}, CLS MSE {:.5}, class {} -> {} ({})",
        result.steps_run,
        result.seconds,
        per_step
            .get(per_step.len() / 2)
            .copied()
            .unwrap_or(f64::NAN),
        result.cosine,
        result.cls_mse,
        result.target.label,
        result.reconstruction.label,
        if result.class_kept() {
            "kept"
        } else {
            "changed"
        }
    );
    Ok(())
}

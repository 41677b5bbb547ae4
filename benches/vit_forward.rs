//! The workbench side of the ViT benchmark: Burn forward of ViT-B/16 at 224×224, batch 1
//! and batch 16, on the chosen backend; first checks parity with the reference outputs
//! written by `benches/make_vit_base.py`. Run through `benches/vit_vs_pytorch.sh`, or:
//! `cargo run --release --example vit_forward -- MODEL_DIR [auto|wgpu|cpu] [RUNS]`.

use std::path::PathBuf;
use std::time::Instant;

use faceemo_model::{BackendChoice, EmotionModel, select_backend};
use ndarray::{Array2, Array4};

fn main() -> anyhow::Result<()> {
    // As the `faceemo` binary does, so the benchmark times what users run.
    faceemo::process::keep_freed_memory_for_reuse();
    let mut args = std::env::args().skip(1);
    let folder = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "bench-data/vit-base".to_owned()),
    );
    let choice: BackendChoice = args
        .next()
        .unwrap_or_else(|| "cpu".to_owned())
        .parse()
        .map_err(anyhow::Error::msg)?;
    let runs: usize = args.next().map_or(Ok(5), |r| r.parse())?;
    let backend = select_backend(choice)?;
    println!("backend: {}", backend.description);
    let model = EmotionModel::load(&folder, backend)?;

    let mut reference =
        ndarray_npy::NpzReader::new(std::fs::File::open(folder.join("reference.npz"))?)?;
    let pixels: Array4<f32> = reference.by_name("pixels")?;
    let want_cls: Array2<f32> = reference.by_name("cls")?;
    let want_logits: Array2<f32> = reference.by_name("logits")?;
    let batch = pixels.shape()[0];
    let (cls, logits) = model.forward_pixels(&pixels.iter().copied().collect::<Vec<_>>(), batch);
    let max_error = |got: &[f32], want: &Array2<f32>| {
        got.iter()
            .zip(want.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max)
    };
    println!(
        "parity with transformers on {batch} images: CLS max abs error {:.2e}, logits {:.2e}",
        max_error(&cls, &want_cls),
        max_error(&logits, &want_logits)
    );

    for batch in [1usize, 16] {
        let input = vec![0.1f32; batch * 3 * 224 * 224];
        model.forward_pixels(&input, batch); // warm-up (and kernel compilation on wgpu)
        let mut seconds: Vec<f64> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                model.forward_pixels(&input, batch);
                start.elapsed().as_secs_f64()
            })
            .collect();
        let listed = seconds
            .iter()
            .map(|s| format!("{s:.3}"))
            .collect::<Vec<_>>()
            .join(" ");
        seconds.sort_by(f64::total_cmp);
        let median = seconds[seconds.len() / 2];
        println!(
            "burn: batch {batch}: runs {listed} s; median {median:.3} s; {:.2} images/s",
            batch as f64 / median
        );
    }
    Ok(())
}

//! The workbench side of the ViT benchmark: Burn forward of ViT-B/16 at 224×224, batch 1
//! and batch 16, on the chosen backend; first checks parity with the reference outputs
//! written by `benches/make_vit_base.py`. Prints the achieved GFLOP/s and its share of the
//! matrix-product peak measured here (the best of a few single-precision products of the
//! shape of the MLP's first layer at batch 16, through `gemm`, all threads), so the distance
//! to the limit shows. Run through `benches/vit_vs_pytorch.sh`, or:
//! `cargo run --release --example vit_forward -- MODEL_DIR [auto|wgpu|cpu] [RUNS]`.

use std::path::PathBuf;
use std::time::Instant;

use faceemo_model::{BackendChoice, EmotionModel, select_backend};
use faceemo_projection::matmul;
use ndarray::{Array2, Array4};

/// Floating-point operations (a multiply-add counts two) of one ViT-B/16 forward at 224×224:
/// the patch projection, then per layer the QKV, score, weighted-sum, output and MLP products
/// (normalisations, softmax and GELU are a fraction of a percent and left out).
fn vit_b16_flops() -> f64 {
    let (tokens, width, mlp, layers, patches) = (197.0, 768.0, 3072.0, 12.0, 196.0);
    let per_layer = 2.0 * tokens * width * 3.0 * width
        + 2.0 * 2.0 * tokens * tokens * width
        + 2.0 * tokens * width * width
        + 2.0 * 2.0 * tokens * width * mlp;
    2.0 * patches * (3.0 * 16.0 * 16.0) * width + layers * per_layer
}

/// The best GFLOP/s of a few `3152 × 768 · 768 × 3072` single-precision products.
fn matmul_peak() -> f64 {
    let (rows, inner, cols) = (16 * 197, 768, 3072);
    let left =
        Array2::<f32>::from_shape_fn((rows, inner), |(i, j)| ((i * 7 + j) % 13) as f32 * 0.01);
    let right =
        Array2::<f32>::from_shape_fn((inner, cols), |(i, j)| ((i + 3 * j) % 11) as f32 * 0.01);
    std::hint::black_box(matmul(left.view(), right.view()));
    (0..5)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(matmul(left.view(), right.view()));
            2.0 * (rows * inner * cols) as f64 / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

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

    let peak = matmul_peak();
    println!(
        "matrix-product peak (gemm f32, all threads): {peak:.0} GFLOP/s; ViT-B/16 forward: {:.1} GFLOP an image",
        vit_b16_flops() / 1e9
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
        let achieved = vit_b16_flops() * batch as f64 / median / 1e9;
        println!(
            "burn: batch {batch}: runs {listed} s; median {median:.3} s; {:.2} images/s; {achieved:.0} GFLOP/s, {:.0}% of the peak",
            batch as f64 / median,
            100.0 * achieved / peak
        );
    }
    Ok(())
}

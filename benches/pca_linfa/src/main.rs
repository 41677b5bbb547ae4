//! linfa-reduction's PCA (2 components; LOBPCG truncated SVD, pure Rust, f64 only) fit +
//! transform of a feature matrix saved as one `.npy` file, timed like `faceemo project`.
//! Usage: `pca_linfa FEATURES.npy [REPEATS]`.

use std::time::Instant;

use linfa::DatasetBase;
use linfa::traits::{Fit, Predict};
use linfa_reduction::Pca;
use ndarray::Array2;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: pca_linfa FEATURES.npy [REPEATS]")?;
    let repeats: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    let features: Array2<f32> = ndarray_npy::read_npy(&path)?;
    let mut seconds = Vec::new();
    let mut ratio = Vec::new();
    for _ in 0..repeats {
        let start = Instant::now();
        // linfa's PCA takes f64 only: the conversion is part of its cost.
        let records = features.mapv(f64::from);
        let dataset = DatasetBase::from(records);
        let pca = Pca::params(2).fit(&dataset)?;
        let coordinates = pca.predict(dataset.records());
        std::hint::black_box(coordinates);
        seconds.push(start.elapsed().as_secs_f64());
        ratio = pca.explained_variance_ratio().to_vec();
    }
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let runs: Vec<String> = seconds.iter().map(|s| format!("{s:.2}")).collect();
    println!(
        "linfa-reduction 0.8.1 PCA of {:?}: runs {} s; median {:.2} s; explained variance ratio {ratio:?}",
        features.dim(),
        runs.join(" "),
        sorted[sorted.len() / 2]
    );
    Ok(())
}

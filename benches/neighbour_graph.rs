//! The neighbour graph of t-SNE and UMAP, stage by stage: PCA to 50 dimensions, then the
//! exact and the approximate search for k = 15 and 90, with seconds and the approximate
//! graph's recall on a seeded sample of 1,000 rows; then UMAP's and t-SNE's placement of
//! one new row. Also prints each stage of a UMAP run (progress reports with time stamps).
//!
//! `neighbour_graph RELEASE_DIR [--skip-exact]`

use std::path::PathBuf;
use std::time::Instant;

use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext, ProgressUpdate};
use faceemo_projection::{
    AnnSettings, NeighbourSearch, Pca, UmapSettings, approximate_neighbours, knn_recall,
    neighbours_of_all, sample_rows, umap,
};
use ndarray::s;

#[path = "release_rows.rs"]
mod release_rows;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let folder = PathBuf::from(args.next().ok_or("usage: neighbour_graph RELEASE_DIR")?);
    let skip_exact = args.any(|a| a == "--skip-exact");
    let cancel = CancelToken::new();
    let quiet = JobContext::new(&IgnoreProgress, &cancel);
    let all = release_rows::release_rows(&folder)?;
    let started = Instant::now();
    let pca = Pca::fit(all.view(), 50)?;
    let reduced = pca.transform(all.view())?;
    println!(
        "PCA to 50 of {} rows: {:.2} s",
        all.nrows(),
        started.elapsed().as_secs_f64()
    );
    let sample = sample_rows(reduced.nrows(), 1000, 0);
    for k in [15, 90] {
        if !skip_exact {
            let started = Instant::now();
            neighbours_of_all(
                reduced.view(),
                k,
                NeighbourSearch::Exact,
                AnnSettings::default(),
                quiet,
            )?;
            println!("exact {k}-NN: {:.2} s", started.elapsed().as_secs_f64());
        }
        let started = Instant::now();
        let found = approximate_neighbours(reduced.view(), k, AnnSettings::default(), quiet)?;
        let seconds = started.elapsed().as_secs_f64();
        let recall = knn_recall(reduced.view(), &found, &sample, quiet)?;
        println!("approximate {k}-NN: {seconds:.2} s, recall {recall:.4}");
    }
    let started = Instant::now();
    let stamp = |update: ProgressUpdate| {
        if update.done == 0 || (update.done == 1 && update.stage.contains("optimising")) {
            println!(
                "  {:>6.2} s  {}",
                started.elapsed().as_secs_f64(),
                update.stage
            );
        }
    };
    let held_out = 1;
    let reference = all.slice(s![..all.nrows() - held_out, ..]);
    let map = umap(
        reference,
        &UmapSettings::default(),
        JobContext::new(&stamp, &cancel),
        &mut |_| {},
    )?;
    println!("UMAP: {:.2} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    map.transform(all.slice(s![all.nrows() - held_out.., ..]))?;
    println!(
        "UMAP transform of 1 new row: {:.3} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

//! Placing new points into a finished t-SNE map (openTSNE's `transform` recipe): seconds to
//! place 1 and 100 held-out rows into the map of all other rows of a release folder. Also
//! prints when each stage of the map's fit begins (progress reports with time stamps).
//!
//! `tsne_transform RELEASE_DIR`

use std::path::PathBuf;
use std::time::Instant;

use faceemo_jobs::{CancelToken, JobContext, ProgressUpdate};
use faceemo_projection::{TsneSettings, tsne};
use ndarray::s;

#[path = "release_rows.rs"]
mod release_rows;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    faceemo::process::keep_freed_memory_for_reuse();
    let folder = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: tsne_transform RELEASE_DIR")?,
    );
    let all = release_rows::release_rows(&folder)?;
    let cancel = CancelToken::new();
    let held_out = 100;
    let reference = all.slice(s![..all.nrows() - held_out, ..]);
    let new_rows = all.slice(s![all.nrows() - held_out.., ..]);
    let started = Instant::now();
    let stamp = |update: ProgressUpdate| {
        if update.done == 0 || update.done == 1 {
            println!(
                "  {:>6.2} s  {}",
                started.elapsed().as_secs_f64(),
                update.stage
            );
        }
    };
    let map = tsne(
        reference,
        &TsneSettings::default(),
        JobContext::new(&stamp, &cancel),
        &mut |_| {},
    )?;
    println!(
        "t-SNE of {} rows: {:.1} s",
        reference.nrows(),
        started.elapsed().as_secs_f64()
    );
    for count in [1, held_out] {
        let started = Instant::now();
        let placed = map.transform(new_rows.slice(s![..count, ..]))?;
        println!(
            "transform of {count} new row(s): {:.3} s ({} placed)",
            started.elapsed().as_secs_f64(),
            placed.nrows()
        );
    }
    Ok(())
}

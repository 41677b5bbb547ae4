//! The workbench side of the loading benchmark: `load_release` of a whole release folder
//! (NPZ splits, metadata CSV, join, NaN scan) in one process, repeated. Prints seconds per
//! run, the median, the arrays' size and peak RSS (`VmHWM`). Run through
//! `benches/load_vs_numpy.sh`, or: `cargo run --release --example load_release -- DIR [REPEATS]`.

use std::path::PathBuf;
use std::time::Instant;

use faceemo_data::{LabelOrder, ReleaseFiles, load_release};
use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let folder = PathBuf::from(args.next().unwrap_or_else(|| "bench-data".to_owned()));
    let repeats: usize = args.next().map_or(Ok(5), |r| r.parse())?;
    let files = ReleaseFiles::from_paths(std::slice::from_ref(&folder))?;
    let cancel = CancelToken::new();
    let mut seconds = Vec::with_capacity(repeats);
    let mut array_bytes = 0;
    let mut first_load_peak_mib = f64::NAN;
    for run in 0..repeats {
        let start = Instant::now();
        let release = load_release(
            &files,
            LabelOrder::release_default(),
            JobContext::new(&IgnoreProgress, &cancel),
        )?;
        seconds.push(start.elapsed().as_secs_f64());
        if run == 0 {
            // Later runs reuse a heap fragmented by earlier ones; one load's peak is the figure.
            first_load_peak_mib = peak_rss_mib();
        }
        array_bytes = release
            .splits
            .iter()
            .map(|s| (s.features.len() + s.logits.len() + s.probs.len()) * 4)
            .sum::<usize>();
        anyhow::ensure!(
            release
                .splits
                .iter()
                .all(faceemo_data::SplitData::metadata_joined),
            "metadata did not join: {:?}",
            release.warnings
        );
    }
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "faceemo load_release: runs {} s; median {median:.3} s; arrays {:.1} MiB; peak RSS after one load {:.1} MiB",
        seconds
            .iter()
            .map(|s| format!("{s:.3}"))
            .collect::<Vec<_>>()
            .join(" "),
        array_bytes as f64 / f64::from(1 << 20),
        first_load_peak_mib
    );
    Ok(())
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

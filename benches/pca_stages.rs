//! PCA to 2 components of every row of a release, stage by stage (progress reports with
//! time stamps): column statistics, the randomized subspace passes, and, when they do not
//! settle, the covariance and its leading eigenpairs. The peer is
//! `benches/pca_vs_sklearn.py` (`benches/pca_vs_sklearn.sh` runs both).
//!
//! `pca_stages RELEASE_DIR [REPEATS]`

use std::path::PathBuf;
use std::time::Instant;

use faceemo_jobs::{CancelToken, JobContext, ProgressUpdate};
use faceemo_projection::Pca;

#[path = "release_rows.rs"]
mod release_rows;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let folder = PathBuf::from(
        args.next()
            .ok_or("usage: pca_stages RELEASE_DIR [REPEATS]")?,
    );
    let repeats: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    let all = release_rows::release_rows(&folder)?;
    let cancel = CancelToken::new();
    for _ in 0..repeats {
        let started = Instant::now();
        let stamp = |update: ProgressUpdate| {
            println!(
                "  {:>6.3} s  {} {}/{}",
                started.elapsed().as_secs_f64(),
                update.stage,
                update.done,
                update.total
            );
        };
        let pca = Pca::fit_job(all.view(), 2, JobContext::new(&stamp, &cancel))?;
        println!(
            "PCA(2) of {} x {}: {:.3} s, explained variance ratio {:?}",
            all.nrows(),
            all.ncols(),
            started.elapsed().as_secs_f64(),
            pca.explained_variance_ratio
        );
    }
    Ok(())
}

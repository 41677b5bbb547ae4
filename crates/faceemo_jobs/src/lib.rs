//! Progress reporting and cancellation shared by every long-running FaceEmo job.
//!
//! Loading a release, downloading from the hub, projecting and inverting all take
//! seconds to minutes. Each of them takes a [`JobContext`]: it reports how far it
//! got through a [`ProgressSink`] and stops early, with [`Cancelled`], when the
//! caller's [`CancelToken`] is set. The GUI and the command line plug in their own
//! sinks (a progress bar, a channel to the UI thread). Jobs that draw random numbers use
//! [`SplitMix64`], so a seed gives the same run on every platform.

mod random;

pub use random::SplitMix64;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A shared flag that asks a running job to stop at its next check point.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that has not been cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every job holding a clone of this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`CancelToken::cancel`] has been called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The error a job returns when it stopped because it was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// One progress report: `done` out of `total` units (bytes, rows, iterations) of a named stage.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgressUpdate {
    /// What the job is doing now, e.g. `"reading combined_vit_features_train.npz"`.
    pub stage: String,
    /// Units finished so far.
    pub done: u64,
    /// Units in all; zero when unknown.
    pub total: u64,
}

impl ProgressUpdate {
    /// The fraction done in `0..=1`, or `None` when the total is unknown.
    pub fn fraction(&self) -> Option<f32> {
        (self.total > 0).then(|| (self.done as f64 / self.total as f64).clamp(0.0, 1.0) as f32)
    }
}

/// Receives progress reports from a job. Called from worker threads.
pub trait ProgressSink: Send + Sync {
    /// Records one report. Must return quickly: jobs call it from their inner loops.
    fn report(&self, update: ProgressUpdate);
}

/// A sink that drops every report.
#[derive(Clone, Copy, Debug, Default)]
pub struct IgnoreProgress;

impl ProgressSink for IgnoreProgress {
    fn report(&self, _update: ProgressUpdate) {}
}

impl<F: Fn(ProgressUpdate) + Send + Sync> ProgressSink for F {
    fn report(&self, update: ProgressUpdate) {
        self(update);
    }
}

/// What a job is handed: where to report progress and how to learn it should stop.
#[derive(Clone, Copy)]
pub struct JobContext<'a> {
    /// Where progress goes.
    pub progress: &'a dyn ProgressSink,
    /// Set by the caller to stop the job.
    pub cancel: &'a CancelToken,
}

impl<'a> JobContext<'a> {
    /// A context with the given sink and token.
    pub fn new(progress: &'a dyn ProgressSink, cancel: &'a CancelToken) -> Self {
        Self { progress, cancel }
    }

    /// Reports `done` of `total` units of `stage`.
    pub fn report(&self, stage: impl Into<String>, done: u64, total: u64) {
        self.progress.report(ProgressUpdate {
            stage: stage.into(),
            done,
            total,
        });
    }

    /// Returns `Err(Cancelled)` once the caller has asked the job to stop.
    pub fn check_cancelled(&self) -> Result<(), Cancelled> {
        if self.cancel.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_cancelled_token_is_seen_by_every_clone() {
        let token = CancelToken::new();
        let clone = token.clone();
        let context = JobContext::new(&IgnoreProgress, &clone);
        assert_eq!(context.check_cancelled(), Ok(()));
        token.cancel();
        assert_eq!(context.check_cancelled(), Err(Cancelled));
    }

    #[test]
    fn closures_receive_progress_reports() {
        let seen = Mutex::new(Vec::new());
        let sink = |update: ProgressUpdate| seen.lock().expect("lock").push(update);
        let token = CancelToken::new();
        JobContext::new(&sink, &token).report("reading", 3, 4);
        let seen = seen.into_inner().expect("lock");
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].fraction(), Some(0.75));
    }

    #[test]
    fn an_unknown_total_has_no_fraction() {
        let update = ProgressUpdate {
            stage: "downloading".into(),
            done: 10,
            total: 0,
        };
        assert_eq!(update.fraction(), None);
    }
}

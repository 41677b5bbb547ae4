//! What workers tell the core. Every event names the job (the request) it belongs to, so
//! the core keeps only results of requests that still stand.

use std::sync::Arc;

use faceemo_inversion::StepReport;
use faceemo_jobs::ProgressUpdate;
use image::RgbImage;

use crate::work::Output;

/// Identifies one job: the stamp of the request that made it.
pub type JobId = u64;

/// One report from a worker.
pub struct Event {
    /// The job it is about.
    pub job: JobId,
    /// What happened.
    pub kind: EventKind,
}

/// What happened to a job.
pub enum EventKind {
    /// It made progress.
    Progress(ProgressUpdate),
    /// It produced something on the way to its result.
    Partial(Partial),
    /// It ended; this is its last event.
    Ended(Outcome),
}

/// How a job ended.
pub enum Outcome {
    /// It finished with its result.
    Done(Output),
    /// It stopped because it was asked to.
    Cancelled,
    /// It failed (or panicked): why, in words.
    Failed(String),
}

/// Something a job produces before its result.
pub enum Partial {
    /// A t-SNE or UMAP layout on its way.
    EmbeddingLayout(crate::core::Embedding, crate::work::EmbeddingLayout),
    /// One reconstruction step, with a preview image every few steps.
    InversionStep(StepReport, Option<Arc<RgbImage>>),
}

impl Event {
    /// A job's end.
    pub fn ended(job: JobId, outcome: Outcome) -> Self {
        Self {
            job,
            kind: EventKind::Ended(outcome),
        }
    }
}

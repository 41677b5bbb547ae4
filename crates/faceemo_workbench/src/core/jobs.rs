//! The job board: every running job with its title, progress and cancel token, and which
//! job is the current one for each kind of result. A result is kept only when its job is
//! still the current one for its slot; asking again, or opening another release, makes the
//! earlier job stale (and cancels it).

use std::collections::BTreeMap;

use faceemo_jobs::{CancelToken, ProgressUpdate};

use crate::event::JobId;

/// What kind of result a job delivers; one job at a time is current for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// Sorting dropped or typed paths (any number at once).
    Paths,
    /// Loading a release.
    Release,
    /// The PCA map.
    Projection,
    /// The t-SNE map.
    Tsne,
    /// The dropped image on the PCA map, with its neighbours.
    Placement,
    /// The dropped image on the t-SNE map.
    TsnePlacement,
    /// The UMAP map.
    Umap,
    /// The dropped image on the UMAP map.
    UmapPlacement,
    /// The selected sample's neighbours.
    Neighbours,
    /// The domain-shift report.
    ShiftReport,
    /// A comparison of two sides.
    ShiftCompare,
    /// The shift-axes map.
    Axes,
    /// Loading a model.
    ModelLoad,
    /// Predicting a dropped image.
    Predict,
    /// A reconstruction.
    Inversion,
    /// Writing files (any number at once).
    Output,
    /// A job injected to panic (tests).
    Probe,
}

impl Slot {
    /// Whether several jobs of this kind may run at once (each result is kept).
    fn is_shared(self) -> bool {
        matches!(self, Self::Paths | Self::Output | Self::Probe)
    }

    /// Whether a job of this slot asked to stop still delivers what it made (a stopped
    /// reconstruction keeps its best image); others end `Cancelled`.
    pub fn keeps_stopped_result(self) -> bool {
        self == Self::Inversion
    }

    /// The slots whose results belong to the open release.
    pub const OF_RELEASE: [Self; 10] = [
        Self::Projection,
        Self::Tsne,
        Self::Placement,
        Self::TsnePlacement,
        Self::Umap,
        Self::UmapPlacement,
        Self::Neighbours,
        Self::ShiftReport,
        Self::ShiftCompare,
        Self::Axes,
    ];
}

/// One running job, as the status bar shows it.
#[derive(Clone, Debug)]
pub struct JobEntry {
    /// Its id (the stamp its events carry).
    pub id: JobId,
    /// What it does, in words.
    pub title: String,
    /// What it delivers.
    pub slot: Slot,
    /// Its last progress report.
    pub progress: Option<ProgressUpdate>,
    /// Whether it was asked to stop and has not ended yet.
    pub stopping: bool,
    /// When it stops, if not at once ("after the current file": the hub client cannot be
    /// interrupted inside a file).
    pub stops: Option<&'static str>,
    cancel: CancelToken,
}

/// The running jobs and the current job of each slot.
#[derive(Debug, Default)]
pub struct JobBoard {
    entries: Vec<JobEntry>,
    current: BTreeMap<Slot, JobId>,
    last_id: JobId,
}

impl JobBoard {
    /// Registers a new job for `slot`; an earlier job of the slot is cancelled and its
    /// result will be dropped. Returns the id and the token the job must watch.
    pub fn open(&mut self, slot: Slot, title: impl Into<String>) -> (JobId, CancelToken) {
        self.last_id += 1;
        let id = self.last_id;
        let cancel = CancelToken::new();
        if !slot.is_shared() {
            self.forget(slot);
            self.current.insert(slot, id);
        }
        self.entries.push(JobEntry {
            id,
            title: title.into(),
            slot,
            progress: None,
            stopping: false,
            stops: None,
            cancel: cancel.clone(),
        });
        (id, cancel)
    }

    /// Cancels the current job of `slot`, if any, and drops its result when it comes.
    pub fn forget(&mut self, slot: Slot) {
        if let Some(previous) = self.current.remove(&slot) {
            self.cancel(previous);
        }
    }

    /// Notes when job `id` stops once cancelled, if not at once.
    pub fn stops_later(&mut self, id: JobId, when: &'static str) {
        if let Some(entry) = self.entries.iter_mut().find(|e| e.id == id) {
            entry.stops = Some(when);
        }
    }

    /// Asks job `id` to stop; it stays listed (as stopping) until it ends.
    pub fn cancel(&mut self, id: JobId) {
        if let Some(entry) = self.entries.iter_mut().find(|e| e.id == id) {
            entry.cancel.cancel();
            entry.stopping = true;
        }
    }

    /// Records a progress report.
    pub fn progress(&mut self, id: JobId, update: ProgressUpdate) {
        if let Some(entry) = self.entries.iter_mut().find(|e| e.id == id) {
            entry.progress = Some(update);
        }
    }

    /// Whether `id` is the job whose results `slot` keeps.
    pub fn is_current(&self, slot: Slot, id: JobId) -> bool {
        if slot.is_shared() {
            return self.entries.iter().any(|e| e.id == id);
        }
        self.current.get(&slot) == Some(&id)
    }

    /// The slot of a listed job.
    pub fn slot_of(&self, id: JobId) -> Option<Slot> {
        self.entries.iter().find(|e| e.id == id).map(|e| e.slot)
    }

    /// Takes job `id` off the board (it ended). Returns its entry and whether its result
    /// is to be kept.
    pub fn end(&mut self, id: JobId) -> Option<(JobEntry, bool)> {
        let at = self.entries.iter().position(|e| e.id == id)?;
        let entry = self.entries.remove(at);
        let current = entry.slot.is_shared() || self.current.get(&entry.slot) == Some(&id);
        if current && !entry.slot.is_shared() {
            self.current.remove(&entry.slot);
        }
        Some((entry, current))
    }

    /// Whether the current job of `slot` is running.
    pub fn running(&self, slot: Slot) -> bool {
        self.current.contains_key(&slot)
    }

    /// The running jobs, oldest first.
    pub fn entries(&self) -> &[JobEntry] {
        &self.entries
    }

    /// Whether any job is running.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_again_cancels_the_earlier_job_and_drops_its_result() {
        let mut board = JobBoard::default();
        let (first, first_token) = board.open(Slot::Projection, "PCA");
        let (second, _) = board.open(Slot::Projection, "PCA again");
        assert!(first_token.is_cancelled());
        assert!(!board.is_current(Slot::Projection, first));
        assert!(board.is_current(Slot::Projection, second));
        assert_eq!(
            board.entries().len(),
            2,
            "the first stays listed until it ends"
        );
        assert!(board.entries()[0].stopping);
        let (_, kept) = board.end(first).expect("listed");
        assert!(!kept);
        assert!(board.running(Slot::Projection));
        let (_, kept) = board.end(second).expect("listed");
        assert!(kept);
        assert!(!board.running(Slot::Projection) && board.is_empty());
        assert!(board.end(second).is_none(), "an unknown job is nobody's");
    }

    #[test]
    fn shared_slots_keep_every_result() {
        let mut board = JobBoard::default();
        let (a, _) = board.open(Slot::Output, "write a");
        let (b, _) = board.open(Slot::Output, "write b");
        assert!(board.is_current(Slot::Output, a) && board.is_current(Slot::Output, b));
        assert!(board.end(a).expect("listed").1);
        assert!(board.end(b).expect("listed").1);
    }
}

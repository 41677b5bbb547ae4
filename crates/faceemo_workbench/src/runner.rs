//! Carries out the core's commands: each job on a named thread of its own, the model's
//! jobs in order on the one model worker that owns the model. Workers report through one
//! bounded channel of [`Event`]s and wake the window; a job that panics ends `Failed` with
//! the panic's message (the model worker goes on with the model it had), and should the
//! model worker's thread ever end, the next model job starts a new one. Nothing here blocks
//! the thread that calls it.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use faceemo_jobs::{CancelToken, JobContext, ProgressSink, ProgressUpdate};

use crate::core::{Command, Job};
use crate::event::{Event, EventKind, JobId, Outcome, Partial};
use crate::work::{ModelWork, ModelWorker, Work};

/// Wakes whoever drains the events (the window's repaint).
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// Events waiting to be drained at most (workers wait beyond this; progress is dropped).
const EVENT_CAPACITY: usize = 256;
/// Model jobs waiting at most (cancelled ones wait too, until the worker skips them).
const MODEL_QUEUE: usize = 64;

/// The sending side of the event channel, with the wake-up.
#[derive(Clone)]
struct Events {
    sender: SyncSender<Event>,
    wake: Wake,
}

impl Events {
    /// Sends an event (waiting while the channel is full) and wakes the receiver.
    fn send(&self, event: Event) {
        // A closed channel means the window is gone; the worker just stops reporting.
        let _ = self.sender.send(event);
        (self.wake)();
    }

    /// Sends unless the channel is full (progress: the next report supersedes it).
    fn try_send(&self, event: Event) {
        match self.sender.try_send(event) {
            Ok(()) | Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
        (self.wake)();
    }
}

/// A progress sink that forwards at most ~20 reports a second.
struct ChannelProgress {
    job: JobId,
    events: Events,
    last: Mutex<Option<Instant>>,
}

impl ProgressSink for ChannelProgress {
    fn report(&self, update: ProgressUpdate) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let due = last.is_none_or(|t| t.elapsed() >= Duration::from_millis(50));
        if due || (update.total > 0 && update.done >= update.total) {
            *last = Some(Instant::now());
            self.events.try_send(Event {
                job: self.job,
                kind: EventKind::Progress(update),
            });
        }
    }
}

/// A job queued for the model worker.
struct ModelJob {
    id: JobId,
    cancel: CancelToken,
    work: ModelWork,
}

/// Runs jobs on threads; holds the receiving end of their events.
pub struct Runner {
    events: Events,
    receiver: Receiver<Event>,
    /// Events made on the calling thread (a thread that could not start): never sent
    /// through the bounded channel, so the caller cannot block on itself.
    inbox: VecDeque<Event>,
    model: Option<SyncSender<ModelJob>>,
}

impl Runner {
    /// A runner whose workers call `wake` after each event.
    pub fn new(wake: Wake) -> Self {
        let (sender, receiver) = sync_channel(EVENT_CAPACITY);
        Self {
            events: Events { sender, wake },
            receiver,
            inbox: VecDeque::new(),
            model: None,
        }
    }

    /// Carries out every command.
    pub fn execute(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Run(job) => self.start(job),
            }
        }
    }

    /// Events that arrived since the last call, in order.
    pub fn drain(&mut self) -> Vec<Event> {
        let mut events: Vec<Event> = self.inbox.drain(..).collect();
        events.extend(self.receiver.try_iter());
        events
    }

    /// Waits up to `timeout` for the next event (for tests and benchmarks that drive the
    /// core without a window).
    pub fn wait(&mut self, timeout: Duration) -> Option<Event> {
        if let Some(event) = self.inbox.pop_front() {
            return Some(event);
        }
        self.receiver.recv_timeout(timeout).ok()
    }

    fn start(&mut self, job: Job) {
        let Job {
            id,
            name,
            cancel,
            work,
        } = job;
        match work {
            Work::Model(work) => self.send_to_model(ModelJob { id, cancel, work }),
            work => {
                let events = self.events.clone();
                let spawned = std::thread::Builder::new()
                    .name(name.to_owned())
                    .spawn(move || run_job(id, &cancel, work, &events));
                if let Err(error) = spawned {
                    self.inbox.push_back(Event::ended(
                        id,
                        Outcome::Failed(format!("cannot start the {name} thread: {error}")),
                    ));
                }
            }
        }
    }

    /// Queues a model job, starting the model worker first when there is none (or the
    /// last one has died).
    fn send_to_model(&mut self, job: ModelJob) {
        let mut job = job;
        for _attempt in 0..2 {
            let sender = match &self.model {
                Some(sender) => sender.clone(),
                None => match self.start_model_worker() {
                    Ok(sender) => sender,
                    Err(error) => {
                        self.inbox
                            .push_back(Event::ended(job.id, Outcome::Failed(error)));
                        return;
                    }
                },
            };
            match sender.try_send(job) {
                Ok(()) => return,
                Err(TrySendError::Full(refused)) => {
                    self.inbox.push_back(Event::ended(
                        refused.id,
                        Outcome::Failed("the model is busy with earlier requests".to_owned()),
                    ));
                    return;
                }
                Err(TrySendError::Disconnected(refused)) => {
                    // The worker died: the next attempt starts a new one.
                    self.model = None;
                    job = refused;
                }
            }
        }
        self.inbox.push_back(Event::ended(
            job.id,
            Outcome::Failed("the model worker cannot be started".to_owned()),
        ));
    }

    fn start_model_worker(&mut self) -> Result<SyncSender<ModelJob>, String> {
        let (sender, jobs) = sync_channel::<ModelJob>(MODEL_QUEUE);
        let events = self.events.clone();
        std::thread::Builder::new()
            .name("model worker".to_owned())
            .spawn(move || model_worker(&jobs, &events))
            .map_err(|e| format!("cannot start the model worker: {e}"))?;
        self.model = Some(sender.clone());
        Ok(sender)
    }
}

/// Runs one job on this thread and sends its events; a panic becomes `Failed`.
fn run_job(id: JobId, cancel: &CancelToken, work: Work, events: &Events) {
    report_outcome(id, cancel, events, |job, partial| {
        crate::work::run(work, job, partial)
    });
}

/// The model worker: takes jobs in order; a job that panics ends `Failed` and the worker
/// goes on with the model it had.
fn model_worker(jobs: &Receiver<ModelJob>, events: &Events) {
    let mut worker = ModelWorker::default();
    while let Ok(ModelJob { id, cancel, work }) = jobs.recv() {
        report_outcome(id, &cancel, events, |job, partial| {
            worker.run(work, job, partial)
        });
    }
}

/// Runs `body` as job `id`: its progress and partial results go to `events`, then its
/// outcome (`Failed` with the message if it panicked).
fn report_outcome(
    id: JobId,
    cancel: &CancelToken,
    events: &Events,
    body: impl FnOnce(JobContext<'_>, &mut dyn FnMut(Partial)) -> Outcome,
) {
    let progress = ChannelProgress {
        job: id,
        events: events.clone(),
        last: Mutex::new(None),
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        body(
            JobContext::new(&progress, cancel),
            &mut |partial: Partial| {
                events.send(Event {
                    job: id,
                    kind: EventKind::Partial(partial),
                });
            },
        )
    }))
    .unwrap_or_else(|panic| Outcome::Failed(panicked(&*panic)));
    events.send(Event::ended(id, outcome));
}

/// A panic's message, as a job's failure.
fn panicked(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    format!("it panicked ({message})")
}

//! Work off the UI thread: named threads, bounded channels, and a wake-up for the UI.
//!
//! Every long task (loading, projecting, neighbour search) runs as a job on its own named
//! thread; the model lives on one long-lived worker thread that owns it and takes commands
//! in order. Workers report through one bounded channel of [`Event`]s and wake the UI;
//! only the UI thread changes the app's state.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use faceemo_data::Release;
use faceemo_inversion::{
    InversionSettings, PixelComparison, Reconstruction, StepReport, Target, compare_with_original,
    invert,
};
use faceemo_jobs::{CancelToken, JobContext, ProgressSink, ProgressUpdate};
use faceemo_model::{BackendChoice, EmotionModel, Prediction};
use image::RgbImage;

/// Identifies one job.
pub type JobId = u64;

/// Which release (and which dropped image) a result was computed for. A result for data the
/// UI no longer shows is dropped, so a slow job can never overwrite what replaced its input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamp {
    /// Counts the releases loaded.
    pub release: u64,
    /// Counts the images predicted; `None` for results that do not depend on the image.
    pub image: Option<u64>,
}

impl Stamp {
    /// Whether a result stamped `self` still applies to what `now` describes.
    pub fn is_current(self, now: Self) -> bool {
        self.release == now.release && self.image.is_none_or(|image| Some(image) == now.image)
    }

    /// The same release, whatever the image.
    pub fn release_only(self) -> Self {
        Self {
            image: None,
            ..self
        }
    }
}

/// What workers tell the UI.
pub enum Event {
    /// A job made progress.
    Progress(JobId, ProgressUpdate),
    /// A job ended (its result arrives as its own event first).
    Finished(JobId),
    /// A release finished loading.
    ReleaseLoaded(Result<LoadedRelease, String>),
    /// The map of a release is ready.
    ProjectionReady(Stamp, Result<Arc<super::Projection>, String>),
    /// The model finished loading.
    ModelLoaded(Result<ModelInfo, String>),
    /// An image was predicted.
    Predicted(Result<PredictedImage, String>),
    /// Neighbours and map position of the dropped image.
    Placed(Stamp, super::Placement),
    /// An intermediate t-SNE layout (all rows; NaN where a row could not be embedded).
    TsneLayout(Stamp, TsneLayout),
    /// The finished t-SNE map, or why there is none.
    TsneReady(Stamp, Result<TsneReady, String>),
    /// The dropped image's place on the t-SNE map.
    TsnePlaced(Stamp, Option<[f32; 2]>),
    /// One inversion step.
    InversionStep(StepReport, Option<RgbImage>),
    /// The inversion finished (or was cancelled, keeping its best image).
    Inverted(Result<Inversion, String>),
    /// The domain-shift report of a release, or why there is none.
    ShiftMeasured(Stamp, Result<super::shift_view::MeasuredShift, String>),
    /// Two selections compared, or why not.
    /// (The `u64` is the lab's sides version it was started for.)
    ShiftCompared(Stamp, u64, Result<Box<faceemo_shift::Comparison>, String>),
    /// The lab's tables were written (what was written), or why not.
    ShiftExported(Result<String, String>),
    /// The shift-axes map (with its axis labels), or why there is none.
    /// (The `u64` counts the requests: only the newest is shown.)
    AxesReady(
        Stamp,
        u64,
        Result<(Arc<faceemo_shift::ShiftAxes>, (String, String)), String>,
    ),
    /// The nearest released samples of a selected map point.
    SampleNeighbours(Stamp, usize, Vec<super::projection::NeighbourRow>),
    /// A job panicked: its message (the job ends with `Finished` as usual).
    Panicked(JobId, String),
}

impl Event {
    /// The data a result belongs to, for results that depend on the release or the image.
    pub fn stamp(&self) -> Option<Stamp> {
        match self {
            Self::ProjectionReady(stamp, _)
            | Self::Placed(stamp, _)
            | Self::TsneLayout(stamp, _)
            | Self::TsneReady(stamp, _)
            | Self::TsnePlaced(stamp, _)
            | Self::ShiftMeasured(stamp, _)
            | Self::SampleNeighbours(stamp, _, _)
            | Self::AxesReady(stamp, _, _)
            | Self::ShiftCompared(stamp, _, _) => Some(*stamp),
            _ => None,
        }
    }
}

/// A finished reconstruction, compared with its original image when there is one.
pub struct Inversion {
    /// The result.
    pub reconstruction: Reconstruction,
    /// PSNR and SSIM against the original.
    pub pixels: Option<PixelComparison>,
}

/// A t-SNE layout on its way.
pub struct TsneLayout {
    /// Iterations done.
    pub iteration: usize,
    /// Iterations planned.
    pub iterations: usize,
    /// KL divergence now.
    pub kl_divergence: Option<f64>,
    /// Position of every row.
    pub layout: Arc<Vec<[f32; 2]>>,
}

/// A finished t-SNE map.
pub struct TsneReady {
    /// The map (places new points).
    pub map: Arc<faceemo_projection::TsneMap>,
    /// Position of every row.
    pub layout: Arc<Vec<[f32; 2]>>,
    /// Seconds it took.
    pub seconds: f64,
}

/// A release and the files it came from.
pub struct LoadedRelease {
    /// The data.
    pub release: Arc<Release>,
    /// The paths the user opened (remembered for the next run).
    pub sources: Vec<PathBuf>,
}

/// What the UI knows of the loaded model.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    /// Where it was loaded from.
    pub folder: PathBuf,
    /// The backend in words (adapter name, or CPU).
    pub backend: String,
    /// Labels in logit order.
    pub labels: Vec<String>,
    /// The same order as the data layer names it (`None` when `config.json` has no usable
    /// `id2label`), so releases loaded after the model use it.
    pub label_order: Option<faceemo_data::LabelOrder>,
}

/// A dropped image and what the model said of it.
pub struct PredictedImage {
    /// The file name.
    pub name: String,
    /// The decoded image.
    pub image: RgbImage,
    /// Feature, logits, probabilities.
    pub prediction: Prediction,
}

/// What the model worker is asked to do.
pub enum ModelCommand {
    /// Load a model folder or hub id.
    Load {
        /// Folder or hub id.
        spec: String,
        /// Where to run it.
        backend: BackendChoice,
    },
    /// Decode and predict an image file.
    Predict(PathBuf),
    /// Reconstruct an image from a feature.
    Invert {
        /// The feature to match.
        target: InversionTarget,
        /// The optimisation settings.
        settings: InversionSettings,
    },
}

/// Where an inversion's target comes from.
pub enum InversionTarget {
    /// A predicted image: its feature and logits are the target, its pixels the original.
    Image(Prediction, RgbImage),
    /// A bare feature (a released sample).
    Features(Vec<f32>),
}

/// The sending side of the UI's event channel, with the UI wake-up.
#[derive(Clone)]
pub struct EventSender {
    sender: SyncSender<Event>,
    repaint: egui::Context,
}

impl EventSender {
    /// Sends an event and wakes the UI. Blocks when the UI is behind (bounded channel).
    pub fn send(&self, event: Event) {
        // A closed channel means the window is gone; the worker just stops reporting.
        let _ = self.sender.send(event);
        self.repaint.request_repaint();
    }

    /// Sends an event unless the channel is full (for progress, which the next one supersedes).
    fn try_send(&self, event: Event) {
        match self.sender.try_send(event) {
            Ok(()) | Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
        self.repaint.request_repaint();
    }
}

/// A progress sink that forwards at most ~20 updates a second to the UI.
struct ChannelProgress {
    job: JobId,
    events: EventSender,
    last: Mutex<Option<Instant>>,
}

impl ProgressSink for ChannelProgress {
    fn report(&self, update: ProgressUpdate) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let due = last.is_none_or(|t| t.elapsed() >= Duration::from_millis(50));
        if due || update.done >= update.total {
            *last = Some(Instant::now());
            self.events.try_send(Event::Progress(self.job, update));
        }
    }
}

/// Starts jobs and the model worker; holds the UI's end of the channel.
pub struct Workers {
    events: EventSender,
    receiver: Receiver<Event>,
    model: SyncSender<(JobId, CancelToken, ModelCommand)>,
    next_job: JobId,
}

/// Events waiting for the UI at most (workers block beyond this).
const EVENT_CAPACITY: usize = 256;
/// Model commands waiting at most.
const COMMAND_CAPACITY: usize = 16;

impl Workers {
    /// Starts the model worker thread.
    pub fn start(repaint: egui::Context) -> Self {
        let (sender, receiver) = sync_channel(EVENT_CAPACITY);
        let events = EventSender { sender, repaint };
        let (model, commands) = sync_channel(COMMAND_CAPACITY);
        let worker_events = events.clone();
        let spawned = std::thread::Builder::new()
            .name("model worker".to_owned())
            .spawn(move || model_worker(&commands, &worker_events));
        if let Err(error) = spawned {
            events.send(Event::ModelLoaded(Err(format!(
                "cannot start the model worker: {error}"
            ))));
        }
        Self {
            events,
            receiver,
            model,
            next_job: 1,
        }
    }

    /// The context workers wake (the window's), for requests such as screenshots.
    pub fn context(&self) -> egui::Context {
        self.events.repaint.clone()
    }

    /// A sender for jobs that report more than their result (t-SNE layouts).
    pub fn events(&self) -> EventSender {
        self.events.clone()
    }

    /// Events that arrived since the last call.
    pub fn drain(&self) -> Vec<Event> {
        self.receiver.try_iter().collect()
    }

    fn new_job(&mut self) -> JobId {
        self.next_job += 1;
        self.next_job
    }

    /// Runs `work` on a new named thread; its result event is sent, then `Finished`.
    pub fn spawn(
        &mut self,
        name: &str,
        cancel: CancelToken,
        work: impl FnOnce(JobContext<'_>) -> Event + Send + 'static,
    ) -> JobId {
        let job = self.new_job();
        let events = self.events.clone();
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let progress = ChannelProgress {
                    job,
                    events: events.clone(),
                    last: Mutex::new(None),
                };
                // A panic in a job ends that job with its message; the window carries on.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    work(JobContext::new(&progress, &cancel))
                }));
                match outcome {
                    Ok(event) => events.send(event),
                    Err(panic) => events.send(Event::Panicked(job, panic_message(&*panic))),
                }
                events.send(Event::Finished(job));
            });
        if let Err(error) = spawned {
            self.events.send(Event::Finished(job));
            eprintln!("cannot start the {name} thread: {error}");
        }
        job
    }

    /// Queues a command for the model worker.
    pub fn send_to_model(
        &mut self,
        cancel: CancelToken,
        command: ModelCommand,
    ) -> Result<JobId, String> {
        let job = self.new_job();
        match self.model.try_send((job, cancel, command)) {
            Ok(()) => Ok(job),
            Err(TrySendError::Full(_)) => Err("the model is busy with earlier requests".to_owned()),
            Err(TrySendError::Disconnected(_)) => Err("the model worker has stopped".to_owned()),
        }
    }
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a job panicked".to_owned())
}

fn model_worker(commands: &Receiver<(JobId, CancelToken, ModelCommand)>, events: &EventSender) {
    let mut model: Option<EmotionModel> = None;
    while let Ok((job, cancel, command)) = commands.recv() {
        let progress = ChannelProgress {
            job,
            events: events.clone(),
            last: Mutex::new(None),
        };
        let context = JobContext::new(&progress, &cancel);
        match command {
            ModelCommand::Load { spec, backend } => {
                let result = load_model(&spec, backend, context).map(|loaded| {
                    let info = ModelInfo {
                        folder: loaded.folder.clone(),
                        backend: loaded.backend.description.clone(),
                        labels: loaded.labels.clone(),
                        label_order: faceemo_data::LabelOrder::from_model_config(
                            &loaded.folder.join("config.json"),
                        )
                        .ok(),
                    };
                    model = Some(loaded);
                    info
                });
                events.send(Event::ModelLoaded(result));
            }
            ModelCommand::Predict(path) => {
                let result = match &model {
                    None => Err("no model is loaded: open one from the Model menu".to_owned()),
                    Some(model) => predict_file(model, &path),
                };
                events.send(Event::Predicted(result));
            }
            ModelCommand::Invert { target, settings } => {
                let result = match &model {
                    None => Err("no model is loaded: open one from the Model menu".to_owned()),
                    Some(model) => run_inversion(model, target, &settings, context, events),
                };
                events.send(Event::Inverted(result));
            }
        }
        events.send(Event::Finished(job));
    }
}

fn load_model(
    spec: &str,
    backend: BackendChoice,
    job: JobContext<'_>,
) -> Result<EmotionModel, String> {
    let settings = faceemo_hub::HubSettings::from_env().map_err(|e| e.to_string())?;
    let folder = faceemo_model::resolve_model(spec, &settings, job)
        .map_err(|e| format!("cannot find the model {spec:?}: {e}"))?;
    let backend = faceemo_model::select_backend(backend).map_err(|e| e.to_string())?;
    EmotionModel::load(&folder, backend)
        .map_err(|e| format!("cannot load the model in {}: {e}", folder.display()))
}

fn predict_file(model: &EmotionModel, path: &std::path::Path) -> Result<PredictedImage, String> {
    let image = faceemo_model::load_rgb_image(path).map_err(|e| e.to_string())?;
    let prediction = model
        .predict(std::slice::from_ref(&image))
        .pop()
        .ok_or_else(|| format!("the model gave no prediction for {}", path.display()))?;
    Ok(PredictedImage {
        name: path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        image,
        prediction,
    })
}

fn run_inversion(
    model: &EmotionModel,
    target: InversionTarget,
    settings: &InversionSettings,
    job: JobContext<'_>,
    events: &EventSender,
) -> Result<Inversion, String> {
    let (target, original) = match target {
        InversionTarget::Image(prediction, image) => {
            (Target::from_prediction(&prediction), Some(image))
        }
        InversionTarget::Features(cls) => (
            Target::from_features(model, cls).map_err(|e| e.to_string())?,
            None,
        ),
    };
    let reconstruction = invert(model, &target, settings, job, &mut |update| {
        events.send(Event::InversionStep(
            update.report.clone(),
            update.preview.cloned(),
        ));
    })
    .map_err(|e| e.to_string())?;
    let pixels = original.map(|original| {
        compare_with_original(&original, &reconstruction.image, &model.preprocessor)
    });
    Ok(Inversion {
        reconstruction,
        pixels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_for_another_release_or_image_are_stale() {
        let now = Stamp {
            release: 2,
            image: Some(5),
        };
        assert!(now.is_current(now));
        assert!(
            now.release_only().is_current(now),
            "a map does not depend on the image"
        );
        assert!(!Stamp { release: 1, ..now }.release_only().is_current(now));
        assert!(
            !Stamp {
                image: Some(4),
                ..now
            }
            .is_current(now)
        );
    }
}

//! The workbench without any UI. [`Workbench`] holds the state of a session (the release,
//! its maps, the image lab, the domain-shift lab, the model, the running jobs and the
//! messages), takes what the user asks for as [`Intent`]s and what workers report as
//! [`Event`]s, and answers both with [`Command`]s: jobs for the
//! [`Runner`](crate::Runner) to carry out. Nothing here blocks or touches a file, so every
//! flow can be driven and checked without a window.

mod jobs;
mod map;

use std::path::PathBuf;
use std::sync::Arc;

use faceemo_data::{LabelOrder, Release};
use faceemo_hub::HubSettings;
use faceemo_inversion::{InversionSettings, PixelComparison, Reconstruction, StepReport};
use faceemo_jobs::CancelToken;
use faceemo_model::BackendChoice;
use faceemo_projection::MapCache;
use faceemo_shift::{AxisGroup, AxisSpec, ShiftReport};
use image::RgbImage;

pub use jobs::{JobBoard, JobEntry, Slot};
pub use map::{Embedding, EmbeddingState, FitRequest, MapMethod, MapState};

use crate::event::{Event, EventKind, JobId, Outcome, Partial};
use crate::paths::file_name;
use crate::points::Colouring;
use crate::projection::{Placement, Projection};
use crate::settings::{MAX_INVERSION_STEPS, MAX_POINT_RADIUS, Settings};
use crate::shift_lab::{SelectionSide, ShiftLab, Side};
use crate::work::{
    InversionTarget, LoadedRelease, ModelInfo, ModelWork, Output, PredictedImage, ReleaseSource,
    SortedPaths, Work,
};

/// How a session starts.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    /// Release files or folders (and face images) to open (`faceemo open PATH…`).
    pub sources: Vec<PathBuf>,
    /// A model folder or hub id to load.
    pub model: Option<String>,
    /// Open the synthetic demo set, ignoring the cache and the last run.
    pub demo: bool,
    /// Look in the Hugging Face cache for the release and the model when nothing else is
    /// given.
    pub use_cache: bool,
    /// Where finished maps are kept (default: `~/.cache/faceemo/maps`).
    pub map_cache: Option<PathBuf>,
}

/// What the shell carries out for the core.
pub enum Command {
    /// Run a job on a worker.
    Run(Job),
}

/// A job to run: its id (the stamp of every event it sends), the thread's name, the token
/// that stops it, and the work.
pub struct Job {
    /// The stamp its events carry.
    pub id: JobId,
    /// The worker thread's name.
    pub name: &'static str,
    /// Set when the user cancels it.
    pub cancel: CancelToken,
    /// What to do.
    pub work: Work,
}

/// Where a reconstruction's target comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReconstructFrom {
    /// The dropped image.
    DroppedImage,
    /// The first selected released sample.
    Selection,
}

/// What the user asks of the domain-shift lab.
#[derive(Clone, Debug, PartialEq)]
pub enum ShiftIntent {
    /// Measure the release (again).
    Measure,
    /// Make the map's selection side A or B of the comparison.
    SetSide(Side),
    /// Make a group (a dataset, split or emotion: an index into the lab's groups) or, with
    /// `None`, the rest (every row not on the other side) side A or B.
    SetSideGroup(Side, Option<usize>),
    /// Compare A with B.
    Compare,
    /// Write every table as CSV (and `report.json`) into this folder.
    Export(PathBuf),
}

/// What the user asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Intent {
    /// Open dropped, typed or chosen paths by what they are: images are predicted, model
    /// folders loaded, release files and folders added to the release.
    OpenPaths(Vec<PathBuf>),
    /// Open these release sources instead of what is open (a recent source).
    OpenSources(Vec<PathBuf>),
    /// Open the synthetic demo set.
    OpenDemo,
    /// Download the release from the hub and open it.
    DownloadRelease,
    /// Load a model folder or hub id.
    LoadModel(String),
    /// Where the next model loads: "auto", "wgpu" or "cpu".
    SetBackend(String),
    /// Colour the points by this.
    SetColouring(Colouring),
    /// Hide or show one group of the colouring.
    ToggleGroup(usize),
    /// Half a point's side, in pixels.
    SetPointRadius(usize),
    /// Steps of the next reconstruction.
    SetInversionSteps(usize),
    /// Stop the next reconstruction once its cosine reaches this (`None`: run every step).
    SetUntilCosine(Option<f64>),
    /// Show this map (t-SNE is computed the first time).
    ShowMap(MapMethod),
    /// Make the PCA map again (after it was cancelled or failed).
    Reproject,
    /// Fit the view to the data.
    FitView,
    /// Draw the shift axes: datasets `(from, to)` across, emotions `(from, to)` up.
    DrawAxes {
        /// Datasets at the ends of the horizontal axis.
        x: (String, String),
        /// Emotions at the ends of the vertical axis.
        y: (String, String),
    },
    /// Select exactly these points.
    Select(Vec<usize>),
    /// Select the point nearest `at` within `reach` (map units), or nothing.
    SelectAt {
        /// Where, on the map shown.
        at: [f64; 2],
        /// How far away a point may be.
        reach: f64,
    },
    /// Select the points in the rectangle spanned by two corners.
    SelectBox([f64; 2], [f64; 2]),
    /// Select the points inside a polygon (even–odd rule).
    SelectLasso(Vec<[f64; 2]>),
    /// Reconstruct an image from a feature.
    Reconstruct(ReconstructFrom),
    /// Stop a job.
    Cancel(JobId),
    /// Write the selected samples as CSV.
    ExportSelection(PathBuf),
    /// Write the finished reconstruction as PNG.
    SaveReconstruction(PathBuf),
    /// Write a picture (the lab window as shown) as PNG.
    SavePicture {
        /// The picture.
        image: Arc<RgbImage>,
        /// The file.
        path: PathBuf,
        /// What it is, for the message.
        what: String,
    },
    /// Something for the domain-shift lab.
    Shift(ShiftIntent),
    /// Show a message (a problem the shell met, such as a missing file chooser).
    Tell(Message),
    /// Dismiss message `index` (oldest first).
    Dismiss(usize),
    /// Dismiss every message.
    DismissAll,
    /// Start a job that panics, on a worker or in the model worker (fault injection: how
    /// tests prove that a panic is survived).
    #[doc(hidden)]
    InjectPanic {
        /// Whether the panic happens in the model worker.
        in_model_worker: bool,
    },
}

/// A message for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// What happened.
    pub text: String,
    /// Whether it is an error (else a note).
    pub is_error: bool,
}

/// The dropped image and what became of it.
#[derive(Default)]
pub struct ImageLab {
    /// The image and the model's prediction.
    pub image: Option<Arc<PredictedImage>>,
    /// Its place on the PCA map and its nearest released samples.
    pub placement: Option<Placement>,
    /// The reconstruction, running or finished.
    pub inversion: Option<InversionRun>,
}

/// One reconstruction, running or finished.
pub struct InversionRun {
    /// The job making it.
    pub job: JobId,
    /// What is being reconstructed, in words.
    pub subject: String,
    /// The original image, when there is one.
    pub original: Option<Arc<RgbImage>>,
    /// Every step's report so far.
    pub curve: Vec<StepReport>,
    /// Steps planned.
    pub steps: usize,
    /// The newest preview.
    pub preview: Option<Arc<RgbImage>>,
    /// The result, once finished (or stopped).
    pub result: Option<Reconstruction>,
    /// The result's image.
    pub image: Option<Arc<RgbImage>>,
    /// PSNR and SSIM against the original.
    pub pixels: Option<PixelComparison>,
    /// When it was asked for (its speed is counted from there).
    pub started: std::time::Instant,
}

impl InversionRun {
    /// Steps a second so far, once a step is done.
    pub fn steps_per_second(&self) -> Option<f64> {
        let seconds = self.started.elapsed().as_secs_f64();
        (!self.curve.is_empty() && seconds > 0.0).then(|| self.curve.len() as f64 / seconds)
    }

    /// Seconds left at the speed so far (an upper bound when it stops at a cosine).
    pub fn seconds_left(&self) -> Option<f64> {
        let rate = self.steps_per_second()?;
        Some(self.steps.saturating_sub(self.curve.len()) as f64 / rate)
    }
}

/// The workbench: one session's state, driven by intents and events.
pub struct Workbench {
    settings: Settings,
    map_cache: Option<MapCache>,
    release: Option<Arc<Release>>,
    sources: Vec<PathBuf>,
    map: MapState,
    model: Option<ModelInfo>,
    lab: ImageLab,
    shift: ShiftLab,
    jobs: JobBoard,
    messages: Vec<Message>,
    /// The newest job that asked for a release (a load, or sorting dropped paths): an older
    /// sorting that finds release files after it does not open them.
    release_asked: JobId,
}

/// Shorthand for the commands an intent or event leads to.
type Commands = Vec<Command>;

impl Workbench {
    /// A workbench with these settings (brought into range) and map cache.
    pub fn new(settings: Settings, map_cache: Option<MapCache>) -> Self {
        Self {
            settings: settings.validated(),
            map_cache,
            release: None,
            sources: Vec::new(),
            map: MapState::default(),
            model: None,
            lab: ImageLab::default(),
            shift: ShiftLab::default(),
            jobs: JobBoard::default(),
            messages: Vec::new(),
            release_asked: 0,
        }
    }

    /// Starts the session: the model first (the model worker takes jobs in order, so images
    /// given on the command line are predicted once it has loaded), then the release: the
    /// paths given (face images among them are predicted; images alone open no release),
    /// else the demo set when asked, else the last sources opened when they
    /// still exist, else the release in the Hugging Face cache, else the demo set.
    pub fn start(&mut self, options: StartOptions) -> Commands {
        let hub = options
            .use_cache
            .then(HubSettings::from_env)
            .and_then(Result::ok);
        let mut commands = Vec::new();
        match options
            .model
            .clone()
            .or_else(|| self.settings.model.clone())
        {
            Some(spec) => commands.extend(self.load_model(spec, false)),
            None if hub.is_some() => {
                commands.extend(self.load_model(faceemo_model::FACEEMO_MODEL_ID.to_owned(), true));
            }
            None => {}
        }
        // Face images alone open no release: the release comes from what follows.
        let opens_release = !options
            .sources
            .iter()
            .all(|p| crate::paths::has_image_extension(p));
        if !options.sources.is_empty() {
            commands.extend(self.handle(Intent::OpenPaths(options.sources)));
        }
        if opens_release {
            return commands;
        }
        if options.demo {
            commands.extend(self.handle(Intent::OpenDemo));
        } else {
            // Whether the last sources still exist is for the job to find out (no file
            // system on this thread): then the cache, then the demo set.
            let last = self.settings.recent_sources.first().cloned();
            let title = if last.is_some() {
                "Opening the last release"
            } else {
                "Looking for the release"
            };
            commands.extend(self.load_release(ReleaseSource::LastOrFallback { last, hub }, title));
        }
        commands
    }

    // --- What the panels read -------------------------------------------------------

    /// The open release.
    pub fn release(&self) -> Option<&Arc<Release>> {
        self.release.as_ref()
    }

    /// The paths the open release came from (empty for the demo set).
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }

    /// What persists between runs.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The maps, the selection and the view.
    pub fn map(&self) -> &MapState {
        &self.map
    }

    /// The PCA map, once made.
    pub fn projection(&self) -> Option<&Arc<Projection>> {
        self.map.projection.as_ref()
    }

    /// The dropped image, its placement and the reconstruction.
    pub fn lab(&self) -> &ImageLab {
        &self.lab
    }

    /// The domain-shift lab.
    pub fn shift(&self) -> &ShiftLab {
        &self.shift
    }

    /// The domain-shift report of the open release, once measured.
    pub fn shift_report(&self) -> Option<&ShiftReport> {
        self.shift.measured.as_ref().map(|m| &*m.report)
    }

    /// Whether the lab is measuring or comparing.
    pub fn shift_running(&self) -> bool {
        self.jobs.running(Slot::ShiftReport) || self.jobs.running(Slot::ShiftCompare)
    }

    /// The loaded model.
    pub fn model(&self) -> Option<&ModelInfo> {
        self.model.as_ref()
    }

    /// Whether a model is loading.
    pub fn model_loading(&self) -> bool {
        self.jobs.running(Slot::ModelLoad)
    }

    /// The running jobs.
    pub fn jobs(&self) -> &[JobEntry] {
        self.jobs.entries()
    }

    /// Whether `slot`'s current job is running.
    pub fn running(&self, slot: Slot) -> bool {
        self.jobs.running(slot)
    }

    /// Whether any job is running.
    pub fn is_busy(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// Messages, oldest first.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The dropped image's place on the map shown.
    pub fn dropped_image_position(&self) -> Option<[f32; 2]> {
        let image = self.lab.image.as_ref()?;
        match self.map.method {
            MapMethod::Pca => self.lab.placement.as_ref()?.position,
            MapMethod::Tsne => self.map.tsne.dropped_image,
            MapMethod::Umap => self.map.umap.dropped_image,
            MapMethod::ShiftAxes => self.map.axes.as_ref()?.axes.place(&image.prediction.cls),
        }
    }

    /// The dropped image's predicted label.
    pub fn dropped_image_label(&self) -> Option<&str> {
        let image = self.lab.image.as_ref()?;
        self.model
            .as_ref()?
            .labels
            .get(image.prediction.class_index)
            .map(String::as_str)
    }

    /// The finished reconstruction.
    pub fn reconstruction(&self) -> Option<&Reconstruction> {
        self.lab.inversion.as_ref()?.result.as_ref()
    }

    /// The point of the map shown nearest `at` within `reach` (the grid built with the
    /// layout: no scan of every point).
    pub fn point_at(&self, at: [f64; 2], reach: f64) -> Option<usize> {
        let (layout, _, _) = self.map.shown()?;
        layout.grid.nearest(&layout.positions, at, reach)
    }

    /// A point described for its tooltip: sample id, dataset, emotion, the prediction with
    /// its probability, split and row.
    pub fn describe_point(&self, point: usize) -> Option<String> {
        let release = self.release.as_ref()?;
        let projection = self.map.projection.as_ref()?;
        let source = projection.points.sources.get(point)?;
        let split = release.splits.get(source.split)?;
        let sample = split.samples.as_ref().and_then(|s| s.get(source.row));
        let predicted = projection
            .points
            .group_name(Colouring::Prediction, point)
            .unwrap_or("?");
        let probability = release
            .labels
            .labels
            .iter()
            .position(|label| label.name() == predicted)
            .and_then(|class| split.probs.row(source.row).get(class).copied())
            .unwrap_or(f32::NAN);
        Some(format!(
            "{}\ndataset: {}\nemotion: {}\npredicted: {predicted} ({:.1} %)\nsplit: {}, row {}",
            sample.map_or("(no metadata)", |s| &*s.sample_id),
            sample.map_or("?", |s| &*s.dataset),
            sample.map_or("?", |s| s.emotion.name()),
            100.0 * probability,
            split.kind,
            source.row,
        ))
    }

    /// Names of the hidden groups of the current colouring.
    pub fn hidden_groups(&self) -> Vec<String> {
        let Some(projection) = &self.map.projection else {
            return Vec::new();
        };
        projection
            .points
            .group_names(self.settings.colouring)
            .iter()
            .zip(&self.map.hidden)
            .filter(|(_, hidden)| **hidden)
            .map(|(name, _)| name.clone())
            .collect()
    }

    // --- Intents ----------------------------------------------------------------------

    /// Carries out what the user asked for; returns the jobs to run.
    pub fn handle(&mut self, intent: Intent) -> Commands {
        match intent {
            Intent::OpenPaths(paths) => {
                let open = self.sources.clone();
                let title = format!(
                    "Opening {}",
                    paths
                        .iter()
                        .map(|p| file_name(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let commands = self.run(
                    Slot::Paths,
                    title,
                    "sort paths",
                    Work::SortPaths { paths, open },
                );
                self.remember_release_request(&commands);
                commands
            }
            Intent::OpenSources(sources) => {
                self.load_release(ReleaseSource::Paths(sources), "Loading the release")
            }
            Intent::OpenDemo => self.load_release(ReleaseSource::Demo, "Generating the demo set"),
            Intent::DownloadRelease => self.load_release(
                ReleaseSource::Download,
                "Downloading the release from Hugging Face",
            ),
            Intent::LoadModel(spec) => self.load_model(spec, false),
            Intent::SetBackend(backend) => {
                self.settings.backend = backend;
                self.settings = std::mem::take(&mut self.settings).validated();
                Vec::new()
            }
            Intent::Reconstruct(from) => self.reconstruct(from),
            Intent::Cancel(id) => {
                self.jobs.cancel(id);
                Vec::new()
            }
            Intent::ExportSelection(path) => self.export_selection(path),
            Intent::SaveReconstruction(path) => {
                let Some(image) = self.lab.inversion.as_ref().and_then(|r| r.image.clone()) else {
                    self.error("there is no finished reconstruction to save");
                    return Vec::new();
                };
                self.save_png(image, path, "the reconstruction")
            }
            Intent::SavePicture { image, path, what } => self.save_png(image, path, &what),
            Intent::Shift(intent) => self.on_shift_intent(intent),
            Intent::Tell(message) => {
                self.messages.push(message);
                Vec::new()
            }
            Intent::Dismiss(index) => {
                if index < self.messages.len() {
                    self.messages.remove(index);
                }
                Vec::new()
            }
            Intent::DismissAll => {
                self.messages.clear();
                Vec::new()
            }
            map_intent @ (Intent::SetColouring(_)
            | Intent::ToggleGroup(_)
            | Intent::SetPointRadius(_)
            | Intent::SetInversionSteps(_)
            | Intent::SetUntilCosine(_)
            | Intent::ShowMap(_)
            | Intent::Reproject
            | Intent::FitView
            | Intent::DrawAxes { .. }
            | Intent::Select(_)
            | Intent::SelectAt { .. }
            | Intent::SelectBox(..)
            | Intent::SelectLasso(_)) => self.on_view_intent(map_intent),
            Intent::InjectPanic { in_model_worker } => {
                let message = "injected to test that a panic is survived".to_owned();
                let work = if in_model_worker {
                    Work::Model(ModelWork::Panic(message))
                } else {
                    Work::Panic(message)
                };
                self.run(Slot::Probe, "Probing a panic", "panic probe", work)
            }
        }
    }

    /// What the user asks of the map, the selection and the settings that shape them.
    fn on_view_intent(&mut self, intent: Intent) -> Commands {
        match intent {
            Intent::SetColouring(colouring) => {
                self.settings.colouring = colouring;
                self.map.reset_hidden(colouring);
                Vec::new()
            }
            Intent::ToggleGroup(group) => {
                if let Some(hidden) = self.map.hidden.get_mut(group) {
                    *hidden = !*hidden;
                    self.map.restyle();
                }
                Vec::new()
            }
            Intent::SetPointRadius(radius) => {
                self.settings.point_radius = radius.min(MAX_POINT_RADIUS);
                self.map.restyle();
                Vec::new()
            }
            Intent::SetInversionSteps(steps) => {
                self.settings.inversion_steps = steps.clamp(1, MAX_INVERSION_STEPS);
                Vec::new()
            }
            Intent::SetUntilCosine(cosine) => {
                self.settings.until_cosine = cosine;
                self.settings = std::mem::take(&mut self.settings).validated();
                Vec::new()
            }
            Intent::ShowMap(method) => self.show_map(method),
            Intent::Reproject => self.start_projection(),
            Intent::FitView => {
                self.map.request_fit(true);
                Vec::new()
            }
            Intent::DrawAxes { x, y } => self.draw_axes(x, y),
            Intent::Select(points) => self.select(points),
            Intent::SelectAt { at, reach } => {
                let picked = self.point_at(at, reach);
                self.select(picked.into_iter().collect())
            }
            Intent::SelectBox(a, b) => {
                let found = self
                    .map
                    .shown()
                    .map(|(layout, _, _)| layout.grid.in_box(&layout.positions, a, b));
                self.select(found.unwrap_or_default())
            }
            Intent::SelectLasso(polygon) => {
                let found = self
                    .map
                    .shown()
                    .map(|(layout, _, _)| layout.grid.in_polygon(&layout.positions, &polygon));
                self.select(found.unwrap_or_default())
            }
            _ => Vec::new(),
        }
    }

    /// Registers a job and returns the command that runs it.
    fn run(
        &mut self,
        slot: Slot,
        title: impl Into<String>,
        name: &'static str,
        work: Work,
    ) -> Commands {
        let (id, cancel) = self.jobs.open(slot, title);
        vec![Command::Run(Job {
            id,
            name,
            cancel,
            work,
        })]
    }

    fn error(&mut self, text: impl Into<String>) {
        let text = text.into();
        eprintln!("error: {text}");
        self.messages.push(Message {
            text,
            is_error: true,
        });
    }

    fn note(&mut self, text: impl Into<String>) {
        self.messages.push(Message {
            text: text.into(),
            is_error: false,
        });
    }

    /// The order of the logits' columns: the loaded model's `id2label`, else the release's
    /// documented order.
    fn label_order(&self) -> LabelOrder {
        self.model
            .as_ref()
            .and_then(|m| m.label_order.clone())
            .unwrap_or_else(LabelOrder::release_default)
    }

    fn load_release(&mut self, source: ReleaseSource, title: &str) -> Commands {
        let labels = self.label_order();
        let downloads = matches!(source, ReleaseSource::Download);
        let commands = self.run(
            Slot::Release,
            title,
            "load release",
            Work::LoadRelease { source, labels },
        );
        if downloads && let Some(Command::Run(job)) = commands.first() {
            self.jobs
                .stops_later(job.id, "after the file it is downloading");
        }
        self.remember_release_request(&commands);
        commands
    }

    fn remember_release_request(&mut self, commands: &[Command]) {
        if let Some(Command::Run(job)) = commands.first() {
            self.release_asked = self.release_asked.max(job.id);
        }
    }

    fn load_model(&mut self, spec: String, only_if_cached: bool) -> Commands {
        let backend = self.settings.backend.parse().unwrap_or(BackendChoice::Auto);
        let title = format!("Loading the model {spec}");
        self.run(
            Slot::ModelLoad,
            title,
            "model",
            Work::Model(ModelWork::Load {
                spec,
                backend,
                only_if_cached,
            }),
        )
    }

    fn predict(&mut self, path: PathBuf) -> Commands {
        if self.model.is_none() && !self.model_loading() {
            self.error(format!(
                "cannot predict {}: no model is loaded (Model > Open model folder, or load the FaceEmo model)",
                path.display()
            ));
            return Vec::new();
        }
        let title = format!("Predicting {}", file_name(&path));
        self.run(
            Slot::Predict,
            title,
            "model",
            Work::Model(ModelWork::Predict(path)),
        )
    }

    fn start_projection(&mut self) -> Commands {
        let Some(release) = self.release.clone() else {
            return Vec::new();
        };
        self.map.pca_stopped = None;
        self.run(
            Slot::Projection,
            "Projecting (PCA)",
            "project",
            Work::Project(release),
        )
    }

    fn start_shift_report(&mut self) -> Commands {
        let Some(release) = self.release.clone() else {
            return Vec::new();
        };
        self.shift.failure = None;
        self.run(
            Slot::ShiftReport,
            "Measuring domain shift",
            "domain shift",
            Work::MeasureShift(release),
        )
    }

    fn show_map(&mut self, method: MapMethod) -> Commands {
        if self.map.method != method {
            self.map.method = method;
            self.map.request_fit(true);
            self.map.restyle();
        }
        let Some(embedding) = method.embedding() else {
            return Vec::new();
        };
        let wanted =
            self.map.embedding(embedding).map.is_none() && !self.jobs.running(embedding.slot());
        let Some(release) = self.release.clone().filter(|_| wanted) else {
            return Vec::new();
        };
        let cache = self.map_cache.clone();
        self.run(
            embedding.slot(),
            format!("{} of every point", embedding.name()),
            embedding.name(),
            Work::Embed {
                embedding,
                release,
                cache,
            },
        )
    }

    fn draw_axes(&mut self, x: (String, String), y: (String, String)) -> Commands {
        let Some(release) = self.release.clone() else {
            return Vec::new();
        };
        let x = AxisSpec {
            group: AxisGroup::Dataset,
            from: x.0,
            to: x.1,
        };
        let y = AxisSpec {
            group: AxisGroup::Emotion,
            from: y.0,
            to: y.1,
        };
        self.run(
            Slot::Axes,
            "Projecting on the shift axes",
            "shift axes",
            Work::DrawAxes { release, x, y },
        )
    }

    /// Replaces the selection; one selected point gets its nearest samples looked up.
    fn select(&mut self, points: Vec<usize>) -> Commands {
        self.map.select(points);
        let [point] = self.map.selection[..] else {
            self.jobs.forget(Slot::Neighbours);
            return Vec::new();
        };
        if self
            .map
            .sample_neighbours
            .as_ref()
            .is_some_and(|(p, _)| *p == point)
        {
            return Vec::new();
        }
        let (Some(release), Some(projection)) = (self.release.clone(), self.map.projection.clone())
        else {
            return Vec::new();
        };
        self.run(
            Slot::Neighbours,
            "Finding the selected sample's neighbours",
            "sample neighbours",
            Work::SampleNeighbours {
                release,
                projection,
                point,
            },
        )
    }

    fn export_selection(&mut self, path: PathBuf) -> Commands {
        let (Some(release), Some(projection)) = (self.release.clone(), self.map.projection.clone())
        else {
            self.error("there is nothing to export: no map yet");
            return Vec::new();
        };
        if self.map.selection.is_empty() {
            self.error("select points on the map first");
            return Vec::new();
        }
        let selection = Arc::clone(&self.map.selection);
        let title = format!("Writing {}", file_name(&path));
        self.run(
            Slot::Output,
            title,
            "export selection",
            Work::ExportSelection {
                release,
                projection,
                selection,
                path,
            },
        )
    }

    fn save_png(&mut self, image: Arc<RgbImage>, path: PathBuf, what: &str) -> Commands {
        let title = format!("Writing {}", file_name(&path));
        self.run(
            Slot::Output,
            title,
            "save PNG",
            Work::SavePng {
                image,
                path,
                what: what.to_owned(),
            },
        )
    }

    /// The first selected sample's feature and name.
    fn selected_feature(&self) -> Option<(Vec<f32>, String)> {
        let release = self.release.as_ref()?;
        let projection = self.map.projection.as_ref()?;
        let point = *self.map.selection.first()?;
        let source = projection.points.sources.get(point)?;
        let split = release.splits.get(source.split)?;
        let feature = split.features.row(source.row).to_vec();
        let name = split
            .samples
            .as_ref()
            .and_then(|s| s.get(source.row))
            .map_or_else(
                || format!("{}:{}", split.kind, source.row),
                |s| s.sample_id.to_string(),
            );
        Some((feature, name))
    }

    /// Starts a reconstruction; one still running is stopped and its steps are dropped.
    fn reconstruct(&mut self, from: ReconstructFrom) -> Commands {
        let (target, subject, original) = match from {
            ReconstructFrom::Selection => {
                let Some((feature, subject)) = self.selected_feature() else {
                    self.error("select a sample on the map first");
                    return Vec::new();
                };
                (InversionTarget::Features(feature), subject, None)
            }
            ReconstructFrom::DroppedImage => {
                let Some(image) = &self.lab.image else {
                    self.error("drop a face image first");
                    return Vec::new();
                };
                (
                    InversionTarget::Image(image.prediction.clone(), Arc::clone(&image.image)),
                    image.name.clone(),
                    Some(Arc::clone(&image.thumbnail)),
                )
            }
        };
        if self.model.is_none() && !self.model_loading() {
            self.error(format!(
                "cannot reconstruct {subject}: no model is loaded (Model > Open model folder)"
            ));
            return Vec::new();
        }
        let settings = InversionSettings {
            steps: self.settings.inversion_steps,
            preview_every: 5,
            until_cosine: self.settings.until_cosine,
            ..InversionSettings::default()
        };
        let steps = settings.steps;
        let commands = self.run(
            Slot::Inversion,
            format!("Reconstructing {subject}"),
            "model",
            Work::Model(ModelWork::Invert { target, settings }),
        );
        let Some(Command::Run(job)) = commands.first() else {
            return commands;
        };
        self.lab.inversion = Some(InversionRun {
            job: job.id,
            subject,
            original,
            curve: Vec::new(),
            steps,
            preview: None,
            result: None,
            image: None,
            pixels: None,
            started: std::time::Instant::now(),
        });
        commands
    }

    fn place_dropped_image(&mut self) -> Commands {
        let Some(image) = self.lab.image.clone() else {
            return Vec::new();
        };
        let mut commands = Vec::new();
        if let (Some(release), Some(projection)) =
            (self.release.clone(), self.map.projection.clone())
        {
            commands.extend(self.run(
                Slot::Placement,
                "Finding the nearest samples",
                "place image",
                Work::PlaceOnPca {
                    release,
                    projection,
                    feature: image.prediction.cls.clone(),
                },
            ));
        }
        for embedding in Embedding::ALL {
            commands.extend(self.place_on_embedding(embedding));
        }
        commands
    }

    fn place_on_embedding(&mut self, embedding: Embedding) -> Commands {
        let (Some(map), Some(image)) = (
            self.map.embedding(embedding).map.clone(),
            self.lab.image.clone(),
        ) else {
            return Vec::new();
        };
        self.run(
            embedding.placement_slot(),
            format!("Placing the image on the {} map", embedding.name()),
            "place on map",
            Work::PlaceOnEmbedding {
                embedding,
                map,
                feature: image.prediction.cls.clone(),
            },
        )
    }

    fn on_shift_intent(&mut self, intent: ShiftIntent) -> Commands {
        match intent {
            ShiftIntent::Measure => self.start_shift_report(),
            ShiftIntent::SetSide(side) => {
                let (Some(measured), Some(projection)) =
                    (&self.shift.measured, &self.map.projection)
                else {
                    return Vec::new();
                };
                let chosen =
                    measured.selection_side(&projection.points.sources, &self.map.selection);
                self.set_side(side, chosen);
                Vec::new()
            }
            ShiftIntent::SetSideGroup(side, group) => {
                let Some(measured) = &self.shift.measured else {
                    return Vec::new();
                };
                let chosen = match group {
                    Some(index) => measured.group_side(index),
                    None => Some(SelectionSide::rest()),
                };
                if let Some(chosen) = chosen {
                    self.set_side(side, chosen);
                }
                Vec::new()
            }
            ShiftIntent::Compare => self.start_comparison(),
            ShiftIntent::Export(folder) => {
                let Some(measured) = &self.shift.measured else {
                    self.error("the release has not been measured yet");
                    return Vec::new();
                };
                let mut report = Box::new((*measured.report).clone());
                report.comparison.clone_from(&self.shift.comparison);
                self.run(
                    Slot::Output,
                    "Writing the domain-shift tables",
                    "export tables",
                    Work::ExportShift { report, folder },
                )
            }
        }
    }

    /// A new side: the comparison of the old sides (finished or running) no longer applies.
    fn set_side(&mut self, side: Side, chosen: SelectionSide) {
        self.shift.set_side(side, chosen);
        self.jobs.forget(Slot::ShiftCompare);
    }

    fn start_comparison(&mut self) -> Commands {
        let (Some(measured), Some(a), Some(b)) =
            (&self.shift.measured, &self.shift.side_a, &self.shift.side_b)
        else {
            return Vec::new();
        };
        if a.rest && b.rest {
            self.error("only one side of the comparison can be the rest");
            return Vec::new();
        }
        if (a.rows.is_empty() && !a.rest) || (b.rows.is_empty() && !b.rest) {
            self.error("each side of the comparison needs at least one measurable row (rows with NaN values or without metadata are left out)");
            return Vec::new();
        }
        let work = Work::CompareSides {
            data: Arc::clone(&measured.data),
            a: a.clone(),
            b: b.clone(),
        };
        self.run(
            Slot::ShiftCompare,
            "Comparing selection A with B",
            "compare selections",
            work,
        )
    }

    // --- Events -------------------------------------------------------------------------

    /// Applies what a worker reported; returns the jobs that follow from it. Events of jobs
    /// that are no longer current (asked again since, or for a release no longer open) are
    /// dropped.
    pub fn apply(&mut self, event: Event) -> Commands {
        let Event { job, kind } = event;
        match kind {
            EventKind::Progress(update) => {
                self.jobs.progress(job, update);
                Vec::new()
            }
            EventKind::Partial(partial) => {
                self.on_partial(job, partial);
                Vec::new()
            }
            EventKind::Ended(outcome) => {
                let Some((entry, current)) = self.jobs.end(job) else {
                    return Vec::new();
                };
                if !current {
                    return Vec::new();
                }
                // A job asked to stop that finished anyway is still cancelled, unless its
                // slot keeps what a stopped job made.
                let outcome = match outcome {
                    Outcome::Done(_) if entry.stopping && !entry.slot.keeps_stopped_result() => {
                        Outcome::Cancelled
                    }
                    other => other,
                };
                match outcome {
                    Outcome::Done(output) => self.on_done(job, output),
                    Outcome::Cancelled => {
                        self.on_stopped(entry.slot);
                        self.note(format!("{}: cancelled", entry.title));
                        Vec::new()
                    }
                    Outcome::Failed(error) => {
                        self.on_stopped(entry.slot);
                        self.on_failed(entry.slot, &entry.title, error);
                        Vec::new()
                    }
                }
            }
        }
    }

    fn on_partial(&mut self, job: JobId, partial: Partial) {
        match partial {
            Partial::EmbeddingLayout(embedding, update)
                if self.jobs.is_current(embedding.slot(), job) =>
            {
                let state = self.map.embedding_mut(embedding);
                state.iteration = update.iteration;
                state.iterations = update.iterations;
                state.kl_divergence = update.kl_divergence;
                state.layout = Some(update.layout);
                if self.map.method == embedding.method() {
                    self.map.restyle();
                    self.map.request_fit(false);
                }
            }
            Partial::InversionStep(report, preview)
                if self.jobs.is_current(Slot::Inversion, job) =>
            {
                if let Some(run) = self.lab.inversion.as_mut().filter(|r| r.job == job) {
                    run.curve.push(report);
                    if preview.is_some() {
                        run.preview = preview;
                    }
                }
            }
            Partial::EmbeddingLayout(..) | Partial::InversionStep(..) => {}
        }
    }

    /// Puts the state a stopped job leaves back in order.
    fn on_stopped(&mut self, slot: Slot) {
        if let Some(embedding) = Embedding::of_slot(slot) {
            *self.map.embedding_mut(embedding) = EmbeddingState::default();
            if self.map.method == embedding.method() {
                self.map.method = MapMethod::Pca;
                self.map.request_fit(true);
                self.map.restyle();
            }
            return;
        }
        match slot {
            Slot::Projection => self.map.pca_stopped = Some("cancelled".to_owned()),
            Slot::Inversion
                if self
                    .lab
                    .inversion
                    .as_ref()
                    .is_some_and(|r| r.result.is_none()) =>
            {
                self.lab.inversion = None;
            }
            _ => {}
        }
    }

    fn on_failed(&mut self, slot: Slot, title: &str, error: String) {
        match slot {
            Slot::Projection => {
                self.map.pca_stopped = Some(error.clone());
                self.error(format!("cannot project the release: {error}"));
            }
            Slot::ShiftReport => {
                self.shift.failure = Some(error.clone());
                self.error(format!("cannot measure domain shift: {error}"));
            }
            Slot::ShiftCompare => self.error(format!("cannot compare the selections: {error}")),
            Slot::Release if self.release.is_some() => {
                self.error(format!("{error} (the data already open stays open)"));
            }
            Slot::Inversion => self.error(format!("reconstruction failed: {error}")),
            Slot::Release | Slot::ModelLoad | Slot::Predict | Slot::Output | Slot::Axes => {
                self.error(error);
            }
            _ => self.error(format!("{title} failed: {error}")),
        }
    }

    fn on_done(&mut self, job: JobId, output: Output) -> Commands {
        match output {
            Output::Sorted(sorted) => self.on_sorted(job, sorted),
            Output::Release(loaded) => self.on_release(loaded),
            Output::Projection(projection) => {
                if let Some(warning) = &projection.warning {
                    self.note(warning.clone());
                }
                self.map.projection = Some(projection);
                self.map.reset_hidden(self.settings.colouring);
                self.map.request_fit(true);
                self.place_dropped_image()
            }
            Output::Embedded(embedding, ready) => {
                let state = self.map.embedding_mut(embedding);
                state.layout = Some(ready.layout);
                state.kl_divergence = ready.map.kl_divergence();
                state.iteration = state.iterations.max(state.iteration);
                state.seconds = Some(ready.seconds);
                state.from_cache = ready.from_cache;
                state.map = Some(ready.map);
                if self.map.method == embedding.method() {
                    // The layout settled: fit it, unless the user has moved the view.
                    self.map.request_fit(false);
                }
                self.map.restyle();
                self.place_on_embedding(embedding)
            }
            Output::Placement(placement) => {
                if let Some(note) = &placement.note {
                    self.note(note.clone());
                }
                self.lab.placement = Some(placement);
                Vec::new()
            }
            Output::EmbeddingPlacement(embedding, position) => {
                self.map.embedding_mut(embedding).dropped_image = position;
                Vec::new()
            }
            Output::Neighbours(rows) => {
                if let [point] = self.map.selection[..] {
                    self.map.sample_neighbours = Some((point, rows));
                }
                Vec::new()
            }
            Output::Shift(measured) => {
                self.shift.measured = Some(measured);
                Vec::new()
            }
            Output::Comparison(comparison) => {
                self.shift.comparison = Some(*comparison);
                Vec::new()
            }
            Output::Axes(axes) => {
                self.map.axes = Some(axes);
                self.map.restyle();
                self.map.request_fit(true);
                Vec::new()
            }
            Output::Written(what) => {
                self.note(what);
                Vec::new()
            }
            Output::Model(None) => Vec::new(),
            Output::Model(Some(info)) => self.on_model(info),
            Output::Predicted(predicted) => {
                self.lab.image = Some(predicted);
                self.lab.placement = None;
                self.map.tsne.dropped_image = None;
                self.map.umap.dropped_image = None;
                self.place_dropped_image()
            }
            Output::Inverted(inversion) => {
                if let Some(run) = self.lab.inversion.as_mut().filter(|r| r.job == job) {
                    run.image = Some(inversion.image);
                    run.result = Some(inversion.reconstruction);
                    run.pixels = inversion.pixels;
                }
                Vec::new()
            }
        }
    }

    fn on_sorted(&mut self, job: JobId, sorted: SortedPaths) -> Commands {
        let SortedPaths {
            images,
            models,
            release,
            problems,
            notes,
        } = sorted;
        for problem in problems {
            self.error(problem);
        }
        for note in notes {
            self.note(note);
        }
        let mut commands = Vec::new();
        for model in models {
            commands.extend(self.load_model(model.display().to_string(), false));
        }
        for image in images {
            commands.extend(self.predict(image));
        }
        // A release asked for since this drop wins over the files it found.
        if let Some((files, sources)) = release.filter(|_| job >= self.release_asked) {
            commands.extend(self.load_release(
                ReleaseSource::Files { files, sources },
                "Loading the release",
            ));
        }
        commands
    }

    fn on_release(&mut self, loaded: LoadedRelease) -> Commands {
        // Loaded while the model was still loading: its columns follow the documented
        // order, and the model's id2label may say otherwise.
        let wanted = self.label_order();
        if !loaded.release.is_synthetic()
            && !loaded.sources.is_empty()
            && self.model.as_ref().is_some_and(|m| m.label_order.is_some())
            && loaded.release.labels.labels != wanted.labels
        {
            self.note(
                "reloading the release: the model's id2label orders the emotions differently",
            );
            return self.load_release(ReleaseSource::Paths(loaded.sources), "Loading the release");
        }
        for warning in &loaded.release.warnings {
            self.note(warning.clone());
        }
        self.settings.remember_sources(&loaded.sources);
        self.sources = loaded.sources;
        self.release = Some(loaded.release);
        for slot in Slot::OF_RELEASE {
            self.jobs.forget(slot);
        }
        self.map.clear();
        self.lab.placement = None;
        self.shift = ShiftLab::default();
        let mut commands = self.start_projection();
        commands.extend(self.start_shift_report());
        commands
    }

    /// A release loaded before the model named its logits' columns in the documented order;
    /// when the model's `id2label` says otherwise, it is loaded again in the model's order.
    fn on_model(&mut self, info: ModelInfo) -> Commands {
        let stale_order = info.label_order.as_ref().is_some_and(|order| {
            self.release.as_ref().is_some_and(|release| {
                !release.is_synthetic() && release.labels.labels != order.labels
            })
        });
        self.settings.model = Some(info.spec.clone());
        self.model = Some(info);
        // A release still loading is checked when it arrives (`on_release`).
        if stale_order && !self.sources.is_empty() && !self.jobs.running(Slot::Release) {
            self.note(
                "reloading the release: the model's id2label orders the emotions differently",
            );
            let sources = self.sources.clone();
            return self.load_release(ReleaseSource::Paths(sources), "Loading the release");
        }
        Vec::new()
    }
}

//! The workbench window: state, the event loop that applies workers' results, and the
//! panels that draw it. The UI thread alone changes this state; everything slow runs in
//! [`worker`] threads.

mod data_panel;
mod lab;
mod map;
mod menu;
mod palette;
mod points;
mod projection;
mod raster;
mod settings;
mod shift_view;
mod status;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use faceemo_data::{LabelOrder, Release, ReleaseFiles};
use faceemo_inversion::{InversionSettings, Reconstruction, StepReport};
use faceemo_jobs::{CancelToken, ProgressUpdate};
use faceemo_model::BackendChoice;

pub use map::PointLayer;
pub use points::{Colouring, MapPoints};
pub use projection::{NeighbourRow, Placement, Projection};
pub use raster::{PointStyle, RasterView, rasterize};
pub use settings::Settings;
use worker::{Event, InversionTarget, ModelCommand, ModelInfo, PredictedImage, Stamp, Workers};

/// How the window starts.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    /// Release files or folders to open (`faceemo open PATH…`).
    pub sources: Vec<PathBuf>,
    /// A model folder or hub id to load.
    pub model: Option<String>,
    /// Open the synthetic demo set, ignoring the cache and the last run.
    pub demo: bool,
    /// Look in the Hugging Face cache for the release and the model when nothing else is given.
    pub use_cache: bool,
    /// Where finished maps are kept (default: `~/.cache/faceemo/maps`).
    pub map_cache: Option<PathBuf>,
}

/// Which map is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MapMethod {
    /// Principal components (instant).
    #[default]
    Pca,
    /// t-SNE (computed on demand, animated while it converges).
    Tsne,
    /// Two directions between groups' centroids (a dataset pair across, an emotion pair up).
    ShiftAxes,
}

/// A map's positions (one per row) with its x and y axis labels.
type LabelledLayout = (Arc<Vec<[f32; 2]>>, String, String);

/// The shift-axes map: the ends the user picked and the map drawn from them.
#[derive(Default)]
struct AxesState {
    /// Datasets at the ends of the horizontal axis.
    x_ends: (String, String),
    /// Emotions at the ends of the vertical axis.
    y_ends: (String, String),
    axes: Option<Arc<faceemo_shift::ShiftAxes>>,
    layout: Option<Arc<Vec<[f32; 2]>>>,
    /// The axis labels of the drawn map.
    labels: (String, String),
    /// Counts the Draw requests: only the newest one's map is shown.
    requests: u64,
}

/// The t-SNE map of the current release, running or finished.
#[derive(Default)]
struct TsneState {
    layout: Option<Arc<Vec<[f32; 2]>>>,
    iteration: usize,
    iterations: usize,
    kl_divergence: Option<f64>,
    map: Option<Arc<faceemo_projection::TsneMap>>,
    seconds: Option<f64>,
    cancel: Option<CancelToken>,
    dropped_image: Option<[f32; 2]>,
}

/// A job the status bar shows.
struct JobEntry {
    id: worker::JobId,
    title: String,
    progress: Option<ProgressUpdate>,
    cancel: CancelToken,
}

/// A message for the user, dismissible.
struct Message {
    text: String,
    is_error: bool,
}

/// The dropped image and what became of it.
#[derive(Default)]
struct Lab {
    image: Option<LabImage>,
    placement: Option<Placement>,
    inversion: Option<InversionRun>,
}

struct LabImage {
    predicted: PredictedImage,
    texture: egui::TextureHandle,
}

/// One reconstruction, running or finished.
struct InversionRun {
    /// What is being reconstructed, in words.
    subject: String,
    /// The original image, when there is one.
    original: Option<egui::TextureHandle>,
    curve: Vec<StepReport>,
    steps: usize,
    preview: Option<egui::TextureHandle>,
    result: Option<Reconstruction>,
    /// PSNR and SSIM against the original, computed once by the worker.
    pixels: Option<faceemo_inversion::PixelComparison>,
    result_texture: Option<egui::TextureHandle>,
    cancel: CancelToken,
}

/// The FaceEmo Workbench application.
pub struct WorkbenchApp {
    settings: Settings,
    workers: Workers,
    release: Option<Arc<Release>>,
    /// Which release and image are shown (results for others are dropped).
    stamp: Stamp,
    sources: Vec<PathBuf>,
    projection: Option<Arc<Projection>>,
    tsne: TsneState,
    map_cache: Option<faceemo_projection::MapCache>,
    map: map::MapState,
    model: Option<ModelInfo>,
    model_loading: bool,
    lab: Lab,
    jobs: Vec<JobEntry>,
    messages: Vec<Message>,
    typed_path: String,
    typed_model: String,
    map_export_path: String,
    recon_path: String,
    dialog: Option<menu::PendingDialog>,
    /// The Domain shift lab window.
    shift: shift_view::ShiftView,
    /// The job measuring domain shift (or comparing selections), while it runs, and how to
    /// stop it.
    shift_job: Option<(worker::JobId, CancelToken)>,
    /// The nearest released samples of the one selected point, once found.
    sample_neighbours: Option<(usize, Vec<NeighbourRow>)>,
    /// The point whose neighbours were asked for last.
    neighbours_requested: Option<usize>,
    axes: AxesState,
}

impl WorkbenchApp {
    /// Creates the app and starts loading what `options` (or the last run) says.
    pub fn new(cc: &eframe::CreationContext<'_>, options: StartOptions) -> Self {
        let settings: Settings = cc
            .storage
            .and_then(|storage| eframe::get_value::<Settings>(storage, eframe::APP_KEY))
            .unwrap_or_default()
            .validated();
        let mut app = Self {
            map: map::MapState::new(&settings),
            settings,
            workers: Workers::start(cc.egui_ctx.clone()),
            release: None,
            stamp: Stamp::default(),
            sources: Vec::new(),
            projection: None,
            tsne: TsneState::default(),
            map_cache: options
                .map_cache
                .clone()
                .or_else(faceemo_projection::MapCache::default_location)
                .map(faceemo_projection::MapCache::new),
            model: None,
            model_loading: false,
            lab: Lab::default(),
            jobs: Vec::new(),
            messages: Vec::new(),
            typed_path: String::new(),
            typed_model: String::new(),
            map_export_path: "selection.csv".to_owned(),
            recon_path: "reconstruction.png".to_owned(),
            dialog: None,
            shift: shift_view::ShiftView::default(),
            shift_job: None,
            sample_neighbours: None,
            neighbours_requested: None,
            axes: AxesState::default(),
        };
        app.start(options);
        app
    }

    fn start(&mut self, options: StartOptions) {
        let hub = options
            .use_cache
            .then(faceemo_hub::HubSettings::from_env)
            .and_then(Result::ok);
        // The model first: the model worker takes commands in order, so images given on
        // the command line are predicted once it has loaded.
        let model = options
            .model
            .clone()
            .or_else(|| self.settings.model.clone())
            .or_else(|| {
                let hub = hub.as_ref()?;
                let repo = faceemo_hub::HubRepo::model(faceemo_model::FACEEMO_MODEL_ID);
                faceemo_hub::cached_snapshot(hub, &repo)
                    .map(|_| faceemo_model::FACEEMO_MODEL_ID.to_owned())
            });
        if let Some(model) = model {
            self.load_model(model);
        }
        if self.open_paths(options.sources) {
            return;
        }
        if options.demo {
            self.open_demo();
        } else if let Some(last) = self
            .settings
            .recent_sources
            .first()
            .filter(|s| s.iter().all(|p| p.exists()))
            .cloned()
        {
            self.open_sources(last);
        } else if let Some(files) = hub.as_ref().and_then(faceemo_data::find_release_in_cache) {
            let sources = files.files_to_read().cloned().collect();
            self.load_release_files(files, sources);
        } else {
            self.open_demo();
        }
    }

    /// The loaded release, if any.
    pub fn release(&self) -> Option<&Release> {
        self.release.as_deref()
    }

    /// The current map, once projected.
    pub fn projection(&self) -> Option<&Projection> {
        self.projection.as_deref()
    }

    /// The loaded model's description, if any.
    pub fn model_backend(&self) -> Option<&str> {
        self.model.as_ref().map(|m| m.backend.as_str())
    }

    /// The Domain shift lab's last report, once measured.
    pub fn shift_report(&self) -> Option<&faceemo_shift::ShiftReport> {
        self.shift.measured.as_ref().map(|m| &*m.report)
    }

    /// The lab's last comparison of two selections.
    pub fn shift_comparison(&self) -> Option<&faceemo_shift::Comparison> {
        self.shift.comparison.as_ref()
    }

    /// The nearest released samples of the one selected point: `(point, neighbours)`.
    pub fn sample_neighbours(&self) -> Option<(usize, &[NeighbourRow])> {
        self.sample_neighbours
            .as_ref()
            .map(|(point, rows)| (*point, rows.as_slice()))
    }

    /// The shift-axes map's positions (one per row) and axis labels, once drawn.
    pub fn shift_axes_map(&self) -> Option<(&[[f32; 2]], &str, &str)> {
        let layout = self.axes.layout.as_deref()?;
        Some((layout, &self.axes.labels.0, &self.axes.labels.1))
    }

    /// Messages shown to the user (errors and notes), oldest first.
    pub fn messages(&self) -> Vec<&str> {
        self.messages.iter().map(|m| m.text.as_str()).collect()
    }

    /// Whether any job is still running.
    pub fn is_busy(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// Indices of the selected points.
    pub fn selection(&self) -> &[usize] {
        &self.map.selection
    }

    /// Names of the groups hidden in the legend.
    pub fn hidden_groups(&self) -> Vec<String> {
        let Some(projection) = &self.projection else {
            return Vec::new();
        };
        let names = projection.points.group_names(self.map.colouring);
        names
            .iter()
            .zip(&self.map.hidden)
            .filter(|(_, hidden)| **hidden)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The map shown.
    pub fn map_method(&self) -> MapMethod {
        self.map.method
    }

    /// The t-SNE iteration reached and whether the map is finished.
    pub fn tsne_progress(&self) -> (usize, bool) {
        (self.tsne.iteration, self.tsne.map.is_some())
    }

    /// The t-SNE layout when the t-SNE map is the one shown.
    fn shown_tsne_layout(&self) -> Option<Arc<Vec<[f32; 2]>>> {
        (self.map.method == MapMethod::Tsne)
            .then(|| self.tsne.layout.clone())
            .flatten()
    }

    /// The positions of the map shown when it is not the PCA, with its axis labels.
    fn shown_layout(&self) -> Option<LabelledLayout> {
        match self.map.method {
            MapMethod::Pca => None,
            MapMethod::Tsne => self
                .shown_tsne_layout()
                .map(|l| (l, "t-SNE 1".to_owned(), "t-SNE 2".to_owned())),
            MapMethod::ShiftAxes => self
                .axes
                .layout
                .clone()
                .map(|l| (l, self.axes.labels.0.clone(), self.axes.labels.1.clone())),
        }
    }

    /// Draws the shift-axes map for the ends picked, in the background.
    fn start_axes(&mut self) {
        let Some(release) = self.release.clone() else {
            return;
        };
        let x = faceemo_shift::AxisSpec {
            group: faceemo_shift::AxisGroup::Dataset,
            from: self.axes.x_ends.0.clone(),
            to: self.axes.x_ends.1.clone(),
        };
        let y = faceemo_shift::AxisSpec {
            group: faceemo_shift::AxisGroup::Emotion,
            from: self.axes.y_ends.0.clone(),
            to: self.axes.y_ends.1.clone(),
        };
        let cancel = CancelToken::new();
        let stamp = self.stamp.release_only();
        self.axes.requests += 1;
        let request = self.axes.requests;
        let id = self.workers.spawn("shift axes", cancel.clone(), move |_| {
            let labels = (
                format!("{} -> {}", x.from, x.to),
                format!("{} -> {}", y.from, y.to),
            );
            let result = faceemo_shift::shift_axes(&release, &x, &y)
                .map(|axes| (Arc::new(axes), labels))
                .map_err(|e| format!("cannot draw the shift axes: {e}"));
            Event::AxesReady(stamp, request, result)
        });
        self.add_job(id, "Projecting on the shift axes", cancel);
    }

    /// Shows the PCA or the t-SNE map, starting t-SNE the first time it is asked for.
    fn show_method(&mut self, method: MapMethod) {
        self.map.method = method;
        self.map.reset_view = true;
        self.map.restyle();
        if method == MapMethod::Tsne && self.tsne.cancel.is_none() && self.tsne.map.is_none() {
            self.start_tsne();
        }
    }

    fn start_tsne(&mut self) {
        let Some(release) = self.release.clone() else {
            return;
        };
        let cancel = CancelToken::new();
        let events = self.workers.events();
        let cache = self.map_cache.clone();
        let stamp = self.stamp.release_only();
        let id = self.workers.spawn("t-SNE", cancel.clone(), move |job| {
            let result = projection::run_tsne(&release, cache.as_ref(), job, &events, stamp);
            Event::TsneReady(stamp, result)
        });
        self.add_job(id, "t-SNE of every point", cancel.clone());
        self.tsne.cancel = Some(cancel);
    }

    fn place_on_tsne(&mut self) {
        let (Some(map), Some(lab)) = (self.tsne.map.clone(), self.lab.image.as_ref()) else {
            return;
        };
        let feature = lab.predicted.prediction.cls.clone();
        let cancel = CancelToken::new();
        let stamp = self.stamp;
        let id = self
            .workers
            .spawn("place on t-SNE", cancel.clone(), move |_| {
                Event::TsnePlaced(stamp, projection::place_on_tsne(&map, &feature))
            });
        self.add_job(id, "Placing the image on the t-SNE map", cancel);
    }

    /// Where the map's plot area was drawn in the last frame.
    pub fn map_rect(&self) -> Option<egui::Rect> {
        self.map.last_frame
    }

    /// The dropped image's place on the map shown, once placed.
    pub fn dropped_image_position(&self) -> Option<[f32; 2]> {
        match self.map.method {
            MapMethod::Pca => self.lab.placement.as_ref().and_then(|p| p.position),
            MapMethod::Tsne => self.tsne.dropped_image,
            MapMethod::ShiftAxes => {
                let axes = self.axes.axes.as_ref()?;
                axes.place(&self.lab.image.as_ref()?.predicted.prediction.cls)
            }
        }
    }

    /// The last reconstruction, once finished.
    pub fn reconstruction(&self) -> Option<&Reconstruction> {
        self.lab
            .inversion
            .as_ref()
            .and_then(|run| run.result.as_ref())
    }

    /// The dropped image's predicted label, once predicted.
    pub fn dropped_image_label(&self) -> Option<&str> {
        let lab = self.lab.image.as_ref()?;
        let model = self.model.as_ref()?;
        model
            .labels
            .get(lab.predicted.prediction.class_index)
            .map(String::as_str)
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

    fn add_job(&mut self, id: worker::JobId, title: &str, cancel: CancelToken) {
        self.jobs.push(JobEntry {
            id,
            title: title.to_owned(),
            progress: None,
            cancel,
        });
    }

    fn open_demo(&mut self) {
        let cancel = CancelToken::new();
        let id = self.workers.spawn("demo set", cancel.clone(), |_| {
            Event::ReleaseLoaded(Ok(worker::LoadedRelease {
                release: Arc::new(faceemo_data::synthetic_release(
                    faceemo_data::DEFAULT_DEMO_SEED,
                )),
                sources: Vec::new(),
            }))
        });
        self.add_job(id, "Generating the demo set", cancel);
    }

    /// Opens release files or folders, replacing what is loaded.
    fn open_sources(&mut self, sources: Vec<PathBuf>) {
        match ReleaseFiles::from_paths(&sources) {
            Ok(files) => self.load_release_files(files, sources),
            Err(error) => self.error(format!("cannot open {}: {error}", describe_paths(&sources))),
        }
    }

    fn load_release_files(&mut self, files: ReleaseFiles, sources: Vec<PathBuf>) {
        let labels = self.label_order();
        let cancel = CancelToken::new();
        let id = self
            .workers
            .spawn("load release", cancel.clone(), move |job| {
                load_release_event(&files, labels, sources, job)
            });
        self.add_job(id, "Loading the release", cancel);
    }

    /// The order of the logits' columns: the loaded model's `id2label`, else the release's
    /// documented order.
    fn label_order(&self) -> LabelOrder {
        self.model
            .as_ref()
            .and_then(|m| m.label_order.clone())
            .unwrap_or_else(LabelOrder::release_default)
    }

    fn load_model(&mut self, spec: String) {
        let backend = self.settings.backend.parse().unwrap_or(BackendChoice::Auto);
        let cancel = CancelToken::new();
        match self.workers.send_to_model(
            cancel.clone(),
            ModelCommand::Load {
                spec: spec.clone(),
                backend,
            },
        ) {
            Ok(id) => {
                self.add_job(id, &format!("Loading the model {spec}"), cancel);
                self.model_loading = true;
                self.settings.model = Some(spec);
            }
            Err(error) => self.error(error),
        }
    }

    /// Handles dropped or opened paths by what they are: images are predicted, model
    /// folders loaded, NPZ/CSV files and release folders added to the release. Says whether
    /// any data was among them.
    fn open_paths(&mut self, paths: Vec<PathBuf>) -> bool {
        let mut data = Vec::new();
        for path in paths {
            match classify(&path) {
                PathKind::Image => self.predict_image(&path),
                PathKind::ModelFolder => self.load_model(path.display().to_string()),
                PathKind::Data => data.push(path),
                PathKind::Unknown(reason) => {
                    self.error(format!("cannot open {}: {reason}", path.display()));
                }
            }
        }
        if data.is_empty() {
            return false;
        }
        // Added beside what is open (a user's own extracted set joins the release).
        let mut sources = self.sources.clone();
        for path in data {
            if !sources.contains(&path) {
                sources.push(path);
            }
        }
        self.open_sources(sources);
        true
    }

    fn predict_image(&mut self, path: &Path) {
        if self.model.is_none() && !self.model_loading {
            self.error(format!(
                "cannot predict {}: no model is loaded (Model > Open model folder, or download it)",
                path.display()
            ));
            return;
        }
        let cancel = CancelToken::new();
        match self
            .workers
            .send_to_model(cancel.clone(), ModelCommand::Predict(path.to_owned()))
        {
            Ok(id) => self.add_job(id, &format!("Predicting {}", file_name(path)), cancel),
            Err(error) => self.error(error),
        }
    }

    fn start_projection(&mut self) {
        let Some(release) = self.release.clone() else {
            return;
        };
        let cancel = CancelToken::new();
        let stamp = self.stamp.release_only();
        let id = self.workers.spawn("project", cancel.clone(), move |job| {
            Event::ProjectionReady(stamp, projection::project(&release, job).map(Arc::new))
        });
        self.add_job(id, "Projecting (PCA)", cancel);
    }

    /// Measures domain shift on the open release, in the background.
    fn start_shift_report(&mut self) {
        let Some(release) = self.release.clone() else {
            return;
        };
        let cancel = CancelToken::new();
        let stamp = self.stamp.release_only();
        let id = self
            .workers
            .spawn("domain shift", cancel.clone(), move |job| {
                Event::ShiftMeasured(stamp, shift_view::measure(&release, job))
            });
        self.add_job(id, "Measuring domain shift", cancel.clone());
        self.shift.running = true;
        self.shift.failure = None;
        self.replace_shift_job(id, cancel);
    }

    /// Makes `id` the lab's running job, cancelling the one before (its result would be
    /// for data no longer shown).
    fn replace_shift_job(&mut self, id: worker::JobId, cancel: CancelToken) {
        if let Some((_, previous)) = self.shift_job.replace((id, cancel)) {
            previous.cancel();
        }
    }

    fn on_shift_intent(&mut self, intent: shift_view::ShiftIntent) {
        use shift_view::ShiftIntent;
        match intent {
            ShiftIntent::Measure => self.start_shift_report(),
            ShiftIntent::SetSide(side) => {
                let Some(measured) = &self.shift.measured else {
                    return;
                };
                let Some(projection) = &self.projection else {
                    return;
                };
                let chosen =
                    measured.selection_side(&projection.points.sources, &self.map.selection);
                self.shift.set_side(side, chosen);
            }
            ShiftIntent::SetSideGroup(side, group) => {
                let Some(measured) = &self.shift.measured else {
                    return;
                };
                let chosen = match group {
                    Some(index) => measured.group_side(index),
                    None => Some(shift_view::SelectionSide::rest()),
                };
                if let Some(chosen) = chosen {
                    self.shift.set_side(side, chosen);
                }
            }
            ShiftIntent::Compare => self.start_comparison(),
            ShiftIntent::SavePng { path, rect } => self.save_lab_png(path, rect),
            ShiftIntent::Export(folder) => {
                let Some(measured) = &self.shift.measured else {
                    return;
                };
                let mut report = (*measured.report).clone();
                report.comparison.clone_from(&self.shift.comparison);
                let cancel = CancelToken::new();
                let id = self
                    .workers
                    .spawn("export tables", cancel.clone(), move |_| {
                        Event::ShiftExported(shift_view::export(&report, &folder))
                    });
                self.add_job(id, "Writing the domain-shift tables", cancel);
            }
        }
    }

    /// Asks for a screenshot; the lab window's part of it is saved as PNG on a thread of
    /// its own when it arrives.
    fn save_lab_png(&mut self, path: PathBuf, rect: egui::Rect) {
        let ctx = self.workers.context();
        let events = self.workers.events();
        let pixels_per_point = ctx.pixels_per_point();
        ctx.request_screenshot(move |screenshot| {
            let save = move || {
                let picture = shift_view::crop_screenshot(&screenshot, rect, pixels_per_point);
                events.send(Event::ShiftExported(shift_view::save_png(&picture, &path)));
            };
            if let Err(error) = std::thread::Builder::new()
                .name("save PNG".to_owned())
                .spawn(save)
            {
                eprintln!("cannot start the PNG writer: {error}");
            }
        });
        self.note("saving a PNG of the Domain shift lab...");
    }

    fn start_comparison(&mut self) {
        let (Some(measured), Some(a), Some(b)) =
            (&self.shift.measured, &self.shift.side_a, &self.shift.side_b)
        else {
            return;
        };
        if a.rest && b.rest {
            self.error("only one side of the comparison can be the rest");
            return;
        }
        if (a.rows.is_empty() && !a.rest) || (b.rows.is_empty() && !b.rest) {
            self.error("each side of the comparison needs at least one measurable row (rows with NaN values or without metadata are left out)");
            return;
        }
        let data = Arc::clone(&measured.data);
        let (a, b) = (a.clone(), b.clone());
        let version = self.shift.sides_version;
        let cancel = CancelToken::new();
        let stamp = self.stamp.release_only();
        let id = self
            .workers
            .spawn("compare selections", cancel.clone(), move |job| {
                let settings = faceemo_shift::ShiftSettings::default();
                let rows_a = shift_view::resolve_side(&data, &a, &b);
                let rows_b = shift_view::resolve_side(&data, &b, &a);
                let result = if rows_a.is_empty() || rows_b.is_empty() {
                    Err("the rest is empty: the other side holds every measured row".to_owned())
                } else {
                    faceemo_shift::compare_selections(&data, &rows_a, &rows_b, &settings, job)
                        .map(|(comparison, _)| Box::new(comparison))
                        .map_err(|e| e.to_string())
                };
                Event::ShiftCompared(stamp, version, result)
            });
        self.add_job(id, "Comparing selection A with B", cancel.clone());
        self.shift.running = true;
        self.replace_shift_job(id, cancel);
    }

    /// When one point is selected, finds its nearest released samples in the background.
    fn follow_single_selection(&mut self) {
        let [point] = self.map.selection[..] else {
            self.neighbours_requested = None;
            return;
        };
        if self.neighbours_requested == Some(point) {
            return;
        }
        let (Some(release), Some(projection)) = (self.release.clone(), self.projection.clone())
        else {
            return;
        };
        self.neighbours_requested = Some(point);
        let cancel = CancelToken::new();
        let stamp = self.stamp.release_only();
        let id = self
            .workers
            .spawn("sample neighbours", cancel.clone(), move |_| {
                let rows = projection::neighbours_of_point(&release, &projection, point);
                Event::SampleNeighbours(stamp, point, rows)
            });
        self.add_job(id, "Finding the selected sample's neighbours", cancel);
    }

    fn place_dropped_image(&mut self) {
        let (Some(release), Some(projection), Some(lab)) = (
            self.release.clone(),
            self.projection.clone(),
            self.lab.image.as_ref(),
        ) else {
            return;
        };
        let feature = lab.predicted.prediction.cls.clone();
        let cancel = CancelToken::new();
        let stamp = self.stamp;
        let id = self.workers.spawn("place image", cancel.clone(), move |_| {
            Event::Placed(stamp, projection::place(&release, &projection, &feature))
        });
        self.add_job(id, "Finding nearest samples", cancel);
    }

    /// Starts a reconstruction of the dropped image, or of the first selected sample.
    fn reconstruct(&mut self, from_selection: bool) {
        let (target, subject, original) = if from_selection {
            let Some((feature, subject)) = self.selected_feature() else {
                self.error("select a sample on the map first");
                return;
            };
            (InversionTarget::Features(feature), subject, None)
        } else {
            let Some(lab) = &self.lab.image else {
                self.error("drop a face image first");
                return;
            };
            (
                InversionTarget::Image(
                    lab.predicted.prediction.clone(),
                    lab.predicted.image.clone(),
                ),
                lab.predicted.name.clone(),
                Some(lab.texture.clone()),
            )
        };
        let settings = InversionSettings {
            steps: self.settings.inversion_steps,
            preview_every: 5,
            ..InversionSettings::default()
        };
        let cancel = CancelToken::new();
        let steps = settings.steps;
        match self
            .workers
            .send_to_model(cancel.clone(), ModelCommand::Invert { target, settings })
        {
            Ok(id) => {
                self.add_job(id, &format!("Reconstructing {subject}"), cancel.clone());
                self.lab.inversion = Some(InversionRun {
                    subject,
                    original,
                    curve: Vec::new(),
                    steps,
                    preview: None,
                    result: None,
                    pixels: None,
                    result_texture: None,
                    cancel,
                });
            }
            Err(error) => self.error(error),
        }
    }

    fn selected_feature(&self) -> Option<(Vec<f32>, String)> {
        let release = self.release.as_ref()?;
        let projection = self.projection.as_ref()?;
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

    /// A release loaded before the model named its logits' columns in the documented order;
    /// when the model's `id2label` says otherwise, it is loaded again in the model's order.
    fn on_model_loaded(&mut self, info: ModelInfo) {
        let stale_order = info.label_order.as_ref().is_some_and(|order| {
            self.release.as_ref().is_some_and(|release| {
                !release.is_synthetic() && release.labels.labels != order.labels
            })
        });
        self.model = Some(info);
        if stale_order && !self.sources.is_empty() {
            self.note(
                "reloading the release: the model's id2label orders the emotions differently",
            );
            self.open_sources(self.sources.clone());
        }
    }

    fn on_tsne_layout(&mut self, update: worker::TsneLayout) {
        self.tsne.iteration = update.iteration;
        self.tsne.iterations = update.iterations;
        self.tsne.kl_divergence = update.kl_divergence;
        self.tsne.layout = Some(update.layout);
        if self.map.method == MapMethod::Tsne {
            self.map.restyle();
            self.map.reset_view = true;
        }
    }

    fn on_tsne_ready(&mut self, result: Result<worker::TsneReady, String>) {
        match result {
            Ok(ready) => {
                self.tsne.cancel = None;
                self.tsne.layout = Some(ready.layout);
                self.tsne.kl_divergence = Some(ready.map.kl_divergence);
                self.tsne.iteration = self.tsne.iterations.max(self.tsne.iteration);
                self.tsne.seconds = Some(ready.seconds);
                self.tsne.map = Some(ready.map);
                self.map.restyle();
                self.place_on_tsne();
            }
            Err(error) => {
                self.tsne = TsneState::default();
                if self.map.method == MapMethod::Tsne {
                    self.show_method(MapMethod::Pca);
                }
                self.note(error);
            }
        }
    }

    fn on_inversion_step(
        &mut self,
        ctx: &egui::Context,
        report: StepReport,
        preview: Option<image::RgbImage>,
    ) {
        if let Some(run) = &mut self.lab.inversion {
            run.curve.push(report);
            if let Some(preview) = preview {
                run.preview = Some(ctx.load_texture(
                    "inversion preview",
                    rgb_to_color_image(&preview),
                    egui::TextureOptions::NEAREST,
                ));
            }
        }
    }

    fn on_release_loaded(&mut self, loaded: worker::LoadedRelease) {
        for warning in &loaded.release.warnings {
            self.note(warning.clone());
        }
        self.settings.remember_sources(&loaded.sources);
        self.sources = loaded.sources;
        self.release = Some(loaded.release);
        self.stamp.release += 1;
        self.projection = None;
        if let Some(cancel) = &self.tsne.cancel {
            cancel.cancel();
        }
        self.tsne = TsneState::default();
        self.map.method = MapMethod::Pca;
        self.map.clear_for_new_data();
        self.lab.placement = None;
        self.shift.clear();
        self.sample_neighbours = None;
        self.neighbours_requested = None;
        self.axes = AxesState::default();
        self.start_projection();
        self.start_shift_report();
    }

    fn on_job_finished(&mut self, id: worker::JobId) {
        self.jobs.retain(|j| j.id != id);
        if self.shift_job.as_ref().is_some_and(|(job, _)| *job == id) {
            self.shift_job = None;
            self.shift.running = false;
        }
    }

    fn on_job_panicked(&mut self, id: worker::JobId, message: &str) {
        let title = self
            .jobs
            .iter()
            .find(|j| j.id == id)
            .map_or_else(|| "a job".to_owned(), |j| j.title.clone());
        self.error(format!("{title} failed: it panicked ({message})"));
    }

    fn on_shift_event(&mut self, event: Event) {
        match event {
            Event::ShiftMeasured(_, Ok(measured)) => self.shift.measured = Some(measured),
            Event::ShiftCompared(_, version, _) if version != self.shift.sides_version => {}
            Event::ShiftCompared(_, _, Ok(comparison)) => {
                self.shift.comparison = Some(*comparison);
            }
            Event::ShiftMeasured(_, Err(error)) | Event::ShiftCompared(_, _, Err(error))
                if error == "cancelled" =>
            {
                self.note("domain-shift measurement cancelled");
            }
            Event::ShiftMeasured(_, Err(error)) => {
                self.shift.failure = Some(error.clone());
                self.error(format!("cannot measure domain shift: {error}"));
            }
            Event::ShiftCompared(_, _, Err(error)) => {
                self.error(format!("cannot compare the selections: {error}"));
            }
            Event::ShiftExported(Ok(note)) => self.note(note),
            Event::ShiftExported(Err(error)) => self.error(error),
            _ => {}
        }
    }

    fn handle_events(&mut self, ctx: &egui::Context) {
        for event in self.workers.drain() {
            if event
                .stamp()
                .is_some_and(|stamp| !stamp.is_current(self.stamp))
            {
                continue;
            }
            match event {
                Event::Progress(id, update) => {
                    if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
                        job.progress = Some(update);
                    }
                }
                Event::Finished(id) => self.on_job_finished(id),
                Event::Panicked(id, message) => self.on_job_panicked(id, &message),
                Event::AxesReady(_, request, _) if request != self.axes.requests => {}
                Event::AxesReady(_, _, Ok((axes, labels))) => {
                    self.axes.layout = Some(Arc::new(axes.layout.clone()));
                    self.axes.axes = Some(axes);
                    self.axes.labels = labels;
                    self.map.restyle();
                    self.map.reset_view = true;
                }
                Event::SampleNeighbours(_, point, rows) => {
                    // Only the point asked for last: answers can arrive out of order.
                    if self.neighbours_requested == Some(point) {
                        self.sample_neighbours = Some((point, rows));
                    }
                }
                event @ (Event::ShiftMeasured(..)
                | Event::ShiftCompared(..)
                | Event::ShiftExported(_)) => self.on_shift_event(event),
                Event::ReleaseLoaded(Ok(loaded)) => self.on_release_loaded(loaded),
                Event::ReleaseLoaded(Err(error)) => {
                    self.error(format!("{error} (the data already open stays open)"));
                }
                Event::ProjectionReady(_, Ok(projection)) => {
                    self.map.show_new_projection(&projection.points);
                    self.projection = Some(projection);
                    self.place_dropped_image();
                }
                Event::ProjectionReady(_, Err(error)) => {
                    self.error(format!("cannot project the release: {error}"));
                }
                Event::ModelLoaded(result) => {
                    self.model_loading = false;
                    match result {
                        Ok(info) => self.on_model_loaded(info),
                        Err(error) => {
                            self.settings.model =
                                self.model.as_ref().map(|m| m.folder.display().to_string());
                            self.error(error);
                        }
                    }
                }
                Event::Predicted(Ok(predicted)) => {
                    let texture = ctx.load_texture(
                        "dropped image",
                        rgb_to_color_image(&predicted.image),
                        egui::TextureOptions::LINEAR,
                    );
                    self.lab.image = Some(LabImage { predicted, texture });
                    self.stamp.image = Some(self.stamp.image.map_or(1, |n| n + 1));
                    self.lab.placement = None;
                    self.tsne.dropped_image = None;
                    self.place_dropped_image();
                    self.place_on_tsne();
                }
                Event::Predicted(Err(error)) | Event::AxesReady(_, _, Err(error)) => {
                    self.error(error);
                }
                Event::TsneLayout(_, update) => self.on_tsne_layout(update),
                Event::TsneReady(_, result) => self.on_tsne_ready(result),
                Event::TsnePlaced(_, position) => self.tsne.dropped_image = position,
                Event::Placed(_, placement) => {
                    if let Some(note) = &placement.note {
                        self.note(note.clone());
                    }
                    self.lab.placement = Some(placement);
                }
                Event::InversionStep(report, preview) => {
                    self.on_inversion_step(ctx, report, preview);
                }
                Event::Inverted(Ok(inversion)) => {
                    if let Some(run) = &mut self.lab.inversion {
                        run.result_texture = Some(ctx.load_texture(
                            "reconstruction",
                            rgb_to_color_image(&inversion.reconstruction.image),
                            egui::TextureOptions::NEAREST,
                        ));
                        run.result = Some(inversion.reconstruction);
                        run.pixels = inversion.pixels;
                    }
                }
                Event::Inverted(Err(error)) => {
                    self.lab.inversion = None;
                    self.error(format!("reconstruction failed: {error}"));
                }
            }
        }
    }
}

impl eframe::App for WorkbenchApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.handle_events(&ctx);
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if !dropped.is_empty() {
            self.open_paths(dropped);
        }
        self.poll_dialog();
        menu::top_bar(self, ui);
        status::status_bar(self, ui);
        data_panel::show(self, ui);
        lab::show(self, ui);
        egui::CentralPanel::default().show(ui, |ui| map::show(self, ui));
        self.follow_single_selection();
        let published = self.release.as_ref().is_some_and(|r| !r.is_synthetic());
        for intent in self.shift.window(&ctx, published, self.map.selection.len()) {
            self.on_shift_intent(intent);
        }
        drop_hint(&ctx);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.map.store(&mut self.settings);
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }
}

/// Loads a release on a worker, its logits' columns named in `labels` order.
fn load_release_event(
    files: &ReleaseFiles,
    labels: LabelOrder,
    sources: Vec<PathBuf>,
    job: faceemo_jobs::JobContext<'_>,
) -> Event {
    Event::ReleaseLoaded(
        faceemo_data::load_release(files, labels, job)
            .map(|release| worker::LoadedRelease {
                release: Arc::new(release),
                sources,
            })
            .map_err(|e| e.to_string()),
    )
}

/// Shades the window while files hover over it.
fn drop_hint(ctx: &egui::Context) {
    let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
    if !hovering {
        return;
    }
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop hint"),
    ));
    let rect = ctx.content_rect();
    painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(160));
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        "Drop a face image to predict it, NPZ/CSV files or a folder to open them, a model folder to load it",
        egui::FontId::proportional(18.0),
        egui::Color32::WHITE,
    );
}

/// What a dropped path is.
enum PathKind {
    Image,
    ModelFolder,
    Data,
    Unknown(String),
}

const IMAGE_EXTENSIONS: [&str; 9] = [
    "png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff", "jfif",
];

fn classify(path: &Path) -> PathKind {
    if path.is_dir() {
        if path.join("config.json").is_file()
            && (path.join("model.safetensors").is_file()
                || path.join("pytorch_model.bin").is_file())
        {
            return PathKind::ModelFolder;
        }
        return PathKind::Data;
    }
    if !path.exists() {
        return PathKind::Unknown("no such file".to_owned());
    }
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "npz" | "csv" => PathKind::Data,
        e if IMAGE_EXTENSIONS.contains(&e) => PathKind::Image,
        _ => PathKind::Unknown(
            "not an image, an NPZ/CSV file, a release folder or a model folder".to_owned(),
        ),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn describe_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn rgb_to_color_image(image: &image::RgbImage) -> egui::ColorImage {
    egui::ColorImage::from_rgb(
        [image.width() as usize, image.height() as usize],
        image.as_raw(),
    )
}

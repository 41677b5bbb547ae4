//! The jobs the core asks for, as data ([`Work`]), what each one produces ([`Output`]),
//! and the code that carries each out ([`run`], and [`ModelWorker`] for the model's
//! jobs). Everything here runs on a worker thread; the engine it calls is the same the
//! command line calls.

use std::path::PathBuf;
use std::sync::Arc;

use faceemo_data::{LabelOrder, Release, ReleaseFiles};
use faceemo_hub::HubSettings;
use faceemo_inversion::{
    InversionSettings, PixelComparison, Reconstruction, Target, compare_with_original, invert,
};
use faceemo_jobs::JobContext;
use faceemo_model::{BackendChoice, EmotionModel, Prediction};
use faceemo_projection::MapCache;
use faceemo_shift::{AxisSpec, Comparison, ShiftAxes, ShiftData, ShiftReport, ShiftSettings};
use image::RgbImage;

use crate::core::Embedding;
use crate::event::{Outcome, Partial};
pub use crate::projection::{EmbeddingLayout, EmbeddingMap, EmbeddingReady, Layout};
use crate::projection::{NeighbourRow, Placement, Projection};
use crate::shift_lab::{MeasuredShift, SelectionSide};

/// A job, as data: what to do and with what.
pub enum Work {
    /// Sort dropped or typed paths into images, model folders and release files, and find
    /// the release files in the folders (`open` are the sources already open).
    SortPaths {
        /// The paths given.
        paths: Vec<PathBuf>,
        /// The release sources open now (the new files join them).
        open: Vec<PathBuf>,
    },
    /// Load a release, its logits' columns named in `labels` order.
    LoadRelease {
        /// Where it comes from.
        source: ReleaseSource,
        /// The logits' column order.
        labels: LabelOrder,
    },
    /// The PCA map of a release.
    Project(Arc<Release>),
    /// The t-SNE or UMAP map of a release.
    Embed {
        /// Which map.
        embedding: Embedding,
        /// The release.
        release: Arc<Release>,
        /// Where finished maps are kept.
        cache: Option<MapCache>,
    },
    /// A feature's place on the PCA map and its nearest released samples.
    PlaceOnPca {
        /// The release.
        release: Arc<Release>,
        /// Its PCA map.
        projection: Arc<Projection>,
        /// The feature.
        feature: Vec<f32>,
    },
    /// A feature's place on a finished t-SNE or UMAP map.
    PlaceOnEmbedding {
        /// Which map.
        embedding: Embedding,
        /// The map.
        map: Arc<EmbeddingMap>,
        /// The feature.
        feature: Vec<f32>,
    },
    /// The nearest released samples of a map point.
    SampleNeighbours {
        /// The release.
        release: Arc<Release>,
        /// Its PCA map (points and neighbour index).
        projection: Arc<Projection>,
        /// The point.
        point: usize,
    },
    /// The domain-shift report of a release.
    MeasureShift(Arc<Release>),
    /// Two sides compared.
    CompareSides {
        /// The measured rows.
        data: Arc<ShiftData>,
        /// Side A.
        a: SelectionSide,
        /// Side B.
        b: SelectionSide,
    },
    /// The lab's tables written into a folder.
    ExportShift {
        /// The report (with the comparison, if any).
        report: Box<ShiftReport>,
        /// The folder.
        folder: PathBuf,
    },
    /// The shift-axes map.
    DrawAxes {
        /// The release.
        release: Arc<Release>,
        /// The horizontal axis (datasets).
        x: AxisSpec,
        /// The vertical axis (emotions).
        y: AxisSpec,
    },
    /// The selected samples written as CSV.
    ExportSelection {
        /// The release.
        release: Arc<Release>,
        /// Its points.
        projection: Arc<Projection>,
        /// The selected points.
        selection: Arc<Vec<usize>>,
        /// The CSV to write.
        path: PathBuf,
    },
    /// A picture written as PNG.
    SavePng {
        /// The picture.
        image: Arc<RgbImage>,
        /// The file.
        path: PathBuf,
        /// What it is, for the message ("the reconstruction").
        what: String,
    },
    /// A job for the model worker, which owns the model.
    Model(ModelWork),
    /// Panics with this message (fault injection: how tests prove a panic is survived).
    #[doc(hidden)]
    Panic(String),
}

/// Where a release comes from.
pub enum ReleaseSource {
    /// Files found by [`Work::SortPaths`], with the paths the user opened.
    Files {
        /// The files.
        files: ReleaseFiles,
        /// What the user opened (remembered for the next run).
        sources: Vec<PathBuf>,
    },
    /// Paths to look through (a recent source).
    Paths(Vec<PathBuf>),
    /// The synthetic demo set.
    Demo,
    /// A download from the hub into the cache.
    Download,
    /// The sources opened last when they all still exist, else the release in the local
    /// Hugging Face cache (when a hub is given), else the synthetic demo set.
    LastOrFallback {
        /// The sources opened last, if any.
        last: Option<Vec<PathBuf>>,
        /// Where the cache is, when it is to be looked in.
        hub: Option<HubSettings>,
    },
}

/// A job for the model worker.
pub enum ModelWork {
    /// Load a model folder or hub id (with `only_if_cached`, only a model already in the
    /// cache, and no message when there is none).
    Load {
        /// Folder or hub id.
        spec: String,
        /// Where it runs.
        backend: BackendChoice,
        /// Whether to stop quietly when it is not on disk.
        only_if_cached: bool,
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
    /// Panics inside the model worker (fault injection for tests).
    #[doc(hidden)]
    Panic(String),
}

/// Where an inversion's target comes from.
pub enum InversionTarget {
    /// A predicted image: its feature and logits are the target, its pixels the original.
    Image(Prediction, Arc<RgbImage>),
    /// A bare feature (a released sample).
    Features(Vec<f32>),
}

/// What a finished job produced.
pub enum Output {
    /// Dropped or typed paths, sorted.
    Sorted(SortedPaths),
    /// A release.
    Release(LoadedRelease),
    /// The PCA map.
    Projection(Arc<Projection>),
    /// A t-SNE or UMAP map.
    Embedded(Embedding, EmbeddingReady),
    /// A feature placed on the PCA map, with its neighbours.
    Placement(Placement),
    /// A feature placed on a t-SNE or UMAP map (`None`: it could not be).
    EmbeddingPlacement(Embedding, Option<[f32; 2]>),
    /// The nearest released samples of a point.
    Neighbours(Vec<NeighbourRow>),
    /// The domain-shift report.
    Shift(Arc<MeasuredShift>),
    /// Two sides compared.
    Comparison(Box<Comparison>),
    /// The shift-axes map with its axis labels.
    Axes(Arc<AxesMap>),
    /// Files were written: what, in words.
    Written(String),
    /// A model loaded (`None`: `only_if_cached` and there was none).
    Model(Option<ModelInfo>),
    /// An image predicted.
    Predicted(Arc<PredictedImage>),
    /// A reconstruction finished (or was stopped, keeping its best image).
    Inverted(Box<Inversion>),
}

/// Paths sorted by what they are.
#[derive(Debug, Default)]
pub struct SortedPaths {
    /// Face images to predict.
    pub images: Vec<PathBuf>,
    /// Model folders to load.
    pub models: Vec<PathBuf>,
    /// Release files found, with the sources they came from (the open ones that still
    /// exist, then the new ones).
    pub release: Option<(ReleaseFiles, Vec<PathBuf>)>,
    /// What could not be used, in words (one message each).
    pub problems: Vec<String>,
    /// Notes worth telling (sources that no longer exist were left out).
    pub notes: Vec<String>,
}

/// A release and the paths it came from.
pub struct LoadedRelease {
    /// The data.
    pub release: Arc<Release>,
    /// The paths the user opened (remembered for the next run; empty for the demo set).
    pub sources: Vec<PathBuf>,
}

/// The shift-axes map: the axes (they place new features) and every point on them.
pub struct AxesMap {
    /// The two directions.
    pub axes: ShiftAxes,
    /// Where every point lies.
    pub layout: Arc<Layout>,
    /// The axis labels, across and up.
    pub labels: (String, String),
}

/// What the workbench knows of the loaded model.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    /// What the user asked for (a folder or hub id): what is remembered.
    pub spec: String,
    /// Where it was loaded from.
    pub folder: PathBuf,
    /// The backend in words (adapter name, or CPU and why).
    pub backend: String,
    /// Labels in logit order.
    pub labels: Vec<String>,
    /// The same order as the data layer names it (`None` when the model names no
    /// emotion), so releases loaded after the model use it.
    pub label_order: Option<LabelOrder>,
}

/// A dropped image and what the model said of it.
pub struct PredictedImage {
    /// The file name.
    pub name: String,
    /// The decoded image (the original of a reconstruction).
    pub image: Arc<RgbImage>,
    /// A copy at most [`THUMBNAIL_SIDE`] pixels a side, for display.
    pub thumbnail: Arc<RgbImage>,
    /// Feature, logits, probabilities.
    pub prediction: Prediction,
}

/// The longest side of a dropped image's thumbnail.
pub const THUMBNAIL_SIDE: u32 = 512;

/// A finished reconstruction, compared with its original image when there is one.
pub struct Inversion {
    /// The result.
    pub reconstruction: Reconstruction,
    /// The reconstructed image, shared for display and saving.
    pub image: Arc<RgbImage>,
    /// PSNR and SSIM against the original.
    pub pixels: Option<PixelComparison>,
}

/// Runs `work` (anything but [`Work::Model`]) to its outcome. `partial` hears what the job
/// produces on the way (t-SNE layouts).
pub fn run(work: Work, job: JobContext<'_>, partial: &mut dyn FnMut(Partial)) -> Outcome {
    let result = match work {
        Work::SortPaths { paths, open } => Ok(Output::Sorted(sort_paths(&paths, &open, job))),
        Work::LoadRelease { source, labels } => load_release(source, labels, job),
        Work::Project(release) => crate::projection::project(&release, job)
            .map(|projection| Output::Projection(Arc::new(projection))),
        Work::Embed {
            embedding,
            release,
            cache,
        } => crate::projection::run_embedding(
            embedding,
            &release,
            cache.as_ref(),
            job,
            &mut |layout| partial(Partial::EmbeddingLayout(embedding, layout)),
        )
        .map(|ready| Output::Embedded(embedding, ready)),
        Work::PlaceOnPca {
            release,
            projection,
            feature,
        } => Ok(Output::Placement(crate::projection::place(
            &release,
            &projection,
            &feature,
        ))),
        Work::PlaceOnEmbedding {
            embedding,
            map,
            feature,
        } => Ok(Output::EmbeddingPlacement(embedding, map.place(&feature))),
        Work::SampleNeighbours {
            release,
            projection,
            point,
        } => Ok(Output::Neighbours(crate::projection::neighbours_of_point(
            &release,
            &projection,
            point,
        ))),
        Work::MeasureShift(release) => {
            crate::shift_lab::measure(&release, job).map(|m| Output::Shift(Arc::new(m)))
        }
        Work::CompareSides { data, a, b } => compare(&data, &a, &b, job),
        Work::ExportShift { report, folder } => {
            crate::shift_lab::export(&report, &folder).map(Output::Written)
        }
        Work::DrawAxes { release, x, y } => draw_axes(&release, &x, &y),
        Work::ExportSelection {
            release,
            projection,
            selection,
            path,
        } => crate::selection::export_selection(&release, &projection.points, &selection, &path)
            .map(|count| {
                Output::Written(format!(
                    "wrote {count} selected samples to {}",
                    path.display()
                ))
            })
            .map_err(|e| format!("{e:#}")),
        Work::SavePng { image, path, what } => crate::output::write_png_atomically(&image, &path)
            .map(|()| {
                Output::Written(format!(
                    "saved {what} ({} x {} pixels) to {}",
                    image.width(),
                    image.height(),
                    path.display()
                ))
            })
            .map_err(|e| format!("{e:#}")),
        Work::Model(_) => Err("a model job reached an ordinary worker".to_owned()),
        Work::Panic(message) => panic!("{message}"),
    };
    finish(result, job)
}

/// An error and its causes as one line, `cause: its cause: …`: the text the CLI prints
/// (`anyhow`'s `{:#}`), so a file gets the same message in the window and on the terminal.
pub(crate) fn error_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

/// A result as an outcome: an error after the job was cancelled is the cancellation.
pub fn finish(result: Result<Output, String>, job: JobContext<'_>) -> Outcome {
    match result {
        Ok(output) => Outcome::Done(output),
        Err(_) if job.cancel.is_cancelled() => Outcome::Cancelled,
        Err(error) => Outcome::Failed(error),
    }
}

fn sort_paths(paths: &[PathBuf], open: &[PathBuf], job: JobContext<'_>) -> SortedPaths {
    use crate::paths::{PathKind, classify, describe_paths};
    let mut sorted = SortedPaths::default();
    let mut data = Vec::new();
    for path in paths {
        if job.cancel.is_cancelled() {
            return SortedPaths::default();
        }
        job.report(format!("looking at {}", path.display()), 0, 0);
        match classify(path) {
            PathKind::Image => sorted.images.push(path.clone()),
            PathKind::ModelFolder => sorted.models.push(path.clone()),
            PathKind::Data => data.push(path.clone()),
            PathKind::Unusable(reason) => sorted
                .problems
                .push(format!("cannot open {}: {reason}", path.display())),
        }
    }
    if data.is_empty() {
        return sorted;
    }
    // New files join what is open (a user's own extracted set beside the release); open
    // sources deleted since are left out rather than failing every later drop.
    let (kept, gone): (Vec<PathBuf>, Vec<PathBuf>) = open.iter().cloned().partition(|p| p.exists());
    if !gone.is_empty() {
        sorted.notes.push(format!(
            "left out sources that no longer exist: {}",
            describe_paths(&gone)
        ));
    }
    let mut combined = kept;
    for path in &data {
        if !combined.contains(path) {
            combined.push(path.clone());
        }
    }
    match ReleaseFiles::from_paths(&combined) {
        Ok(files) => sorted.release = Some((files, combined)),
        Err(combined_error) if combined.len() > data.len() => {
            // What was open does not combine with the new files: open the new ones alone.
            match ReleaseFiles::from_paths(&data) {
                Ok(files) => {
                    sorted.notes.push(format!(
                        "{} does not join what was open ({combined_error}): opened on its own",
                        describe_paths(&data)
                    ));
                    sorted.release = Some((files, data));
                }
                Err(error) => sorted
                    .problems
                    .push(format!("cannot open {}: {error}", describe_paths(&data))),
            }
        }
        Err(error) => sorted
            .problems
            .push(format!("cannot open {}: {error}", describe_paths(&data))),
    }
    sorted
}

fn load_release(
    source: ReleaseSource,
    labels: LabelOrder,
    job: JobContext<'_>,
) -> Result<Output, String> {
    let (files, sources) = match source {
        ReleaseSource::Files { files, sources } => (files, sources),
        ReleaseSource::Paths(paths) => {
            let files = ReleaseFiles::from_paths(&paths).map_err(|e| {
                format!(
                    "cannot open {}: {}",
                    crate::paths::describe_paths(&paths),
                    error_text(&e)
                )
            })?;
            (files, paths)
        }
        ReleaseSource::Demo => return Ok(demo_release()),
        ReleaseSource::Download => {
            let settings = HubSettings::from_env().map_err(|e| error_text(&e))?;
            let files = faceemo_data::download_release(&settings, job)
                .map_err(|e| format!("download failed: {}", error_text(&e)))?;
            let sources = files.files_to_read().cloned().collect();
            (files, sources)
        }
        ReleaseSource::LastOrFallback { last, hub } => {
            let last = last
                .filter(|paths| paths.iter().all(|p| p.exists()))
                .and_then(|paths| Some((ReleaseFiles::from_paths(&paths).ok()?, paths)));
            if let Some(found) = last {
                found
            } else {
                job.report("looking in the Hugging Face cache", 0, 0);
                match hub.as_ref().and_then(faceemo_data::find_release_in_cache) {
                    Some(files) => {
                        let sources = files.files_to_read().cloned().collect();
                        (files, sources)
                    }
                    None => return Ok(demo_release()),
                }
            }
        }
    };
    let release = faceemo_data::load_release(&files, labels, job).map_err(|e| error_text(&e))?;
    Ok(Output::Release(LoadedRelease {
        release: Arc::new(release),
        sources,
    }))
}

fn demo_release() -> Output {
    Output::Release(LoadedRelease {
        release: Arc::new(faceemo_data::synthetic_release(
            faceemo_data::DEFAULT_DEMO_SEED,
        )),
        sources: Vec::new(),
    })
}

fn compare(
    data: &ShiftData,
    a: &SelectionSide,
    b: &SelectionSide,
    job: JobContext<'_>,
) -> Result<Output, String> {
    let rows_a = crate::shift_lab::resolve_side(data, a, b);
    let rows_b = crate::shift_lab::resolve_side(data, b, a);
    if rows_a.is_empty() || rows_b.is_empty() {
        return Err("the rest is empty: the other side holds every measured row".to_owned());
    }
    faceemo_shift::compare_selections(data, &rows_a, &rows_b, &ShiftSettings::default(), job)
        .map(|(comparison, _)| Output::Comparison(Box::new(comparison)))
        .map_err(|e| error_text(&e))
}

fn draw_axes(release: &Release, x: &AxisSpec, y: &AxisSpec) -> Result<Output, String> {
    let labels = (
        format!("{} -> {}", x.from, x.to),
        format!("{} -> {}", y.from, y.to),
    );
    let axes = faceemo_shift::shift_axes(release, x, y)
        .map_err(|e| format!("cannot draw the shift axes: {e}"))?;
    let layout = Arc::new(Layout::new(axes.layout.clone()));
    Ok(Output::Axes(Arc::new(AxesMap {
        axes,
        layout,
        labels,
    })))
}

/// The model and the jobs that need it; lives on the model worker thread.
#[derive(Default)]
pub struct ModelWorker {
    model: Option<EmotionModel>,
}

impl ModelWorker {
    /// Runs one model job to its outcome; `partial` hears each reconstruction step.
    pub fn run(
        &mut self,
        work: ModelWork,
        job: JobContext<'_>,
        partial: &mut dyn FnMut(Partial),
    ) -> Outcome {
        if job.cancel.is_cancelled() {
            return Outcome::Cancelled;
        }
        let result = match work {
            ModelWork::Load {
                spec,
                backend,
                only_if_cached,
            } => self.load(spec, backend, only_if_cached, job),
            ModelWork::Predict(path) => self.loaded().and_then(|model| {
                predict_file(model, &path).map(|p| Output::Predicted(Arc::new(p)))
            }),
            ModelWork::Invert { target, settings } => self.loaded().and_then(|model| {
                run_inversion(model, target, &settings, job, partial)
                    .map(|inversion| Output::Inverted(Box::new(inversion)))
            }),
            ModelWork::Panic(message) => panic!("{message}"),
        };
        finish(result, job)
    }

    fn loaded(&self) -> Result<&EmotionModel, String> {
        self.model
            .as_ref()
            .ok_or_else(|| "no model is loaded: open one from the Model menu".to_owned())
    }

    fn load(
        &mut self,
        spec: String,
        backend: BackendChoice,
        only_if_cached: bool,
        job: JobContext<'_>,
    ) -> Result<Output, String> {
        let settings = HubSettings::from_env().map_err(|e| error_text(&e))?;
        if only_if_cached {
            let repo = faceemo_hub::HubRepo::model(&spec);
            if faceemo_hub::cached_snapshot(&settings, &repo).is_none() {
                return Ok(Output::Model(None));
            }
        }
        let model = faceemo_model::open_model(&spec, backend, &settings, job)
            .map_err(|e| format!("cannot load the model {spec:?}: {e}"))?;
        // Asked to stop (or superseded) while loading: keep the model this worker had.
        job.check_cancelled().map_err(|e| error_text(&e))?;
        let info = ModelInfo {
            spec,
            folder: model.folder.clone(),
            backend: model.backend.description.clone(),
            labels: model.labels.clone(),
            label_order: LabelOrder::from_model_labels(
                &model.labels,
                &model.folder.join("config.json"),
            ),
        };
        self.model = Some(model);
        Ok(Output::Model(Some(info)))
    }
}

fn predict_file(model: &EmotionModel, path: &std::path::Path) -> Result<PredictedImage, String> {
    let image = faceemo_model::load_rgb_image(path).map_err(|e| error_text(&e))?;
    let prediction = model
        .predict(std::slice::from_ref(&image))
        .pop()
        .ok_or_else(|| format!("the model gave no prediction for {}", path.display()))?;
    let thumbnail = if image.width().max(image.height()) > THUMBNAIL_SIDE {
        image::imageops::thumbnail(
            &image,
            (image.width() * THUMBNAIL_SIDE / image.width().max(image.height())).max(1),
            (image.height() * THUMBNAIL_SIDE / image.width().max(image.height())).max(1),
        )
    } else {
        image.clone()
    };
    Ok(PredictedImage {
        name: crate::paths::file_name(path),
        image: Arc::new(image),
        thumbnail: Arc::new(thumbnail),
        prediction,
    })
}

fn run_inversion(
    model: &EmotionModel,
    target: InversionTarget,
    settings: &InversionSettings,
    job: JobContext<'_>,
    partial: &mut dyn FnMut(Partial),
) -> Result<Inversion, String> {
    let (target, original) = match target {
        InversionTarget::Image(prediction, image) => {
            (Target::from_prediction(&prediction), Some(image))
        }
        InversionTarget::Features(cls) => (
            Target::from_features(model, cls).map_err(|e| error_text(&e))?,
            None,
        ),
    };
    let reconstruction = invert(model, &target, settings, job, &mut |update| {
        partial(Partial::InversionStep(
            update.report.clone(),
            update.preview.map(|p| Arc::new(p.clone())),
        ));
    })
    .map_err(|e| error_text(&e))?;
    let pixels = original.map(|original| {
        compare_with_original(&original, &reconstruction.image, &model.preprocessor)
    });
    Ok(Inversion {
        image: Arc::new(reconstruction.image.clone()),
        reconstruction,
        pixels,
    })
}

//! The FaceEmo workbench without any UI: what the window shows and does, as state driven by
//! typed messages. [`Workbench`] takes the user's [`Intent`]s and the workers' [`Event`]s
//! and answers with [`Command`]s; the [`Runner`] carries those out on worker threads (the
//! model's jobs in order on one model worker) and hands back their events. The window is a
//! thin egui shell over this crate; tests drive it directly.
//!
//! The jobs call the same engine as the command line: the release loader, the one map
//! pipeline (`faceemo_maps`), the domain-shift lab (`faceemo_shift`), the model and the
//! inversion. Every file written goes through [`output`] (a temporary file beside it,
//! renamed into place).

mod core;
mod event;
pub mod output;
mod paths;
mod points;
mod projection;
mod runner;
mod selection;
mod settings;
pub mod shift_lab;
mod work;

pub use crate::core::{
    Command, Embedding, EmbeddingState, FitRequest, ImageLab, Intent, InversionRun, Job, JobBoard,
    JobEntry, MapMethod, MapState, Message, ReconstructFrom, ShiftIntent, Slot, StartOptions,
    Workbench,
};
pub use event::{Event, EventKind, JobId, Outcome, Partial};
pub use paths::{
    IMAGE_EXTENSIONS, PathKind, classify, describe_paths, file_name, has_image_extension,
};
pub use points::{Colouring, MapPoints, PointSource};
pub use projection::{
    EmbeddingLayout, EmbeddingMap, EmbeddingReady, Layout, NEIGHBOURS, NeighbourRow, Placement,
    Projection,
};
pub use runner::{Runner, Wake};
pub use selection::{SelectionSummary, export_selection, selection_crosstab};
pub use settings::{MAX_INVERSION_STEPS, MAX_POINT_RADIUS, Settings};
pub use work::{
    AxesMap, Inversion, InversionTarget, LoadedRelease, ModelInfo, ModelWork, Output,
    PredictedImage, ReleaseSource, SortedPaths, THUMBNAIL_SIDE, Work,
};

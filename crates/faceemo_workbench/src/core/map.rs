//! The map's state in the workbench: which map is shown, the PCA, t-SNE, UMAP and
//! shift-axes maps, hidden groups, the selection and its summary, and when the view should
//! fit.

use std::sync::Arc;

use crate::core::jobs::Slot;
use crate::points::Colouring;
use crate::projection::{EmbeddingMap, Layout, NeighbourRow, Projection};
use crate::selection::SelectionSummary;
use crate::work::AxesMap;

/// Which map is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MapMethod {
    /// Principal components (made when a release opens).
    #[default]
    Pca,
    /// t-SNE (computed on demand, animated while it converges).
    Tsne,
    /// UMAP (computed on demand, animated while it settles).
    Umap,
    /// Two directions between groups' centroids (a dataset pair across, an emotion pair up).
    ShiftAxes,
}

impl MapMethod {
    /// The neighbour embedding this map shows, if it is one.
    pub fn embedding(self) -> Option<Embedding> {
        match self {
            Self::Tsne => Some(Embedding::Tsne),
            Self::Umap => Some(Embedding::Umap),
            Self::Pca | Self::ShiftAxes => None,
        }
    }
}

/// The maps made from the neighbour graph, on demand and progressively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Embedding {
    /// t-SNE, as openTSNE.
    Tsne,
    /// UMAP, as umap-learn.
    Umap,
}

impl Embedding {
    /// Its name in the window: `t-SNE`, `UMAP`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tsne => "t-SNE",
            Self::Umap => "UMAP",
        }
    }

    /// The map method that shows it.
    pub fn method(self) -> MapMethod {
        match self {
            Self::Tsne => MapMethod::Tsne,
            Self::Umap => MapMethod::Umap,
        }
    }

    /// The job slot that makes it.
    pub fn slot(self) -> Slot {
        match self {
            Self::Tsne => Slot::Tsne,
            Self::Umap => Slot::Umap,
        }
    }

    /// The embedding a map slot makes, if it makes one.
    pub fn of_slot(slot: Slot) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.slot() == slot)
    }

    /// The job slot that places the dropped image on it.
    pub fn placement_slot(self) -> Slot {
        match self {
            Self::Tsne => Slot::TsnePlacement,
            Self::Umap => Slot::UmapPlacement,
        }
    }

    /// Both, in menu order.
    pub const ALL: [Self; 2] = [Self::Tsne, Self::Umap];
}

/// A t-SNE or UMAP map of the open release, running or finished.
#[derive(Default)]
pub struct EmbeddingState {
    /// The newest layout (while running) or the final one.
    pub layout: Option<Arc<Layout>>,
    /// Iterations (t-SNE) or epochs (UMAP) done.
    pub iteration: usize,
    /// Iterations or epochs planned (0 before the optimisation starts).
    pub iterations: usize,
    /// KL divergence of the newest layout (t-SNE).
    pub kl_divergence: Option<f64>,
    /// The finished map (places new points).
    pub map: Option<Arc<EmbeddingMap>>,
    /// Seconds the finished map took.
    pub seconds: Option<f64>,
    /// Whether the finished map came from the disk cache.
    pub from_cache: bool,
    /// The dropped image's place on the finished map.
    pub dropped_image: Option<[f32; 2]>,
}

/// When the view should fit the data: a new `generation` asks for it; `force` says the
/// user's panning does not matter (a new map, a new release, Reset the view).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FitRequest {
    /// Counts the requests.
    pub generation: u64,
    /// Whether to fit even when the user has moved the view since the last fit.
    pub force: bool,
}

/// Everything the map shows, owned once.
#[derive(Default)]
pub struct MapState {
    /// The map shown.
    pub method: MapMethod,
    /// The PCA map with the points and neighbour index, once made.
    pub projection: Option<Arc<Projection>>,
    /// Why there is no PCA map although a release is open ("cancelled", or the error).
    pub pca_stopped: Option<String>,
    /// The t-SNE map.
    pub tsne: EmbeddingState,
    /// The UMAP map.
    pub umap: EmbeddingState,
    /// The shift-axes map, once drawn.
    pub axes: Option<Arc<AxesMap>>,
    /// Hidden groups of the current colouring.
    pub hidden: Vec<bool>,
    /// Selected points, sorted, without repeats.
    pub selection: Arc<Vec<usize>>,
    /// Counts of the selection, computed once per selection.
    pub summary: Option<SelectionSummary>,
    /// The one selected point's nearest released samples, once found.
    pub sample_neighbours: Option<(usize, Vec<NeighbourRow>)>,
    /// When the view should fit.
    pub fit: FitRequest,
    /// Changes whenever what the points look like changes (colours, hidden groups,
    /// selection, layout): a drawn picture of the points is stale when it differs.
    pub version: u64,
}

impl MapState {
    /// The layout of the map shown with its axis labels; the PCA map while the t-SNE or
    /// shift-axes map is not there yet (what is drawn is what is hit-tested).
    pub fn shown(&self) -> Option<(Arc<Layout>, String, String)> {
        self.shown_exactly().or_else(|| {
            self.projection
                .as_ref()
                .map(|p| (Arc::clone(&p.layout), "PC 1".to_owned(), "PC 2".to_owned()))
        })
    }

    fn shown_exactly(&self) -> Option<(Arc<Layout>, String, String)> {
        match self.method {
            MapMethod::Pca => self
                .projection
                .as_ref()
                .map(|p| (Arc::clone(&p.layout), "PC 1".to_owned(), "PC 2".to_owned())),
            MapMethod::Tsne | MapMethod::Umap => {
                let name = self.method.embedding()?.name();
                let state = self.embedding(self.method.embedding()?);
                state
                    .layout
                    .clone()
                    .map(|l| (l, format!("{name} 1"), format!("{name} 2")))
            }
            MapMethod::ShiftAxes => self.axes.as_ref().map(|a| {
                (
                    Arc::clone(&a.layout),
                    a.labels.0.clone(),
                    a.labels.1.clone(),
                )
            }),
        }
    }

    /// The state of one neighbour embedding.
    pub fn embedding(&self, embedding: Embedding) -> &EmbeddingState {
        match embedding {
            Embedding::Tsne => &self.tsne,
            Embedding::Umap => &self.umap,
        }
    }

    /// The state of one neighbour embedding, to change.
    pub fn embedding_mut(&mut self, embedding: Embedding) -> &mut EmbeddingState {
        match embedding {
            Embedding::Tsne => &mut self.tsne,
            Embedding::Umap => &mut self.umap,
        }
    }

    /// Asks the view to fit (see [`FitRequest`]).
    pub fn request_fit(&mut self, force: bool) {
        self.fit = FitRequest {
            generation: self.fit.generation + 1,
            force,
        };
    }

    /// Marks the points' picture stale.
    pub fn restyle(&mut self) {
        self.version += 1;
    }

    /// Shows every group of `colouring` again.
    pub fn reset_hidden(&mut self, colouring: Colouring) {
        let groups = self
            .projection
            .as_ref()
            .map_or(0, |p| p.points.group_names(colouring).len());
        self.hidden = vec![false; groups];
        self.restyle();
    }

    /// Replaces the selection and its summary.
    pub fn select(&mut self, mut points: Vec<usize>) {
        let total = self.projection.as_ref().map_or(0, |p| p.points.len());
        points.retain(|&p| p < total);
        points.sort_unstable();
        points.dedup();
        self.summary = self
            .projection
            .as_ref()
            .filter(|_| !points.is_empty())
            .map(|p| SelectionSummary::new(&p.points, &points));
        self.selection = Arc::new(points);
        if self
            .sample_neighbours
            .as_ref()
            .is_some_and(|(point, _)| self.selection.as_slice() != [*point])
        {
            self.sample_neighbours = None;
        }
        self.restyle();
    }

    /// Forgets every map of the release (another one is opening).
    pub fn clear(&mut self) {
        let fit = self.fit;
        let version = self.version;
        *self = Self {
            fit,
            version,
            ..Self::default()
        };
        self.request_fit(true);
        self.restyle();
    }
}

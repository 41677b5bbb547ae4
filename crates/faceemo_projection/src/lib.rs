//! Projections of the 768-d feature space to 2-D or 3-D maps, and how faithful they are.
//!
//! PCA (randomized for a few components) works on any subset of rows (a split, a dataset, a selection): fit on one, transform
//! any other. t-SNE ([`tsne`]) runs FFT-accelerated on every row and UMAP ([`umap`]) as
//! umap-learn does, both on a neighbour graph that is approximate for large sets
//! ([`neighbours_of_all`]); both place new points into a finished map. Every projection can be scored by k-nearest-neighbour preservation.
//! It knows nothing of any user interface.

// ndarray views are cheap handles; taking them by value is ndarray's own convention.
#![allow(clippy::needless_pass_by_value)]

mod ann;
mod cache;
mod knn;
mod matmul;
mod pca;
mod tsne;
mod umap;

pub use ann::{
    APPROXIMATE_ABOVE, AnnSettings, NeighbourGraph, NeighbourSearch, RECALL_SAMPLE,
    approximate_neighbours, knn_recall, neighbours_of_all, unit_rows,
};
pub use cache::{CachedMap, MapCache};
pub use knn::{Neighbours, knn_preservation, nearest_neighbours, sample_rows};
pub use matmul::{Element, matmul};
pub use pca::{Pca, PcaError, mean_and_covariance};
pub use tsne::{TsneError, TsneMap, TsneProgress, TsneSettings, tsne};
pub use umap::{UmapError, UmapMap, UmapProgress, UmapSettings, UmapStart, find_ab_params, umap};

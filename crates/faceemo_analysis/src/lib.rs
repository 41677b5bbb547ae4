//! Measurements on the feature space for the window: the nearest released samples of a
//! feature (cosine similarity in the full 768-d space) and cross-tabulations of
//! selections. (The domain-shift measures live in `faceemo_shift`.) It knows nothing of
//! any user interface.

mod crosstab;
mod neighbours;

pub use crosstab::CrossTab;
pub use neighbours::{CosineIndex, Neighbour};

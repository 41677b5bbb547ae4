//! Measurements on the feature space that the window and the command line share: the
//! nearest released samples of a feature (cosine similarity in the full 768-d space) and
//! cross-tabulations of selections. It knows nothing of any user interface.

mod crosstab;
mod neighbours;

pub use crosstab::CrossTab;
pub use neighbours::{CosineIndex, Neighbour};

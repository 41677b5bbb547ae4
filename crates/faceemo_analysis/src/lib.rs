//! Measurements on the feature space that the window and the command line share: the
//! nearest released samples of a feature (cosine similarity in the full 768-d space),
//! cross-tabulations of selections, and the shift between source datasets (centroid
//! distances). It knows nothing of any user interface.

mod agreement;
mod crosstab;
mod neighbours;
mod shift;

pub use agreement::{GroupAgreement, agreement_by_group};
pub use crosstab::CrossTab;
pub use neighbours::{CosineIndex, Neighbour};
pub use shift::CentroidShift;

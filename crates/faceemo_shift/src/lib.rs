//! The domain-shift lab: how the FaceEmo release's source datasets differ, measured.
//!
//! From a loaded [`faceemo_data::Release`] ([`ShiftData::from_release`]: finite rows with
//! metadata), [`shift_report`] computes per dataset and per split × dataset the model's
//! accuracy, macro-F1, per-class recall, confusion and calibration (ECE, reliability
//! diagram); between every two datasets the centroid distances, the Fréchet distance of
//! their Gaussian fits, MMD² with a permutation test and a domain classifier's AUC; a
//! linear-probe transfer matrix; neighbourhood shares and silhouettes.
//! [`compare_selections`] measures any two sets of rows the same way; [`shift_axes`] maps
//! every row on two directions between groups' centroids. Every sampled
//! measure is seeded and says what it sampled. The definitions, matched against numpy,
//! scipy and scikit-learn by `scripts/make_shift_reference.py`, are in
//! `docs/shift-measures.md`. It knows nothing of any user interface.

// ndarray views are cheap handles; taking them by value is ndarray's own convention.
#![allow(clippy::needless_pass_by_value)]

mod axes;
mod classification;
mod distance;
mod error;
mod logistic;
mod mmd;
mod neighbourhood;
mod report;
mod selection;
mod table;
mod tables;

pub use axes::{AxisError, AxisGroup, AxisSpec, FittedAxis, ShiftAxes, fit_axis, shift_axes};
pub use classification::{
    CALIBRATION_BINS, ConfidenceHistogram, GroupMetrics, MetricsAccumulator, ReliabilityBin,
    calibration_bin,
};
pub use distance::{GaussianFit, cosine_distance, euclidean_distance, frechet_distance};
pub use error::ShiftError;
pub use logistic::{BinaryModel, MultinomialModel, Standardiser, roc_auc, stratified_folds};
pub use mmd::{MmdTest, mmd_test};
pub use neighbourhood::{
    NEIGHBOURS, NeighbourhoodShare, neighbour_agreement, silhouette, unit_rows,
};
pub use report::{
    Comparison, PairMeasures, Sampling, ShiftReport, ShiftSettings, SilhouetteScores,
    compare_selections, group_metrics, shift_report,
};
pub use selection::RowLookup;
pub use table::{MAX_CLASSES, MAX_DATASETS, ShiftData};
pub use tables::{Table, file_stem};

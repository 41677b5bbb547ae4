//! Feature inversion: optimise an image by gradient descent until the model's CLS feature
//! for it matches a target feature, then measure how close it came.
//!
//! The objective (see [`Objective`]) weighs a feature distance (MSE and 1 − cosine), an
//! optional logit match, total variation and an L2 pixel prior; the image lives in the
//! model's normalised pixel space and is clipped to what an 8-bit image can produce after
//! every Adam step. Gradients come from Burn's autodiff on whichever device the model runs
//! (wgpu or the CPU); the model's weights stay constants. Runs repeat exactly for a seed.
//! It knows nothing of any user interface: progress, previews and cancellation go through
//! [`faceemo_jobs::JobContext`] and a per-step callback.

mod error;
mod invert;
mod metrics;
mod objective;
mod settings;

pub use error::InversionError;
pub use invert::{ClassScore, Reconstruction, StepReport, StepUpdate, Target, invert};
pub use metrics::{
    PixelComparison, compare_with_original, cosine_similarity, mean_squared_error, psnr, ssim,
};
pub use objective::Objective;
pub use settings::{InversionSettings, LogitLoss, Start};

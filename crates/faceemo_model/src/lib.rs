//! The FaceEmo ViT in Burn: HuggingFace `ViTForImageClassification` weights, exact
//! `ViTImageProcessor` preprocessing, and per-image CLS features, logits and probabilities,
//! on a GPU through wgpu or on the CPU.
//!
//! Nothing is hard-coded to ViT-Base: every size comes from the model's `config.json`.
//! It knows nothing of any user interface.

mod backend;
mod config;
mod error;
mod model;
mod preprocess;
mod source;
mod vit;
mod weights;

pub use backend::{Backend, BackendChoice, BackendKind, cpu_backend, select_backend};
pub use config::{Activation, PreprocessorConfig, Resample, VitConfig};
pub use error::ModelError;
pub use model::{DEFAULT_BATCH_SIZE, EmotionModel, Prediction, argmax, softmax};
pub use preprocess::{
    MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, decode_rgb_image, image_from_pixel_values, load_rgb_image,
    pixel_value_range, pixel_values, resize_like_pillow,
};
pub use source::{FACEEMO_MODEL_ID, is_model_folder, open_model, resolve_model};
pub use vit::{VitForImageClassification, VitOutputs};
pub use weights::{load_weights, weights_file};

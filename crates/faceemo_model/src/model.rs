//! The emotion model as the workbench uses it: load a folder, predict images in batches.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use faceemo_jobs::JobContext;
use image::RgbImage;

use crate::ModelError;
use crate::backend::Backend;
use crate::config::{PreprocessorConfig, VitConfig};
use crate::preprocess::{load_rgb_image, pixel_values};
use crate::vit::VitForImageClassification;
use crate::weights::{load_weights, weights_file};

/// What the model says about one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The CLS feature (the release's 768-d vector for ViT-Base).
    pub cls: Vec<f32>,
    /// One logit per label.
    pub logits: Vec<f32>,
    /// Softmax of the logits.
    pub probs: Vec<f32>,
    /// Index of the largest logit.
    pub class_index: usize,
}

/// A loaded `ViTForImageClassification` with its preprocessing, on one backend.
#[derive(Debug)]
pub struct EmotionModel {
    network: VitForImageClassification,
    /// The architecture.
    pub config: VitConfig,
    /// How images are prepared.
    pub preprocessor: PreprocessorConfig,
    /// Labels in logit order (from `id2label`).
    pub labels: Vec<String>,
    /// Where it runs.
    pub backend: Backend,
    /// The folder it was loaded from.
    pub folder: PathBuf,
}

/// Images per forward pass when the caller does not say.
pub const DEFAULT_BATCH_SIZE: usize = 16;

impl EmotionModel {
    /// Loads `config.json`, `preprocessor_config.json` (defaults when absent) and the weights.
    pub fn load(folder: &Path, backend: Backend) -> Result<Self, ModelError> {
        let config = VitConfig::from_file(&folder.join("config.json"))?;
        let labels = config.labels().map_err(|reason| ModelError::Config {
            path: folder.join("config.json"),
            reason,
        })?;
        let preprocessor_path = folder.join("preprocessor_config.json");
        let preprocessor = if preprocessor_path.is_file() {
            PreprocessorConfig::from_file(&preprocessor_path, config.image_size)?
        } else {
            PreprocessorConfig::vit_defaults(config.image_size)
        };
        preprocessor.fits(config.image_size, &preprocessor_path)?;
        let mut network = VitForImageClassification::new(&config, labels.len(), &backend.device);
        load_weights(&mut network, &weights_file(folder)?)?;
        Ok(Self {
            network,
            config,
            preprocessor,
            labels,
            backend,
            folder: folder.to_owned(),
        })
    }

    /// Runs the network on preprocessed, channel-first pixels of `batch` images.
    ///
    /// Returns the CLS features and the logits, row-major.
    pub fn forward_pixels(&self, pixels: &[f32], batch: usize) -> (Vec<f32>, Vec<f32>) {
        let side = self.config.image_size;
        let input = Tensor::<4>::from_data(
            TensorData::new(
                pixels.to_vec(),
                [batch, self.config.num_channels, side, side],
            ),
            &self.backend.device,
        );
        let outputs = self.network.forward(input);
        let read = |t: Tensor<2>| t.into_data().try_into_vec::<f32>().unwrap_or_default();
        (read(outputs.cls), read(outputs.logits))
    }

    /// Predicts a batch of images (one forward pass).
    pub fn predict(&self, images: &[RgbImage]) -> Vec<Prediction> {
        if images.is_empty() {
            return Vec::new();
        }
        let pixels: Vec<f32> = images
            .iter()
            .flat_map(|image| pixel_values(image, &self.preprocessor))
            .collect();
        let (cls, logits) = self.forward_pixels(&pixels, images.len());
        let width = self.config.hidden_size;
        let classes = self.labels.len();
        cls.chunks_exact(width)
            .zip(logits.chunks_exact(classes))
            .map(|(cls, logits)| Prediction {
                cls: cls.to_vec(),
                logits: logits.to_vec(),
                probs: softmax(logits),
                class_index: argmax(logits),
            })
            .collect()
    }

    /// Predicts image files in batches of `batch_size`, decoding each batch just before it
    /// runs (a large folder is never held in memory at once). One result per path, in order:
    /// an unreadable image is an error for that path alone. Reports progress per batch and
    /// stops between batches when cancelled.
    pub fn predict_files(
        &self,
        paths: &[PathBuf],
        batch_size: usize,
        job: JobContext<'_>,
    ) -> Result<Vec<Result<Prediction, ModelError>>, ModelError> {
        let mut results = Vec::with_capacity(paths.len());
        for chunk in paths.chunks(batch_size.max(1)) {
            job.check_cancelled().map_err(|_| ModelError::Cancelled)?;
            let mut images = Vec::with_capacity(chunk.len());
            let decoded: Vec<Result<(), ModelError>> = chunk
                .iter()
                .map(|path| load_rgb_image(path).map(|image| images.push(image)))
                .collect();
            let mut predictions = self.predict(&images).into_iter();
            results.extend(decoded.into_iter().map(|outcome| {
                outcome.and_then(|()| {
                    predictions.next().ok_or_else(|| ModelError::Backend {
                        reason: "the model returned fewer predictions than images".to_owned(),
                    })
                })
            }));
            job.report("predicting", results.len() as u64, paths.len() as u64);
        }
        Ok(results)
    }

    /// The network itself, for callers that run it on their own tensors (the inversion
    /// feeds it an autodiff image; the weights stay constants).
    pub fn network(&self) -> &VitForImageClassification {
        &self.network
    }

    /// The logits the classifier head gives a CLS feature (exactly what [`Self::predict`]
    /// would report for an image with that feature).
    pub fn logits_of_features(&self, cls: &[f32]) -> Result<Vec<f32>, ModelError> {
        if cls.len() != self.config.hidden_size {
            return Err(ModelError::FeatureWidth {
                expected: self.config.hidden_size,
                found: cls.len(),
            });
        }
        let features = Tensor::<2>::from_data(
            TensorData::new(cls.to_vec(), [1, cls.len()]),
            &self.backend.device,
        );
        self.network
            .classifier
            .forward(features)
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| ModelError::Backend {
                reason: format!("reading logits: {e:?}"),
            })
    }

    /// The label of a class index.
    pub fn label(&self, class_index: usize) -> &str {
        self.labels.get(class_index).map_or("?", String::as_str)
    }
}

/// Softmax computed in double precision.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|e| (e / total) as f32).collect()
}

/// Index of the largest value (the first one on ties).
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_keeps_the_order() {
        let probs = softmax(&[1.0, 3.0, -2.0]);
        assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(argmax(&probs), 1);
    }
}

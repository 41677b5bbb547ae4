//! The optimisation loop: Adam on the image, one forward and backward pass a step.

use std::time::Instant;

use burn::prelude::*;
use faceemo_jobs::{JobContext, SplitMix64};
use faceemo_model::{
    EmotionModel, Prediction, argmax, image_from_pixel_values, pixel_value_range, softmax,
};
use image::RgbImage;

use crate::InversionError;
use crate::metrics::{cosine_similarity, mean_squared_error};
use crate::objective::TargetTensors;
use crate::settings::{InversionSettings, Start};

/// Adam's constants (PyTorch's defaults).
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;

/// A feature to reconstruct, with what the model's head says about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The CLS feature.
    pub cls: Vec<f32>,
    /// The classifier's logits for it.
    pub logits: Vec<f32>,
}

impl Target {
    /// A target from a bare feature (e.g. a row of a released NPZ): the logits are what
    /// this model's classifier head gives it.
    pub fn from_features(model: &EmotionModel, cls: Vec<f32>) -> Result<Self, InversionError> {
        let count = cls.iter().filter(|v| !v.is_finite()).count();
        if count > 0 {
            return Err(InversionError::NonFiniteTarget { count });
        }
        let logits = model.logits_of_features(&cls)?;
        Ok(Self { cls, logits })
    }

    /// The target of an image the model has just seen.
    pub fn from_prediction(prediction: &Prediction) -> Self {
        Self {
            cls: prediction.cls.clone(),
            logits: prediction.logits.clone(),
        }
    }

    /// The predicted class and its probability.
    pub fn class(&self, model: &EmotionModel) -> ClassScore {
        ClassScore::of_logits(model, &self.logits)
    }
}

/// A predicted class and its probability.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassScore {
    /// Index into the model's labels.
    pub index: usize,
    /// The label.
    pub label: String,
    /// Its softmax probability.
    pub probability: f64,
}

impl ClassScore {
    fn of_logits(model: &EmotionModel, logits: &[f32]) -> Self {
        let index = argmax(logits);
        Self {
            index,
            label: model.label(index).to_owned(),
            probability: softmax(logits).get(index).copied().map_or(0.0, f64::from),
        }
    }
}

/// The loss and each unweighted term at one step, for the image before that step's update.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    /// 0-based step.
    pub step: usize,
    /// The learning rate of the update that followed.
    pub learning_rate: f64,
    /// The weighted total.
    pub loss: f64,
    /// Mean squared difference of the CLS features.
    pub feature_mse: f64,
    /// 1 − cosine similarity of the CLS features.
    pub one_minus_cosine: f64,
    /// The logit term (computed even when its weight is 0).
    pub logit: f64,
    /// Total variation.
    pub total_variation: f64,
    /// Mean squared pixel value.
    pub l2: f64,
}

impl StepReport {
    /// The CSV header of [`StepReport::csv_row`].
    pub const CSV_HEADER: &'static str =
        "step,loss,feature_mse,one_minus_cosine,logit,total_variation,l2,learning_rate";

    /// Cosine similarity of the image's feature to the target.
    pub fn cosine(&self) -> f64 {
        1.0 - self.one_minus_cosine
    }

    /// One line of the loss-curve CSV.
    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{}",
            self.step,
            self.loss,
            self.feature_mse,
            self.one_minus_cosine,
            self.logit,
            self.total_variation,
            self.l2,
            self.learning_rate
        )
    }
}

/// What the per-step callback receives.
#[derive(Debug)]
pub struct StepUpdate<'a> {
    /// This step's loss terms.
    pub report: &'a StepReport,
    /// The image after this step's update, every `preview_every` steps and at the last one.
    pub preview: Option<&'a RgbImage>,
    /// Steps planned.
    pub steps: usize,
}

/// The outcome of an inversion.
#[derive(Clone, Debug)]
pub struct Reconstruction {
    /// The reconstructed image at the model's input size, as saved (8-bit).
    pub image: RgbImage,
    /// The model's CLS feature for that 8-bit image.
    pub features: Vec<f32>,
    /// Cosine similarity of `features` to the target.
    pub cosine: f64,
    /// Mean squared difference of `features` and the target.
    pub cls_mse: f64,
    /// The target's predicted class.
    pub target: ClassScore,
    /// The reconstruction's predicted class.
    pub reconstruction: ClassScore,
    /// The loss at every step run.
    pub curve: Vec<StepReport>,
    /// Steps run (fewer than planned when cancelled).
    pub steps_run: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Whether the run was cancelled (the result is the best image so far).
    pub cancelled: bool,
    /// Updates made before the image's cosine first reached the target cosine
    /// ([`InversionSettings::target_cosine`]); `None` when it never did.
    pub steps_to_target: Option<usize>,
    /// Seconds from the start of the optimisation to that image; `None` when never reached.
    pub seconds_to_target: Option<f64>,
}

impl Reconstruction {
    /// The loss curve as CSV, header included.
    pub fn curve_csv(&self) -> String {
        let mut text = String::from(StepReport::CSV_HEADER);
        text.push('\n');
        for report in &self.curve {
            text.push_str(&report.csv_row());
            text.push('\n');
        }
        text
    }

    /// Whether the reconstruction keeps the target's class.
    pub fn class_kept(&self) -> bool {
        self.target.index == self.reconstruction.index
    }
}

/// Optimises an image until the model's CLS feature for it matches `target`.
///
/// Each step runs the network forward and backward on the model's device, then applies an
/// Adam update and clips the image to the valid pixel range. `on_step` hears every step
/// (with a preview image every `settings.preview_every` steps); `job` gets progress and can
/// cancel, in which case the best image so far is returned with `cancelled` set. The
/// reported metrics are those of the final 8-bit image.
pub fn invert(
    model: &EmotionModel,
    target: &Target,
    settings: &InversionSettings,
    job: JobContext<'_>,
    on_step: &mut dyn FnMut(StepUpdate<'_>),
) -> Result<Reconstruction, InversionError> {
    settings.validate()?;
    let started = Instant::now();
    let problem = Problem::new(model, target)?;
    let mut random = SplitMix64::new(settings.seed);
    let mut image = problem.start(settings.start, &mut random);
    let mut adam = Adam::new(problem.shape, &model.backend.device);
    let mut best: Option<(f64, Tensor<4>)> = None;
    let mut curve = Vec::with_capacity(settings.steps.min(MAX_RESERVED_STEPS));
    let mut cancelled = false;
    let optimising = Instant::now();
    let target_class = argmax(&target.logits);
    let mut reached: Option<(usize, f64)> = None;

    for step in 0..settings.steps {
        if job.check_cancelled().is_err() {
            cancelled = true;
            break;
        }
        let (gradient, parts, class) = problem.gradient(model, settings, &image, &mut random)?;
        let report = step_report(step, settings, &parts);
        if !report.loss.is_finite() {
            return Err(InversionError::Backend(format!(
                "the loss became {} at step {step}; try a lower learning rate",
                report.loss
            )));
        }
        if best
            .as_ref()
            .is_none_or(|(cosine, _)| report.cosine() > *cosine)
        {
            best = Some((report.cosine(), image.clone()));
        }
        if reached.is_none() && report.cosine() >= settings.target_cosine() {
            reached = Some((step, optimising.elapsed().as_secs_f64()));
        }
        // Stop at the cosine asked for, once the image also keeps the target's class: this
        // image (before the update) is the result.
        if settings.until_cosine.is_some_and(|c| report.cosine() >= c) && class == target_class {
            on_step(StepUpdate {
                report: &report,
                preview: None,
                steps: settings.steps,
            });
            curve.push(report);
            job.report("inverting", (step + 1) as u64, settings.steps as u64);
            break;
        }
        image = problem.clip(adam.update(image, gradient, report.learning_rate));

        let last = step + 1 == settings.steps;
        let preview = (settings.preview_every > 0 && (step % settings.preview_every == 0 || last))
            .then(|| to_rgb_image(model, image.clone()))
            .transpose()?;
        on_step(StepUpdate {
            report: &report,
            preview: preview.as_ref(),
            steps: settings.steps,
        });
        curve.push(report);
        job.report("inverting", (step + 1) as u64, settings.steps as u64);
    }

    // The last image was never scored; compare it with the best scored one as saved (8-bit).
    let mut candidates = vec![image];
    candidates.extend(best.map(|(_, tensor)| tensor));
    let (image, prediction, cosine) = best_as_saved(model, target, candidates)?;
    Ok(Reconstruction {
        cls_mse: mean_squared_error(&prediction.cls, &target.cls),
        cosine,
        target: target.class(model),
        reconstruction: ClassScore::of_logits(model, &prediction.logits),
        features: prediction.cls,
        image,
        steps_run: curve.len(),
        curve,
        seconds: started.elapsed().as_secs_f64(),
        cancelled,
        steps_to_target: reached.map(|(step, _)| step),
        seconds_to_target: reached.map(|(_, seconds)| seconds),
    })
}

/// Step reports reserved up front at most (the curve grows past it as needed).
const MAX_RESERVED_STEPS: usize = 10_000;

/// The fixed parts of one inversion, on the model's device: the target and the pixel range.
struct Problem {
    targets: TargetTensors,
    range: [(f32, f32); 3],
    low: Tensor<4>,
    high: Tensor<4>,
    shape: [usize; 4],
    device: Device,
}

impl Problem {
    fn new(model: &EmotionModel, target: &Target) -> Result<Self, InversionError> {
        let device = model.backend.device.clone();
        let hidden = model.config.hidden_size;
        if target.cls.len() != hidden {
            return Err(faceemo_model::ModelError::FeatureWidth {
                expected: hidden,
                found: target.cls.len(),
            }
            .into());
        }
        let side = model.config.image_size;
        let channels = model.config.num_channels;
        let shape = [1, channels, side, side];
        let row = |values: Vec<f32>| {
            let width = values.len();
            Tensor::<2>::from_data(TensorData::new(values, [1, width]), &device)
        };
        let targets = TargetTensors {
            cls: row(target.cls.clone()),
            logits: row(target.logits.clone()),
            probs: row(softmax(&target.logits)),
        };
        let range = pixel_value_range(&model.preprocessor);
        let bound = |pick: fn(&(f32, f32)) -> f32| {
            let per_channel: Vec<f32> = range.iter().take(channels).map(pick).collect();
            Tensor::<4>::from_data(TensorData::new(per_channel, [1, channels, 1, 1]), &device)
                .expand(shape)
        };
        let (low, high) = (bound(|r| r.0), bound(|r| r.1));
        Ok(Self {
            targets,
            range,
            low,
            high,
            shape,
            device,
        })
    }

    fn start(&self, start: Start, random: &mut SplitMix64) -> Tensor<4> {
        let [_, channels, side, _] = self.shape;
        let pixels = start_pixels(start, &self.range, channels, side, random);
        Tensor::from_data(TensorData::new(pixels, self.shape), &self.device)
    }

    /// One forward and backward pass: the gradient of the loss with respect to the image,
    /// and the unweighted loss terms.
    fn gradient(
        &self,
        model: &EmotionModel,
        settings: &InversionSettings,
        image: &Tensor<4>,
        random: &mut SplitMix64,
    ) -> Result<(Tensor<4>, Vec<f32>, usize), InversionError> {
        let leaf = image.clone().autodiff().require_grad();
        let input = if settings.jitter > 0 {
            let (dy, dx) = (
                jitter(random, settings.jitter),
                jitter(random, settings.jitter),
            );
            leaf.clone().roll(&[dy, dx], &[2, 3])
        } else {
            leaf.clone()
        };
        let outputs = model.network().forward(input);
        let logits = outputs.logits.clone();
        let terms = settings
            .objective
            .terms(&leaf, outputs.cls, outputs.logits, &self.targets);
        let gradients = terms.total.backward();
        let gradient = leaf
            .grad(&gradients)
            .ok_or_else(|| InversionError::Backend("the image received no gradient".to_owned()))?;
        let parts = terms
            .parts
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| InversionError::Backend(format!("reading the loss: {e:?}")))?;
        let logits = logits
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| InversionError::Backend(format!("reading the logits: {e:?}")))?;
        Ok((gradient, parts, argmax(&logits)))
    }

    /// Back into the range an 8-bit image can produce.
    fn clip(&self, image: Tensor<4>) -> Tensor<4> {
        image.max_pair(self.low.clone()).min_pair(self.high.clone())
    }
}

/// Adam with PyTorch's bias correction.
struct Adam {
    first_moment: Tensor<4>,
    second_moment: Tensor<4>,
    steps: i32,
}

impl Adam {
    fn new(shape: [usize; 4], device: &Device) -> Self {
        Self {
            first_moment: Tensor::zeros(shape, device),
            second_moment: Tensor::zeros(shape, device),
            steps: 0,
        }
    }

    fn update(&mut self, image: Tensor<4>, gradient: Tensor<4>, learning_rate: f64) -> Tensor<4> {
        self.steps += 1;
        self.first_moment = self.first_moment.clone() * BETA1 + gradient.clone() * (1.0 - BETA1);
        self.second_moment = self.second_moment.clone() * BETA2 + gradient.square() * (1.0 - BETA2);
        let step_size = learning_rate / (1.0 - BETA1.powi(self.steps));
        let denominator =
            (self.second_moment.clone() / (1.0 - BETA2.powi(self.steps))).sqrt() + EPSILON;
        image - self.first_moment.clone() * step_size / denominator
    }
}

/// A random shift in `-reach..=reach`.
fn jitter(random: &mut SplitMix64, reach: usize) -> i64 {
    let reach = i64::try_from(reach).unwrap_or(i64::MAX / 4);
    let span = reach.unsigned_abs() * 2 + 1;
    i64::try_from(random.next_u64() % span).unwrap_or(0) - reach
}

/// The candidate whose 8-bit image's feature is closest to the target, with its prediction.
fn best_as_saved(
    model: &EmotionModel,
    target: &Target,
    candidates: Vec<Tensor<4>>,
) -> Result<(RgbImage, Prediction, f64), InversionError> {
    let mut chosen: Option<(RgbImage, Prediction, f64)> = None;
    for candidate in candidates {
        let rgb = to_rgb_image(model, candidate)?;
        let Some(prediction) = model.predict(std::slice::from_ref(&rgb)).pop() else {
            return Err(InversionError::Backend(
                "the model returned no prediction".to_owned(),
            ));
        };
        let cosine = cosine_similarity(&prediction.cls, &target.cls);
        if chosen.as_ref().is_none_or(|(_, _, best)| cosine > *best) {
            chosen = Some((rgb, prediction, cosine));
        }
    }
    chosen.ok_or_else(|| InversionError::Backend("no image to evaluate".to_owned()))
}

/// The starting image in normalised pixels, channel-first. Noise is uniform over the middle
/// half of each channel's range, drawn channel by channel, row by row (the reference script
/// draws the same numbers).
fn start_pixels(
    start: Start,
    range: &[(f32, f32); 3],
    channels: usize,
    side: usize,
    random: &mut SplitMix64,
) -> Vec<f32> {
    let mut pixels = Vec::with_capacity(channels * side * side);
    for &(low, high) in range.iter().take(channels) {
        for _ in 0..side * side {
            let level = match start {
                Start::Noise => 0.25 + 0.5 * random.uniform(),
                Start::Grey => 0.5,
            };
            pixels.push(low + (level as f32) * (high - low));
        }
    }
    pixels
}

fn step_report(step: usize, settings: &InversionSettings, parts: &[f32]) -> StepReport {
    let part = |i: usize| parts.get(i).copied().map_or(f64::NAN, f64::from);
    let objective = &settings.objective;
    let (feature_mse, one_minus_cosine, logit, total_variation, l2) =
        (part(0), part(1), part(2), part(3), part(4));
    StepReport {
        step,
        learning_rate: settings.learning_rate_at(step),
        loss: objective.feature_mse * feature_mse
            + objective.feature_cosine * one_minus_cosine
            + objective.logit * logit
            + objective.total_variation * total_variation
            + objective.l2 * l2,
        feature_mse,
        one_minus_cosine,
        logit,
        total_variation,
        l2,
    }
}

fn to_rgb_image(model: &EmotionModel, pixels: Tensor<4>) -> Result<RgbImage, InversionError> {
    let side = model.config.image_size as u32;
    let values = pixels
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| InversionError::Backend(format!("reading the image: {e:?}")))?;
    Ok(image_from_pixel_values(
        &values,
        side,
        side,
        &model.preprocessor,
    ))
}

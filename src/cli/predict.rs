//! `faceemo predict`: emotion probabilities (and CLS features) of face images.

use std::path::PathBuf;
use std::process::ExitCode;

use faceemo_jobs::{CancelToken, JobContext};
use faceemo_model::{EmotionModel, Prediction};
use serde::Serialize;

use super::model_args::ModelArgs;
use super::progress::TerminalProgress;

/// Arguments of `faceemo predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Images to classify (PNG, JPEG, WebP, BMP, GIF, TIFF).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Print a JSON array of {"path","label","probs","logits","features"?}.
    #[arg(long)]
    json: bool,
    /// Include the CLS feature vector of each image.
    #[arg(long)]
    with_features: bool,
}

#[derive(Debug, Serialize)]
struct ImageReport {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probs: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logits: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    features: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Runs `faceemo predict`. Unreadable images are reported and skipped; the exit code is
/// non-zero when any image failed.
pub fn run(args: &PredictArgs) -> anyhow::Result<ExitCode> {
    let model = args.model.load(args.json)?;
    let progress = TerminalProgress::count(args.json || args.images.len() <= args.model.batch_size);
    let cancel = CancelToken::new();
    let results = model.predict_files(
        &args.images,
        args.model.batch_size,
        JobContext::new(&progress, &cancel),
    )?;
    progress.finish();
    let mut failed = false;
    let reports: Vec<ImageReport> = args
        .images
        .iter()
        .zip(&results)
        .map(|(path, result)| match result {
            Ok(prediction) => ImageReport::success(path, &model, prediction, args.with_features),
            Err(error) => {
                failed = true;
                eprintln!("error: {error}");
                ImageReport::failure(path, error)
            }
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for report in &reports {
            print!("{}", report.to_text());
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

impl ImageReport {
    fn success(
        path: &std::path::Path,
        model: &EmotionModel,
        prediction: &Prediction,
        with_features: bool,
    ) -> Self {
        let probs = model
            .labels
            .iter()
            .zip(&prediction.probs)
            .map(|(label, p)| (label.clone(), serde_json::Value::from(*p)))
            .collect();
        Self {
            path: path.display().to_string(),
            label: Some(model.label(prediction.class_index).to_owned()),
            probs: Some(probs),
            logits: Some(prediction.logits.clone()),
            features: with_features.then(|| prediction.cls.clone()),
            error: None,
        }
    }

    fn failure(path: &std::path::Path, error: &faceemo_model::ModelError) -> Self {
        Self {
            path: path.display().to_string(),
            label: None,
            probs: None,
            logits: None,
            features: None,
            error: Some(error.to_string()),
        }
    }

    fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        if let Some(error) = &self.error {
            writeln!(out, "{}: error: {error}", self.path).ok();
            return out;
        }
        let label = self.label.as_deref().unwrap_or("?");
        let probability = self
            .probs
            .as_ref()
            .and_then(|p| p.get(label))
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(f64::NAN);
        writeln!(out, "{}: {label} ({:.1} %)", self.path, probability * 100.0).ok();
        for (name, p) in self.probs.iter().flatten() {
            let p = p.as_f64().unwrap_or(f64::NAN);
            let bar = "#".repeat((p * 40.0).round() as usize);
            writeln!(out, "  {name:<12} {:>6.2} % {bar}", p * 100.0).ok();
        }
        if let Some(features) = &self.features {
            let values: Vec<String> = features.iter().map(|v| format!("{v:.6}")).collect();
            writeln!(out, "  features ({}): {}", features.len(), values.join(" ")).ok();
        }
        out
    }
}

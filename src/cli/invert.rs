//! `faceemo invert`: reconstruct an image from a CLS feature (of an image, or a row of a
//! released NPZ) and report how close it came.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use faceemo_inversion::{
    InversionSettings, LogitLoss, Objective, Reconstruction, Start, Target, compare_with_original,
    invert,
};
use faceemo_jobs::{CancelToken, JobContext};
use faceemo_model::{EmotionModel, load_rgb_image};
use image::RgbImage;
use serde::Serialize;

use super::model_args::ModelArgs;
use super::progress::TerminalProgress;

/// Arguments of `faceemo invert`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["image", "npz"])))]
pub struct InvertArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The image whose CLS feature to reconstruct (PSNR and SSIM are reported against it).
    #[arg(long, value_name = "IMG")]
    image: Option<PathBuf>,
    /// A feature file in the release's layout; the row is chosen with --index.
    #[arg(long, value_name = "FILE", requires = "index")]
    npz: Option<PathBuf>,
    /// The row of --npz to reconstruct (0-based).
    #[arg(long, value_name = "I")]
    index: Option<usize>,
    /// Where to write the reconstruction (PNG at the model's input size).
    #[arg(short, long, value_name = "RECON.png")]
    output: PathBuf,
    /// Optimisation steps (1 to 100,000).
    #[arg(long, default_value_t = InversionSettings::default().steps,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    steps: usize,
    /// Stop as soon as the CLS cosine to the target reaches C with the target's class kept
    /// (else run every step); the JSON's steps and seconds to the target use C, or 0.95.
    #[arg(long, value_name = "C")]
    until_cosine: Option<f64>,
    /// Adam's peak learning rate (normalised pixel units), decayed along a half cosine.
    #[arg(long, default_value_t = InversionSettings::default().learning_rate)]
    lr: f64,
    /// Weight of the feature MSE term.
    #[arg(long, default_value_t = Objective::default().feature_mse)]
    mse_weight: f64,
    /// Weight of the 1 − cosine term.
    #[arg(long, default_value_t = Objective::default().feature_cosine)]
    cosine_weight: f64,
    /// Weight of the logit-matching term (0: off).
    #[arg(long, default_value_t = Objective::default().logit)]
    logit_weight: f64,
    /// How logits are matched: ce (cross-entropy to the target's softmax) or mse.
    #[arg(long, default_value = "ce")]
    logit_loss: LogitLoss,
    /// Weight of the total-variation prior.
    #[arg(long, default_value_t = Objective::default().total_variation)]
    tv: f64,
    /// Weight of the L2 pixel prior.
    #[arg(long, default_value_t = Objective::default().l2)]
    l2: f64,
    /// Random shift of up to this many pixels at each step (0: none).
    #[arg(long, default_value_t = 0)]
    jitter: usize,
    /// Starting image: noise or grey.
    #[arg(long, default_value = "noise")]
    start: Start,
    /// Seed of the start and the jitter.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the loss curve (every term, every step) as CSV.
    #[arg(long, value_name = "CURVE.csv")]
    curve: Option<PathBuf>,
    /// Print `{"cosine","cls_mse","target_label","target_prob","recon_label","recon_prob",
    /// "steps","seconds","steps_to_target","seconds_to_target","psnr"?,"ssim"?}`.
    #[arg(long)]
    json: bool,
}

/// The JSON report; its keys are a contract.
#[derive(Debug, Serialize)]
struct InversionReport {
    cosine: f64,
    cls_mse: f64,
    target_label: String,
    target_prob: f64,
    recon_label: String,
    recon_prob: f64,
    steps: usize,
    seconds: f64,
    /// Updates made before the cosine first reached --until-cosine (or 0.95); null if never.
    steps_to_target: Option<usize>,
    /// Seconds of optimisation until then; null if never.
    seconds_to_target: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    psnr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ssim: Option<f64>,
}

impl InvertArgs {
    fn settings(&self) -> InversionSettings {
        InversionSettings {
            steps: self.steps,
            learning_rate: self.lr,
            objective: Objective {
                feature_mse: self.mse_weight,
                feature_cosine: self.cosine_weight,
                logit: self.logit_weight,
                logit_loss: self.logit_loss,
                total_variation: self.tv,
                l2: self.l2,
            },
            jitter: self.jitter,
            start: self.start,
            seed: self.seed,
            preview_every: 0,
            until_cosine: self.until_cosine,
            ..InversionSettings::default()
        }
    }

    /// The target feature and, for an image, the image itself.
    fn target(&self, model: &EmotionModel) -> anyhow::Result<(Target, Option<RgbImage>)> {
        if let Some(path) = &self.image {
            let image = load_rgb_image(path)?;
            let Some(prediction) = model.predict(std::slice::from_ref(&image)).pop() else {
                bail!("the model returned no prediction for {}", path.display());
            };
            return Ok((Target::from_prediction(&prediction), Some(image)));
        }
        let (Some(path), Some(index)) = (&self.npz, self.index) else {
            bail!("give --image IMG, or --npz FILE with --index I");
        };
        let arrays = faceemo_data::read_split_file(path)?;
        if index >= arrays.rows() {
            bail!(
                "row {index} is out of range: {} holds {} rows",
                path.display(),
                arrays.rows()
            );
        }
        let cls = arrays.features.row(index).to_vec();
        let target = Target::from_features(model, cls)
            .with_context(|| format!("row {index} of {} cannot be a target", path.display()))?;
        Ok((target, None))
    }
}

/// Runs `faceemo invert`.
pub fn run(args: &InvertArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings();
    settings.validate()?;
    let model = args.model.load(args.json)?;
    let (target, original) = args.target(&model)?;
    let progress = TerminalProgress::count(args.json);
    let cancel = CancelToken::new();
    let result = invert(
        &model,
        &target,
        &settings,
        JobContext::new(&progress, &cancel),
        &mut |_| {},
    )?;
    progress.finish();
    faceemo::output::write_png_atomically(&result.image, &args.output)?;
    if let Some(path) = &args.curve {
        let curve = result.curve_csv();
        faceemo::output::write_atomically(path, |out| {
            out.write_all(curve.as_bytes())?;
            Ok(())
        })?;
    }
    let pixels = original
        .as_ref()
        .map(|original| compare_with_original(original, &result.image, &model.preprocessor));
    let report = InversionReport {
        cosine: result.cosine,
        cls_mse: result.cls_mse,
        target_label: result.target.label.clone(),
        target_prob: result.target.probability,
        recon_label: result.reconstruction.label.clone(),
        recon_prob: result.reconstruction.probability,
        steps: result.steps_run,
        seconds: result.seconds,
        steps_to_target: result.steps_to_target,
        seconds_to_target: result.seconds_to_target,
        psnr: pixels.map(|p| p.psnr).filter(|v| v.is_finite()),
        ssim: pixels.map(|p| p.ssim),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text_report(&report, &result, &args.output));
    }
    Ok(ExitCode::SUCCESS)
}

fn text_report(
    report: &InversionReport,
    result: &Reconstruction,
    output: &std::path::Path,
) -> String {
    let mut text = format!(
        "reconstruction: {}\ncosine {:.4}, CLS MSE {:.5} after {} steps in {:.1} s\n\
         target {} ({:.1} %), reconstruction {} ({:.1} %){}\n",
        output.display(),
        report.cosine,
        report.cls_mse,
        report.steps,
        report.seconds,
        report.target_label,
        100.0 * report.target_prob,
        report.recon_label,
        100.0 * report.recon_prob,
        if result.class_kept() {
            ", class kept"
        } else {
            ", class changed"
        },
    );
    if let (Some(psnr), Some(ssim)) = (report.psnr, report.ssim) {
        let _ = writeln!(
            text,
            "against the original: PSNR {psnr:.2} dB, SSIM {ssim:.3}"
        );
    }
    text
}

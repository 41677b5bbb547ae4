//! `faceemo extract`: the release's features for a folder of the user's own images.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use faceemo_data::EmotionLabel;
use faceemo_jobs::{CancelToken, JobContext};
use ndarray::Array2;

use super::model_args::ModelArgs;
use super::progress::TerminalProgress;

/// Arguments of `faceemo extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// A folder of images; images in sub-folders named after an emotion take that emotion.
    folder: PathBuf,
    /// The NPZ to write (`features`, `logits`, `probs`); the metadata goes beside it as
    /// `<stem>_metadata.csv`.
    #[arg(short, long, value_name = "OUT.npz")]
    output: PathBuf,
}

/// One image found in the folder.
struct FoundImage {
    path: PathBuf,
    /// Path relative to the folder, `/`-separated: the sample id.
    sample_id: String,
    /// The emotion named by its sub-folder, if any.
    emotion: Option<String>,
}

/// Runs `faceemo extract`.
pub fn run(args: &ExtractArgs) -> anyhow::Result<ExitCode> {
    let images = find_images(&args.folder)?;
    anyhow::ensure!(
        !images.is_empty(),
        "no images found in {}",
        args.folder.display()
    );
    let model = args.model.load(false)?;
    let dataset = args
        .folder
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "my_images".to_owned());
    let split = file_stem(&args.output);

    let progress = TerminalProgress::count(false);
    let cancel = CancelToken::new();
    let paths: Vec<PathBuf> = images.iter().map(|found| found.path.clone()).collect();
    let results = model.predict_files(
        &paths,
        args.model.batch_size,
        JobContext::new(&progress, &cancel),
    )?;
    progress.finish();
    let (mut features, mut logits, mut probs) = (Vec::new(), Vec::new(), Vec::new());
    let mut valid = vec![false; images.len()];
    let mut skipped = Vec::new();
    for (row, result) in results.into_iter().enumerate() {
        match result {
            Ok(prediction) => {
                valid[row] = true;
                features.extend(prediction.cls);
                logits.extend(prediction.logits);
                probs.extend(prediction.probs);
            }
            Err(error) => skipped.push(error.to_string()),
        }
    }
    let rows = valid.iter().filter(|v| **v).count();
    anyhow::ensure!(
        rows > 0,
        "none of the {} images could be read",
        images.len()
    );

    write_npz(
        &args.output,
        rows,
        &features,
        &logits,
        &probs,
        model.config.hidden_size,
        model.labels.len(),
    )?;
    let metadata_path = args.output.with_file_name(format!("{split}_metadata.csv"));
    write_metadata(&metadata_path, &images, &valid, &dataset, &split)?;
    println!(
        "wrote {rows} rows to {} and {} (dataset {dataset:?}, split {split:?})",
        args.output.display(),
        metadata_path.display()
    );
    if !skipped.is_empty() {
        println!("skipped {} unreadable images:", skipped.len());
        for reason in &skipped {
            println!("  {reason}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The output's file stem: the split name of the extracted set.
fn file_stem(output: &Path) -> String {
    output.file_stem().map_or_else(
        || "extracted".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    )
}

fn is_image(path: &Path) -> bool {
    faceemo_workbench::has_image_extension(path)
}

/// Images directly in `folder` (no emotion) and one level down (the sub-folder's emotion).
fn find_images(folder: &Path) -> anyhow::Result<Vec<FoundImage>> {
    let entries = std::fs::read_dir(folder)
        .with_context(|| format!("cannot read the folder {}", folder.display()))?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(inner) = std::fs::read_dir(&path) else {
                continue;
            };
            for image in inner.flatten().map(|e| e.path()).filter(|p| is_image(p)) {
                let file = image
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                found.push(FoundImage {
                    sample_id: format!("{name}/{file}"),
                    path: image,
                    emotion: Some(name.clone()),
                });
            }
        } else if is_image(&path) {
            found.push(FoundImage {
                sample_id: entry.file_name().to_string_lossy().into_owned(),
                path,
                emotion: None,
            });
        }
    }
    found.sort_by(|a, b| a.sample_id.cmp(&b.sample_id));
    Ok(found)
}

fn write_npz(
    path: &Path,
    rows: usize,
    features: &[f32],
    logits: &[f32],
    probs: &[f32],
    width: usize,
    classes: usize,
) -> anyhow::Result<()> {
    let matrix =
        |values: &[f32], cols: usize| Array2::from_shape_vec((rows, cols), values.to_vec());
    let (features, logits, probs) = (
        matrix(features, width)?,
        matrix(logits, classes)?,
        matrix(probs, classes)?,
    );
    // Built in memory (the zip writer seeks), then written atomically beside the target.
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mut npz = ndarray_npy::NpzWriter::new(&mut bytes);
    npz.add_array("features", &features)?;
    npz.add_array("logits", &logits)?;
    npz.add_array("probs", &probs)?;
    npz.finish()
        .with_context(|| format!("cannot write {}", path.display()))?;
    faceemo::output::write_atomically(path, |out| {
        out.write_all(bytes.get_ref())?;
        Ok(())
    })
}

fn write_metadata(
    path: &Path,
    images: &[FoundImage],
    valid: &[bool],
    dataset: &str,
    split: &str,
) -> anyhow::Result<()> {
    let header = ["sample_id", "Dataset", "Emotion", "Split", "valid_image"].map(str::to_owned);
    let rows: Vec<Vec<String>> = images
        .iter()
        .zip(valid)
        .map(|(image, is_valid)| {
            let emotion = image.emotion.as_deref().map_or_else(
                || "unknown".to_owned(),
                |e| EmotionLabel::parse(e).name().to_owned(),
            );
            vec![
                image.sample_id.clone(),
                dataset.to_owned(),
                emotion,
                split.to_owned(),
                if *is_valid { "True" } else { "False" }.to_owned(),
            ]
        })
        .collect();
    faceemo::output::write_csv_atomically(path, &header, &rows)
}

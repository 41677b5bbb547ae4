//! The bottom bar: the model and its backend, and every running job with its progress and
//! a Cancel button.

use faceemo_workbench::{Intent, Workbench, file_name};

/// Draws the status bar.
pub fn show(ui: &mut egui::Ui, core: &Workbench, intents: &mut Vec<Intent>) {
    egui::Panel::bottom("status").show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            let backend = match core.model() {
                Some(model) => format!("Model: {} - {}", file_name(&model.folder), model.backend),
                None if core.model_loading() => "Model: loading...".to_owned(),
                None => "Model: none loaded (Model menu)".to_owned(),
            };
            ui.label(backend);
            for job in core.jobs() {
                ui.separator();
                ui.label(&job.title);
                if job.stopping {
                    ui.label(match job.stops {
                        Some(when) => format!("(stops {when})"),
                        None => "(stopping...)".to_owned(),
                    });
                    continue;
                }
                let fraction = job
                    .progress
                    .as_ref()
                    .and_then(faceemo_jobs::ProgressUpdate::fraction);
                let stage = job
                    .progress
                    .as_ref()
                    .map(|p| p.stage.clone())
                    .unwrap_or_default();
                if let Some(f) = fraction {
                    ui.add(egui::ProgressBar::new(f).desired_width(120.0).text(stage));
                } else {
                    ui.spinner();
                    if !stage.is_empty() {
                        ui.label(stage);
                    }
                }
                if ui.small_button("Cancel").clicked() {
                    intents.push(Intent::Cancel(job.id));
                }
            }
        });
    });
}

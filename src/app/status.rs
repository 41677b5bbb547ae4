//! The bottom bar: the backend in use and every running job with its progress and a
//! cancel button.

use super::WorkbenchApp;

/// Draws the status bar.
pub fn status_bar(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    egui::Panel::bottom("status").show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            let backend = match (&app.model, app.model_loading) {
                (Some(model), _) => {
                    format!("Model: {} - {}", short_path(&model.folder), model.backend)
                }
                (None, true) => "Model: loading...".to_owned(),
                (None, false) => "Model: none loaded (Model menu)".to_owned(),
            };
            ui.label(backend);
            for job in &app.jobs {
                ui.separator();
                ui.label(&job.title);
                let fraction = job
                    .progress
                    .as_ref()
                    .and_then(faceemo_jobs::ProgressUpdate::fraction);
                let text = job
                    .progress
                    .as_ref()
                    .map(|p| p.stage.clone())
                    .unwrap_or_default();
                match fraction {
                    Some(f) => {
                        ui.add(egui::ProgressBar::new(f).desired_width(120.0).text(text));
                    }
                    None => {
                        ui.spinner();
                    }
                }
                if ui.small_button("Cancel").clicked() {
                    job.cancel.cancel();
                }
            }
        });
    });
}

fn short_path(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

//! The right panel, the image lab: the dropped face, its emotion probabilities, its nearest
//! released samples, and its reconstruction with live progress and the final comparison.

use egui_plot::{Line, Plot, PlotPoints};

use super::WorkbenchApp;

/// Draws the image lab.
pub fn show(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    egui::Panel::right("lab")
        .resizable(true)
        .default_size(340.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.heading("Image lab");
                dropped_image(app, ui);
                ui.separator();
                inversion(app, ui);
            });
        });
}

fn dropped_image(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    let Some(lab) = &app.lab.image else {
        ui.label("Drop a face image on the window (or open one) to predict its emotion, place it on the map and list its nearest released samples.");
        if app.model.is_none() {
            ui.label("A model is needed: Model > Open model folder, or load the FaceEmo model.");
        }
        return;
    };
    ui.label(&lab.predicted.name);
    ui.image((lab.texture.id(), fit(lab.texture.size_vec2(), 200.0)));
    let labels = app
        .model
        .as_ref()
        .map(|m| m.labels.clone())
        .unwrap_or_default();
    let prediction = &lab.predicted.prediction;
    let best = labels
        .get(prediction.class_index)
        .map_or("?", String::as_str);
    ui.strong(format!(
        "Predicted: {best} ({:.1} %)",
        100.0
            * prediction
                .probs
                .get(prediction.class_index)
                .copied()
                .unwrap_or(0.0)
    ));
    egui::Grid::new("probabilities")
        .num_columns(2)
        .show(ui, |ui| {
            for (index, &probability) in prediction.probs.iter().enumerate() {
                ui.label(labels.get(index).map_or("?", String::as_str));
                ui.add(
                    egui::ProgressBar::new(probability)
                        .desired_width(200.0)
                        .text(format!("{:.1} %", 100.0 * probability)),
                );
                ui.end_row();
            }
        });
    if ui.button("Reconstruct this face").clicked() {
        app.reconstruct(false);
    }
    neighbours(app, ui);
}

fn neighbours(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    let Some(placement) = &app.lab.placement else {
        return;
    };
    ui.separator();
    ui.strong("Nearest released samples (cosine, 768-d)");
    if let Some(note) = &placement.note {
        ui.label(note);
    }
    if let Some(point) = neighbours_table(ui, "neighbours", &placement.neighbours) {
        app.map.select(vec![point]);
    }
}

/// Nearest samples as a table (sample, dataset, emotion, predicted, cosine); returns the map
/// point of the one whose link was clicked.
pub fn neighbours_table(
    ui: &mut egui::Ui,
    id: &str,
    rows: &[super::projection::NeighbourRow],
) -> Option<usize> {
    let mut select = None;
    egui::Grid::new(id).striped(true).show(ui, |ui| {
        for heading in ["sample", "dataset", "emotion", "predicted", "cosine"] {
            ui.strong(heading);
        }
        ui.end_row();
        for neighbour in rows {
            if ui
                .link(&neighbour.sample_id)
                .on_hover_text("Select on the map")
                .clicked()
            {
                select = Some(neighbour.point);
            }
            ui.label(&neighbour.dataset);
            ui.label(&neighbour.emotion);
            ui.label(&neighbour.predicted);
            ui.label(format!("{:.3}", neighbour.similarity));
            ui.end_row();
        }
    });
    select
}

fn inversion(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    let Some(run) = &app.lab.inversion else {
        ui.label("Reconstruction: optimise an image until the model's CLS feature matches the target's (the release's inversion experiment).");
        return;
    };
    ui.strong(format!("Reconstruction of {}", run.subject));
    let done = run.curve.len();
    if run.result.is_none() {
        ui.add(
            egui::ProgressBar::new(done as f32 / run.steps.max(1) as f32)
                .text(format!("step {done} / {}", run.steps)),
        );
        if ui.button("Stop (keep the best so far)").clicked() {
            run.cancel.cancel();
        }
    }
    if let Some(last) = run.curve.last() {
        ui.label(format!(
            "loss {:.4}, cosine {:.4}",
            last.loss,
            last.cosine()
        ));
    }
    let losses: PlotPoints = run.curve.iter().map(|r| [r.step as f64, r.loss]).collect();
    Plot::new("loss curve")
        .height(110.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, |plot_ui| plot_ui.line(Line::new("loss", losses)));
    ui.horizontal(|ui| {
        if let Some(original) = &run.original {
            ui.vertical(|ui| {
                ui.label("original");
                ui.image((original.id(), fit(original.size_vec2(), 150.0)));
            });
        }
        let shown = run.result_texture.as_ref().or(run.preview.as_ref());
        if let Some(texture) = shown {
            ui.vertical(|ui| {
                ui.label(if run.result.is_some() {
                    "reconstruction"
                } else {
                    "current"
                });
                ui.image((texture.id(), egui::vec2(150.0, 150.0)));
            });
        }
    });
    result_panel(app, ui);
}

/// The finished reconstruction: metrics, comparison with the original, saving.
fn result_panel(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    let Some(run) = &app.lab.inversion else {
        return;
    };
    let Some(result) = &run.result else {
        return;
    };
    let mut lines = vec![
        format!("cosine {:.4}, CLS MSE {:.5}", result.cosine, result.cls_mse),
        format!(
            "target {} ({:.1} %), reconstruction {} ({:.1} %){}",
            result.target.label,
            100.0 * result.target.probability,
            result.reconstruction.label,
            100.0 * result.reconstruction.probability,
            if result.class_kept() {
                " - class kept"
            } else {
                " - class changed"
            }
        ),
        format!(
            "{} steps in {:.1} s{}",
            result.steps_run,
            result.seconds,
            if result.cancelled {
                " (stopped early)"
            } else {
                ""
            }
        ),
    ];
    if let Some(pixels) = run.pixels {
        lines.push(format!(
            "against the original: PSNR {:.2} dB, SSIM {:.3}",
            pixels.psnr, pixels.ssim
        ));
    }
    for line in lines {
        ui.label(line);
    }
    ui.text_edit_singleline(&mut app.recon_path);
    if ui.button("Save reconstruction PNG").clicked() {
        let path = std::path::PathBuf::from(app.recon_path.trim());
        let outcome = app
            .reconstruction()
            .map(|result| result.image.save(&path).map_err(|e| e.to_string()));
        match outcome {
            Some(Ok(())) => app.note(format!("saved the reconstruction to {}", path.display())),
            Some(Err(error)) => app.error(format!("cannot save {}: {error}", path.display())),
            None => {}
        }
    }
}

/// Scales `size` to fit a square of `side`, keeping the aspect ratio.
fn fit(size: egui::Vec2, side: f32) -> egui::Vec2 {
    let scale = side / size.x.max(size.y).max(1.0);
    size * scale
}

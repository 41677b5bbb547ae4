//! The right panel, the image lab: the dropped face, its emotion probabilities, its nearest
//! released samples, and its reconstruction with live progress and the final comparison.

use std::path::PathBuf;

use egui_plot::{Line, Plot, PlotPoints};
use faceemo_workbench::{Intent, InversionRun, NeighbourRow, ReconstructFrom, Workbench};

use super::dialogs::{Dialogs, Purpose};
use super::textures::TextureSlot;

/// The lab's own state: the save path typed and the textures of the images shown.
pub struct LabPanel {
    /// Where the reconstruction's PNG goes (typed, or set by the save dialog).
    pub save_path: String,
    dropped: TextureSlot,
    original: TextureSlot,
    current: TextureSlot,
}

impl Default for LabPanel {
    fn default() -> Self {
        Self {
            save_path: "reconstruction.png".to_owned(),
            dropped: TextureSlot::default(),
            original: TextureSlot::default(),
            current: TextureSlot::default(),
        }
    }
}

impl LabPanel {
    /// Draws the image lab.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        core: &Workbench,
        dialogs: &mut Dialogs,
        intents: &mut Vec<Intent>,
    ) {
        egui::Panel::right("lab")
            .resizable(true)
            .default_size(340.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    ui.heading("Image lab");
                    self.dropped_image(ui, core, intents);
                    ui.separator();
                    self.inversion(ui, core, dialogs, intents);
                });
            });
    }

    fn dropped_image(&mut self, ui: &mut egui::Ui, core: &Workbench, intents: &mut Vec<Intent>) {
        let Some(image) = &core.lab().image else {
            ui.label("Drop a face image on the window (or open one) to predict its emotion, place it on the map and list its nearest released samples.");
            if core.model().is_none() {
                ui.label(
                    "A model is needed: Model > Open model folder, or load the FaceEmo model.",
                );
            }
            return;
        };
        ui.label(&image.name);
        let texture = self.dropped.get(
            ui.ctx(),
            "dropped image",
            &image.thumbnail,
            egui::TextureOptions::LINEAR,
        );
        ui.image((texture.id(), fit(texture.size_vec2(), 200.0)));
        let labels = core
            .model()
            .map(|m| m.labels.as_slice())
            .unwrap_or_default();
        let prediction = &image.prediction;
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
            intents.push(Intent::Reconstruct(ReconstructFrom::DroppedImage));
        }
        let Some(placement) = &core.lab().placement else {
            return;
        };
        ui.separator();
        ui.strong("Nearest released samples (cosine, 768-d)");
        if let Some(note) = &placement.note {
            ui.label(note);
        }
        if placement.neighbours.is_empty() {
            return;
        }
        if let Some(point) = neighbours_table(ui, "neighbours", &placement.neighbours) {
            intents.push(Intent::Select(vec![point]));
        }
    }

    fn inversion(
        &mut self,
        ui: &mut egui::Ui,
        core: &Workbench,
        dialogs: &mut Dialogs,
        intents: &mut Vec<Intent>,
    ) {
        let Some(run) = &core.lab().inversion else {
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
            if let (Some(rate), Some(left)) = (run.steps_per_second(), run.seconds_left()) {
                ui.label(format!("{rate:.1} steps/s, at most {left:.0} s left"));
            }
            if ui.button("Stop (keep the best so far)").clicked() {
                intents.push(Intent::Cancel(run.job));
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
                let texture =
                    self.original
                        .get(ui.ctx(), "original", original, egui::TextureOptions::LINEAR);
                ui.vertical(|ui| {
                    ui.label("original");
                    ui.image((texture.id(), fit(texture.size_vec2(), 150.0)));
                });
            }
            if let Some(shown) = run.image.as_ref().or(run.preview.as_ref()) {
                let texture = self.current.get(
                    ui.ctx(),
                    "reconstruction",
                    shown,
                    egui::TextureOptions::NEAREST,
                );
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
        self.result(ui, run, dialogs, intents);
    }

    /// The finished reconstruction: metrics, comparison with the original, saving.
    fn result(
        &mut self,
        ui: &mut egui::Ui,
        run: &InversionRun,
        dialogs: &mut Dialogs,
        intents: &mut Vec<Intent>,
    ) {
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
                "{} steps in {:.1} s ({:.1} steps/s){}",
                result.steps_run,
                result.seconds,
                result.steps_run as f64 / result.seconds.max(1e-9),
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
        ui.horizontal_wrapped(|ui| {
            ui.add(egui::TextEdit::singleline(&mut self.save_path).desired_width(160.0));
            if ui.button("Save reconstruction PNG").clicked() && !self.save_path.trim().is_empty() {
                intents.push(Intent::SaveReconstruction(PathBuf::from(
                    self.save_path.trim(),
                )));
            }
            if ui
                .add_enabled(dialogs.idle(), egui::Button::new("Save as..."))
                .clicked()
            {
                dialogs.open(ui.ctx(), Purpose::SaveReconstruction);
            }
        });
    }
}

/// Nearest samples as a table (sample, dataset, emotion, predicted, cosine); returns the map
/// point of the one whose link was clicked.
pub fn neighbours_table(ui: &mut egui::Ui, id: &str, rows: &[NeighbourRow]) -> Option<usize> {
    let mut select = None;
    egui::ScrollArea::horizontal().id_salt(id).show(ui, |ui| {
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
    });
    select
}

/// Scales `size` to fit a square of `side`, keeping the aspect ratio.
fn fit(size: egui::Vec2, side: f32) -> egui::Vec2 {
    let scale = side / size.x.max(size.y).max(1.0);
    size * scale
}

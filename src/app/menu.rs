//! The top bar: File, Model and View menus, the typed-path fallback for where there is no
//! file chooser, and the messages.

use std::path::PathBuf;

use faceemo_workbench::{Intent, MAX_INVERSION_STEPS, MAX_POINT_RADIUS, Workbench};

use super::dialogs::{Dialogs, Purpose};

/// The top bar's own state: what is typed in its fields.
#[derive(Default)]
pub struct MenuBar {
    typed_path: String,
    typed_model: String,
}

impl MenuBar {
    /// Draws the menu bar, the typed-path row and the messages.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        core: &Workbench,
        dialogs: &mut Dialogs,
        lab_open: &mut bool,
        intents: &mut Vec<Intent>,
    ) {
        egui::Panel::top("menu").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                ui.menu_button("File", |ui| file_menu(ui, core, dialogs, intents));
                ui.menu_button("Model", |ui| model_menu(ui, core, dialogs, intents));
                ui.menu_button("View", |ui| view_menu(ui, core, lab_open, intents));
            });
            ui.horizontal_wrapped(|ui| self.typed_row(ui, intents));
            messages(ui, core, intents);
        });
    }

    fn typed_row(&mut self, ui: &mut egui::Ui, intents: &mut Vec<Intent>) {
        ui.label("Open path:");
        let field = ui.add(
            egui::TextEdit::singleline(&mut self.typed_path)
                .hint_text("release folder, NPZ/CSV file, image or model folder")
                .desired_width(360.0),
        );
        let submitted = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (ui.button("Open").clicked() || submitted) && !self.typed_path.trim().is_empty() {
            let path = PathBuf::from(self.typed_path.trim());
            self.typed_path.clear();
            intents.push(Intent::OpenPaths(vec![path]));
        }
        ui.separator();
        ui.label("Model:");
        ui.add(
            egui::TextEdit::singleline(&mut self.typed_model)
                .hint_text("folder or hub id")
                .desired_width(200.0),
        );
        if ui.button("Load model").clicked() && !self.typed_model.trim().is_empty() {
            intents.push(Intent::LoadModel(self.typed_model.trim().to_owned()));
            self.typed_model.clear();
        }
    }
}

fn file_menu(
    ui: &mut egui::Ui,
    core: &Workbench,
    dialogs: &mut Dialogs,
    intents: &mut Vec<Intent>,
) {
    if ui
        .add_enabled(dialogs.idle(), egui::Button::new("Open files..."))
        .clicked()
    {
        dialogs.open(ui.ctx(), Purpose::OpenFiles);
    }
    if ui
        .add_enabled(dialogs.idle(), egui::Button::new("Open folder..."))
        .clicked()
    {
        dialogs.open(ui.ctx(), Purpose::OpenFolder);
    }
    if ui.button("Download release from Hugging Face").clicked() {
        intents.push(Intent::DownloadRelease);
    }
    if ui.button("Open the synthetic demo set").clicked() {
        intents.push(Intent::OpenDemo);
    }
    let recent = &core.settings().recent_sources;
    if !recent.is_empty() {
        ui.separator();
        ui.label("Recent");
        for sources in recent {
            if ui
                .button(faceemo_workbench::describe_paths(sources))
                .clicked()
            {
                intents.push(Intent::OpenSources(sources.clone()));
            }
        }
    }
}

fn model_menu(
    ui: &mut egui::Ui,
    core: &Workbench,
    dialogs: &mut Dialogs,
    intents: &mut Vec<Intent>,
) {
    if ui
        .add_enabled(dialogs.idle(), egui::Button::new("Open model folder..."))
        .clicked()
    {
        dialogs.open(ui.ctx(), Purpose::OpenModel);
    }
    if ui
        .button(format!(
            "Load {} (cache, else download)",
            faceemo_model::FACEEMO_MODEL_ID
        ))
        .clicked()
    {
        intents.push(Intent::LoadModel(
            faceemo_model::FACEEMO_MODEL_ID.to_owned(),
        ));
    }
    ui.separator();
    ui.label("Backend (applies to the next load)");
    for (choice, label) in [
        ("auto", "Auto: GPU if real, else CPU"),
        ("wgpu", "wgpu"),
        ("cpu", "CPU (Burn Flex)"),
    ] {
        if ui.radio(core.settings().backend == choice, label).clicked() {
            intents.push(Intent::SetBackend(choice.to_owned()));
        }
    }
}

fn view_menu(ui: &mut egui::Ui, core: &Workbench, lab_open: &mut bool, intents: &mut Vec<Intent>) {
    ui.label("Point size");
    let mut radius = core.settings().point_radius;
    if ui
        .add(egui::Slider::new(&mut radius, 0..=MAX_POINT_RADIUS).text("radius (px)"))
        .changed()
    {
        intents.push(Intent::SetPointRadius(radius));
    }
    ui.label("Reconstruction steps");
    let mut steps = core.settings().inversion_steps;
    if ui
        .add(egui::Slider::new(&mut steps, 10..=MAX_INVERSION_STEPS).logarithmic(true))
        .changed()
    {
        intents.push(Intent::SetInversionSteps(steps));
    }
    let until = core.settings().until_cosine;
    let mut stops = until.is_some();
    let mut cosine = until.unwrap_or(0.999);
    ui.horizontal(|ui| {
        let toggled = ui
            .checkbox(&mut stops, "Stop at cosine")
            .on_hover_text("End a reconstruction as soon as its CLS cosine to the target reaches this, with the target's class kept")
            .changed();
        let moved = ui
            .add_enabled(
                stops,
                egui::DragValue::new(&mut cosine)
                    .range(0.5..=1.0)
                    .speed(0.0005)
                    .fixed_decimals(4),
            )
            .changed();
        if toggled || moved {
            intents.push(Intent::SetUntilCosine(stops.then_some(cosine)));
        }
    });
    if ui.button("Reset the view").clicked() {
        intents.push(Intent::FitView);
    }
    ui.checkbox(lab_open, "Domain shift lab");
}

/// The newest four messages, each dismissible, and how many are older.
fn messages(ui: &mut egui::Ui, core: &Workbench, intents: &mut Vec<Intent>) {
    let all = core.messages();
    for (index, message) in all.iter().enumerate().rev().take(4) {
        ui.horizontal_wrapped(|ui| {
            let colour = if message.is_error {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().warn_fg_color
            };
            if ui.small_button("x").on_hover_text("Dismiss").clicked() {
                intents.push(Intent::Dismiss(index));
            }
            ui.colored_label(colour, &message.text);
        });
    }
    if all.len() > 4 {
        ui.horizontal(|ui| {
            ui.label(format!("... and {} earlier messages", all.len() - 4));
            if ui.small_button("Dismiss all").clicked() {
                intents.push(Intent::DismissAll);
            }
        });
    }
}

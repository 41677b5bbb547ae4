//! The top bar: File and Model menus, the typed-path fallback, and the message list.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

use faceemo_jobs::CancelToken;

use super::WorkbenchApp;
use super::worker::Event;

/// What a file dialog was opened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogPurpose {
    /// NPZ/CSV files or images.
    Files,
    /// A release folder.
    Folder,
    /// A model folder.
    Model,
}

/// A native file dialog running on its own thread.
pub struct PendingDialog {
    purpose: DialogPurpose,
    receiver: Receiver<Option<Vec<PathBuf>>>,
}

fn open_dialog(purpose: DialogPurpose) -> Option<PendingDialog> {
    let (sender, receiver) = sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("file dialog".to_owned())
        .spawn(move || {
            let dialog = rfd::FileDialog::new();
            let chosen = match purpose {
                DialogPurpose::Files => dialog
                    .add_filter(
                        "Features, metadata, images",
                        &["npz", "csv", "png", "jpg", "jpeg", "webp", "bmp"],
                    )
                    .pick_files(),
                DialogPurpose::Folder | DialogPurpose::Model => {
                    dialog.pick_folder().map(|f| vec![f])
                }
            };
            let _ = sender.send(chosen);
        });
    spawned.ok().map(|_| PendingDialog { purpose, receiver })
}

impl WorkbenchApp {
    /// Applies a finished file dialog.
    pub(super) fn poll_dialog(&mut self) {
        let Some(pending) = &self.dialog else {
            return;
        };
        let outcome = match pending.receiver.try_recv() {
            Ok(outcome) => outcome,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => None,
        };
        let purpose = pending.purpose;
        self.dialog = None;
        match (outcome, purpose) {
            (Some(paths), DialogPurpose::Model) => {
                for path in paths {
                    self.load_model(path.display().to_string());
                }
            }
            (Some(paths), _) => {
                self.open_paths(paths);
            }
            (None, _) => self.note(
                "No file was chosen. If no dialog appeared, this desktop has no file-chooser \
                 portal or zenity: type the path in the bar under the menu instead.",
            ),
        }
    }

    fn download_release(&mut self) {
        let cancel = CancelToken::new();
        let labels = self.label_order();
        let id = self
            .workers
            .spawn("download release", cancel.clone(), move |job| {
                let result = faceemo_hub::HubSettings::from_env()
                    .map_err(|e| e.to_string())
                    .and_then(|settings| {
                        faceemo_data::download_release(&settings, job).map_err(|e| e.to_string())
                    });
                match result {
                    Ok(files) => {
                        let sources = files.files_to_read().cloned().collect();
                        super::load_release_event(&files, labels, sources, job)
                    }
                    Err(error) => Event::ReleaseLoaded(Err(format!("download failed: {error}"))),
                }
            });
        self.add_job(id, "Downloading the release from Hugging Face", cancel);
    }
}

/// Draws the menu bar, the typed-path row and the messages.
pub fn top_bar(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| file_menu(app, ui));
            ui.menu_button("Model", |ui| model_menu(app, ui));
            ui.menu_button("View", |ui| view_menu(app, ui));
        });
        ui.horizontal(|ui| {
            ui.label("Open path:");
            let field = ui.add(
                egui::TextEdit::singleline(&mut app.typed_path)
                    .hint_text("release folder, NPZ/CSV file, image or model folder")
                    .desired_width(360.0),
            );
            let submitted = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Open").clicked() || submitted) && !app.typed_path.trim().is_empty() {
                let path = PathBuf::from(app.typed_path.trim());
                app.typed_path.clear();
                app.open_paths(vec![path]);
            }
            ui.separator();
            ui.label("Model:");
            ui.add(
                egui::TextEdit::singleline(&mut app.typed_model)
                    .hint_text("folder or hub id")
                    .desired_width(200.0),
            );
            if ui.button("Load model").clicked() && !app.typed_model.trim().is_empty() {
                let spec = app.typed_model.trim().to_owned();
                app.typed_model.clear();
                app.load_model(spec);
            }
        });
        messages(app, ui);
    });
}

fn file_menu(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    let idle = app.dialog.is_none();
    if ui
        .add_enabled(idle, egui::Button::new("Open files..."))
        .clicked()
    {
        app.dialog = open_dialog(DialogPurpose::Files);
    }
    if ui
        .add_enabled(idle, egui::Button::new("Open folder..."))
        .clicked()
    {
        app.dialog = open_dialog(DialogPurpose::Folder);
    }
    if ui.button("Download release from Hugging Face").clicked() {
        app.download_release();
    }
    if ui.button("Open the synthetic demo set").clicked() {
        app.sources.clear();
        app.open_demo();
    }
    let recent = app.settings.recent_sources.clone();
    if !recent.is_empty() {
        ui.separator();
        ui.label("Recent");
        for sources in recent {
            if ui.button(super::describe_paths(&sources)).clicked() {
                app.open_sources(sources);
            }
        }
    }
}

fn model_menu(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    if ui
        .add_enabled(
            app.dialog.is_none(),
            egui::Button::new("Open model folder..."),
        )
        .clicked()
    {
        app.dialog = open_dialog(DialogPurpose::Model);
    }
    if ui
        .button(format!(
            "Load {} (cache, else download)",
            faceemo_model::FACEEMO_MODEL_ID
        ))
        .clicked()
    {
        app.load_model(faceemo_model::FACEEMO_MODEL_ID.to_owned());
    }
    ui.separator();
    ui.label("Backend (applies to the next load)");
    for (choice, label) in [
        ("auto", "Auto: GPU if real, else CPU"),
        ("wgpu", "wgpu"),
        ("cpu", "CPU (Burn Flex)"),
    ] {
        if ui.radio(app.settings.backend == choice, label).clicked() {
            choice.clone_into(&mut app.settings.backend);
        }
    }
}

fn view_menu(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    ui.label("Point size");
    ui.add(
        egui::Slider::new(
            &mut app.map.point_radius,
            0..=super::settings::MAX_POINT_RADIUS,
        )
        .text("radius (px)"),
    );
    ui.label("Reconstruction steps");
    ui.add(
        egui::Slider::new(
            &mut app.settings.inversion_steps,
            10..=super::settings::MAX_INVERSION_STEPS,
        )
        .logarithmic(true),
    );
    if ui.button("Reset the view").clicked() {
        app.map.reset_view = true;
    }
    ui.checkbox(&mut app.shift.open, "Domain shift lab");
}

fn messages(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    let mut dismissed = None;
    for (index, message) in app.messages.iter().enumerate().rev().take(4) {
        ui.horizontal(|ui| {
            let colour = if message.is_error {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().warn_fg_color
            };
            if ui.small_button("x").on_hover_text("Dismiss").clicked() {
                dismissed = Some(index);
            }
            ui.colored_label(colour, &message.text);
        });
    }
    if app.messages.len() > 4 {
        ui.horizontal(|ui| {
            ui.label(format!(
                "... and {} earlier messages",
                app.messages.len() - 4
            ));
            if ui.small_button("Dismiss all").clicked() {
                app.messages.clear();
            }
        });
    }
    if let Some(index) = dismissed {
        app.messages.remove(index);
    }
}

//! FaceEmo Workbench: the desktop window (this library), a thin egui shell over the UI-free
//! core `faceemo_workbench`, which drives the compute crates (`faceemo_data`,
//! `faceemo_model`, `faceemo_inversion`, `faceemo_maps`, `faceemo_shift`, …). The binary in
//! `main.rs` only parses the command line and either runs a command or starts the window
//! with [`run_window`].

pub mod app;
pub mod process;

pub use faceemo_workbench::output;

pub use app::{StartOptions, WorkbenchApp};

/// Opens the workbench window and runs until it is closed.
pub fn run_window(options: StartOptions) -> Result<(), eframe::Error> {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("FaceEmo Workbench")
            .with_inner_size([1400.0, 860.0])
            .with_drag_and_drop(true),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "FaceEmo Workbench",
        native,
        Box::new(move |cc| Ok(Box::new(WorkbenchApp::new(cc, options)))),
    )
}

//! The desktop's file choosers (`rfd`: the xdg portal or zenity), each on a thread of its
//! own so the window never waits for one; one at a time.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

/// What a dialog is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// NPZ/CSV files or images to open.
    OpenFiles,
    /// A release folder to open.
    OpenFolder,
    /// A model folder to load.
    OpenModel,
    /// Where the selection's CSV goes.
    SaveSelection,
    /// Where the reconstruction's PNG goes.
    SaveReconstruction,
    /// The folder for the domain-shift tables.
    ShiftTables,
    /// Where the PNG of the lab window goes.
    LabPng,
}

/// The one dialog open, if any.
#[derive(Default)]
pub struct Dialogs {
    pending: Option<(Purpose, Receiver<Option<Vec<PathBuf>>>)>,
}

impl Dialogs {
    /// Whether no dialog is open (another may be opened).
    pub fn idle(&self) -> bool {
        self.pending.is_none()
    }

    /// Opens a dialog for `purpose` unless one is open already; `ctx` is woken when it
    /// closes.
    pub fn open(&mut self, ctx: &egui::Context, purpose: Purpose) {
        if self.pending.is_some() {
            return;
        }
        let (sender, receiver) = sync_channel(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("file dialog".to_owned())
            .spawn(move || {
                let _ = sender.send(run_dialog(purpose));
                ctx.request_repaint();
            });
        if spawned.is_ok() {
            self.pending = Some((purpose, receiver));
        }
    }

    /// A finished dialog: what it was for and what was chosen (`None`: nothing was, or no
    /// dialog could be shown).
    pub fn poll(&mut self) -> Option<(Purpose, Option<Vec<PathBuf>>)> {
        let (purpose, receiver) = self.pending.as_ref()?;
        let outcome = match receiver.try_recv() {
            Ok(outcome) => outcome,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => None,
        };
        let purpose = *purpose;
        self.pending = None;
        Some((purpose, outcome))
    }
}

fn run_dialog(purpose: Purpose) -> Option<Vec<PathBuf>> {
    let dialog = rfd::FileDialog::new();
    let one = |path: Option<PathBuf>| path.map(|p| vec![p]);
    match purpose {
        Purpose::OpenFiles => {
            let mut extensions = vec!["npz", "csv"];
            extensions.extend(faceemo_workbench::IMAGE_EXTENSIONS);
            dialog
                .add_filter("Features, metadata, images", &extensions)
                .pick_files()
        }
        Purpose::OpenFolder | Purpose::OpenModel | Purpose::ShiftTables => {
            one(dialog.pick_folder())
        }
        Purpose::SaveSelection => one(dialog
            .add_filter("CSV", &["csv"])
            .set_file_name("selection.csv")
            .save_file()),
        Purpose::SaveReconstruction => one(dialog
            .add_filter("PNG", &["png"])
            .set_file_name("reconstruction.png")
            .save_file()),
        Purpose::LabPng => one(dialog
            .add_filter("PNG", &["png"])
            .set_file_name("shift-lab.png")
            .save_file()),
    }
}

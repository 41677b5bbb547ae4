//! The workbench window: a thin egui shell over the UI-free core
//! ([`faceemo_workbench::Workbench`]). Each frame it hands the workers' events to the core,
//! lets each panel draw the core's state and say what the user asked for, passes those
//! intents to the core, and gives the jobs the core asks for to the
//! [`Runner`](faceemo_workbench::Runner). Panels own only their UI state (typed paths,
//! the map's tool and drag, textures).

mod data_panel;
mod dialogs;
mod lab;
mod layer;
mod map;
mod menu;
mod palette;
mod raster;
mod shift_view;
mod status;
mod textures;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use faceemo_workbench::{Intent, Message, Runner, Settings, Workbench};

pub use faceemo_workbench::{Colouring, MapMethod, StartOptions};
pub use layer::PointLayer;
pub use raster::{PointStyle, RasterView, rasterize};

/// A picture of the lab window on its way from the screenshot callback.
type PendingPicture = Arc<Mutex<Option<(image::RgbImage, PathBuf)>>>;

/// The FaceEmo Workbench application: the core, the runner of its jobs, and the panels.
pub struct WorkbenchApp {
    core: Workbench,
    runner: Runner,
    menu: menu::MenuBar,
    data: data_panel::DataPanel,
    lab: lab::LabPanel,
    map: map::MapPanel,
    shift: shift_view::ShiftView,
    dialogs: dialogs::Dialogs,
    picture: PendingPicture,
}

impl WorkbenchApp {
    /// Creates the app and starts loading what `options` (or the last run) says.
    pub fn new(cc: &eframe::CreationContext<'_>, options: StartOptions) -> Self {
        let settings: Settings = cc
            .storage
            .and_then(|storage| eframe::get_value::<Settings>(storage, eframe::APP_KEY))
            .unwrap_or_default();
        let map_cache = options
            .map_cache
            .clone()
            .or_else(faceemo_projection::MapCache::default_location)
            .map(faceemo_projection::MapCache::new);
        let context = cc.egui_ctx.clone();
        let mut app = Self {
            core: Workbench::new(settings, map_cache),
            runner: Runner::new(Arc::new(move || context.request_repaint())),
            menu: menu::MenuBar::default(),
            data: data_panel::DataPanel::default(),
            lab: lab::LabPanel::default(),
            map: map::MapPanel::default(),
            shift: shift_view::ShiftView::default(),
            dialogs: dialogs::Dialogs::default(),
            picture: PendingPicture::default(),
        };
        let commands = app.core.start(options);
        app.runner.execute(commands);
        app
    }

    /// The core: everything the window shows, without the window.
    pub fn workbench(&self) -> &Workbench {
        &self.core
    }

    /// Where the map's plot area was drawn in the last frame.
    pub fn map_rect(&self) -> Option<egui::Rect> {
        self.map.last_frame()
    }

    /// The part of the map shown in the last frame: `(min, max)` corners in map units.
    pub fn map_view(&self) -> Option<([f64; 2], [f64; 2])> {
        self.map.last_bounds()
    }

    /// Passes one intent to the core and runs what it asks for (what every panel's clicks
    /// become; tests use it for what no widget offers, such as an injected panic).
    pub fn ask(&mut self, intent: Intent) {
        let commands = self.core.handle(intent);
        self.runner.execute(commands);
    }

    fn apply_events(&mut self) {
        for event in self.runner.drain() {
            let commands = self.core.apply(event);
            self.runner.execute(commands);
        }
    }

    /// The lab window's screenshot, once cropped, becomes a PNG job.
    fn take_picture(&mut self) {
        let taken = self
            .picture
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((image, path)) = taken {
            self.ask(Intent::SavePicture {
                image: Arc::new(image),
                path,
                what: "the Domain shift lab".to_owned(),
            });
        }
    }

    /// Asks for a screenshot; the lab window's part of it is cropped when it arrives and
    /// saved by a job.
    fn request_lab_png(&mut self, ctx: &egui::Context, path: PathBuf, rect: egui::Rect) {
        let pending = Arc::clone(&self.picture);
        let pixels_per_point = ctx.pixels_per_point();
        let repaint = ctx.clone();
        ctx.request_screenshot(move |screenshot| {
            let picture = shift_view::crop_screenshot(&screenshot, rect, pixels_per_point);
            *pending.lock().unwrap_or_else(PoisonError::into_inner) = Some((picture, path));
            repaint.request_repaint();
        });
        self.ask(Intent::Tell(Message {
            text: "saving a PNG of the Domain shift lab...".to_owned(),
            is_error: false,
        }));
    }

    fn shift_window(&mut self, ctx: &egui::Context) {
        let context = shift_view::LabContext {
            published: self.core.release().is_some_and(|r| !r.is_synthetic()),
            selected: self.core.map().selection.len(),
            running: self.core.shift_running(),
        };
        let actions = self.shift.window(ctx, self.core.shift(), context);
        for action in actions {
            match action {
                shift_view::LabAction::Core(intent) => self.ask(Intent::Shift(intent)),
                shift_view::LabAction::SavePng { path, rect } => {
                    self.request_lab_png(ctx, path, rect);
                }
                shift_view::LabAction::ChooseExportFolder => {
                    self.dialogs.open(ctx, dialogs::Purpose::ShiftTables);
                }
                shift_view::LabAction::ChoosePngPath => {
                    self.dialogs.open(ctx, dialogs::Purpose::LabPng);
                }
            }
        }
    }

    fn finished_dialog(&mut self, ctx: &egui::Context) {
        let Some((purpose, chosen)) = self.dialogs.poll() else {
            return;
        };
        let Some(mut paths) = chosen else {
            self.ask(Intent::Tell(Message {
                text: "No file was chosen. If no dialog appeared, this desktop has no \
                       file-chooser portal or zenity: type the path in the window instead."
                    .to_owned(),
                is_error: false,
            }));
            return;
        };
        let first = || paths.first().cloned();
        match purpose {
            dialogs::Purpose::OpenFiles | dialogs::Purpose::OpenFolder => {
                self.ask(Intent::OpenPaths(paths));
            }
            dialogs::Purpose::OpenModel => {
                for path in paths.drain(..) {
                    self.ask(Intent::LoadModel(path.display().to_string()));
                }
            }
            dialogs::Purpose::SaveSelection => {
                if let Some(path) = first() {
                    self.data.export_path = path.display().to_string();
                    self.ask(Intent::ExportSelection(path));
                }
            }
            dialogs::Purpose::SaveReconstruction => {
                if let Some(path) = first() {
                    self.lab.save_path = path.display().to_string();
                    self.ask(Intent::SaveReconstruction(path));
                }
            }
            dialogs::Purpose::ShiftTables => {
                if let Some(folder) = first() {
                    self.shift.export_folder = folder.display().to_string();
                    self.ask(Intent::Shift(faceemo_workbench::ShiftIntent::Export(
                        folder,
                    )));
                }
            }
            dialogs::Purpose::LabPng => {
                if let Some(path) = first() {
                    self.shift.png_path = path.display().to_string();
                    if let Some(rect) = self.shift.last_rect() {
                        self.request_lab_png(ctx, path, rect);
                    }
                }
            }
        }
    }
}

impl eframe::App for WorkbenchApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.apply_events();
        self.take_picture();
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if !dropped.is_empty() {
            self.ask(Intent::OpenPaths(dropped));
        }
        self.finished_dialog(&ctx);
        let mut intents = Vec::new();
        self.menu.show(
            ui,
            &self.core,
            &mut self.dialogs,
            &mut self.shift.open,
            &mut intents,
        );
        status::show(ui, &self.core, &mut intents);
        self.data.show(
            ui,
            &self.core,
            &mut self.dialogs,
            &mut self.shift.open,
            &mut intents,
        );
        self.lab
            .show(ui, &self.core, &mut self.dialogs, &mut intents);
        egui::CentralPanel::default().show(ui, |ui| self.map.show(ui, &self.core, &mut intents));
        for intent in intents {
            self.ask(intent);
        }
        self.shift_window(&ctx);
        drop_hint(&ctx);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, self.core.settings());
    }
}

/// Shades the window while files hover over it.
fn drop_hint(ctx: &egui::Context) {
    let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
    if !hovering {
        return;
    }
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop hint"),
    ));
    let rect = ctx.content_rect();
    painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(160));
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        "Drop a face image to predict it, NPZ/CSV files or a folder to open them, a model folder to load it",
        egui::FontId::proportional(18.0),
        egui::Color32::WHITE,
    );
}

/// An RGB image as egui's colour image.
fn rgb_to_color_image(image: &image::RgbImage) -> egui::ColorImage {
    egui::ColorImage::from_rgb(
        [image.width() as usize, image.height() as usize],
        image.as_raw(),
    )
}

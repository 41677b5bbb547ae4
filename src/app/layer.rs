//! The map's points as one texture inside the plot. [`PointLayer`] rasterises on the
//! calling thread (what the `map_frame` benchmark times); [`BackgroundLayer`], what the
//! window uses, rasterises on a thread of its own: the UI thread only hands over the newest
//! view and draws the last finished picture where its view lies under the current
//! transform, so a frame never waits for a million points to be drawn.

use std::sync::{Arc, Condvar, Mutex, PoisonError};

use egui::{Color32, ColorImage, Pos2, Rect, TextureOptions};
use egui_plot::{PlotPoint, PlotTransform};
use faceemo_workbench::{Colouring, Layout, Projection};

use super::raster::{PointStyle, RasterView, rasterize};

/// What a picture of the points was drawn for: the view, its size in pixels, and the
/// style's version.
#[derive(Clone, Debug, PartialEq)]
struct LayerKey {
    min: [f64; 2],
    max: [f64; 2],
    size: [usize; 2],
    style_version: u64,
}

impl LayerKey {
    fn of(ui: &egui::Ui, transform: &PlotTransform, style_version: u64) -> Self {
        let frame = *transform.frame();
        let pixels_per_point = ui.ctx().pixels_per_point();
        let bounds = transform.bounds();
        Self {
            min: bounds.min(),
            max: bounds.max(),
            size: [
                (frame.width() * pixels_per_point).round().max(1.0) as usize,
                (frame.height() * pixels_per_point).round().max(1.0) as usize,
            ],
            style_version,
        }
    }

    fn view(&self) -> RasterView {
        RasterView {
            min: self.min,
            max: self.max,
            width: self.size[0],
            height: self.size[1],
        }
    }
}

/// The points drawn as one texture inside a plot, rasterised on the calling thread and
/// only when the view or the style changes.
#[derive(Default)]
pub struct PointLayer {
    texture: Option<egui::TextureHandle>,
    key: Option<LayerKey>,
}

impl PointLayer {
    /// Paints `positions` inside the plot frame of `transform`. `style_version` must change
    /// whenever anything in `style` does.
    pub fn paint(
        &mut self,
        ui: &egui::Ui,
        transform: &PlotTransform,
        positions: &[[f32; 2]],
        style: &PointStyle<'_>,
        style_version: u64,
    ) {
        let key = LayerKey::of(ui, transform, style_version);
        if self.key.as_ref() != Some(&key) {
            let image = rasterize(positions, style, &key.view());
            upload(ui, &mut self.texture, image);
            self.key = Some(key);
        }
        if let Some(texture) = &self.texture {
            let frame = *transform.frame();
            ui.painter_at(frame)
                .image(texture.id(), frame, unit_uv(), Color32::WHITE);
        }
    }
}

/// Everything a picture of the points needs, owned, so it can travel to the rasteriser.
pub struct Scene {
    /// Where the points are.
    pub layout: Arc<Layout>,
    /// The points' groups.
    pub projection: Arc<Projection>,
    /// Which groups colour them.
    pub colouring: Colouring,
    /// Each group's colour.
    pub colours: Vec<Color32>,
    /// Hidden groups.
    pub hidden: Vec<bool>,
    /// Selected points.
    pub selection: Arc<Vec<usize>>,
    /// Half a point's side, pixels.
    pub radius: usize,
}

/// The newest picture asked for, and whether the layer is gone.
#[derive(Default)]
struct Mailbox {
    request: Option<(LayerKey, Scene)>,
    finished: Option<(LayerKey, ColorImage)>,
    closed: bool,
}

/// The points rasterised on a thread of their own (see the module docs).
#[derive(Default)]
pub struct BackgroundLayer {
    texture: Option<egui::TextureHandle>,
    /// What the texture shows.
    shown: Option<LayerKey>,
    /// What was asked for last.
    asked: Option<LayerKey>,
    mailbox: Option<Arc<(Mutex<Mailbox>, Condvar)>>,
}

impl Drop for BackgroundLayer {
    fn drop(&mut self) {
        if let Some(mailbox) = &self.mailbox {
            lock(&mailbox.0).closed = true;
            mailbox.1.notify_all();
        }
    }
}

impl BackgroundLayer {
    /// Paints the points inside the plot frame of `transform`: the last finished picture,
    /// placed where its view lies now, and asks for a new one when the view or the style
    /// (`style_version`) changed. `scene` is called only then.
    pub fn paint(
        &mut self,
        ui: &egui::Ui,
        transform: &PlotTransform,
        style_version: u64,
        scene: impl FnOnce() -> Scene,
    ) {
        let key = LayerKey::of(ui, transform, style_version);
        let mailbox = self.mailbox(ui.ctx());
        let finished = lock(&mailbox.0).finished.take();
        if let Some((done, image)) = finished {
            upload(ui, &mut self.texture, image);
            self.shown = Some(done);
        }
        if self.shown.as_ref() != Some(&key) && self.asked.as_ref() != Some(&key) {
            lock(&mailbox.0).request = Some((key.clone(), scene()));
            mailbox.1.notify_all();
            self.asked = Some(key);
        }
        let (Some(texture), Some(shown)) = (&self.texture, &self.shown) else {
            return;
        };
        // The picture where its view lies under the current transform (it follows a pan
        // or zoom until the new one is ready; a stale style shows for a frame or two).
        let corner = |x: f64, y: f64| transform.position_from_point(&PlotPoint::new(x, y));
        let rect = Rect::from_two_pos(
            corner(shown.min[0], shown.max[1]),
            corner(shown.max[0], shown.min[1]),
        );
        let frame = *transform.frame();
        ui.painter_at(frame)
            .image(texture.id(), rect, unit_uv(), Color32::WHITE);
    }

    /// The mailbox, starting the rasteriser thread the first time.
    fn mailbox(&mut self, ctx: &egui::Context) -> Arc<(Mutex<Mailbox>, Condvar)> {
        if let Some(mailbox) = &self.mailbox {
            return Arc::clone(mailbox);
        }
        let mailbox = Arc::new((Mutex::new(Mailbox::default()), Condvar::new()));
        let shared = Arc::clone(&mailbox);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("map rasteriser".to_owned())
            .spawn(move || rasterise_requests(&shared, &ctx));
        if let Err(error) = spawned {
            eprintln!("cannot start the map rasteriser: {error}");
        }
        self.mailbox = Some(Arc::clone(&mailbox));
        mailbox
    }
}

/// The rasteriser thread: draws the newest request, posts the picture, wakes the window.
fn rasterise_requests(mailbox: &(Mutex<Mailbox>, Condvar), ctx: &egui::Context) {
    loop {
        let (key, scene) = {
            let mut state = lock(&mailbox.0);
            loop {
                if state.closed {
                    return;
                }
                if let Some(request) = state.request.take() {
                    break request;
                }
                state = mailbox
                    .1
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let style = PointStyle {
            groups: scene.projection.points.groups(scene.colouring),
            colours: &scene.colours,
            hidden: &scene.hidden,
            selected: &scene.selection,
            radius: scene.radius,
            alpha: 200,
        };
        let image = rasterize(&scene.layout.positions, &style, &key.view());
        lock(&mailbox.0).finished = Some((key, image));
        ctx.request_repaint();
    }
}

fn lock(mutex: &Mutex<Mailbox>) -> std::sync::MutexGuard<'_, Mailbox> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn upload(ui: &egui::Ui, texture: &mut Option<egui::TextureHandle>, image: ColorImage) {
    match texture {
        Some(texture) => texture.set(image, TextureOptions::NEAREST),
        None => {
            *texture = Some(
                ui.ctx()
                    .load_texture("map points", image, TextureOptions::NEAREST),
            );
        }
    }
}

fn unit_uv() -> Rect {
    Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0))
}

//! The map: `egui_plot` gives axes, grid, pan and zoom; the points are one rasterised
//! texture drawn inside the plot frame with the plot's transform, rebuilt only when the
//! view or the core's map version changes. Hover shows a sample, click selects it, the Box
//! and Lasso tools select regions; every hit-test goes through the layout's grid in the
//! core, never a scan of every point.

use egui::{Color32, Pos2, Rect, Stroke};
use egui_plot::{Plot, PlotPoint, PlotTransform};
use faceemo_workbench::{Colouring, Embedding, Intent, MapMethod, Slot, Workbench};

use super::layer::{BackgroundLayer, Scene};
use super::palette::group_colours;

/// What a drag on the map does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// Drag pans, scroll zooms (Ctrl), double-click resets.
    Pan,
    /// Drag a rectangle to select.
    Box,
    /// Draw a free shape to select.
    Lasso,
}

/// The map panel's own state: the tool, the shape being dragged, the view's fitting, the
/// shift axes' ends being picked, and the texture of the points.
pub struct MapPanel {
    tool: Tool,
    /// The selection shape being dragged, in data coordinates.
    drag: Vec<PlotPoint>,
    /// The plot area of the last frame, screen coordinates.
    last_frame: Option<Rect>,
    /// The data shown in the last frame: `(min, max)` corners.
    last_bounds: Option<([f64; 2], [f64; 2])>,
    /// The core's last fit request this panel saw.
    fit_seen: u64,
    /// Whether the user panned or zoomed since the view was last fitted.
    user_moved: bool,
    /// Datasets at the ends of the shift axes' horizontal axis.
    x_ends: (String, String),
    /// Emotions at the ends of the vertical axis.
    y_ends: (String, String),
    layer: BackgroundLayer,
}

impl Default for MapPanel {
    fn default() -> Self {
        Self {
            tool: Tool::Pan,
            drag: Vec::new(),
            last_frame: None,
            last_bounds: None,
            fit_seen: u64::MAX,
            user_moved: false,
            x_ends: (String::new(), String::new()),
            y_ends: (String::new(), String::new()),
            layer: BackgroundLayer::default(),
        }
    }
}

impl MapPanel {
    /// Where the plot area was drawn in the last frame.
    pub fn last_frame(&self) -> Option<Rect> {
        self.last_frame
    }

    /// The part of the map shown in the last frame: `(min, max)` corners in map units.
    pub fn last_bounds(&self) -> Option<([f64; 2], [f64; 2])> {
        self.last_bounds
    }

    /// Draws the map in the central panel.
    pub fn show(&mut self, ui: &mut egui::Ui, core: &Workbench, intents: &mut Vec<Intent>) {
        self.toolbar(ui, core, intents);
        if core.map().method == MapMethod::ShiftAxes {
            ui.horizontal_wrapped(|ui| self.axes_picker(ui, core, intents));
        }
        if core.projection().is_none() {
            waiting(ui, core, intents);
            return;
        }
        let map = core.map();
        let Some((layout, x_label, y_label)) = map.shown() else {
            return;
        };
        let positions = layout.positions.as_slice();
        let mut plot = Plot::new("feature map")
            .data_aspect(1.0)
            .show_x(false)
            .show_y(false)
            .allow_boxed_zoom(false)
            .allow_drag(self.tool == Tool::Pan)
            .x_axis_label(x_label)
            .y_axis_label(y_label);
        if let Some((min, max)) = layout.grid.bounds() {
            plot = plot
                .include_x(f64::from(min[0]))
                .include_x(f64::from(max[0]))
                .include_y(f64::from(min[1]))
                .include_y(f64::from(max[1]));
        }
        let fit = map.fit;
        if fit.generation != self.fit_seen {
            self.fit_seen = fit.generation;
            if fit.force || !self.user_moved {
                plot = plot.reset();
                self.user_moved = false;
            }
        }
        let response = plot.show(ui, |_| {});
        let transform = response.transform;
        let frame = *transform.frame();
        self.last_frame = Some(frame);
        self.last_bounds = Some((transform.bounds().min(), transform.bounds().max()));
        let plot_response = response.response;
        self.note_view_moves(ui, &plot_response);
        self.draw_points(ui, core, &layout, &transform);
        let painter = ui.painter_at(frame);
        if let Some(position) = core.dropped_image_position() {
            let at = transform.position_from_point(&PlotPoint::new(position[0], position[1]));
            painter.circle_stroke(at, 9.0, Stroke::new(3.0, Color32::BLACK));
            painter.circle_stroke(at, 9.0, Stroke::new(1.5, Color32::WHITE));
            painter.text(
                at + egui::vec2(12.0, -12.0),
                egui::Align2::LEFT_BOTTOM,
                "dropped image",
                egui::FontId::proportional(13.0),
                ui.visuals().strong_text_color(),
            );
        }
        match self.tool {
            Tool::Pan => {
                if plot_response.clicked()
                    && let Some(at) = plot_response.interact_pointer_pos()
                {
                    let (at, reach) = data_reach(&transform, at);
                    intents.push(Intent::SelectAt { at, reach });
                }
            }
            Tool::Box | Tool::Lasso => {
                self.select_by_drag(&plot_response, &transform, &painter, intents);
            }
        }
        hover(ui, core, &plot_response, &transform, positions);
    }

    /// Remembers that the user moved the view (so a settling t-SNE map does not jump).
    fn note_view_moves(&mut self, ui: &egui::Ui, response: &egui::Response) {
        if response.double_clicked() {
            self.user_moved = false;
            return;
        }
        let zoomed = response.hovered()
            && ui.input(|i| {
                (i.zoom_delta() - 1.0).abs() > f32::EPSILON
                    || i.smooth_scroll_delta != egui::Vec2::ZERO
            });
        if (self.tool == Tool::Pan && response.dragged()) || zoomed {
            self.user_moved = true;
        }
    }

    /// The tool buttons and what the map shows.
    fn toolbar(&mut self, ui: &mut egui::Ui, core: &Workbench, intents: &mut Vec<Intent>) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Tool:");
            for (tool, name, hint) in [
                (
                    Tool::Pan,
                    "Pan",
                    "Drag to pan, Ctrl+scroll to zoom, double-click to fit",
                ),
                (
                    Tool::Box,
                    "Box select",
                    "Drag a rectangle to select the points inside",
                ),
                (
                    Tool::Lasso,
                    "Lasso select",
                    "Draw around the points to select",
                ),
            ] {
                if ui
                    .selectable_label(self.tool == tool, name)
                    .on_hover_text(hint)
                    .clicked()
                {
                    self.tool = tool;
                }
            }
            ui.separator();
            ui.label("Map:");
            let method = core.map().method;
            for (choice, name) in [
                (MapMethod::Pca, "PCA"),
                (MapMethod::Tsne, "t-SNE"),
                (MapMethod::Umap, "UMAP"),
                (MapMethod::ShiftAxes, "Shift axes"),
            ] {
                if ui.selectable_label(method == choice, name).clicked() && method != choice {
                    intents.push(Intent::ShowMap(choice));
                }
            }
            ui.separator();
            ui.label(map_caption(core));
        });
    }

    /// The ends of the shift axes: two datasets across, two emotions up, and Draw.
    fn axes_picker(&mut self, ui: &mut egui::Ui, core: &Workbench, intents: &mut Vec<Intent>) {
        let Some(projection) = core.projection() else {
            return;
        };
        let datasets = projection.points.group_names(Colouring::Dataset);
        let emotions: Vec<String> = projection
            .points
            .group_names(Colouring::Emotion)
            .iter()
            .filter(|name| name.as_str() != "unlabelled")
            .cloned()
            .collect();
        let default_ends = |names: &[String]| {
            (
                names.first().cloned().unwrap_or_default(),
                names.get(1).cloned().unwrap_or_default(),
            )
        };
        if !datasets.contains(&self.x_ends.0) || !datasets.contains(&self.x_ends.1) {
            self.x_ends = default_ends(datasets);
        }
        if !emotions.contains(&self.y_ends.0) || !emotions.contains(&self.y_ends.1) {
            self.y_ends = default_ends(&emotions);
        }
        let pick = |ui: &mut egui::Ui, id: &str, value: &mut String, names: &[String]| {
            egui::ComboBox::from_id_salt(id)
                .selected_text(value.as_str())
                .show_ui(ui, |ui| {
                    for name in names {
                        ui.selectable_value(value, name.clone(), name);
                    }
                });
        };
        ui.label("across: dataset");
        pick(ui, "x from", &mut self.x_ends.0, datasets);
        ui.label("->");
        pick(ui, "x to", &mut self.x_ends.1, datasets);
        ui.label("up: emotion");
        pick(ui, "y from", &mut self.y_ends.0, &emotions);
        ui.label("->");
        pick(ui, "y to", &mut self.y_ends.1, &emotions);
        if ui
            .button("Draw")
            .on_hover_text("Each point at (f - centroid of the first) · direction to the second, so the first group's centroid sits at 0 and the second's at 1")
            .clicked()
        {
            intents.push(Intent::DrawAxes {
                x: self.x_ends.clone(),
                y: self.y_ends.clone(),
            });
        }
    }

    fn draw_points(
        &mut self,
        ui: &egui::Ui,
        core: &Workbench,
        layout: &std::sync::Arc<faceemo_workbench::Layout>,
        transform: &PlotTransform,
    ) {
        let Some(projection) = core.projection() else {
            return;
        };
        let map = core.map();
        let colouring = core.settings().colouring;
        let radius = core.settings().point_radius;
        // The radius and the method change the picture too: fold them into the version.
        let version = (map.version * 8 + radius as u64) * 4 + map.method as u64;
        self.layer.paint(ui, transform, version, || Scene {
            layout: std::sync::Arc::clone(layout),
            projection: std::sync::Arc::clone(projection),
            colouring,
            colours: group_colours(colouring, projection.points.group_names(colouring)),
            hidden: map.hidden.clone(),
            selection: std::sync::Arc::clone(&map.selection),
            radius,
        });
    }

    fn select_by_drag(
        &mut self,
        response: &egui::Response,
        transform: &PlotTransform,
        painter: &egui::Painter,
        intents: &mut Vec<Intent>,
    ) {
        if response.drag_started() {
            // The shape starts where the button went down, not where the drag was noticed.
            self.drag.clear();
            if let Some(origin) = response.ctx.input(|i| i.pointer.press_origin()) {
                self.drag.push(transform.value_from_position(origin));
            }
        }
        if response.dragged()
            && let Some(position) = response.interact_pointer_pos()
        {
            let point = transform.value_from_position(position);
            if self.tool == Tool::Box {
                if self.drag.is_empty() {
                    self.drag.push(point);
                }
                self.drag.truncate(1);
            }
            self.drag.push(point);
        }
        let shape: Vec<Pos2> = self
            .drag
            .iter()
            .map(|p| transform.position_from_point(p))
            .collect();
        let stroke = Stroke::new(1.5, Color32::from_rgb(30, 120, 220));
        match (self.tool, shape.as_slice()) {
            (Tool::Box, [a, b]) => {
                painter.rect_stroke(
                    Rect::from_two_pos(*a, *b),
                    0.0,
                    stroke,
                    egui::StrokeKind::Middle,
                );
            }
            (Tool::Lasso, shape) if shape.len() > 1 => {
                painter.add(egui::Shape::closed_line(shape.to_vec(), stroke));
            }
            _ => {}
        }
        if response.drag_stopped() {
            let shape = std::mem::take(&mut self.drag);
            match (self.tool, shape.as_slice()) {
                (Tool::Box, [a, b]) => intents.push(Intent::SelectBox([a.x, a.y], [b.x, b.y])),
                (Tool::Lasso, polygon) if polygon.len() > 2 => {
                    intents.push(Intent::SelectLasso(
                        polygon.iter().map(|p| [p.x, p.y]).collect(),
                    ));
                }
                _ => intents.push(Intent::Select(Vec::new())),
            }
        }
    }
}

/// A screen position as map coordinates, with the map distance of 6 pixels there.
fn data_reach(transform: &PlotTransform, at: Pos2) -> ([f64; 2], f64) {
    let centre = transform.value_from_position(at);
    let edge = transform.value_from_position(at + egui::vec2(6.0, 0.0));
    ([centre.x, centre.y], (edge.x - centre.x).abs())
}

/// What the map header says of the map shown.
fn map_caption(core: &Workbench) -> String {
    let map = core.map();
    match map.method {
        MapMethod::ShiftAxes => {
            "Shift axes: every point on two directions between centroids".to_owned()
        }
        MapMethod::Tsne | MapMethod::Umap => {
            let Some(embedding) = map.method.embedding() else {
                return String::new();
            };
            let name = embedding.name();
            let state = map.embedding(embedding);
            let kl = state
                .kl_divergence
                .map_or_else(String::new, |kl| format!(", KL divergence {kl:.3}"));
            let step = if embedding == Embedding::Tsne {
                "iteration"
            } else {
                "epoch"
            };
            match state.seconds {
                Some(seconds) if state.from_cache => {
                    format!("{name} of every point (from the map cache, {seconds:.1} s){kl}")
                }
                Some(seconds) => format!("{name} of every point ({seconds:.0} s){kl}"),
                None if state.iterations > 0 => format!(
                    "{name}: {step} {} / {}{kl}",
                    state.iteration, state.iterations
                ),
                None if core.running(embedding.slot()) => {
                    format!("{name}: PCA, neighbours and affinities...")
                }
                None => format!("{name}: not computed"),
            }
        }
        MapMethod::Pca => match core.projection() {
            Some(projection) => {
                let ratios: Vec<String> = projection
                    .pca
                    .explained_variance_ratio
                    .iter()
                    .map(|r| format!("{:.1} %", 100.0 * r))
                    .collect();
                format!(
                    "PCA of {} points ({:.2} s), explained variance {}",
                    projection.points.len(),
                    projection.seconds,
                    ratios.join(" + ")
                )
            }
            None => String::new(),
        },
    }
}

/// What the map area shows while there is no PCA map.
fn waiting(ui: &mut egui::Ui, core: &Workbench, intents: &mut Vec<Intent>) {
    ui.centered_and_justified(|ui| {
        if core.running(Slot::Projection) {
            ui.label("Projecting...");
        } else if let Some(reason) = &core.map().pca_stopped {
            ui.vertical_centered(|ui| {
                ui.label(format!("No map: the PCA stopped ({reason})."));
                if ui.button("Project again").clicked() {
                    intents.push(Intent::Reproject);
                }
            });
        } else if core.release().is_some() {
            ui.label("Projecting...");
        } else if core.running(Slot::Release) {
            ui.label("Loading...");
        } else {
            ui.label("Nothing open: drop a release folder or NPZ/CSV files here, or use File.");
        }
    });
}

/// Rings the point under the pointer and shows what it is.
fn hover(
    ui: &egui::Ui,
    core: &Workbench,
    response: &egui::Response,
    transform: &PlotTransform,
    positions: &[[f32; 2]],
) {
    let Some(at) = response.hover_pos() else {
        return;
    };
    let (at, reach) = data_reach(transform, at);
    let Some(point) = core.point_at(at, reach) else {
        return;
    };
    let (Some(text), Some(&[x, y])) = (core.describe_point(point), positions.get(point)) else {
        return;
    };
    let at = transform.position_from_point(&PlotPoint::new(x, y));
    ui.painter()
        .circle_stroke(at, 5.0, Stroke::new(2.0, ui.visuals().strong_text_color()));
    egui::Tooltip::always_open(
        ui.ctx().clone(),
        ui.layer_id(),
        egui::Id::unique("map hover"),
        egui::PopupAnchor::Pointer,
    )
    .show(|ui| ui.label(text));
}

//! The map: `egui_plot` gives axes, grid, pan and zoom; the points are one rasterised
//! texture drawn inside the plot frame with the plot's transform, rebuilt only when the
//! view, colouring, visibility or selection changes. Hover shows a sample, click selects
//! it, the Box and Lasso tools select regions.

use egui::{Color32, Pos2, Rect, Stroke, TextureOptions};
use egui_plot::{Plot, PlotPoint, PlotTransform};

use super::WorkbenchApp;
use super::palette::group_colours;
use super::points::{Colouring, MapPoints};
use super::raster::{PointStyle, RasterView, rasterize};
use super::settings::Settings;

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

/// Everything the map remembers between frames.
pub struct MapState {
    /// How points are coloured.
    pub colouring: Colouring,
    /// Hidden groups of the current colouring.
    pub hidden: Vec<bool>,
    /// Half a point's side in pixels.
    pub point_radius: usize,
    /// Selected point indices, sorted.
    pub selection: Vec<usize>,
    /// The active tool.
    pub tool: Tool,
    /// PCA or t-SNE.
    pub method: super::MapMethod,
    /// The selection shape being dragged, in data coordinates.
    drag: Vec<PlotPoint>,
    /// The point under the pointer.
    hovered: Option<usize>,
    /// Fit the view to the data on the next frame.
    pub reset_view: bool,
    /// The plot area of the last frame, screen coordinates.
    pub last_frame: Option<Rect>,
    layer: PointLayer,
    style_version: u64,
}

/// The points drawn as one texture inside a plot, redrawn only when the view or the style
/// changes.
#[derive(Default)]
pub struct PointLayer {
    texture: Option<egui::TextureHandle>,
    key: Option<LayerKey>,
}

#[derive(Clone, PartialEq)]
struct LayerKey {
    min: [f64; 2],
    max: [f64; 2],
    size: [usize; 2],
    style_version: u64,
}

impl PointLayer {
    /// Paints `positions` inside the plot frame of `transform`. `style_version` must change
    /// whenever anything in `style` does; the texture is rebuilt only then or when the view
    /// moves.
    pub fn paint(
        &mut self,
        ui: &egui::Ui,
        transform: &PlotTransform,
        positions: &[[f32; 2]],
        style: &PointStyle<'_>,
        style_version: u64,
    ) {
        let frame = *transform.frame();
        let pixels_per_point = ui.ctx().pixels_per_point();
        let bounds = transform.bounds();
        let key = LayerKey {
            min: bounds.min(),
            max: bounds.max(),
            size: [
                (frame.width() * pixels_per_point).round() as usize,
                (frame.height() * pixels_per_point).round() as usize,
            ],
            style_version,
        };
        if self.key.as_ref() != Some(&key) {
            let view = RasterView {
                min: key.min,
                max: key.max,
                width: key.size[0],
                height: key.size[1],
            };
            let image = rasterize(positions, style, &view);
            match &mut self.texture {
                Some(texture) => texture.set(image, TextureOptions::NEAREST),
                None => {
                    self.texture = Some(ui.ctx().load_texture(
                        "map points",
                        image,
                        TextureOptions::NEAREST,
                    ));
                }
            }
            self.key = Some(key);
        }
        if let Some(texture) = &self.texture {
            ui.painter_at(frame).image(
                texture.id(),
                frame,
                Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                Color32::WHITE,
            );
        }
    }
}

impl MapState {
    /// A map with the remembered settings.
    pub fn new(settings: &Settings) -> Self {
        Self {
            colouring: settings.colouring,
            hidden: Vec::new(),
            point_radius: settings.point_radius,
            selection: Vec::new(),
            tool: Tool::Pan,
            method: super::MapMethod::Pca,
            drag: Vec::new(),
            hovered: None,
            reset_view: true,
            last_frame: None,
            layer: PointLayer::default(),
            style_version: 0,
        }
    }

    /// Forgets selection and hovering (the points are about to change).
    pub fn clear_for_new_data(&mut self) {
        self.selection.clear();
        self.hovered = None;
        self.restyle();
    }

    /// Fits the view to a new projection.
    pub fn show_new_projection(&mut self, points: &MapPoints) {
        self.hidden = vec![false; points.group_names(self.colouring).len()];
        self.reset_view = true;
        self.restyle();
    }

    /// Switches the colouring (all groups visible again).
    pub fn set_colouring(&mut self, colouring: Colouring, points: Option<&MapPoints>) {
        self.colouring = colouring;
        self.hidden = vec![false; points.map_or(0, |p| p.group_names(colouring).len())];
        self.restyle();
    }

    /// Shows or hides one group.
    pub fn toggle_group(&mut self, group: usize) {
        if let Some(hidden) = self.hidden.get_mut(group) {
            *hidden = !*hidden;
            self.restyle();
        }
    }

    /// Replaces the selection.
    pub fn select(&mut self, mut points: Vec<usize>) {
        points.sort_unstable();
        points.dedup();
        self.selection = points;
        self.restyle();
    }

    /// Marks the texture stale.
    pub fn restyle(&mut self) {
        self.style_version += 1;
    }

    /// Writes what persists into the settings.
    pub fn store(&self, settings: &mut Settings) {
        settings.colouring = self.colouring;
        settings.point_radius = self.point_radius;
    }
}

/// The tool buttons and what the map shows.
fn toolbar(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
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
                .selectable_label(app.map.tool == tool, name)
                .on_hover_text(hint)
                .clicked()
            {
                app.map.tool = tool;
            }
        }
        ui.separator();
        ui.label("Map:");
        for (method, name) in [
            (super::MapMethod::Pca, "PCA"),
            (super::MapMethod::Tsne, "t-SNE"),
            (super::MapMethod::ShiftAxes, "Shift axes"),
        ] {
            if ui
                .selectable_label(app.map.method == method, name)
                .clicked()
                && app.map.method != method
            {
                app.show_method(method);
            }
        }
        if app.map.method == super::MapMethod::ShiftAxes {
            ui.separator();
            ui.label("Shift axes: every point on two directions between centroids");
        } else if app.map.method == super::MapMethod::Tsne {
            ui.separator();
            let kl = app
                .tsne
                .kl_divergence
                .map_or_else(String::new, |kl| format!(", KL divergence {kl:.3}"));
            let text = match app.tsne.seconds {
                Some(seconds) => format!("t-SNE of every point ({seconds:.0} s){kl}"),
                None if app.tsne.iterations > 0 => {
                    format!(
                        "t-SNE: iteration {} / {}{kl}",
                        app.tsne.iteration, app.tsne.iterations
                    )
                }
                None => "t-SNE: PCA, neighbours and affinities...".to_owned(),
            };
            ui.label(text);
        } else if let Some(projection) = &app.projection {
            ui.separator();
            let ratios: Vec<String> = projection
                .pca
                .explained_variance_ratio
                .iter()
                .map(|r| format!("{:.1} %", 100.0 * r))
                .collect();
            ui.label(format!(
                "PCA of {} points ({:.2} s)",
                projection.points.len(),
                projection.seconds
            ))
            .on_hover_text(format!("explained variance {}", ratios.join(" + ")));
        }
    });
}

/// The ends of the shift axes: two datasets across, two emotions up, and Draw.
fn axes_picker_ui(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    let Some(projection) = app.projection.clone() else {
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
    let axes = &mut app.axes;
    let default_ends = |names: &[String]| {
        (
            names.first().cloned().unwrap_or_default(),
            names.get(1).cloned().unwrap_or_default(),
        )
    };
    if axes.x_ends.0.is_empty() {
        axes.x_ends = default_ends(datasets);
    }
    if axes.y_ends.0.is_empty() {
        axes.y_ends = default_ends(&emotions);
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
    pick(ui, "x from", &mut axes.x_ends.0, datasets);
    ui.label("->");
    pick(ui, "x to", &mut axes.x_ends.1, datasets);
    ui.label("up: emotion");
    pick(ui, "y from", &mut axes.y_ends.0, &emotions);
    ui.label("->");
    pick(ui, "y to", &mut axes.y_ends.1, &emotions);
    if ui
        .button("Draw")
        .on_hover_text("Each point at (f - centroid of the first) · direction to the second, so the first group's centroid sits at 0 and the second's at 1")
        .clicked()
    {
        app.start_axes();
    }
}

/// Draws the map in the central panel.
pub fn show(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    toolbar(app, ui);
    if app.map.method == super::MapMethod::ShiftAxes {
        ui.horizontal_wrapped(|ui| axes_picker_ui(app, ui));
    }
    let Some(projection) = app.projection.clone() else {
        ui.centered_and_justified(|ui| {
            ui.label(if app.release.is_some() {
                "Projecting..."
            } else {
                "Loading..."
            });
        });
        return;
    };
    let points = &projection.points;
    let shown = app.shown_layout();
    let positions: &[[f32; 2]] = shown
        .as_ref()
        .map_or(&points.positions, |(layout, _, _)| layout.as_slice());
    let (x_label, y_label) = shown.as_ref().map_or_else(
        || ("PC 1".to_owned(), "PC 2".to_owned()),
        |(_, x, y)| (x.clone(), y.clone()),
    );
    let mut plot = Plot::new("feature map")
        .data_aspect(1.0)
        .show_x(false)
        .show_y(false)
        .allow_boxed_zoom(false)
        .allow_drag(app.map.tool == Tool::Pan)
        .x_axis_label(x_label)
        .y_axis_label(y_label);
    if let Some((min, max)) = super::points::bounds(positions) {
        plot = plot
            .include_x(f64::from(min[0]))
            .include_x(f64::from(max[0]))
            .include_y(f64::from(min[1]))
            .include_y(f64::from(max[1]));
    }
    if std::mem::take(&mut app.map.reset_view) {
        plot = plot.reset();
    }
    let response = plot.show(ui, |_| {});
    let transform = response.transform;
    let frame = *transform.frame();
    app.map.last_frame = Some(frame);
    draw_points(app, ui, points, positions, &transform);
    let plot_response = response.response;
    let painter = ui.painter_at(frame);

    // The dropped image: a ring and a cross where it lands.
    if let Some(position) = app.dropped_image_position() {
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

    match app.map.tool {
        Tool::Pan => {
            if plot_response.clicked() {
                let picked = app.map.hovered;
                app.map.select(picked.into_iter().collect());
            }
        }
        Tool::Box | Tool::Lasso => {
            select_by_drag(app, &plot_response, &transform, positions, &painter);
        }
    }
    hover(app, ui, &plot_response, &transform, points, positions);
}

fn draw_points(
    app: &mut WorkbenchApp,
    ui: &egui::Ui,
    points: &MapPoints,
    positions: &[[f32; 2]],
    transform: &PlotTransform,
) {
    let colouring = app.map.colouring;
    let colours = group_colours(colouring, points.group_names(colouring));
    let style = PointStyle {
        groups: points.groups(colouring),
        colours: &colours,
        hidden: &app.map.hidden,
        selected: &app.map.selection,
        radius: app.map.point_radius,
        alpha: 200,
    };
    // The radius lives in the view menu's slider; fold it into the version.
    let version = app.map.style_version * 8 + app.map.point_radius as u64;
    app.map
        .layer
        .paint(ui, transform, positions, &style, version);
}

fn select_by_drag(
    app: &mut WorkbenchApp,
    response: &egui::Response,
    transform: &PlotTransform,
    positions: &[[f32; 2]],
    painter: &egui::Painter,
) {
    if response.drag_started() {
        app.map.drag.clear();
    }
    if response.dragged()
        && let Some(position) = response.interact_pointer_pos()
    {
        let point = transform.value_from_position(position);
        match app.map.tool {
            Tool::Box => {
                if app.map.drag.is_empty() {
                    app.map.drag.push(point);
                }
                app.map.drag.truncate(1);
                app.map.drag.push(point);
            }
            _ => app.map.drag.push(point),
        }
    }
    let shape: Vec<Pos2> = app
        .map
        .drag
        .iter()
        .map(|p| transform.position_from_point(p))
        .collect();
    let stroke = Stroke::new(1.5, Color32::from_rgb(30, 120, 220));
    match (app.map.tool, shape.as_slice()) {
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
        let shape = std::mem::take(&mut app.map.drag);
        let selected = match (app.map.tool, shape.as_slice()) {
            (Tool::Box, [a, b]) => points_in_box(positions, [a.x, a.y], [b.x, b.y]),
            (Tool::Lasso, polygon) if polygon.len() > 2 => {
                let polygon: Vec<[f64; 2]> = polygon.iter().map(|p| [p.x, p.y]).collect();
                points_in_polygon(positions, &polygon)
            }
            _ => Vec::new(),
        };
        app.map.select(selected);
    }
}

/// Points inside the rectangle spanned by two corners.
pub fn points_in_box(positions: &[[f32; 2]], a: [f64; 2], b: [f64; 2]) -> Vec<usize> {
    let (x0, x1) = (a[0].min(b[0]), a[0].max(b[0]));
    let (y0, y1) = (a[1].min(b[1]), a[1].max(b[1]));
    positions
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            let (x, y) = (f64::from(p[0]), f64::from(p[1]));
            (x0..=x1).contains(&x) && (y0..=y1).contains(&y)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Points inside a polygon (even–odd rule).
pub fn points_in_polygon(positions: &[[f32; 2]], polygon: &[[f64; 2]]) -> Vec<usize> {
    positions
        .iter()
        .enumerate()
        .filter(|(_, p)| inside(polygon, f64::from(p[0]), f64::from(p[1])))
        .map(|(i, _)| i)
        .collect()
}

fn inside(polygon: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut inside = false;
    let mut previous = polygon.len() - 1;
    for (current, &[xi, yi]) in polygon.iter().enumerate() {
        let [xj, yj] = polygon[previous];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        previous = current;
    }
    inside
}

/// The point nearest to a screen position, within `radius` pixels.
fn nearest_on_screen(
    positions: &[[f32; 2]],
    transform: &PlotTransform,
    at: Pos2,
    radius: f32,
) -> Option<usize> {
    let centre = transform.value_from_position(at);
    let edge = transform.value_from_position(at + egui::vec2(radius, 0.0));
    let reach = (edge.x - centre.x).abs();
    let mut best: Option<(usize, f64)> = None;
    for (index, p) in positions.iter().enumerate() {
        let dx = f64::from(p[0]) - centre.x;
        let dy = f64::from(p[1]) - centre.y;
        if dx.abs() > reach || dy.abs() > reach {
            continue;
        }
        let distance = dx * dx + dy * dy;
        if distance <= reach * reach && best.is_none_or(|(_, d)| distance < d) {
            best = Some((index, distance));
        }
    }
    best.map(|(index, _)| index)
}

fn hover(
    app: &mut WorkbenchApp,
    ui: &egui::Ui,
    response: &egui::Response,
    transform: &PlotTransform,
    points: &MapPoints,
    positions: &[[f32; 2]],
) {
    app.map.hovered = response
        .hover_pos()
        .and_then(|at| nearest_on_screen(positions, transform, at, 6.0));
    let (Some(point), Some(release)) = (app.map.hovered, &app.release) else {
        return;
    };
    let Some(source) = points.sources.get(point) else {
        return;
    };
    let Some(split) = release.splits.get(source.split) else {
        return;
    };
    let sample = split.samples.as_ref().and_then(|s| s.get(source.row));
    let labels = release.labels.names();
    let predicted =
        split
            .probs
            .row(source.row)
            .iter()
            .enumerate()
            .fold(
                (0, f32::MIN),
                |best, (i, &p)| {
                    if p > best.1 { (i, p) } else { best }
                },
            );
    let text = format!(
        "{}\ndataset: {}\nemotion: {}\npredicted: {} ({:.1} %)\nsplit: {}, row {}",
        sample.map_or("(no metadata)", |s| &*s.sample_id),
        sample.map_or("?", |s| &*s.dataset),
        sample.map_or("?", |s| s.emotion.name()),
        labels.get(predicted.0).map_or("?", String::as_str),
        100.0 * predicted.1,
        split.kind,
        source.row,
    );
    let Some(&[x, y]) = positions.get(point) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn square_points() -> MapPoints {
        let release = faceemo_data::synthetic_release(3);
        let rows = release.total_rows();
        let mut coordinates = ndarray::Array2::<f32>::zeros((rows, 2));
        coordinates[[0, 0]] = 1.0;
        coordinates[[0, 1]] = 1.0;
        coordinates[[1, 0]] = 5.0;
        coordinates[[1, 1]] = 5.0;
        for r in 2..rows {
            coordinates[[r, 0]] = -10.0;
        }
        MapPoints::new(&release, &coordinates.view())
    }

    #[test]
    fn a_box_selects_the_points_inside_it_whichever_way_it_was_dragged() {
        let points = square_points();
        assert_eq!(
            points_in_box(&points.positions, [0.0, 0.0], [2.0, 2.0]),
            vec![0]
        );
        assert_eq!(
            points_in_box(&points.positions, [6.0, 6.0], [0.5, 0.5]),
            vec![0, 1]
        );
    }

    #[test]
    fn a_lasso_selects_by_the_even_odd_rule() {
        let points = square_points();
        let triangle = [[0.0, 0.0], [6.0, 0.0], [6.0, 6.0]];
        // (1, 1) lies on the diagonal edge's inner side; (5, 5) too; the rest are outside.
        let selected = points_in_polygon(&points.positions, &triangle);
        assert!(selected.iter().all(|&p| p < 2), "{selected:?}");
        assert!(
            points_in_polygon(&points.positions, &[[2.0, 2.0], [3.0, 2.0], [3.0, 3.0]]).is_empty()
        );
    }
}

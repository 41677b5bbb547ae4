//! The Domain shift lab window: the per-dataset table with a split selector (and the model
//! card's published figures beside the test splits), heatmaps of the distances between
//! datasets, of the probe transfer matrix and of confusion, a reliability diagram, the
//! neighbourhood shares, and the comparison of two selections.
//!
//! The view owns its UI state only; what it shows is the core's [`ShiftLab`], and what it
//! asks for comes back as [`LabAction`]s (intents for the core, which runs them as jobs).

use std::path::PathBuf;
use std::sync::Arc;

use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints};
use faceemo_shift::{GroupMetrics, PairMeasures, ShiftReport};
use faceemo_workbench::ShiftIntent;
use faceemo_workbench::shift_lab::{ShiftLab, Side};

/// What the lab window asks for: work for the core, or a picture of itself.
#[derive(Clone, Debug, PartialEq)]
pub enum LabAction {
    /// Something for the core's domain-shift lab.
    Core(ShiftIntent),
    /// Save a PNG of the lab window as shown (`rect` in points) to this file.
    SavePng {
        /// The PNG to write.
        path: PathBuf,
        /// The window's area on screen, in points.
        rect: egui::Rect,
    },
    /// Choose the folder for the tables with the desktop's dialog.
    ChooseExportFolder,
    /// Choose where the PNG goes with the desktop's dialog.
    ChoosePngPath,
}

/// What the window needs to know beside the lab's state.
#[derive(Clone, Copy, Debug)]
pub struct LabContext {
    /// Whether the release is the published one (the model card's figures are shown).
    pub published: bool,
    /// How many points are selected on the map.
    pub selected: usize,
    /// Whether a measurement or comparison is running.
    pub running: bool,
}

/// The distance between datasets the matrix shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairMeasure {
    /// 1 − cos of the centroids.
    CentroidCosine,
    /// Euclidean distance of the centroids.
    CentroidEuclidean,
    /// Fréchet distance of the Gaussian fits.
    Frechet,
    /// MMD² (Gaussian kernel, median heuristic).
    Mmd2,
    /// Cross-validated domain-classifier AUC.
    DomainAuc,
}

impl PairMeasure {
    const ALL: [Self; 5] = [
        Self::CentroidCosine,
        Self::CentroidEuclidean,
        Self::Frechet,
        Self::Mmd2,
        Self::DomainAuc,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::CentroidCosine => "centroid cosine distance",
            Self::CentroidEuclidean => "centroid Euclidean distance",
            Self::Frechet => "Fréchet distance",
            Self::Mmd2 => "MMD²",
            Self::DomainAuc => "domain-classifier AUC",
        }
    }

    fn of(self, pair: &PairMeasures) -> Option<f64> {
        match self {
            Self::CentroidCosine => Some(pair.centroid_cosine),
            Self::CentroidEuclidean => Some(pair.centroid_euclidean),
            Self::Frechet => pair.frechet,
            Self::Mmd2 => pair.mmd2,
            Self::DomainAuc => pair.domain_auc,
        }
    }
}

/// The part of a screenshot inside `rect` (points), as an RGB image.
pub fn crop_screenshot(
    screenshot: &egui::ColorImage,
    rect: egui::Rect,
    pixels_per_point: f32,
) -> image::RgbImage {
    let [width, height] = screenshot.size;
    let clamp =
        |v: f32, limit: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(limit);
    let (left, right) = (clamp(rect.min.x, width), clamp(rect.max.x, width));
    let (top, bottom) = (clamp(rect.min.y, height), clamp(rect.max.y, height));
    let mut out = image::RgbImage::new((right - left) as u32, (bottom - top) as u32);
    for (x, y, pixel) in out.enumerate_pixels_mut() {
        let colour = screenshot.pixels[(top + y as usize) * width + left + x as usize];
        *pixel = image::Rgb([colour.r(), colour.g(), colour.b()]);
    }
    out
}

/// The published figures of the model card (`jihedjabnoun/faceemo-set`): test accuracy and
/// per-class recall, in the release's label order.
const MODEL_CARD: [(&str, f64, [f64; 7]); 2] = [
    (
        "test_fer2013",
        0.6932,
        [0.56, 0.64, 0.55, 0.93, 0.54, 0.65, 0.82],
    ),
    (
        "test_affectnet",
        0.6527,
        [0.62, 0.79, 0.63, 0.93, 0.39, 0.53, 0.69],
    ),
];

/// The Domain shift lab window's own state (what it shows comes from the core's
/// [`ShiftLab`]).
#[derive(Default)]
pub struct ShiftView {
    /// Whether the window is shown.
    pub open: bool,
    /// `None` for all rows, else a split's name.
    split: Option<String>,
    measure: Option<PairMeasure>,
    focus: Option<String>,
    normalise_confusion: bool,
    /// The group picked for a side (an index into the groups; past them, "the rest").
    group_choice: usize,
    /// The folder typed for the tables.
    pub export_folder: String,
    /// The PNG file typed.
    pub png_path: String,
    /// Where the window was drawn last frame (what a PNG of it crops).
    last_rect: Option<egui::Rect>,
}

impl ShiftView {
    /// Where the window was drawn last frame, when it is open.
    pub fn last_rect(&self) -> Option<egui::Rect> {
        self.last_rect.filter(|_| self.open)
    }
}

fn figure(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"))
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{:.2} %", 100.0 * v))
}

impl ShiftView {
    /// Draws the window over the core's `lab`; returns what the user asked for.
    pub fn window(
        &mut self,
        ctx: &egui::Context,
        lab: &ShiftLab,
        context: LabContext,
    ) -> Vec<LabAction> {
        let mut intents = Vec::new();
        let mut open = self.open;
        let shown = egui::Window::new("Domain shift lab")
            .open(&mut open)
            .default_size([760.0, 640.0])
            .vscroll(true)
            .show(ctx, |ui| {
                self.contents_ui(ui, lab, context, &mut intents);
            });
        self.last_rect = shown.map(|response| response.response.rect);
        self.open = open;
        intents
    }

    fn contents_ui(
        &mut self,
        ui: &mut egui::Ui,
        lab: &ShiftLab,
        context: LabContext,
        intents: &mut Vec<LabAction>,
    ) {
        let LabContext {
            published,
            selected,
            running,
        } = context;
        if running {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Working... (progress and Cancel in the status bar)");
            });
        }
        if let Some(failure) = &lab.failure {
            ui.colored_label(ui.visuals().error_fg_color, failure);
        }
        let Some(measured) = &lab.measured else {
            if !running && ui.button("Measure the release").clicked() {
                intents.push(LabAction::Core(ShiftIntent::Measure));
            }
            return;
        };
        let report = Arc::clone(&measured.report);
        for note in &report.notes {
            ui.label(format!("note: {note}"));
        }
        ui.collapsing("Per dataset", |ui| {
            self.per_dataset_ui(ui, &report, published);
        })
        .header_response
        .on_hover_text("accuracy, macro-F1, ECE and recall per emotion");
        ui.collapsing("Between datasets", |ui| self.pairwise_ui(ui, &report));
        ui.collapsing("Linear probe transfer", |ui| probe_ui(ui, &report));
        ui.collapsing("Confusion and calibration", |ui| {
            self.confusion_ui(ui, &report);
        });
        ui.collapsing("Neighbourhood", |ui| neighbourhood_ui(ui, &report));
        ui.collapsing("Compare two selections", |ui| {
            self.comparison_ui(ui, lab, selected, running, intents);
        });
        ui.separator();
        ui.horizontal(|ui| {
            ui.label("Export tables to folder");
            ui.add(
                egui::TextEdit::singleline(&mut self.export_folder)
                    .hint_text("folder for the CSV tables and report.json")
                    .desired_width(240.0),
            );
            if ui.button("Export CSV").clicked() {
                if self.export_folder.trim().is_empty() {
                    intents.push(LabAction::ChooseExportFolder);
                } else {
                    intents.push(LabAction::Core(ShiftIntent::Export(PathBuf::from(
                        self.export_folder.trim(),
                    ))));
                }
            }
        });
        ui.horizontal(|ui| {
            ui.label("Save a PNG of this window to");
            ui.add(
                egui::TextEdit::singleline(&mut self.png_path)
                    .hint_text("shift-lab.png")
                    .desired_width(240.0),
            );
            if ui.button("Save PNG").clicked()
                && let Some(rect) = self.last_rect
            {
                let path = self.png_path.trim();
                if path.is_empty() {
                    intents.push(LabAction::ChoosePngPath);
                } else {
                    intents.push(LabAction::SavePng {
                        path: PathBuf::from(path),
                        rect,
                    });
                }
            }
        });
        ui.label(format!("Measured in {:.1} s.", report.seconds));
    }

    fn per_dataset_ui(&mut self, ui: &mut egui::Ui, report: &ShiftReport, published: bool) {
        let splits: Vec<&String> = report.per_split.keys().collect();
        egui::ComboBox::from_label("Rows")
            .selected_text(self.split.as_deref().map_or("all rows", |s| s))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.split, None, "all rows");
                for split in splits {
                    let label = if split.starts_with("test") {
                        format!("{split} (test)")
                    } else {
                        split.clone()
                    };
                    ui.selectable_value(&mut self.split, Some(split.clone()), label);
                }
            });
        let table: Vec<(&String, &GroupMetrics)> = match &self.split {
            None => report.per_dataset.iter().collect(),
            Some(split) => report
                .per_split
                .get(split)
                .map(|by| by.iter().collect())
                .unwrap_or_default(),
        };
        if self.split.is_none() {
            ui.label("All rows pool the train, val and test splits: pick a test split for the model card's figures.");
        }
        let default_order = faceemo_data::LabelOrder::release_default().names();
        let card = (published && report.label_order == default_order)
            .then(|| {
                MODEL_CARD
                    .iter()
                    .find(|(split, _, _)| Some(*split) == self.split.as_deref())
            })
            .flatten();
        egui::ScrollArea::horizontal()
            .id_salt("per dataset")
            .show(ui, |ui| {
                egui::Grid::new("per dataset table")
                    .striped(true)
                    .show(ui, |ui| {
                        for heading in ["dataset", "rows", "accuracy", "macro-F1", "ECE"] {
                            ui.strong(heading);
                        }
                        for label in &report.label_order {
                            ui.strong(label);
                        }
                        ui.end_row();
                        for (dataset, metrics) in &table {
                            ui.label(dataset.as_str());
                            ui.label(metrics.rows.to_string());
                            ui.label(percent(metrics.accuracy));
                            ui.label(figure(metrics.macro_f1));
                            ui.label(figure(metrics.ece));
                            for label in &report.label_order {
                                let recall = metrics.per_class_recall.get(label).copied().flatten();
                                ui.label(
                                    recall.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}")),
                                );
                            }
                            ui.end_row();
                        }
                        if let Some((_, accuracy, recalls)) = card {
                            ui.label("model card");
                            ui.label("");
                            ui.label(format!("{:.2} %", 100.0 * accuracy));
                            ui.label("");
                            ui.label("");
                            for recall in recalls {
                                ui.label(format!("{recall:.2}"));
                            }
                            ui.end_row();
                        }
                    });
            });
        class_balance_ui(ui, &table, &report.label_order);
    }

    fn pairwise_ui(&mut self, ui: &mut egui::Ui, report: &ShiftReport) {
        let mut measure = self.measure.unwrap_or(PairMeasure::DomainAuc);
        egui::ComboBox::from_label("Measure")
            .selected_text(measure.name())
            .show_ui(ui, |ui| {
                for option in PairMeasure::ALL {
                    ui.selectable_value(&mut measure, option, option.name());
                }
            });
        self.measure = Some(measure);
        let names: Vec<String> = report.per_dataset.keys().cloned().collect();
        let values: Vec<Vec<Option<f64>>> = names
            .iter()
            .map(|a| {
                names
                    .iter()
                    .map(|b| {
                        report
                            .pairwise
                            .get(a)
                            .and_then(|by| by.get(b))
                            .and_then(|pair| measure.of(pair))
                    })
                    .collect()
            })
            .collect();
        heatmap_ui(ui, "pairwise", &names, &names, &values, measure.name());
        ui.label(format!(
            "Silhouette (cosine) of the sample: by dataset {}, by emotion {}",
            figure(report.silhouette.by_dataset),
            figure(report.silhouette.by_emotion)
        ));
    }

    fn confusion_ui(&mut self, ui: &mut egui::Ui, report: &ShiftReport) {
        let Some(first) = report.per_dataset.keys().next() else {
            return;
        };
        let focus = self.focus.get_or_insert_with(|| first.clone());
        ui.horizontal(|ui| {
            egui::ComboBox::from_label("Dataset")
                .selected_text(focus.as_str())
                .show_ui(ui, |ui| {
                    for name in report.per_dataset.keys() {
                        ui.selectable_value(focus, name.clone(), name);
                    }
                });
            ui.checkbox(&mut self.normalise_confusion, "row-normalised");
        });
        let Some(metrics) = report.per_dataset.get(focus.as_str()) else {
            return;
        };
        let values: Vec<Vec<Option<f64>>> = metrics
            .confusion
            .iter()
            .map(|row| {
                let total: u64 = row.iter().sum();
                row.iter()
                    .map(|&n| {
                        if self.normalise_confusion {
                            (total > 0).then(|| n as f64 / total as f64)
                        } else {
                            Some(n as f64)
                        }
                    })
                    .collect()
            })
            .collect();
        ui.label("rows: true emotion, columns: predicted");
        heatmap_ui(
            ui,
            "confusion",
            &report.label_order,
            &report.label_order,
            &values,
            "rows",
        );
        reliability_ui(ui, metrics);
    }

    fn comparison_ui(
        &mut self,
        ui: &mut egui::Ui,
        lab: &ShiftLab,
        selected: usize,
        running: bool,
        intents: &mut Vec<LabAction>,
    ) {
        ui.horizontal(|ui| {
            let enabled = selected > 0;
            if ui
                .add_enabled(enabled, egui::Button::new("Set selection as A"))
                .clicked()
            {
                intents.push(LabAction::Core(ShiftIntent::SetSide(Side::A)));
            }
            if ui
                .add_enabled(enabled, egui::Button::new("Set selection as B"))
                .clicked()
            {
                intents.push(LabAction::Core(ShiftIntent::SetSide(Side::B)));
            }
        });
        if let Some(measured) = &lab.measured {
            let rest = measured.groups.len();
            let name = |choice: usize| {
                measured
                    .groups
                    .get(choice)
                    .map_or("the rest", |(name, _)| name.as_str())
                    .to_owned()
            };
            ui.horizontal(|ui| {
                egui::ComboBox::from_label("or a group")
                    .selected_text(name(self.group_choice))
                    .show_ui(ui, |ui| {
                        // The rest first: the list of groups can be longer than the popup.
                        for choice in std::iter::once(rest).chain(0..rest) {
                            ui.selectable_value(&mut self.group_choice, choice, name(choice));
                        }
                    });
                let group = (self.group_choice < rest).then_some(self.group_choice);
                if ui.button("as A").clicked() {
                    intents.push(LabAction::Core(ShiftIntent::SetSideGroup(Side::A, group)));
                }
                if ui.button("as B").clicked() {
                    intents.push(LabAction::Core(ShiftIntent::SetSideGroup(Side::B, group)));
                }
            });
        }
        for (name, side) in [("A", &lab.side_a), ("B", &lab.side_b)] {
            ui.label(format!(
                "{name}: {}",
                side.as_ref().map_or("not set", |s| s.description.as_str())
            ));
        }
        let ready = lab.side_a.is_some() && lab.side_b.is_some() && !running;
        if ui
            .add_enabled(ready, egui::Button::new("Compare A with B"))
            .clicked()
        {
            intents.push(LabAction::Core(ShiftIntent::Compare));
        }
        if let Some(c) = &lab.comparison {
            egui::Grid::new("comparison").striped(true).show(ui, |ui| {
                for (name, value) in [
                    ("A accuracy", percent(c.a.accuracy)),
                    ("B accuracy", percent(c.b.accuracy)),
                    (
                        "centroid cosine distance",
                        figure(Some(c.pair.centroid_cosine)),
                    ),
                    (
                        "centroid Euclidean distance",
                        figure(Some(c.pair.centroid_euclidean)),
                    ),
                    ("Fréchet distance", figure(c.pair.frechet)),
                    ("MMD²", figure(c.pair.mmd2)),
                    ("MMD permutation p", figure(c.pair.mmd_p)),
                    ("domain-classifier AUC", figure(c.pair.domain_auc)),
                ] {
                    ui.label(name);
                    ui.label(value);
                    ui.end_row();
                }
            });
        }
    }
}

fn probe_ui(ui: &mut egui::Ui, report: &ShiftReport) {
    if report.probe.is_empty() {
        ui.label("No dataset has train rows to train a probe on.");
        return;
    }
    ui.label("Accuracy of an emotion classifier trained on a dataset's train rows (rows) on each dataset's rows outside the train split (columns).");
    let trained: Vec<String> = report.probe.keys().cloned().collect();
    let tested: Vec<String> = report.per_dataset.keys().cloned().collect();
    let values: Vec<Vec<Option<f64>>> = trained
        .iter()
        .map(|a| {
            tested
                .iter()
                .map(|b| report.probe.get(a).and_then(|by| by.get(b)).copied())
                .collect()
        })
        .collect();
    heatmap_ui(ui, "probe", &trained, &tested, &values, "accuracy");
}

fn neighbourhood_ui(ui: &mut egui::Ui, report: &ShiftReport) {
    ui.label("Share of each sampled row's 10 nearest samples (cosine, 768-d) with its emotion and with its dataset.");
    egui::Grid::new("neighbourhood")
        .striped(true)
        .show(ui, |ui| {
            for heading in ["dataset", "rows", "same emotion", "same dataset"] {
                ui.strong(heading);
            }
            ui.end_row();
            for (dataset, share) in &report.neighbourhood {
                ui.label(dataset.as_str());
                ui.label(share.rows.to_string());
                ui.label(figure(share.same_emotion));
                ui.label(figure(share.same_dataset));
                ui.end_row();
            }
        });
}

/// Class counts per dataset as stacked bars (share of each emotion).
fn class_balance_ui(ui: &mut egui::Ui, table: &[(&String, &GroupMetrics)], labels: &[String]) {
    let palette = super::palette::group_colours(faceemo_workbench::Colouring::Emotion, labels);
    let charts: Vec<BarChart> = labels
        .iter()
        .enumerate()
        .map(|(class, label)| {
            let bars = table
                .iter()
                .enumerate()
                .map(|(position, (dataset, metrics))| {
                    let total = metrics.class_counts.values().sum::<u64>().max(1) as f64;
                    let count = metrics.class_counts.get(label).copied().unwrap_or(0);
                    Bar::new(position as f64, count as f64 / total)
                        .width(0.7)
                        .name(format!("{dataset}: {label} {count}"))
                })
                .collect();
            BarChart::new(label.clone(), bars)
                .color(palette.get(class).copied().unwrap_or(egui::Color32::GRAY))
        })
        .collect();
    let mut stacked: Vec<BarChart> = Vec::with_capacity(charts.len());
    for chart in charts {
        let refs: Vec<&BarChart> = stacked.iter().collect();
        let chart = chart.stack_on(&refs);
        stacked.push(chart);
    }
    ui.label("Class balance (share of each emotion per dataset; hover a bar)");
    let names: Vec<String> = table.iter().map(|(d, _)| (*d).clone()).collect();
    Plot::new("class balance")
        .height(160.0)
        .legend(egui_plot::Legend::default())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .show(ui, |plot_ui| {
            for chart in stacked {
                plot_ui.bar_chart(chart);
            }
        });
}

/// The reliability diagram: accuracy per confidence bin against the diagonal.
fn reliability_ui(ui: &mut egui::Ui, metrics: &GroupMetrics) {
    ui.label(format!(
        "Reliability (15 bins of the top probability): ECE {}",
        figure(metrics.ece)
    ));
    let bars: Vec<Bar> = metrics
        .reliability
        .iter()
        .filter_map(|bin| {
            let accuracy = bin.accuracy?;
            Some(
                Bar::new(f64::midpoint(bin.lower, bin.upper), accuracy)
                    .width(bin.upper - bin.lower)
                    .name(format!(
                        "({:.2}, {:.2}]: {} rows, accuracy {:.3}, confidence {}",
                        bin.lower,
                        bin.upper,
                        bin.count,
                        accuracy,
                        figure(bin.confidence)
                    )),
            )
        })
        .collect();
    Plot::new("reliability")
        .height(200.0)
        .data_aspect(1.0)
        .x_axis_label("confidence")
        .y_axis_label("accuracy")
        .legend(egui_plot::Legend::default())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            plot_ui.bar_chart(BarChart::new("accuracy per bin", bars));
            plot_ui.line(Line::new(
                "perfect calibration",
                PlotPoints::from(vec![[0.0, 0.0], [1.0, 1.0]]),
            ));
        });
}

/// A matrix as coloured cells with its row and column names, the value on hover and a
/// colour scale from the smallest to the largest value. Unmeasured cells are grey.
fn heatmap_ui(
    ui: &mut egui::Ui,
    id: &str,
    rows: &[String],
    columns: &[String],
    values: &[Vec<Option<f64>>],
    what: &str,
) {
    let finite = values
        .iter()
        .flatten()
        .flatten()
        .copied()
        .filter(|v| v.is_finite());
    let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    // Values that differ only in their last digits get one colour: a scale stretched over
    // 0.99995..1.0 would paint rounding as shift.
    let distinct = high - low > 1e-3 * high.abs().max(low.abs());
    let colour = |value: f64| {
        let t = if distinct {
            ((value - low) / (high - low)).clamp(0.0, 1.0) as f32
        } else {
            1.0
        };
        super::palette::scale_colour(t)
    };
    let cell = egui::vec2(64.0, 24.0);
    egui::ScrollArea::horizontal().id_salt(id).show(ui, |ui| {
        egui::Grid::new(id).spacing([2.0, 2.0]).show(ui, |ui| {
            ui.label("");
            for column in columns {
                ui.label(egui::RichText::new(column).small());
            }
            ui.end_row();
            for (name, row) in rows.iter().zip(values) {
                ui.label(name.as_str());
                for (column, value) in columns.iter().zip(row) {
                    let (rect, response) = ui.allocate_exact_size(cell, egui::Sense::hover());
                    let fill = value.map_or(super::raster::CONTEXT_GREY, colour);
                    ui.painter().rect_filled(rect, 2.0, fill);
                    let text = value.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
                    ui.painter().text(
                        rect.center(),
                        egui::Align2::CENTER_CENTER,
                        &text,
                        egui::FontId::monospace(11.0),
                        super::palette::text_on(fill),
                    );
                    response.on_hover_text(format!("{name} -> {column}: {what} {text}"));
                }
                ui.end_row();
            }
        });
    });
    if low.is_finite() {
        ui.horizontal(|ui| {
            ui.label(format!("{low:.3}"));
            let (rect, _) = ui.allocate_exact_size(egui::vec2(160.0, 10.0), egui::Sense::hover());
            for step in 0..32 {
                let t = step as f32 / 31.0;
                let x = rect.left() + rect.width() * step as f32 / 32.0;
                ui.painter().rect_filled(
                    egui::Rect::from_min_size(
                        egui::pos2(x, rect.top()),
                        egui::vec2(rect.width() / 32.0 + 0.5, rect.height()),
                    ),
                    0.0,
                    super::palette::scale_colour(t),
                );
            }
            ui.label(format!("{high:.3}  ({what})"));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_of_the_window_is_its_area_of_the_screenshot() {
        // A 4 × 3 screenshot at 2 pixels per point; the window covers points (1, 0)-(2, 1).
        let mut screenshot = egui::ColorImage::filled([4, 3], egui::Color32::BLACK);
        screenshot.pixels[2] = egui::Color32::from_rgb(200, 10, 10);
        let rect = egui::Rect::from_min_max(egui::pos2(1.0, 0.0), egui::pos2(2.0, 1.0));
        let crop = crop_screenshot(&screenshot, rect, 2.0);
        assert_eq!(crop.dimensions(), (2, 2));
        assert_eq!(crop.get_pixel(0, 0).0, [200, 10, 10]);
        // A window partly off screen is clipped to it.
        let outside = egui::Rect::from_min_max(egui::pos2(1.0, 1.0), egui::pos2(9.0, 9.0));
        assert_eq!(
            crop_screenshot(&screenshot, outside, 2.0).dimensions(),
            (2, 1)
        );

        let folder = tempfile::tempdir().expect("tempdir");
        let path = folder.path().join("lab.png");
        faceemo_workbench::output::write_png_atomically(&crop, &path).expect("saved");
        let back = image::open(&path).expect("a PNG").to_rgb8();
        assert_eq!(back, crop);
        assert!(
            faceemo_workbench::output::write_png_atomically(&image::RgbImage::new(0, 0), &path)
                .is_err()
        );
    }
}

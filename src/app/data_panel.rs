//! The left panel: what is open, the colouring and its legend (toggle groups, counts), the
//! selection's dataset × emotion counts with export, the selected sample's nearest samples,
//! and the way into the Domain shift lab.

use std::path::PathBuf;

use faceemo_workbench::{Colouring, Intent, ReconstructFrom, Workbench};

use super::dialogs::{Dialogs, Purpose};
use super::palette::group_colours;

/// The panel's own state: the export path typed.
pub struct DataPanel {
    /// Where the selection's CSV goes (typed, or set by the save dialog).
    pub export_path: String,
}

impl Default for DataPanel {
    fn default() -> Self {
        Self {
            export_path: "selection.csv".to_owned(),
        }
    }
}

impl DataPanel {
    /// Draws the data panel.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        core: &Workbench,
        dialogs: &mut Dialogs,
        lab_open: &mut bool,
        intents: &mut Vec<Intent>,
    ) {
        egui::Panel::left("data")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    origin(ui, core);
                    ui.separator();
                    legend(ui, core, intents);
                    ui.separator();
                    self.selection(ui, core, dialogs, intents);
                    ui.separator();
                    shift_lab(ui, core, lab_open);
                });
            });
    }

    fn selection(
        &mut self,
        ui: &mut egui::Ui,
        core: &Workbench,
        dialogs: &mut Dialogs,
        intents: &mut Vec<Intent>,
    ) {
        ui.heading("Selection");
        let map = core.map();
        let Some(summary) = &map.summary else {
            ui.label("Click a point, or use Box / Lasso select on the map.");
            return;
        };
        ui.label(format!("Selected: {} points", map.selection.len()));
        let tab = &summary.crosstab;
        // Wider than the panel: it scrolls sideways instead of being cut off.
        egui::ScrollArea::horizontal()
            .id_salt("crosstab")
            .show(ui, |ui| {
                egui::Grid::new("crosstab").striped(true).show(ui, |ui| {
                    ui.label("dataset \\ emotion");
                    for column in tab.columns() {
                        ui.label(column);
                    }
                    ui.label("total");
                    ui.end_row();
                    for row in tab.rows() {
                        ui.label(row);
                        for column in tab.columns() {
                            ui.label(tab.get(row, column).to_string());
                        }
                        ui.label(tab.row_total(row).to_string());
                        ui.end_row();
                    }
                });
            });
        sample_neighbours(ui, core, intents);
        ui.horizontal(|ui| {
            if ui.button("Reconstruct first selected").clicked() {
                intents.push(Intent::Reconstruct(ReconstructFrom::Selection));
            }
            if ui.button("Clear").clicked() {
                intents.push(Intent::Select(Vec::new()));
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("Export to");
            ui.add(egui::TextEdit::singleline(&mut self.export_path).desired_width(160.0));
            if ui.button("Export CSV").clicked() && !self.export_path.trim().is_empty() {
                intents.push(Intent::ExportSelection(PathBuf::from(
                    self.export_path.trim(),
                )));
            }
            if ui
                .add_enabled(dialogs.idle(), egui::Button::new("Save as..."))
                .clicked()
            {
                dialogs.open(ui.ctx(), Purpose::SaveSelection);
            }
        });
    }
}

fn origin(ui: &mut egui::Ui, core: &Workbench) {
    ui.heading("Data");
    let Some(release) = core.release() else {
        ui.label("Nothing open yet.");
        return;
    };
    if release.is_synthetic() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "SYNTHETIC DEMO SET - not the FaceEmo-Set release",
        );
    }
    ui.label(release.describe_origin());
    egui::Grid::new("splits").striped(true).show(ui, |ui| {
        for split in &release.splits {
            ui.label(split.kind.name());
            ui.label(format!("{} rows", split.rows()));
            if !split.metadata_joined() {
                ui.label("no metadata");
            }
            ui.end_row();
        }
    });
    ui.label(format!("{} points in all", release.total_rows()));
}

fn legend(ui: &mut egui::Ui, core: &Workbench, intents: &mut Vec<Intent>) {
    let current = core.settings().colouring;
    let mut colouring = current;
    egui::ComboBox::from_label("Colour by")
        .selected_text(colouring.name())
        .show_ui(ui, |ui| {
            for option in Colouring::ALL {
                ui.selectable_value(&mut colouring, option, option.name());
            }
        });
    if colouring != current {
        intents.push(Intent::SetColouring(colouring));
    }
    let Some(projection) = core.projection() else {
        return;
    };
    let points = &projection.points;
    let map = core.map();
    let names = points.group_names(current);
    let colours = group_colours(current, names);
    let totals = points.group_totals(current);
    let selected = map.summary.as_ref().map(|s| s.counts(current));
    ui.label("Click an entry to hide or show it (hidden points stay as grey context).");
    for (group, name) in names.iter().enumerate() {
        let hidden = map.hidden.get(group).copied().unwrap_or(false);
        let total = totals.get(group).copied().unwrap_or(0);
        let count = match selected.and_then(|s| s.get(group)) {
            Some(chosen) => format!("{chosen} / {total}"),
            None => total.to_string(),
        };
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
            let colour = if hidden {
                super::raster::CONTEXT_GREY
            } else {
                colours[group]
            };
            ui.painter().rect_filled(rect, 2.0, colour);
            if ui
                .selectable_label(!hidden, format!("{name}  ({count})"))
                .on_hover_text(if hidden { "Show" } else { "Hide" })
                .clicked()
            {
                intents.push(Intent::ToggleGroup(group));
            }
        });
    }
}

/// The nearest released samples of the one selected point, with the share from other
/// datasets; clicking one selects it.
fn sample_neighbours(ui: &mut egui::Ui, core: &Workbench, intents: &mut Vec<Intent>) {
    let map = core.map();
    let [point] = map.selection[..] else {
        return;
    };
    let Some((found_for, rows)) = &map.sample_neighbours else {
        if core.running(faceemo_workbench::Slot::Neighbours) {
            ui.spinner();
        }
        return;
    };
    if *found_for != point {
        return;
    }
    let own_dataset = core
        .projection()
        .and_then(|p| p.points.group_name(Colouring::Dataset, point))
        .unwrap_or_default();
    let others = rows.iter().filter(|n| n.dataset != own_dataset).count();
    ui.strong(format!(
        "{} nearest samples (cosine, 768-d): {others} from other datasets than {own_dataset}",
        rows.len()
    ));
    if let Some(point) = super::lab::neighbours_table(ui, "sample neighbours", rows) {
        intents.push(Intent::Select(vec![point]));
    }
}

fn shift_lab(ui: &mut egui::Ui, core: &Workbench, lab_open: &mut bool) {
    ui.heading("Domain shift");
    ui.label(
        "Accuracy, calibration and confusion per dataset and split, distances, MMD, domain \
         classifiers and probe transfer between datasets, and any two selections compared.",
    );
    let state = if core.running(faceemo_workbench::Slot::ShiftReport) {
        " (measuring...)"
    } else if core.shift().measured.is_some() {
        ""
    } else {
        " (not measured yet)"
    };
    let action = if *lab_open { "Close" } else { "Open" };
    if ui
        .button(format!("{action} the Domain shift lab{state}"))
        .clicked()
    {
        *lab_open = !*lab_open;
    }
}

//! The left panel: what is open, the colouring and its legend (toggle groups, counts), the
//! selection's dataset × emotion counts with export, and the way into the Domain shift lab.

use std::path::PathBuf;

use faceemo_analysis::CrossTab;

use super::WorkbenchApp;
use super::palette::group_colours;
use super::points::{Colouring, MapPoints};

/// Draws the data panel.
pub fn show(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    egui::Panel::left("data")
        .resizable(true)
        .default_size(300.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                origin(app, ui);
                ui.separator();
                legend(app, ui);
                ui.separator();
                selection(app, ui);
                ui.separator();
                shift_lab(app, ui);
            });
        });
}

fn origin(app: &WorkbenchApp, ui: &mut egui::Ui) {
    ui.heading("Data");
    let Some(release) = &app.release else {
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

fn legend(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    let projection = app.projection.clone();
    let points = projection.as_ref().map(|p| &p.points);
    let mut colouring = app.map.colouring;
    egui::ComboBox::from_label("Colour by")
        .selected_text(colouring.name())
        .show_ui(ui, |ui| {
            for option in Colouring::ALL {
                ui.selectable_value(&mut colouring, option, option.name());
            }
        });
    if colouring != app.map.colouring {
        app.map.set_colouring(colouring, points);
    }
    let Some(points) = points else {
        return;
    };
    let names = points.group_names(colouring);
    let colours = group_colours(colouring, names);
    let totals = points.group_counts(colouring, None);
    let selected = (!app.map.selection.is_empty())
        .then(|| points.group_counts(colouring, Some(&app.map.selection)));
    ui.label("Click an entry to hide or show it (hidden points stay as grey context).");
    let mut toggled = None;
    for (group, name) in names.iter().enumerate() {
        let hidden = app.map.hidden.get(group).copied().unwrap_or(false);
        let count = match &selected {
            Some(selected) => format!("{} / {}", selected[group], totals[group]),
            None => totals[group].to_string(),
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
                toggled = Some(group);
            }
        });
    }
    if let Some(group) = toggled {
        app.map.toggle_group(group);
    }
}

fn selection(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    ui.heading("Selection");
    let (Some(release), Some(projection)) = (app.release.clone(), app.projection.clone()) else {
        return;
    };
    if app.map.selection.is_empty() {
        ui.label("Click a point, or use Box / Lasso select on the map.");
        return;
    }
    ui.label(format!("Selected: {} points", app.map.selection.len()));
    let tab = selection_crosstab(&projection.points, &app.map.selection);
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
    sample_neighbours(app, ui);
    ui.horizontal(|ui| {
        if ui.button("Reconstruct first selected").clicked() {
            app.reconstruct(true);
        }
        if ui.button("Clear").clicked() {
            app.map.select(Vec::new());
        }
    });
    ui.horizontal(|ui| {
        ui.label("Export to");
        ui.text_edit_singleline(&mut app.map_export_path);
        if ui.button("Export CSV").clicked() {
            let path = PathBuf::from(app.map_export_path.trim());
            match export_selection(&release, &projection.points, &app.map.selection, &path) {
                Ok(count) => app.note(format!(
                    "wrote {count} selected samples to {}",
                    path.display()
                )),
                Err(error) => app.error(format!("{error:#}")),
            }
        }
    });
}

/// The nearest released samples of the one selected point, with the share from other
/// datasets; clicking one selects it.
fn sample_neighbours(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    let [point] = app.map.selection[..] else {
        return;
    };
    let Some((found_for, rows)) = &app.sample_neighbours else {
        return;
    };
    if *found_for != point {
        ui.spinner();
        return;
    }
    let own_dataset = app
        .projection
        .as_ref()
        .and_then(|p| {
            let groups = p.points.groups(Colouring::Dataset);
            let names = p.points.group_names(Colouring::Dataset);
            names.get(usize::from(*groups.get(point)?)).cloned()
        })
        .unwrap_or_default();
    let others = rows.iter().filter(|n| n.dataset != own_dataset).count();
    ui.strong(format!(
        "{} nearest samples (cosine, 768-d): {others} from other datasets than {own_dataset}",
        rows.len()
    ));
    if let Some(point) = super::lab::neighbours_table(ui, "sample neighbours", rows) {
        app.map.select(vec![point]);
    }
}

/// Dataset × emotion counts of selected points (counted by group code, named once per
/// cell, so a selection of every point stays cheap enough to redraw each frame).
pub fn selection_crosstab(points: &MapPoints, selection: &[usize]) -> CrossTab {
    let datasets = points.groups(Colouring::Dataset);
    let emotions = points.groups(Colouring::Emotion);
    let dataset_names = points.group_names(Colouring::Dataset);
    let emotion_names = points.group_names(Colouring::Emotion);
    let columns = emotion_names.len();
    let mut counts = vec![0usize; dataset_names.len() * columns];
    for &point in selection {
        if let (Some(&d), Some(&e)) = (datasets.get(point), emotions.get(point))
            && let Some(cell) = counts.get_mut(usize::from(d) * columns + usize::from(e))
        {
            *cell += 1;
        }
    }
    CrossTab::from_counts(counts.iter().enumerate().map(|(cell, &count)| {
        (
            dataset_names[cell / columns].clone(),
            emotion_names[cell % columns].clone(),
            count,
        )
    }))
}

/// Writes `split,row,sample_id,dataset,emotion` for each selected point, atomically (a
/// temporary file beside it, renamed into place).
pub fn export_selection(
    release: &faceemo_data::Release,
    points: &MapPoints,
    selection: &[usize],
    path: &std::path::Path,
) -> anyhow::Result<usize> {
    let header = ["split", "row", "sample_id", "dataset", "emotion"].map(str::to_owned);
    let rows: Vec<Vec<String>> = selection
        .iter()
        .filter_map(|&point| {
            let source = points.sources.get(point)?;
            let split = release.splits.get(source.split)?;
            let sample = split.samples.as_ref().and_then(|s| s.get(source.row));
            Some(vec![
                split.kind.name().to_owned(),
                source.row.to_string(),
                sample.map_or_else(String::new, |s| s.sample_id.to_string()),
                sample.map_or_else(String::new, |s| s.dataset.to_string()),
                sample.map_or_else(String::new, |s| s.emotion.name().to_owned()),
            ])
        })
        .collect();
    crate::output::write_csv_atomically(path, &header, &rows)?;
    Ok(rows.len())
}

fn shift_lab(app: &mut WorkbenchApp, ui: &mut egui::Ui) {
    ui.heading("Domain shift");
    ui.label(
        "Accuracy, calibration and confusion per dataset and split, distances, MMD, domain \
         classifiers and probe transfer between datasets, and any two selections compared.",
    );
    let state = if app.shift.running {
        " (measuring...)"
    } else if app.shift.measured.is_some() {
        ""
    } else {
        " (not measured yet)"
    };
    let action = if app.shift.open { "Close" } else { "Open" };
    if ui
        .button(format!("{action} the Domain shift lab{state}"))
        .clicked()
    {
        app.shift.open = !app.shift.open;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cross_tab_of_every_point_adds_up_to_the_legend_counts() {
        let points = super::super::points::demo_points(5);
        let rows = points.len();
        let everyone: Vec<usize> = (0..rows).collect();
        let tab = selection_crosstab(&points, &everyone);
        assert_eq!(tab.total(), rows);
        let names = points.group_names(Colouring::Dataset);
        for (name, count) in names
            .iter()
            .zip(points.group_counts(Colouring::Dataset, None))
        {
            assert_eq!(tab.row_total(name), count, "{name}");
        }
        assert_eq!(selection_crosstab(&points, &[]).total(), 0);
    }
}

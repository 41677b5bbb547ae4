//! The domain-shift lab's data, without any UI: the report of the open release with the
//! rows it was measured on, the two sides of a comparison, and writing the tables.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use faceemo_data::Release;
use faceemo_jobs::JobContext;
use faceemo_shift::{Comparison, ShiftData, ShiftReport, ShiftSettings, shift_report};

use crate::output::{write_atomically, write_csv_atomically};
use crate::points::PointSource;
use crate::work::error_text;

/// A side of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The first selection.
    A,
    /// The second selection.
    B,
}

/// One side of the comparison: the rows and how they were chosen.
#[derive(Clone, Debug)]
pub struct SelectionSide {
    /// Lab rows (empty for "the rest", resolved against the other side when compared).
    pub rows: Arc<Vec<usize>>,
    /// Whether this side is every row not on the other side.
    pub rest: bool,
    /// In words, e.g. "312 selected points".
    pub description: String,
}

impl SelectionSide {
    /// Every row not on the other side.
    pub fn rest() -> Self {
        Self {
            rows: Arc::new(Vec::new()),
            rest: true,
            description: "the rest (every measured row not on the other side)".to_owned(),
        }
    }
}

/// The rows of side `side`, resolving "the rest" against `other` (on a worker).
pub fn resolve_side(data: &ShiftData, side: &SelectionSide, other: &SelectionSide) -> Vec<usize> {
    if !side.rest {
        return side.rows.to_vec();
    }
    let mut taken = vec![false; data.rows()];
    for &row in other.rows.iter() {
        if let Some(slot) = taken.get_mut(row) {
            *slot = true;
        }
    }
    (0..data.rows()).filter(|&row| !taken[row]).collect()
}

/// A report with the rows it was measured on (for comparisons of selections).
pub struct MeasuredShift {
    /// The rows.
    pub data: Arc<ShiftData>,
    /// The report.
    pub report: Arc<ShiftReport>,
    /// `lab_row[release split][row]`: the lab row of each release row, `None` when it is
    /// not measured (NaN values, no metadata).
    lab_row: Vec<Vec<Option<u32>>>,
    /// Every dataset, split and emotion with its rows, for sides of a comparison.
    pub groups: Vec<(String, Arc<Vec<usize>>)>,
}

impl MeasuredShift {
    /// The measurable rows among the selected map points, as one side of a comparison.
    pub fn selection_side(&self, sources: &[PointSource], selection: &[usize]) -> SelectionSide {
        let mut rows: Vec<usize> = selection
            .iter()
            .filter_map(|&point| {
                let source = sources.get(point)?;
                let row = self.lab_row.get(source.split)?.get(source.row).copied()??;
                Some(row as usize)
            })
            .collect();
        rows.sort_unstable();
        rows.dedup();
        let left_out = selection.len() - rows.len();
        let description = if left_out == 0 {
            format!("{} selected points", rows.len())
        } else {
            format!(
                "{} selected points ({left_out} without metadata or with NaN values left out)",
                rows.len()
            )
        };
        SelectionSide {
            rows: Arc::new(rows),
            rest: false,
            description,
        }
    }

    /// Group `index` (see [`Self::groups`]) as a side of a comparison.
    pub fn group_side(&self, index: usize) -> Option<SelectionSide> {
        let (name, rows) = self.groups.get(index)?;
        Some(SelectionSide {
            rows: Arc::clone(rows),
            rest: false,
            description: format!("{name} ({} rows)", rows.len()),
        })
    }
}

/// Every dataset, split and emotion of `data` with its rows.
fn groups_of(data: &ShiftData) -> Vec<(String, Arc<Vec<usize>>)> {
    let collect = |keep: &dyn Fn(usize) -> bool| {
        Arc::new(
            (0..data.rows())
                .filter(|&i| keep(i))
                .collect::<Vec<usize>>(),
        )
    };
    let mut groups = Vec::new();
    for (d, name) in data.dataset_names.iter().enumerate() {
        groups.push((
            format!("dataset {name}"),
            collect(&|i| usize::from(data.dataset[i]) == d),
        ));
    }
    for (s, name) in data.split_names.iter().enumerate() {
        groups.push((
            format!("split {name}"),
            collect(&|i| usize::from(data.split[i]) == s),
        ));
    }
    for (c, name) in data.label_names.iter().enumerate() {
        groups.push((
            format!("emotion {name}"),
            collect(&|i| data.truth[i].map(usize::from) == Some(c)),
        ));
    }
    groups.retain(|(_, rows)| !rows.is_empty());
    groups
}

/// Measures a release for the lab (on a worker).
pub fn measure(release: &Release, job: JobContext<'_>) -> Result<MeasuredShift, String> {
    let data = ShiftData::from_release(release).map_err(|e| error_text(&e))?;
    let report = shift_report(&data, &ShiftSettings::default(), job).map_err(|e| error_text(&e))?;
    let mut lab_row: Vec<Vec<Option<u32>>> = release
        .splits
        .iter()
        .map(|s| vec![None; s.rows()])
        .collect();
    let release_split: Vec<Option<usize>> = data
        .split_names
        .iter()
        .map(|name| release.splits.iter().position(|s| s.kind.name() == name))
        .collect();
    for row in 0..data.rows() {
        let Some(Some(split)) = release_split.get(usize::from(data.split[row])) else {
            continue;
        };
        if let Some(slot) = lab_row
            .get_mut(*split)
            .and_then(|rows| rows.get_mut(data.source_row[row] as usize))
        {
            *slot = Some(row as u32);
        }
    }
    Ok(MeasuredShift {
        groups: groups_of(&data),
        data: Arc::new(data),
        report: Arc::new(report),
        lab_row,
    })
}

/// Writes the report's tables as CSV and the report as `report.json` into `folder`, each
/// file atomically (on a worker). Says what it wrote.
pub fn export(report: &ShiftReport, folder: &Path) -> Result<String, String> {
    let write = || -> anyhow::Result<usize> {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create the folder {folder:?}"))?;
        let tables = report.tables();
        for table in &tables {
            let path = folder.join(format!("{}.csv", table.name));
            write_csv_atomically(&path, &table.header, &table.rows)?;
        }
        write_atomically(&folder.join("report.json"), |out| {
            serde_json::to_writer_pretty(&mut *out, report)?;
            Ok(())
        })?;
        Ok(tables.len())
    };
    write()
        .map(|count| {
            format!(
                "wrote {count} tables and report.json to {}",
                folder.display()
            )
        })
        .map_err(|e| format!("{e:#}"))
}

/// The lab's state in the workbench: the report of the open release, the two sides of a
/// comparison and its result. Whether a measurement or comparison is running is the job
/// board's to say ([`crate::Workbench::shift_running`]).
#[derive(Default)]
pub struct ShiftLab {
    /// The last report of the open release.
    pub measured: Option<Arc<MeasuredShift>>,
    /// Why the last report failed, if it did.
    pub failure: Option<String>,
    /// Side A of the comparison.
    pub side_a: Option<SelectionSide>,
    /// Side B of the comparison.
    pub side_b: Option<SelectionSide>,
    /// The comparison of the sides as they are now.
    pub comparison: Option<Comparison>,
}

impl ShiftLab {
    /// Makes `chosen` side A or B; the last comparison no longer applies.
    pub fn set_side(&mut self, side: Side, chosen: SelectionSide) {
        match side {
            Side::A => self.side_a = Some(chosen),
            Side::B => self.side_b = Some(chosen),
        }
        self.comparison = None;
    }
}

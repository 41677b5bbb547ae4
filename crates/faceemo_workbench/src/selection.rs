//! The selection's summary (dataset × emotion counts, and counts per group of every
//! colouring), computed once when the selection changes, and its CSV export.

use faceemo_analysis::CrossTab;
use faceemo_data::Release;

use crate::points::{Colouring, MapPoints};

/// What the data panel shows of a selection, computed once per selection.
#[derive(Clone, Debug, Default)]
pub struct SelectionSummary {
    /// Dataset × emotion counts.
    pub crosstab: CrossTab,
    /// Selected points per group, for each colouring (`Colouring as usize`).
    pub counts: Vec<Vec<usize>>,
}

impl SelectionSummary {
    /// Counts `selection` among `points`.
    pub fn new(points: &MapPoints, selection: &[usize]) -> Self {
        Self {
            crosstab: selection_crosstab(points, selection),
            counts: Colouring::ALL
                .iter()
                .map(|&c| points.group_counts(c, Some(selection)))
                .collect(),
        }
    }

    /// Selected points per group under `colouring`.
    pub fn counts(&self, colouring: Colouring) -> &[usize] {
        self.counts
            .get(colouring as usize)
            .map_or(&[], Vec::as_slice)
    }
}

/// Dataset × emotion counts of selected points (counted by group code, named once per
/// cell).
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
/// temporary file beside it, renamed into place). Says how many rows it wrote.
pub fn export_selection(
    release: &Release,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_of_every_point_adds_up_to_the_legend_counts() {
        let points = crate::points::demo_points(5);
        let rows = points.len();
        let everyone: Vec<usize> = (0..rows).collect();
        let summary = SelectionSummary::new(&points, &everyone);
        assert_eq!(summary.crosstab.total(), rows);
        let names = points.group_names(Colouring::Dataset);
        let totals = points.group_counts(Colouring::Dataset, None);
        for (name, count) in names.iter().zip(&totals) {
            assert_eq!(summary.crosstab.row_total(name), *count, "{name}");
        }
        assert_eq!(summary.counts(Colouring::Dataset), totals.as_slice());
        let one = SelectionSummary::new(&points, &[3]);
        assert_eq!(one.crosstab.total(), 1);
        assert_eq!(one.counts(Colouring::Split).iter().sum::<usize>(), 1);
        assert_eq!(selection_crosstab(&points, &[]).total(), 0);
    }
}

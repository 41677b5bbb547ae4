//! Counts of a selection by two labels (dataset × emotion).

use std::collections::BTreeMap;

/// How many items fall in each (row label, column label) cell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrossTab {
    cells: BTreeMap<(String, String), usize>,
}

impl CrossTab {
    /// Counts `(row, column)` label pairs.
    pub fn count<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut cells = BTreeMap::new();
        for (row, column) in pairs {
            *cells
                .entry((row.to_owned(), column.to_owned()))
                .or_insert(0) += 1;
        }
        Self { cells }
    }

    /// A table from counted cells (cells named twice are added up).
    pub fn from_counts(cells: impl IntoIterator<Item = (String, String, usize)>) -> Self {
        let mut tab = Self::default();
        for (row, column, count) in cells {
            if count > 0 {
                *tab.cells.entry((row, column)).or_insert(0) += count;
            }
        }
        tab
    }

    /// The row labels, sorted.
    pub fn rows(&self) -> Vec<&str> {
        let mut rows: Vec<&str> = self.cells.keys().map(|(r, _)| r.as_str()).collect();
        rows.dedup();
        rows
    }

    /// The column labels, sorted.
    pub fn columns(&self) -> Vec<&str> {
        let mut columns: Vec<&str> = self.cells.keys().map(|(_, c)| c.as_str()).collect();
        columns.sort_unstable();
        columns.dedup();
        columns
    }

    /// The count of one cell (0 when absent).
    pub fn get(&self, row: &str, column: &str) -> usize {
        self.cells
            .get(&(row.to_owned(), column.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// The total of one row.
    pub fn row_total(&self, row: &str) -> usize {
        self.cells
            .iter()
            .filter(|((r, _), _)| r == row)
            .map(|(_, n)| n)
            .sum()
    }

    /// Everything counted.
    pub fn total(&self) -> usize {
        self.cells.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pairs_and_totals() {
        let tab = CrossTab::count([
            ("FER2013", "happy"),
            ("RAF-DB", "sad"),
            ("FER2013", "happy"),
            ("FER2013", "sad"),
        ]);
        assert_eq!(tab.rows(), vec!["FER2013", "RAF-DB"]);
        assert_eq!(tab.columns(), vec!["happy", "sad"]);
        assert_eq!(tab.get("FER2013", "happy"), 2);
        assert_eq!(tab.get("RAF-DB", "happy"), 0);
        assert_eq!(tab.row_total("FER2013"), 3);
        assert_eq!(tab.total(), 4);
        let same = CrossTab::from_counts([
            ("FER2013".to_owned(), "happy".to_owned(), 2),
            ("RAF-DB".to_owned(), "sad".to_owned(), 1),
            ("FER2013".to_owned(), "sad".to_owned(), 1),
            ("RAF-DB".to_owned(), "happy".to_owned(), 0),
        ]);
        assert_eq!(same, tab);
    }
}

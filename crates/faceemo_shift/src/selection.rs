//! Selections as the window exports them (`split,row,…` CSV), resolved to the lab's rows.

use std::collections::HashMap;
use std::path::Path;

use crate::{ShiftData, ShiftError};

/// Where each `(split, row in its file)` sits among the lab's rows.
pub struct RowLookup<'a> {
    data: &'a ShiftData,
    by_place: HashMap<(u16, u32), usize>,
}

impl<'a> RowLookup<'a> {
    /// Indexes every row of `data`.
    pub fn new(data: &'a ShiftData) -> Self {
        let by_place = (0..data.rows())
            .map(|i| ((data.split[i], data.source_row[i]), i))
            .collect();
        Self { data, by_place }
    }

    /// The lab row of `row` of split `split`, if it is measured.
    pub fn find(&self, split: &str, row: u32) -> Option<usize> {
        let split = self.data.split_index(split)?;
        self.by_place.get(&(split, row)).copied()
    }

    /// Reads a selection file: a CSV with a header naming `split` and `row` columns.
    /// Rows named twice count once; a row that is not loaded, or left out for NaN
    /// values, is an error naming the line.
    pub fn read_selection(&self, path: &Path) -> Result<Vec<usize>, ShiftError> {
        let io = |source| ShiftError::SelectionIo {
            path: path.to_owned(),
            source,
        };
        let bad = |line: u64, problem: String| ShiftError::BadSelection {
            path: path.to_owned(),
            line,
            problem,
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .map_err(io)?;
        let headers = reader.headers().map_err(io)?.clone();
        let column = |name: &str| headers.iter().position(|h| h.trim() == name);
        let (Some(split_column), Some(row_column)) = (column("split"), column("row")) else {
            return Err(bad(
                1,
                "the header has no `split` and `row` columns".to_owned(),
            ));
        };
        let mut rows = Vec::new();
        for (index, record) in reader.records().enumerate() {
            let line = index as u64 + 2;
            let record = record.map_err(io)?;
            let split = record.get(split_column).unwrap_or("").trim();
            let row_text = record.get(row_column).unwrap_or("").trim();
            let Ok(row) = row_text.parse::<u32>() else {
                return Err(bad(line, format!("row {row_text:?} is not a row number")));
            };
            if self.data.split_index(split).is_none() {
                return Err(bad(
                    line,
                    format!("split {split:?} is not loaded with metadata"),
                ));
            }
            let Some(found) = self.find(split, row) else {
                return Err(bad(
                    line,
                    format!("split {split} has no measurable row {row} (missing, or NaN values)"),
                ));
            };
            rows.push(found);
        }
        rows.sort_unstable();
        rows.dedup();
        if rows.is_empty() {
            return Err(ShiftError::EmptySelection {
                path: path.to_owned(),
            });
        }
        Ok(rows)
    }
}

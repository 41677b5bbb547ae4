//! Joining metadata rows to feature rows.
//!
//! The release does not document how its metadata lines up with the NPZ rows. The
//! natural rule is used: the rows of the matching split whose `valid_image` is true, in
//! file order. When an NPZ carries its own sample ids, those are used instead. A split
//! whose counts disagree keeps its features and loses only its metadata, with a warning.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::{EmotionLabel, MetadataRow, MetadataTable, SplitKind};

/// What is known of one feature row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The sample's id.
    pub sample_id: Arc<str>,
    /// The source dataset as written in the metadata.
    pub dataset: Arc<str>,
    /// The true emotion.
    pub emotion: EmotionLabel,
}

impl From<&MetadataRow> for Sample {
    fn from(row: &MetadataRow) -> Self {
        Self {
            sample_id: Arc::clone(&row.sample_id),
            dataset: Arc::clone(&row.dataset),
            emotion: row.emotion.clone(),
        }
    }
}

/// All metadata tables, indexed by sample id and by split.
pub(crate) struct MetadataIndex<'a> {
    by_id: HashMap<&'a str, &'a MetadataRow>,
    valid_by_split: BTreeMap<SplitKind, Vec<&'a MetadataRow>>,
    /// Ids found in more than one table.
    pub repeated_ids: usize,
}

impl<'a> MetadataIndex<'a> {
    pub(crate) fn new(tables: &'a [MetadataTable]) -> Self {
        let mut by_id = HashMap::new();
        let mut valid_by_split: BTreeMap<SplitKind, Vec<&MetadataRow>> = BTreeMap::new();
        let mut repeated_ids = 0;
        // Few distinct (split, dataset) pairs: resolve each once.
        let mut split_of: HashMap<(&str, &str), SplitKind> = HashMap::new();
        for row in tables.iter().flat_map(|t| &t.rows) {
            if by_id.insert(&*row.sample_id, row).is_some() {
                repeated_ids += 1;
            }
            if row.valid_image {
                let split = split_of
                    .entry((&*row.split, &*row.dataset))
                    .or_insert_with(|| SplitKind::from_metadata(&row.split, &row.dataset));
                valid_by_split.entry(split.clone()).or_default().push(row);
            }
        }
        Self {
            by_id,
            valid_by_split,
            repeated_ids,
        }
    }

    /// Whether any metadata was loaded.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Valid rows per split for the splits not in `loaded`, as `(split, rows)`.
    pub(crate) fn unmatched_splits(&self, loaded: &[SplitKind]) -> Vec<(String, usize)> {
        self.valid_by_split
            .iter()
            .filter(|(kind, _)| !loaded.contains(kind))
            .map(|(kind, rows)| (kind.name().to_owned(), rows.len()))
            .collect()
    }

    /// Joins the metadata to a split of `rows` feature rows.
    ///
    /// Returns the samples, or a warning saying why the split has no metadata.
    pub(crate) fn join(
        &self,
        split: &SplitKind,
        file_name: &str,
        rows: usize,
        sample_ids: Option<&[String]>,
    ) -> Result<Vec<Sample>, String> {
        if let Some(ids) = sample_ids {
            return self.join_on_ids(split, file_name, ids);
        }
        let candidates = self
            .valid_by_split
            .get(split)
            .map_or(&[][..], Vec::as_slice);
        if candidates.len() == rows {
            return Ok(candidates.iter().map(|row| Sample::from(*row)).collect());
        }
        let difference = candidates.len().abs_diff(rows);
        let (more_or_fewer, unit) = if candidates.len() > rows {
            ("more", "rows")
        } else {
            ("fewer", "rows")
        };
        Err(format!(
            "split {split}: the metadata lists {} valid rows but {file_name} has {rows} \
             ({difference} {unit} {more_or_fewer}); metadata unavailable for this split",
            candidates.len()
        ))
    }

    fn join_on_ids(
        &self,
        split: &SplitKind,
        file_name: &str,
        ids: &[String],
    ) -> Result<Vec<Sample>, String> {
        let mut samples = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match self.by_id.get(id.as_str()) {
                Some(row) => samples.push(Sample::from(*row)),
                None => missing.push(id.as_str()),
            }
        }
        if missing.is_empty() {
            return Ok(samples);
        }
        let examples: Vec<&str> = missing.iter().take(3).copied().collect();
        Err(format!(
            "split {split}: {} of the {} sample ids in {file_name} are not in the metadata \
             (e.g. {}); metadata unavailable for this split",
            missing.len(),
            ids.len(),
            examples.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn table(csv: &str) -> MetadataTable {
        crate::read_metadata(csv.as_bytes(), Path::new("meta.csv")).expect("table")
    }

    const CSV: &str = "sample_id,Dataset,Emotion,Split,valid_image\n\
        a,FER2013,happy,train,True\n\
        b,FER2013,sad,train,False\n\
        c,RAF-DB,angry,train,True\n\
        d,FER2013,neutral,test,True\n\
        e,AffectNet,fear,test,True\n";

    #[test]
    fn valid_rows_of_the_split_join_in_file_order() {
        let tables = [table(CSV)];
        let index = MetadataIndex::new(&tables);
        let samples = index
            .join(&SplitKind::Train, "train.npz", 2, None)
            .expect("joined");
        let ids: Vec<_> = samples.iter().map(|s| &*s.sample_id).collect();
        assert_eq!(ids, ["a", "c"]);
        let fer = index
            .join(&SplitKind::TestFer2013, "fer.npz", 1, None)
            .expect("joined");
        assert_eq!(&*fer[0].sample_id, "d");
    }

    #[test]
    fn a_count_mismatch_names_the_split_and_the_difference() {
        let tables = [table(CSV)];
        let index = MetadataIndex::new(&tables);
        let warning = index
            .join(&SplitKind::Train, "train.npz", 5, None)
            .expect_err("mismatch");
        assert!(warning.contains("split train"), "{warning}");
        assert!(warning.contains("3 rows fewer"), "{warning}");
    }

    #[test]
    fn sample_ids_in_the_npz_take_precedence() {
        let tables = [table(CSV)];
        let index = MetadataIndex::new(&tables);
        let ids = vec!["e".to_owned(), "b".to_owned()];
        let samples = index
            .join(&SplitKind::Train, "train.npz", 2, Some(&ids))
            .expect("joined on ids");
        assert_eq!(&*samples[0].dataset, "AffectNet");
        assert_eq!(&*samples[1].sample_id, "b");
        let unknown = vec!["zzz".to_owned()];
        let warning = index
            .join(&SplitKind::Train, "train.npz", 1, Some(&unknown))
            .expect_err("unknown id");
        assert!(warning.contains("zzz"), "{warning}");
    }

    #[test]
    fn rows_of_unloaded_splits_are_reported() {
        let tables = [table(CSV)];
        let index = MetadataIndex::new(&tables);
        let unmatched = index.unmatched_splits(&[SplitKind::Train, SplitKind::TestFer2013]);
        assert_eq!(unmatched, [("test_affectnet".to_owned(), 1)]);
    }
}

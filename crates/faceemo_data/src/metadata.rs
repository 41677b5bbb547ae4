//! Reading the metadata table (`sample_id,Dataset,Emotion,Split,valid_image`).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{DataError, EmotionLabel};

/// One row of the metadata table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataRow {
    /// The sample's id.
    pub sample_id: Arc<str>,
    /// The source dataset as written (`FaceEmo-Set`, `FER2013`, `RAF-DB`, …).
    pub dataset: Arc<str>,
    /// The emotion, normalised when recognised.
    pub emotion: EmotionLabel,
    /// The split as written (`train`, `val`, `test`, …).
    pub split: Arc<str>,
    /// Whether the image was valid, i.e. has a row in the feature files.
    pub valid_image: bool,
    /// The line in the file (the header is line 1).
    pub line: u64,
}

/// A parsed metadata CSV.
#[derive(Clone, Debug, Default)]
pub struct MetadataTable {
    /// The file it was read from.
    pub path: PathBuf,
    /// Rows in file order.
    pub rows: Vec<MetadataRow>,
    /// Emotion labels that are none of the seven, with how many rows carry each.
    pub unknown_emotions: BTreeMap<String, usize>,
}

/// The columns the table must have (matched case-insensitively).
const COLUMNS: [&str; 5] = ["sample_id", "dataset", "emotion", "split", "valid_image"];

/// Reads a metadata CSV from disk.
pub fn read_metadata_file(path: &Path) -> Result<MetadataTable, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_metadata(std::io::BufReader::new(file), path)
}

/// Reads a metadata CSV from any reader; `path` is only used in messages.
pub fn read_metadata(reader: impl Read, path: &Path) -> Result<MetadataTable, DataError> {
    let csv_error = |line: u64, reason: String| DataError::Csv {
        path: path.to_owned(),
        line,
        reason,
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let headers = csv
        .byte_headers()
        .map_err(|e| csv_error(1, e.to_string()))?
        .clone();
    let [id_col, dataset_col, emotion_col, split_col, valid_col] =
        column_positions(&headers, path)?;

    let mut table = MetadataTable {
        path: path.to_owned(),
        ..MetadataTable::default()
    };
    let mut first_line_of_id: HashMap<Arc<str>, u64> = HashMap::new();
    let mut names = Interner::default();
    let mut record = csv::ByteRecord::new();
    loop {
        let more = csv.read_byte_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            csv_error(line, csv_reason(&e))
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, csv::Position::line);
        let field = |index: usize| -> Result<&str, DataError> {
            let bytes = record.get(index).unwrap_or_default();
            std::str::from_utf8(bytes)
                .map(str::trim)
                .map_err(|_| csv_error(line, "text is not valid UTF-8".to_owned()))
        };
        let sample_id: Arc<str> = Arc::from(field(id_col)?);
        if sample_id.is_empty() {
            return Err(csv_error(line, "empty sample_id".to_owned()));
        }
        let valid_text = field(valid_col)?;
        let valid_image = parse_bool(valid_text).ok_or_else(|| {
            csv_error(
                line,
                format!("valid_image {valid_text:?} is not True/False/1/0/yes/no"),
            )
        })?;
        let emotion = EmotionLabel::parse(field(emotion_col)?);
        if let EmotionLabel::Unknown(label) = &emotion {
            *table.unknown_emotions.entry(label.clone()).or_default() += 1;
        }
        if let Some(first_line) = first_line_of_id.insert(Arc::clone(&sample_id), line) {
            return Err(DataError::DuplicateSampleId {
                path: path.to_owned(),
                sample_id: sample_id.to_string(),
                first_line,
                second_line: line,
            });
        }
        table.rows.push(MetadataRow {
            sample_id,
            dataset: names.intern(field(dataset_col)?),
            emotion,
            split: names.intern(field(split_col)?),
            valid_image,
            line,
        });
    }
    if table.rows.is_empty() {
        return Err(csv_error(
            2,
            "the header is there but no rows follow".to_owned(),
        ));
    }
    Ok(table)
}

/// Where each of [`COLUMNS`] is, matching header names case-insensitively.
fn column_positions(
    headers: &csv::ByteRecord,
    path: &Path,
) -> Result<[usize; COLUMNS.len()], DataError> {
    let header_names: Vec<String> = headers
        .iter()
        .map(|h| {
            std::str::from_utf8(h)
                .map(|s| s.trim_start_matches('\u{feff}').trim().to_owned())
                .map_err(|_| DataError::Csv {
                    path: path.to_owned(),
                    line: 1,
                    reason: "header is not valid UTF-8".to_owned(),
                })
        })
        .collect::<Result<_, _>>()?;
    if header_names.iter().all(String::is_empty) {
        return Err(DataError::Csv {
            path: path.to_owned(),
            line: 1,
            reason: "the file is empty or has no header".to_owned(),
        });
    }
    let mut positions = [0usize; COLUMNS.len()];
    for (slot, column) in positions.iter_mut().zip(COLUMNS) {
        *slot = header_names
            .iter()
            .position(|h| h.eq_ignore_ascii_case(column))
            .ok_or_else(|| DataError::MissingColumn {
                path: path.to_owned(),
                column,
                found: header_names.join(", "),
            })?;
    }
    Ok(positions)
}

/// Dataset and split names repeat on every row: each distinct one is stored once.
#[derive(Default)]
struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    fn intern(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        self.0.insert(text.to_owned(), Arc::clone(&shared));
        shared
    }
}

fn csv_reason(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "text is not valid UTF-8".to_owned(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => error.to_string(),
    }
}

/// `True/False/1/0/yes/no` (any case; also `t/f/y/n`).
pub fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim();
    let is_any = |spellings: &[&str]| spellings.iter().any(|s| s.eq_ignore_ascii_case(text));
    if is_any(&["true", "1", "yes", "y", "t", "1.0"]) {
        Some(true)
    } else if is_any(&["false", "0", "no", "n", "f", "0.0"]) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Emotion;

    fn read(text: &[u8]) -> Result<MetadataTable, DataError> {
        read_metadata(text, Path::new("meta.csv"))
    }

    #[test]
    fn headers_match_case_insensitively_in_any_order() {
        let table =
            read(b"Split,SAMPLE_ID,emotion,Dataset,Valid_Image\ntrain,s1,happy,FER2013,True\n")
                .expect("table");
        let row = &table.rows[0];
        assert_eq!(&*row.sample_id, "s1");
        assert_eq!(&*row.dataset, "FER2013");
        assert_eq!(row.emotion, EmotionLabel::Known(Emotion::Happiness));
        assert_eq!(&*row.split, "train");
        assert!(row.valid_image);
        assert_eq!(row.line, 2);
    }

    #[test]
    fn valid_image_accepts_the_usual_spellings() {
        for (text, value) in [("True", true), ("0", false), ("yes", true), ("No", false)] {
            assert_eq!(parse_bool(text), Some(value), "{text}");
        }
        let error = read(b"sample_id,Dataset,Emotion,Split,valid_image\na,D,sad,train,maybe\n")
            .expect_err("maybe is not a bool")
            .to_string();
        assert!(
            error.contains("maybe") && error.contains("line 2"),
            "{error}"
        );
    }

    #[test]
    fn unknown_emotions_are_kept_and_counted() {
        let table = read(
            b"sample_id,Dataset,Emotion,Split,valid_image\na,D,contempt,train,1\nb,D,contempt,train,1\nc,D,sad,train,1\n",
        )
        .expect("table");
        assert_eq!(table.rows.len(), 3);
        assert_eq!(table.unknown_emotions.get("contempt"), Some(&2));
    }

    #[test]
    fn a_utf8_byte_order_mark_is_ignored() {
        let table = read(
            "\u{feff}sample_id,Dataset,Emotion,Split,valid_image\na,D,sad,train,1\n".as_bytes(),
        )
        .expect("table");
        assert_eq!(table.rows.len(), 1);
    }

    #[test]
    fn a_row_with_too_few_fields_names_its_line() {
        let error =
            read(b"sample_id,Dataset,Emotion,Split,valid_image\na,D,sad,train,1\nb,D,sad\n")
                .expect_err("short row")
                .to_string();
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("meta.csv"), "{error}");
    }
}

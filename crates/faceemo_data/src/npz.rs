//! Reading one split file: an NPZ archive with `features`, `logits` and `probs`.
//!
//! Each member's `.npy` header is checked against the member's size before any data is
//! allocated, so a corrupt or hostile file is an error, never an out-of-memory abort.
//! Data is read with `ndarray-npy` straight into the final buffer (no second copy for
//! C-order float32, the release's layout).

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use ndarray::{Array2, ShapeBuilder as _};
use ndarray_npy::ReadableElement as _;
use ndarray_npy::npy::header::{Header, Layout};
use py_literal::Value as PyValue;
use zip::ZipArchive;
use zip::result::ZipError;

use crate::DataError;

/// The arrays of one split file.
#[derive(Clone, Debug)]
pub struct SplitArrays {
    /// CLS features, `(rows, width)`.
    pub features: Array2<f32>,
    /// Classifier logits, `(rows, classes)`.
    pub logits: Array2<f32>,
    /// Softmax probabilities, `(rows, classes)`.
    pub probs: Array2<f32>,
    /// Per-row sample ids, when the archive carries a `sample_id`/`sample_ids` array.
    pub sample_ids: Option<Vec<String>>,
    /// Conversions made while reading (e.g. float64 to float32), for the user to see.
    pub notes: Vec<String>,
}

impl SplitArrays {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.features.nrows()
    }

    /// Rows with a NaN or infinity in any of the three arrays, in order.
    pub fn nonfinite_rows(&self) -> Vec<usize> {
        (0..self.rows())
            .filter(|&row| {
                [&self.features, &self.logits, &self.probs]
                    .iter()
                    .any(|m| any_nonfinite(m.row(row)))
            })
            .collect()
    }
}

/// Whether any value is NaN or infinity (an exponent of all ones). Written as a
/// branch-free fold over the bits so it vectorises.
fn any_nonfinite<'a>(values: impl IntoIterator<Item = &'a f32>) -> bool {
    const EXPONENT: u32 = 0x7f80_0000;
    values.into_iter().fold(false, |found, x| {
        found | (x.to_bits() & EXPONENT == EXPONENT)
    })
}

/// Names under which a per-row sample-id array may be stored.
const SAMPLE_ID_ARRAYS: [&str; 3] = ["sample_id", "sample_ids", "ids"];

/// Reads are split into chunks this size, so each chunk's CRC is checked while it is
/// still in cache (one pass over memory instead of two).
const READ_CHUNK_BYTES: usize = 1 << 20;

/// Passes reads through in chunks of at most [`READ_CHUNK_BYTES`].
struct ChunkedReader<R>(R);

impl<R: Read> Read for ChunkedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let len = buf.len().min(READ_CHUNK_BYTES);
        self.0.read(buf.get_mut(..len).unwrap_or_default())
    }
}

/// The largest `.npy` header accepted (numpy itself writes a few hundred bytes).
const MAX_HEADER_BYTES: usize = 1 << 20;

/// The most a deflated member can expand (deflate's limit is about 1032:1).
const MAX_DEFLATE_RATIO: u64 = 1100;

/// Brackets a `.npy` header may nest (numpy writes two: the dict and the shape tuple).
const MAX_HEADER_NESTING: usize = 8;

/// The deepest nesting of `(`, `[` and `{` in a header.
fn nesting_depth(header: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for byte in header {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// At most the first 120 characters of hostile text, for a message.
fn excerpt(text: &str) -> String {
    const LIMIT: usize = 120;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}... ({} characters)", &text[..cut], text.chars().count()),
        None => text.to_owned(),
    }
}

/// What the members of one NPZ may decode to in all: this many times the file's length
/// (float features compress barely at all; a file that expands more is a decoding bomb) …
const DECODE_BUDGET_PER_FILE_BYTE: u64 = 32;
/// … or at least this much (small files of legitimately repetitive arrays still open).
const MIN_DECODE_BUDGET: u64 = 256 << 20;

/// Reads a split file from disk.
pub fn read_split_file(path: &Path) -> Result<SplitArrays, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_split_arrays(std::io::BufReader::with_capacity(1 << 16, file), path)
}

/// Reads a split from any seekable reader; `path` is only used in messages.
pub fn read_split_arrays<R: Read + Seek>(
    mut reader: R,
    path: &Path,
) -> Result<SplitArrays, DataError> {
    let io_error = |source| DataError::Io {
        path: path.to_owned(),
        source,
    };
    // What the file really holds bounds what any member may claim.
    let length = reader.seek(SeekFrom::End(0)).map_err(io_error)?;
    let declared_entries = declared_entry_count(&mut reader, length).map_err(io_error)?;
    reader.rewind().map_err(io_error)?;
    let mut zip = ZipArchive::new(reader).map_err(|source| DataError::NotZip {
        path: path.to_owned(),
        source,
    })?;
    // Two members of one name: which one is meant cannot be told, so neither is read. The
    // zip reader keeps one entry per name, so the directory's own count tells.
    if let Some(declared) = declared_entries
        && declared != zip.len()
    {
        return Err(DataError::DuplicateMembers {
            path: path.to_owned(),
            declared,
            distinct: zip.len(),
        });
    }
    let mut archive = Archive {
        zip: &mut zip,
        path,
        notes: Vec::new(),
        length,
        budget: length
            .saturating_mul(DECODE_BUDGET_PER_FILE_BYTE)
            .max(MIN_DECODE_BUDGET),
    };
    let features = archive.read_float_matrix("features")?;
    let logits = archive.read_float_matrix("logits")?;
    let probs = archive.read_float_matrix("probs")?;
    let sample_ids = archive.read_sample_ids()?;

    let rows = features.nrows();
    let mut counts = vec![
        ("features", rows),
        ("logits", logits.nrows()),
        ("probs", probs.nrows()),
    ];
    if let Some(ids) = &sample_ids {
        counts.push(("sample ids", ids.len()));
    }
    if counts.iter().any(|(_, n)| *n != rows) {
        return Err(DataError::RowCountMismatch {
            path: path.to_owned(),
            details: describe_counts(&counts),
        });
    }
    if rows == 0 {
        return Err(DataError::EmptySplit {
            path: path.to_owned(),
        });
    }
    if logits.ncols() != probs.ncols() {
        return Err(DataError::WrongShape {
            path: path.to_owned(),
            array: "probs".to_owned(),
            shape: probs.shape().to_vec(),
            expected: "as many columns as logits",
        });
    }
    Ok(SplitArrays {
        features,
        logits,
        probs,
        sample_ids,
        notes: archive.notes,
    })
}

/// The entry count the end-of-central-directory record declares (`None` without one, or
/// for zip64 archives, whose count lives elsewhere).
fn declared_entry_count<R: Read + Seek>(
    reader: &mut R,
    length: u64,
) -> std::io::Result<Option<usize>> {
    // The record is 22 bytes plus a comment of at most 65,535.
    let tail = length.min(22 + 65_535);
    reader.seek(SeekFrom::Start(length - tail))?;
    let mut bytes = Vec::with_capacity(tail as usize);
    reader.take(tail).read_to_end(&mut bytes)?;
    let Some(at) = bytes
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .filter(|at| at + 22 <= bytes.len())
    else {
        return Ok(None);
    };
    let total = u16::from_le_bytes([bytes[at + 10], bytes[at + 11]]);
    Ok((total != u16::MAX).then_some(usize::from(total)))
}

fn describe_counts(counts: &[(&str, usize)]) -> String {
    counts
        .iter()
        .map(|(name, n)| format!("{name}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Archive<'a, R: Read + Seek> {
    zip: &'a mut ZipArchive<R>,
    path: &'a Path,
    notes: Vec<String>,
    /// The file's length in bytes.
    length: u64,
    /// Bytes the members opened from now on may still decode to.
    budget: u64,
}

/// A member opened and its header checked: the data bytes are next in `reader`.
struct OpenMember<'z> {
    reader: Box<dyn Read + 'z>,
    header: Header,
    data_bytes: u64,
}

impl<R: Read + Seek> Archive<'_, R> {
    fn member_index(&self, name: &str) -> Option<usize> {
        self.zip
            .index_for_name(name)
            .or_else(|| self.zip.index_for_name(&format!("{name}.npy")))
    }

    fn member_names(&self) -> String {
        let mut names: Vec<&str> = self.zip.file_names().collect();
        names.sort_unstable();
        if names.is_empty() {
            "no members".to_owned()
        } else {
            names.join(", ")
        }
    }

    fn open_member(&mut self, array: &str, index: usize) -> Result<OpenMember<'_>, DataError> {
        let path = self.path.to_owned();
        let member_error = |source: ZipError| DataError::Member {
            path: path.clone(),
            array: array.to_owned(),
            source,
        };
        let not_npy = |reason: String| DataError::NotNpy {
            path: path.clone(),
            array: array.to_owned(),
            reason,
        };
        let mut member = self.zip.by_index(index).map_err(member_error)?;
        let declared = member.size();
        let compressed = member.compressed_size();
        if compressed > self.length {
            return Err(not_npy(format!(
                "declares {compressed} compressed bytes but the file holds {} bytes",
                self.length
            )));
        }
        if member.compression() == zip::CompressionMethod::Stored && declared != compressed {
            return Err(not_npy(format!(
                "is stored uncompressed but declares {declared} bytes from {compressed}"
            )));
        }
        if declared > self.budget {
            return Err(not_npy(format!(
                "would decode to {declared} bytes, more than a {}-byte file can honestly hold \
                 (at most {} times its length)",
                self.length, DECODE_BUDGET_PER_FILE_BYTE
            )));
        }
        self.budget -= declared;
        if declared
            > compressed
                .saturating_mul(MAX_DEFLATE_RATIO)
                .saturating_add(4096)
        {
            return Err(not_npy(format!(
                "declares {declared} bytes from {compressed} compressed bytes"
            )));
        }
        // Magic string, version, header length: checked before anything is allocated.
        let mut prelude = [0u8; 12];
        member
            .read_exact(&mut prelude[..8])
            .map_err(|e| not_npy(format!("too short for a .npy header: {e}")))?;
        if &prelude[..6] != b"\x93NUMPY" {
            return Err(not_npy("missing the \\x93NUMPY magic string".to_owned()));
        }
        let (prelude_len, header_len) = match prelude[6] {
            1 => {
                member
                    .read_exact(&mut prelude[8..10])
                    .map_err(|e| not_npy(format!("truncated header: {e}")))?;
                (10, u64::from(u16::from_le_bytes([prelude[8], prelude[9]])))
            }
            2 | 3 => {
                member
                    .read_exact(&mut prelude[8..12])
                    .map_err(|e| not_npy(format!("truncated header: {e}")))?;
                let bytes = [prelude[8], prelude[9], prelude[10], prelude[11]];
                (12, u64::from(u32::from_le_bytes(bytes)))
            }
            version => return Err(not_npy(format!("unsupported .npy version {version}"))),
        };
        if header_len > MAX_HEADER_BYTES as u64 {
            return Err(not_npy(format!("header of {header_len} bytes is too long")));
        }
        let mut header_bytes = prelude[..prelude_len].to_vec();
        let mut rest = vec![0u8; header_len as usize];
        member
            .read_exact(&mut rest)
            .map_err(|e| not_npy(format!("truncated header: {e}")))?;
        header_bytes.extend_from_slice(&rest);
        // numpy writes a flat dict with one shape tuple: anything nested deeper is hostile
        // (the literal parser recurses once per level).
        let depth = nesting_depth(&rest);
        if depth > MAX_HEADER_NESTING {
            return Err(not_npy(format!(
                "header nests {depth} levels deep (a .npy header is a flat dict)"
            )));
        }
        let header = Header::from_reader(&mut Cursor::new(&header_bytes))
            .map_err(|e| not_npy(format!("bad header: {}", excerpt(&e.to_string()))))?;
        let data_bytes = declared.saturating_sub(header_bytes.len() as u64);
        Ok(OpenMember {
            reader: Box::new(ChunkedReader(member)),
            header,
            data_bytes,
        })
    }

    fn read_float_matrix(&mut self, array: &str) -> Result<Array2<f32>, DataError> {
        let index = self
            .member_index(array)
            .ok_or_else(|| DataError::MissingArray {
                path: self.path.to_owned(),
                array: array.to_owned(),
                found: self.member_names(),
            })?;
        let path = self.path.to_owned();
        let OpenMember {
            reader,
            header,
            data_bytes,
        } = self.open_member(array, index)?;
        let Some(dtype) = FloatDtype::from_descriptor(&header.type_descriptor) else {
            return Err(DataError::WrongDtype {
                path,
                array: array.to_owned(),
                dtype: header.type_descriptor.to_string(),
                expected: "float32, float64 or float16",
            });
        };
        let &[rows, cols] = header.shape.as_slice() else {
            return Err(DataError::WrongShape {
                path,
                array: array.to_owned(),
                shape: header.shape.clone(),
                expected: "2 dimensions (rows, columns)",
            });
        };
        if cols == 0 {
            return Err(DataError::WrongShape {
                path,
                array: array.to_owned(),
                shape: header.shape.clone(),
                expected: "at least one column",
            });
        }
        let len = rows.checked_mul(cols);
        let expected_bytes = len.and_then(|n| n.checked_mul(dtype.item_bytes()));
        if expected_bytes.map(|b| b as u64) != Some(data_bytes) {
            return Err(DataError::SizeMismatch {
                path,
                array: array.to_owned(),
                expected_bytes: expected_bytes.map_or(u64::MAX, |b| b as u64),
                actual_bytes: data_bytes,
            });
        }
        let len = rows * cols;
        let fortran = matches!(header.layout, Layout::Fortran);
        let data = read_floats(reader, &header.type_descriptor, dtype, len).map_err(|e| {
            DataError::NotNpy {
                path: path.clone(),
                array: array.to_owned(),
                reason: format!("bad data: {e}"),
            }
        })?;
        if dtype != FloatDtype::F32 {
            self.notes.push(format!(
                "{}: {array} stored as {}, converted to float32",
                display_name(&path),
                dtype.name()
            ));
        }
        let matrix = Array2::from_shape_vec((rows, cols).set_f(fortran), data).map_err(|e| {
            DataError::NotNpy {
                path: path.clone(),
                array: array.to_owned(),
                reason: format!("shape does not fit data: {e}"),
            }
        })?;
        Ok(if fortran {
            matrix.as_standard_layout().into_owned()
        } else {
            matrix
        })
    }

    fn read_sample_ids(&mut self) -> Result<Option<Vec<String>>, DataError> {
        let Some((name, index)) = SAMPLE_ID_ARRAYS
            .iter()
            .find_map(|name| self.member_index(name).map(|index| (*name, index)))
        else {
            return Ok(None);
        };
        let path = self.path.to_owned();
        let mut member = self.open_member(name, index)?;
        let &[rows] = member.header.shape.as_slice() else {
            return Err(DataError::WrongShape {
                path,
                array: name.to_owned(),
                shape: member.header.shape.clone(),
                expected: "1 dimension (one id per row)",
            });
        };
        let descriptor = member.header.type_descriptor.to_string();
        let Some(kind) = IdDtype::from_descriptor(&member.header.type_descriptor) else {
            return Err(DataError::WrongDtype {
                path,
                array: name.to_owned(),
                dtype: descriptor,
                expected: "strings (<U, |S) or integers",
            });
        };
        let expected_bytes = rows.checked_mul(kind.item_bytes());
        if expected_bytes.map(|b| b as u64) != Some(member.data_bytes) {
            return Err(DataError::SizeMismatch {
                path,
                array: name.to_owned(),
                expected_bytes: expected_bytes.map_or(u64::MAX, |b| b as u64),
                actual_bytes: member.data_bytes,
            });
        }
        let mut bytes = vec![0u8; member.data_bytes as usize];
        member
            .reader
            .read_exact(&mut bytes)
            .map_err(|e| DataError::NotNpy {
                path: path.clone(),
                array: name.to_owned(),
                reason: format!("bad data: {e}"),
            })?;
        Ok(Some(
            bytes
                .chunks_exact(kind.item_bytes().max(1))
                .map(|item| kind.decode(item))
                .collect(),
        ))
    }
}

/// The file name of a path, for short messages (the whole path when it has none).
pub fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Write as _;

    /// An NPZ in memory with `features`, `logits` and `probs` of `rows` rows.
    fn small_npz(rows: usize) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        let mut npz = ndarray_npy::NpzWriter::new(&mut bytes);
        npz.add_array("features", &Array2::<f32>::ones((rows, 4)))
            .expect("features");
        npz.add_array("logits", &Array2::<f32>::zeros((rows, 7)))
            .expect("logits");
        npz.add_array("probs", &Array2::<f32>::zeros((rows, 7)))
            .expect("probs");
        npz.finish().expect("npz");
        bytes.into_inner()
    }

    fn read(bytes: Vec<u8>) -> Result<SplitArrays, DataError> {
        read_split_arrays(Cursor::new(bytes), Path::new("hostile.npz"))
    }

    #[test]
    fn a_member_declaring_more_bytes_than_the_file_holds_is_refused_before_allocating() {
        let mut bytes = small_npz(3);
        assert!(read(bytes.clone()).is_ok());
        // The central directory entry of features.npy: sizes at offsets 20 and 24.
        let name = b"features.npy";
        let entry = (0..bytes.len() - 46)
            .find(|&i| bytes[i..i + 4] == *b"PK\x01\x02" && bytes[i + 46..].starts_with(name))
            .expect("the central directory entry");
        for offset in [20, 24] {
            bytes[entry + offset..entry + offset + 4]
                .copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        }
        let error = read(bytes).expect_err("refused").to_string();
        assert!(error.contains("the file holds"), "{error}");
    }

    #[test]
    fn a_deflate_bomb_is_refused_by_the_decode_budget() {
        // 300 MB of zeros deflate to about 300 KB: far beyond 32 times the file's length.
        let rows = 102_400;
        let mut header =
            format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, 768), }}");
        while (header.len() + 11) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        zip.start_file("features.npy", options).expect("member");
        zip.write_all(b"\x93NUMPY\x01\x00").expect("magic");
        zip.write_all(&(header.len() as u16).to_le_bytes())
            .expect("length");
        zip.write_all(header.as_bytes()).expect("header");
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..300 {
            zip.write_all(&zeros).expect("zeros");
        }
        let bytes = zip.finish().expect("zip").into_inner();
        assert!(bytes.len() < 2 << 20, "{} bytes", bytes.len());
        let error = read(bytes).expect_err("refused").to_string();
        assert!(error.contains("would decode to"), "{error}");
    }

    #[test]
    fn a_deeply_nested_header_is_refused_and_quoted_briefly() {
        let mut header = "{'descr': '<f4', 'fortran_order': False, 'shape': ".to_owned();
        header.push_str(&"[".repeat(60_000));
        header.push('\n');
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("features.npy", zip::write::SimpleFileOptions::default())
            .expect("member");
        zip.write_all(b"\x93NUMPY\x02\x00").expect("magic");
        zip.write_all(&(header.len() as u32).to_le_bytes())
            .expect("length");
        zip.write_all(header.as_bytes()).expect("header");
        let bytes = zip.finish().expect("zip").into_inner();
        let error = read(bytes).expect_err("refused").to_string();
        assert!(error.contains("nests 60001 levels"), "{error}");
        assert!(error.len() < 400, "{} characters", error.len());
        assert_eq!(
            excerpt(&"x".repeat(500)).len(),
            120 + "... (500 characters)".len()
        );
    }

    #[test]
    fn nan_and_both_infinities_are_non_finite() {
        assert!(!any_nonfinite(&[0.0, -1.5, f32::MAX, f32::MIN_POSITIVE]));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            assert!(any_nonfinite(&[1.0, bad, 2.0]), "{bad}");
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FloatDtype {
    F16 { little_endian: bool },
    F32,
    F64,
}

impl FloatDtype {
    fn from_descriptor(descriptor: &PyValue) -> Option<Self> {
        let PyValue::String(text) = descriptor else {
            return None;
        };
        match text.as_str() {
            "<f4" | ">f4" => Some(Self::F32),
            "<f8" | ">f8" => Some(Self::F64),
            "<f2" => Some(Self::F16 {
                little_endian: true,
            }),
            ">f2" => Some(Self::F16 {
                little_endian: false,
            }),
            _ => None,
        }
    }

    fn item_bytes(self) -> usize {
        match self {
            Self::F16 { .. } => 2,
            Self::F32 => 4,
            Self::F64 => 8,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::F16 { .. } => "float16",
            Self::F32 => "float32",
            Self::F64 => "float64",
        }
    }
}

fn read_floats(
    reader: impl Read,
    descriptor: &PyValue,
    dtype: FloatDtype,
    len: usize,
) -> Result<Vec<f32>, ndarray_npy::ReadDataError> {
    Ok(match dtype {
        FloatDtype::F32 => read_f32(reader, descriptor, len)?,
        FloatDtype::F64 => f64::read_to_end_exact_vec(reader, descriptor, len)?
            .into_iter()
            .map(|x| x as f32)
            .collect(),
        FloatDtype::F16 { little_endian } => {
            let bits_descriptor = PyValue::String(if little_endian { "<u2" } else { ">u2" }.into());
            u16::read_to_end_exact_vec(reader, &bits_descriptor, len)?
                .into_iter()
                .map(|bits| half::f16::from_bits(bits).to_f32())
                .collect()
        }
    })
}

/// Reads `len` float32 values straight into a huge-page buffer (see [`crate::buffer`]).
fn read_f32(
    mut reader: impl Read,
    descriptor: &PyValue,
    len: usize,
) -> Result<Vec<f32>, ndarray_npy::ReadDataError> {
    let big_endian = matches!(descriptor, PyValue::String(s) if s == ">f4");
    let mut values = crate::buffer::zeroed_floats(len);
    reader
        .read_exact(bytemuck::cast_slice_mut(&mut values))
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                ndarray_npy::ReadDataError::MissingData
            } else {
                ndarray_npy::ReadDataError::Io(e)
            }
        })?;
    let native_is_big = cfg!(target_endian = "big");
    if big_endian != native_is_big {
        for value in &mut values {
            *value = f32::from_bits(value.to_bits().swap_bytes());
        }
    }
    // Read to the end: this checks that nothing follows and lets the zip reader verify
    // the member's CRC.
    let mut rest = [0u8; 1];
    match reader.read(&mut rest) {
        Ok(0) => Ok(values),
        Ok(_) => Err(ndarray_npy::ReadDataError::ExtraBytes(1)),
        Err(e) => Err(ndarray_npy::ReadDataError::Io(e)),
    }
}

#[derive(Clone, Copy, Debug)]
enum IdDtype {
    /// numpy `<U{n}`: `n` UTF-32 code units per item.
    Unicode { chars: usize, little_endian: bool },
    /// numpy `|S{n}`: `n` bytes per item.
    Bytes { len: usize },
    /// Signed or unsigned integers of `bytes` width.
    Int {
        bytes: usize,
        signed: bool,
        little_endian: bool,
    },
}

impl IdDtype {
    fn from_descriptor(descriptor: &PyValue) -> Option<Self> {
        let PyValue::String(text) = descriptor else {
            return None;
        };
        let mut chars = text.chars();
        let order = chars.next()?;
        let kind = chars.next()?;
        let width: usize = chars.as_str().parse().ok()?;
        let little_endian = order != '>';
        match kind {
            'U' => Some(Self::Unicode {
                chars: width,
                little_endian,
            }),
            'S' | 'a' => Some(Self::Bytes { len: width }),
            'i' | 'u' if matches!(width, 1 | 2 | 4 | 8) => Some(Self::Int {
                bytes: width,
                signed: kind == 'i',
                little_endian,
            }),
            _ => None,
        }
    }

    fn item_bytes(self) -> usize {
        match self {
            Self::Unicode { chars, .. } => chars * 4,
            Self::Bytes { len } => len,
            Self::Int { bytes, .. } => bytes,
        }
    }

    fn decode(self, item: &[u8]) -> String {
        match self {
            Self::Unicode { little_endian, .. } => item
                .chunks_exact(4)
                .map(|c| {
                    let code = if little_endian {
                        u32::from_le_bytes([c[0], c[1], c[2], c[3]])
                    } else {
                        u32::from_be_bytes([c[0], c[1], c[2], c[3]])
                    };
                    char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                })
                .take_while(|c| *c != '\0')
                .collect(),
            Self::Bytes { .. } => {
                let end = item.iter().position(|b| *b == 0).unwrap_or(item.len());
                String::from_utf8_lossy(item.get(..end).unwrap_or(item)).into_owned()
            }
            Self::Int {
                signed,
                little_endian,
                ..
            } => {
                let mut wide = [0u8; 8];
                let fill = if signed && item_is_negative(item, little_endian) {
                    0xff
                } else {
                    0
                };
                wide.fill(fill);
                if little_endian {
                    wide[..item.len()].copy_from_slice(item);
                    if signed {
                        i64::from_le_bytes(wide).to_string()
                    } else {
                        u64::from_le_bytes(wide).to_string()
                    }
                } else {
                    wide[8 - item.len()..].copy_from_slice(item);
                    if signed {
                        i64::from_be_bytes(wide).to_string()
                    } else {
                        u64::from_be_bytes(wide).to_string()
                    }
                }
            }
        }
    }
}

fn item_is_negative(item: &[u8], little_endian: bool) -> bool {
    let top = if little_endian {
        item.last()
    } else {
        item.first()
    };
    top.is_some_and(|b| b & 0x80 != 0)
}

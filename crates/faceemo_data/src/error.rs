//! The one error type of the data layer. Every variant names the file it is about.

use std::path::PathBuf;

/// Everything that can go wrong reading a release.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file could not be opened or read.
    #[error("cannot read {path:?}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a zip archive (empty, truncated, or another format).
    #[error("not a readable NPZ (zip) archive: {path:?}")]
    NotZip {
        /// The file.
        path: PathBuf,
        /// What the zip reader said.
        #[source]
        source: zip::result::ZipError,
    },
    /// A member of the archive could not be read (bad compression, CRC mismatch, truncation).
    #[error("cannot read array {array:?} in {path:?}")]
    Member {
        /// The file.
        path: PathBuf,
        /// The member.
        array: String,
        /// What the zip reader said.
        #[source]
        source: zip::result::ZipError,
    },
    /// A required array is missing from the archive.
    #[error("no array {array:?} (the archive holds {found}) in {path:?}")]
    MissingArray {
        /// The file.
        path: PathBuf,
        /// The array that was looked for.
        array: String,
        /// The members that are there.
        found: String,
    },
    /// The archive holds two members of one name.
    #[error(
        "{path:?} lists {declared} members but only {distinct} distinct names: a member is in it twice, \
         and which one is meant cannot be told"
    )]
    DuplicateMembers {
        /// The file.
        path: PathBuf,
        /// Entries its directory declares.
        declared: usize,
        /// Distinct names among them.
        distinct: usize,
    },
    /// A member is not a `.npy` array, or its header is malformed.
    #[error("array {array:?} is not a valid .npy member ({reason}) in {path:?}")]
    NotNpy {
        /// The file.
        path: PathBuf,
        /// The member.
        array: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An array has a data type the workbench cannot use.
    #[error("array {array:?} has dtype {dtype}, expected {expected}, in {path:?}")]
    WrongDtype {
        /// The file.
        path: PathBuf,
        /// The member.
        array: String,
        /// The dtype found, as numpy writes it (e.g. `'<i4'`).
        dtype: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// An array has the wrong number of dimensions or a zero-width axis.
    #[error("array {array:?} has shape {shape:?}, expected {expected}, in {path:?}")]
    WrongShape {
        /// The file.
        path: PathBuf,
        /// The member.
        array: String,
        /// The shape found.
        shape: Vec<usize>,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// The member holds fewer or more bytes than its header promises.
    #[error(
        "array {array:?} is truncated or padded: its header promises {expected_bytes} bytes of data, the member holds {actual_bytes}, in {path:?}"
    )]
    SizeMismatch {
        /// The file.
        path: PathBuf,
        /// The member.
        array: String,
        /// Bytes the header promises.
        expected_bytes: u64,
        /// Bytes the member holds.
        actual_bytes: u64,
    },
    /// The arrays of one split disagree on their number of rows.
    #[error("arrays disagree on the number of rows ({details}) in {path:?}")]
    RowCountMismatch {
        /// The file.
        path: PathBuf,
        /// Each array with its row count.
        details: String,
    },
    /// A split file holds no rows at all.
    #[error("split has zero rows in {path:?}")]
    EmptySplit {
        /// The file.
        path: PathBuf,
    },
    /// Splits disagree on the feature width, so they cannot share one feature space.
    #[error("feature width differs between splits: {details}")]
    InconsistentWidth {
        /// Each split with its width.
        details: String,
    },
    /// The metadata CSV is malformed.
    #[error("malformed metadata CSV ({reason}) at line {line} in {path:?}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line (1-based, the header is line 1); 0 when unknown.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A required column is missing from the metadata CSV.
    #[error("metadata has no {column:?} column (found: {found}) in {path:?}")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column that was looked for.
        column: &'static str,
        /// The columns that are there.
        found: String,
    },
    /// The same sample id appears twice in the metadata.
    #[error(
        "sample id {sample_id:?} appears on line {first_line} and again on line {second_line} in {path:?}"
    )]
    DuplicateSampleId {
        /// The file.
        path: PathBuf,
        /// The repeated id.
        sample_id: String,
        /// Where it first appears.
        first_line: u64,
        /// Where it appears again.
        second_line: u64,
    },
    /// A model `config.json` could not be used for the label order.
    #[error("cannot take the label order from {path:?}: {reason}")]
    ModelConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Nothing that looks like a release was found.
    #[error("no NPZ feature files found in {searched}")]
    NoReleaseFiles {
        /// Where the search looked.
        searched: String,
    },
    /// Finding or downloading the release on the hub failed.
    #[error(transparent)]
    Hub(#[from] faceemo_hub::HubError),
    /// The caller cancelled the load.
    #[error("loading cancelled")]
    Cancelled,
}

impl From<faceemo_jobs::Cancelled> for DataError {
    fn from(_: faceemo_jobs::Cancelled) -> Self {
        Self::Cancelled
    }
}

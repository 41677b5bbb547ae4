//! Reads the FaceEmo-Set feature release exactly as it is distributed.
//!
//! The release is four NPZ split files (`combined_vit_features_{train,val,test_fer2013,
//! test_affectnet}.npz`, each with `features` (N, 768), `logits` (N, 7) and `probs`
//! (N, 7)), a metadata CSV (`sample_id,Dataset,Emotion,Split,valid_image`) and a summary
//! CSV. This crate finds those files (a folder, explicit files, the Hugging Face cache or
//! a hub download), reads them with every malformed input answered by a [`DataError`]
//! naming the file, joins the metadata to the feature rows, and reports what it noticed.
//! With nothing to load, [`synthetic_release`] makes a clearly labelled demo set.
//!
//! It knows nothing of any user interface.

mod buffer;
mod demo;
mod error;
mod join;
mod labels;
mod metadata;
mod npz;
mod release;
mod source;
mod split;

pub use demo::{DEFAULT_DEMO_SEED, DEMO_DATASETS, DEMO_FEATURE_DIM, accuracy, synthetic_release};
pub use error::DataError;
pub use join::Sample;
pub use labels::{Emotion, EmotionLabel, LabelOrder, LabelSource, RELEASE_LABEL_ORDER};
pub use metadata::{MetadataRow, MetadataTable, parse_bool, read_metadata, read_metadata_file};
pub use npz::{SplitArrays, display_name, read_split_arrays, read_split_file};
pub use release::{
    Release, ReleaseFiles, ReleaseOrigin, SYNTHETIC_NOTICE, SplitData, load_release,
};
pub use source::{
    RELEASE_REPO_ID, cache_location, download_release, find_release_in_cache, is_release_repo_file,
    release_repo,
};
pub use split::{SPLIT_FILE_PREFIX, SplitKind};

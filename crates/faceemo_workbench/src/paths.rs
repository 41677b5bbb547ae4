//! What a dropped, typed or chosen path is, and how paths are named in messages.

use std::path::{Path, PathBuf};

/// Image file extensions the workbench reads (lower case), for drops and for
/// `faceemo extract`'s folder walk alike.
pub const IMAGE_EXTENSIONS: [&str; 9] = [
    "png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff", "jfif",
];

/// What a path given to the workbench is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathKind {
    /// A face image to predict.
    Image,
    /// A model folder to load.
    ModelFolder,
    /// Release files or a folder of them.
    Data,
    /// None of these: why, in words.
    Unusable(String),
}

/// Whether `path` names an image file by its extension.
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
}

/// Sorts a path by what it is (this touches the file system: call it off the UI thread).
pub fn classify(path: &Path) -> PathKind {
    if path.is_dir() {
        if faceemo_model::is_model_folder(path) {
            return PathKind::ModelFolder;
        }
        return PathKind::Data;
    }
    if !path.exists() {
        return PathKind::Unusable("no such file".to_owned());
    }
    if has_image_extension(path) {
        return PathKind::Image;
    }
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "npz" | "csv" => PathKind::Data,
        _ => PathKind::Unusable(
            "not an image, an NPZ/CSV file, a release folder or a model folder".to_owned(),
        ),
    }
}

/// The last component of a path (the whole path when it has none), for messages and titles:
/// the data layer's one helper.
pub use faceemo_data::display_name as file_name;

/// Paths joined with commas, for messages.
pub fn describe_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_sorted_by_what_they_hold() {
        let folder = tempfile::tempdir().expect("tempdir");
        let image = folder.path().join("Face.JPG");
        let npz = folder.path().join("train.npz");
        let text = folder.path().join("notes.txt");
        for file in [&image, &npz, &text] {
            std::fs::write(file, b"x").expect("write");
        }
        assert_eq!(classify(&image), PathKind::Image);
        assert_eq!(classify(&npz), PathKind::Data);
        assert!(matches!(classify(&text), PathKind::Unusable(_)));
        assert!(matches!(
            classify(&folder.path().join("gone.png")),
            PathKind::Unusable(reason) if reason == "no such file"
        ));
        assert_eq!(classify(folder.path()), PathKind::Data);
        let model = folder.path().join("model");
        std::fs::create_dir(&model).expect("mkdir");
        std::fs::write(model.join("config.json"), b"{}").expect("write");
        std::fs::write(model.join("model.safetensors"), b"").expect("write");
        assert_eq!(classify(&model), PathKind::ModelFolder);
        assert_eq!(file_name(&image), "Face.JPG");
    }
}

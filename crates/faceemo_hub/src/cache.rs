//! Reading the local Hugging Face cache without touching the network.

use std::path::{Path, PathBuf};

use crate::{HubRepo, HubSettings};

/// The snapshot folder of `repo` in the cache, if the repository was downloaded before.
///
/// The revision is resolved through `refs/<revision>` as `huggingface_hub` does; a
/// revision that is itself a commit hash names its snapshot directly. When no ref
/// exists but snapshots do, the most recently modified snapshot is used.
pub fn cached_snapshot(settings: &HubSettings, repo: &HubRepo) -> Option<PathBuf> {
    let repo_dir = settings.cache_dir.join(repo.cache_folder_name());
    let snapshots = repo_dir.join("snapshots");
    let direct = snapshots.join(&repo.revision);
    if is_commit_hash(&repo.revision) && direct.is_dir() {
        return Some(direct);
    }
    if let Ok(commit) = std::fs::read_to_string(repo_dir.join("refs").join(&repo.revision)) {
        let snapshot = snapshots.join(commit.trim());
        if snapshot.is_dir() {
            return Some(snapshot);
        }
    }
    newest_subfolder(&snapshots)
}

/// Files below `snapshot` (at most three folders deep) whose repository-relative path
/// satisfies `wanted`, sorted by path.
pub fn find_files_in_snapshot(snapshot: &Path, wanted: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found = Vec::new();
    collect_files(snapshot, snapshot, 0, wanted, &mut found);
    found.sort();
    found
}

fn collect_files(
    root: &Path,
    dir: &Path,
    depth: usize,
    wanted: &dyn Fn(&str) -> bool,
    found: &mut Vec<PathBuf>,
) {
    const MAX_DEPTH: usize = 3;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if depth < MAX_DEPTH {
                collect_files(root, &path, depth + 1, wanted, found);
            }
        } else if path.is_file() {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            if wanted(&relative.to_string_lossy()) {
                found.push(path);
            }
        }
    }
}

fn newest_subfolder(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| {
            let modified = entry.metadata().and_then(|m| m.modified()).ok()?;
            Some((modified, entry.path()))
        })
        .max()
        .map(|(_, path)| path)
}

fn is_commit_hash(revision: &str) -> bool {
    revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    fn cache_with_snapshot(files: &[&str], with_ref: bool) -> (tempfile::TempDir, HubSettings) {
        let cache = tempfile::tempdir().expect("tempdir");
        let repo_dir = cache.path().join("datasets--owner--name");
        let snapshot = repo_dir.join("snapshots").join(COMMIT);
        for file in files {
            let path = snapshot.join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, b"x").expect("write");
        }
        if with_ref {
            std::fs::create_dir_all(repo_dir.join("refs")).expect("mkdir");
            std::fs::write(repo_dir.join("refs/main"), COMMIT).expect("write ref");
        }
        let settings = HubSettings::new(cache.path(), "http://127.0.0.1:1");
        (cache, settings)
    }

    #[test]
    fn a_snapshot_is_found_through_its_ref() {
        let (_cache, settings) = cache_with_snapshot(&["a.npz"], true);
        let snapshot = cached_snapshot(&settings, &HubRepo::dataset("owner/name")).expect("found");
        assert!(snapshot.ends_with(COMMIT));
    }

    #[test]
    fn a_snapshot_without_a_ref_is_still_found() {
        let (_cache, settings) = cache_with_snapshot(&["a.npz"], false);
        assert!(cached_snapshot(&settings, &HubRepo::dataset("owner/name")).is_some());
    }

    #[test]
    fn a_missing_repository_is_none() {
        let (_cache, settings) = cache_with_snapshot(&["a.npz"], true);
        assert!(cached_snapshot(&settings, &HubRepo::dataset("owner/other")).is_none());
        assert!(cached_snapshot(&settings, &HubRepo::model("owner/name")).is_none());
    }

    #[test]
    fn files_in_subfolders_are_found_and_sorted() {
        let (_cache, settings) = cache_with_snapshot(&["b.npz", "sub/a.npz", "c.txt"], true);
        let snapshot = cached_snapshot(&settings, &HubRepo::dataset("owner/name")).expect("found");
        let files = find_files_in_snapshot(&snapshot, &|p| {
            Path::new(p).extension().is_some_and(|e| e == "npz")
        });
        let names: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(&snapshot).expect("prefix").to_path_buf())
            .collect();
        assert_eq!(names, [PathBuf::from("b.npz"), PathBuf::from("sub/a.npz")]);
    }
}

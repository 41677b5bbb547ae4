//! Downloading repository files into the cache, in `huggingface_hub`'s layout, trusting
//! nothing the network or the cache says without checking it.
//!
//! - The listing is read with the files' sizes and hashes (`?blobs=true`) and checked
//!   ([`crate::listing`]); files are fetched at the listed commit, so a branch that moves
//!   during a download cannot mix two revisions.
//! - A file arrives in `blobs/<hash>.part`; a `.part` left by an interrupted run resumes
//!   with `Range`. A `200` to a range request restarts the file instead of appending the
//!   whole body; a `206` that does not start where asked is not appended either.
//! - A finished blob is checked against the listing's size and hash (SHA-256 for LFS
//!   files, the Git blob id for others) before it is renamed into place; a file already in
//!   the snapshot is checked the same way and fetched again when it fails.
//! - Files appear in `snapshots/<commit>/` only once every asked-for file is there, and
//!   `refs/<revision>` is written last: an interrupted download leaves no partial snapshot.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use faceemo_jobs::JobContext;
use sha1::Digest as _;

use crate::http::{HttpError, HubClient};
use crate::listing::{BlobId, ListedFile, MAX_LISTING_BYTES, excerpt, parse_listing};
use crate::{HubError, HubRepo, HubSettings, RepoKind, is_plain_relative};

/// How often a broken transfer is retried, resuming where it stopped.
const MAX_RETRIES: usize = 3;

/// Downloads every file of `repo` whose repository path satisfies `wanted` into the
/// cache, and returns the snapshot folder that holds them.
///
/// Progress is reported in bytes per file; cancellation is checked between reads, and a
/// file in flight is left as a resumable `.part` file.
pub fn download_repo_files(
    settings: &HubSettings,
    repo: &HubRepo,
    wanted: &dyn Fn(&str) -> bool,
    job: JobContext<'_>,
) -> Result<PathBuf, HubError> {
    let select = |listing: &[String]| -> Vec<String> {
        listing
            .iter()
            .filter(|name| wanted(name))
            .cloned()
            .collect()
    };
    download_selected_files(settings, repo, &select, job)
}

/// Like [`download_repo_files`], with the choice made on the whole listing (e.g. "the
/// safetensors weights if listed, else the pickle").
pub fn download_selected_files(
    settings: &HubSettings,
    repo: &HubRepo,
    select: &dyn Fn(&[String]) -> Vec<String>,
    job: JobContext<'_>,
) -> Result<PathBuf, HubError> {
    if settings.offline {
        return Err(HubError::Offline { repo: repo.clone() });
    }
    let request_error = |file: &str| {
        let file = file.to_owned();
        move |source: HttpError| HubError::Request {
            repo: repo.clone(),
            file,
            endpoint: settings.endpoint.clone(),
            source: Box::new(source),
        }
    };
    let client = HubClient::new(settings).map_err(request_error(""))?;
    job.report(format!("listing {repo}"), 0, 0);
    let listing = read_listing(&client, settings, repo)?;
    let names: Vec<String> = listing.files.iter().map(|f| f.name.clone()).collect();
    let mut chosen = select(&names);
    chosen.sort();
    chosen.dedup();
    let files: Vec<&ListedFile> = chosen
        .iter()
        .filter_map(|name| listing.files.iter().find(|f| &f.name == name))
        .collect();
    if files.is_empty() {
        return Err(HubError::NothingToDownload {
            repo: repo.clone(),
            expected: "the files asked for".to_owned(),
        });
    }
    let repo_dir = settings.cache_dir.join(repo.cache_folder_name());
    let blobs = repo_dir.join("blobs");
    let snapshot = repo_dir.join("snapshots").join(&listing.commit);
    let cache_error = |path: &Path| {
        let path = path.to_owned();
        move |source| HubError::CacheWrite { path, source }
    };
    std::fs::create_dir_all(&blobs).map_err(cache_error(&blobs))?;

    let count = files.len();
    let mut fetched = Vec::new();
    for (index, file) in files.iter().enumerate() {
        if job.cancel.is_cancelled() {
            return Err(HubError::Cancelled { repo: repo.clone() });
        }
        let stage = format!("downloading {} ({}/{count})", file.name, index + 1);
        if snapshot_entry_is_good(&snapshot.join(&file.name), file) {
            job.report(stage, 1, 1);
            continue;
        }
        let transfer = Transfer {
            client: &client,
            endpoint: &settings.endpoint,
            repo,
            commit: &listing.commit,
            file,
            blobs: &blobs,
            stage,
            job,
        };
        fetched.push((file.name.clone(), transfer.fetch_blob()?));
    }
    for (name, blob) in &fetched {
        link_into_snapshot(&snapshot, name, blob).map_err(cache_error(&snapshot.join(name)))?;
    }
    if repo.revision != listing.commit && is_plain_relative(&repo.revision) {
        let reference = repo_dir.join("refs").join(&repo.revision);
        write_atomically(&reference, listing.commit.as_bytes()).map_err(cache_error(&reference))?;
    }
    Ok(snapshot)
}

/// The checked listing of `repo` at its revision.
fn read_listing(
    client: &HubClient,
    settings: &HubSettings,
    repo: &HubRepo,
) -> Result<crate::RepoListing, HubError> {
    let request_error = |source| HubError::Request {
        repo: repo.clone(),
        file: String::new(),
        endpoint: settings.endpoint.clone(),
        source: Box::new(source),
    };
    let mut url = client.url("api").map_err(request_error)?;
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.push(match repo.kind {
            RepoKind::Dataset => "datasets",
            RepoKind::Model => "models",
        });
        segments.extend(repo.id.split('/'));
        segments.push("revision").push(&repo.revision);
    }
    url.set_query(Some("blobs=true"));
    let body = client
        .get_capped(url, MAX_LISTING_BYTES)
        .map_err(request_error)?;
    parse_listing(&body).map_err(|reason| HubError::Listing {
        repo: repo.clone(),
        reason,
    })
}

/// Whether the snapshot already holds `file` with the listed size and hash (a file the
/// listing gives neither for is taken as it is).
fn snapshot_entry_is_good(path: &Path, file: &ListedFile) -> bool {
    let Ok(metadata) = std::fs::metadata(path) else {
        return false;
    };
    if !metadata.is_file() || file.size.is_some_and(|size| size != metadata.len()) {
        return false;
    }
    match &file.blob {
        None => true,
        Some(blob) => hash_file(path, blob).is_ok_and(|hex| hex == blob.hex()),
    }
}

/// One file's trip from the hub into `blobs/`.
struct Transfer<'a> {
    client: &'a HubClient,
    endpoint: &'a str,
    repo: &'a HubRepo,
    commit: &'a str,
    file: &'a ListedFile,
    blobs: &'a Path,
    stage: String,
    job: JobContext<'a>,
}

/// Where one attempt at a transfer ended.
enum Attempt {
    /// The body arrived whole.
    Complete,
    /// The connection broke; what arrived is kept in the `.part` file.
    Broken(HttpError),
}

impl Transfer<'_> {
    fn request_error(&self, source: HttpError) -> HubError {
        HubError::Request {
            repo: self.repo.clone(),
            file: self.file.name.clone(),
            endpoint: self.endpoint.to_owned(),
            source: Box::new(source),
        }
    }

    fn integrity_error(&self, reason: String) -> HubError {
        HubError::Integrity {
            repo: self.repo.clone(),
            file: self.file.name.clone(),
            reason,
        }
    }

    fn cache_error(path: &Path) -> impl FnOnce(std::io::Error) -> HubError + '_ {
        move |source| HubError::CacheWrite {
            path: path.to_owned(),
            source,
        }
    }

    /// The resolve URL of the file at the listed commit.
    fn url(&self) -> Result<url::Url, HubError> {
        let mut url = self.client.url("").map_err(|e| self.request_error(e))?;
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            if self.repo.kind == RepoKind::Dataset {
                segments.push("datasets");
            }
            segments.extend(self.repo.id.split('/'));
            segments.push("resolve").push(self.commit);
            segments.extend(self.file.name.split('/'));
        }
        Ok(url)
    }

    /// Downloads the file into `blobs/` (or finds it there) and returns its blob name.
    fn fetch_blob(&self) -> Result<String, HubError> {
        let url = self.url()?;
        let name = match &self.file.blob {
            Some(blob) => blob.hex().to_owned(),
            None => self.blob_name_from_etag(&url)?,
        };
        let blob = self.blobs.join(&name);
        if blob.is_file() && self.verify(&blob).is_ok() {
            self.job.report(self.stage.clone(), 1, 1);
            return Ok(name);
        }
        let part = self.blobs.join(format!("{name}.part"));
        // A `.part` that is not a plain file of ours (a link, a folder) is not written through.
        if std::fs::symlink_metadata(&part).is_ok_and(|m| !m.is_file()) {
            remove_any(&part).map_err(Self::cache_error(&part))?;
        }
        let mut last_break = None;
        for _ in 0..=MAX_RETRIES {
            match self.attempt(&url, &part)? {
                Attempt::Complete => {
                    last_break = None;
                    break;
                }
                Attempt::Broken(error) => last_break = Some(error),
            }
            if self.job.cancel.is_cancelled() {
                return Err(HubError::Cancelled {
                    repo: self.repo.clone(),
                });
            }
        }
        if let Some(error) = last_break {
            return Err(self.request_error(error));
        }
        if let Err(reason) = self.verify(&part) {
            std::fs::remove_file(&part).ok();
            return Err(self.integrity_error(reason));
        }
        std::fs::rename(&part, &blob).map_err(Self::cache_error(&blob))?;
        Ok(name)
    }

    /// Without a listed hash the blob is named by the server's `ETag`, checked to be a
    /// plain hex digest first (an `ETag` of `../../x` names no file of ours).
    fn blob_name_from_etag(&self, url: &url::Url) -> Result<String, HubError> {
        let answer = self
            .client
            .get(url.clone(), &[("Range", "bytes=0-0".to_owned())])
            .map_err(|e| self.request_error(e))?;
        let etag = answer
            .response
            .header("X-Linked-Etag")
            .or_else(|| answer.response.header("ETag"))
            .unwrap_or_default();
        let etag = etag.trim_start_matches("W/").trim_matches('"');
        if etag.len() >= 8 && etag.len() <= 128 && etag.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(etag.to_ascii_lowercase())
        } else {
            Err(self.integrity_error(format!(
                "the hub lists no hash for it and its ETag {:?} is not a hex digest",
                excerpt(etag)
            )))
        }
    }

    /// One request for what `part` still lacks, appended to it.
    fn attempt(&self, url: &url::Url, part: &Path) -> Result<Attempt, HubError> {
        let have = std::fs::metadata(part).map_or(0, |m| m.len());
        let total = self.file.size;
        if have > 0 && total.is_some_and(|size| have >= size) {
            // Nothing left to ask for: the part is whole (or too long, which `verify` says).
            return Ok(Attempt::Complete);
        }
        let headers = if have > 0 {
            vec![("Range", format!("bytes={have}-"))]
        } else {
            Vec::new()
        };
        let answer = match self.client.get(url.clone(), &headers) {
            Ok(answer) => answer,
            Err(error @ HttpError::Transport { .. }) => return Ok(Attempt::Broken(error)),
            Err(error) => return Err(self.request_error(error)),
        };
        let status = answer.response.status();
        let resumes = status == 206
            && answer
                .response
                .header("Content-Range")
                .and_then(content_range_start)
                == Some(have);
        let start = match status {
            206 if resumes => have,
            // The whole file, whatever was asked: it replaces the part instead of joining it.
            200 => 0,
            // A range we did not ask for, or 416 (the part runs past the end): start over.
            _ => {
                std::fs::write(part, b"").map_err(Self::cache_error(part))?;
                return Ok(Attempt::Broken(HttpError::Status {
                    url: answer.url.to_string(),
                    status,
                }));
            }
        };
        let expected = total.or_else(|| {
            answer
                .response
                .header("Content-Length")
                .and_then(|l| l.parse::<u64>().ok())
                .map(|length| start + length)
        });
        let url = answer.url.to_string();
        let mut output = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(start == 0)
            .append(start > 0)
            .open(part)
            .map_err(Self::cache_error(part))?;
        let copied = self.copy_body(
            answer.response.into_reader(),
            (&mut output, part),
            start,
            expected,
        );
        output.sync_all().map_err(Self::cache_error(part))?;
        drop(output);
        let done = match copied {
            Ok(Ok(done)) => done,
            Ok(Err(source)) => return Ok(Attempt::Broken(HttpError::Read { url, source })),
            Err(error) => {
                if matches!(error, HubError::Integrity { .. }) {
                    std::fs::remove_file(part).ok();
                }
                return Err(error);
            }
        };
        if expected.is_some_and(|size| done < size) {
            return Ok(Attempt::Broken(HttpError::Read {
                url,
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the transfer stopped at {done} bytes"),
                ),
            }));
        }
        self.job.report(self.stage.clone(), done, done);
        Ok(Attempt::Complete)
    }

    /// Copies the body into the part file from byte `start`, with progress; the inner error
    /// is a broken connection (what arrived is kept), the outer one ends the download.
    fn copy_body(
        &self,
        mut reader: impl std::io::Read,
        (output, part): (&mut std::fs::File, &Path),
        start: u64,
        expected: Option<u64>,
    ) -> Result<std::io::Result<u64>, HubError> {
        let mut done = start;
        let mut buffer = vec![0u8; 256 << 10];
        self.job
            .report(self.stage.clone(), done, expected.unwrap_or(0));
        loop {
            if self.job.cancel.is_cancelled() {
                return Err(HubError::Cancelled {
                    repo: self.repo.clone(),
                });
            }
            let read = match reader.read(&mut buffer) {
                Ok(0) => return Ok(Ok(done)),
                Ok(read) => read,
                Err(error) => return Ok(Err(error)),
            };
            done += read as u64;
            if let Some(size) = self.file.size
                && done > size
            {
                return Err(self
                    .integrity_error(format!("the hub sent more than the {size} bytes it lists")));
            }
            output
                .write_all(&buffer[..read])
                .map_err(Self::cache_error(part))?;
            self.job
                .report(self.stage.clone(), done, expected.unwrap_or(0));
        }
    }

    /// Checks a downloaded file against the listing's size and hash.
    fn verify(&self, path: &Path) -> Result<(), String> {
        let length = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
        if let Some(size) = self.file.size
            && size != length
        {
            return Err(format!("{length} bytes arrived, the hub lists {size}"));
        }
        if let Some(blob) = &self.file.blob {
            let hex = hash_file(path, blob).map_err(|e| e.to_string())?;
            if hex != blob.hex() {
                return Err(format!(
                    "its bytes hash to {hex}, the hub lists {}",
                    blob.hex()
                ));
            }
        }
        Ok(())
    }
}

/// The first byte of `bytes a-b/total`.
fn content_range_start(header: &str) -> Option<u64> {
    let range = header.trim().strip_prefix("bytes")?.trim_start();
    range.split('-').next()?.trim().parse().ok()
}

/// The file's digest in the kind of `blob`, as lower-case hex.
fn hash_file(path: &Path, blob: &BlobId) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0u8; 1 << 20];
    let mut feed = |update: &mut dyn FnMut(&[u8])| -> std::io::Result<()> {
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                return Ok(());
            }
            update(&buffer[..read]);
        }
    };
    let digest: Vec<u8> = match blob {
        BlobId::Sha256(_) => {
            let mut hasher = sha2::Sha256::new();
            feed(&mut |bytes| hasher.update(bytes))?;
            hasher.finalize().to_vec()
        }
        BlobId::GitSha1(_) => {
            let length = std::fs::metadata(path)?.len();
            let mut hasher = sha1::Sha1::new();
            hasher.update(format!("blob {length}\0").as_bytes());
            feed(&mut |bytes| hasher.update(bytes))?;
            hasher.finalize().to_vec()
        }
    };
    Ok(digest.iter().fold(String::new(), |mut hex, byte| {
        use std::fmt::Write as _;
        write!(hex, "{byte:02x}").ok();
        hex
    }))
}

/// Puts `snapshot/<name>` in place as `huggingface_hub` does: a relative link to the blob
/// (a copy where links cannot be made), created beside its place and renamed over it.
fn link_into_snapshot(snapshot: &Path, name: &str, blob: &str) -> std::io::Result<()> {
    let entry = snapshot.join(name);
    let folder = entry.parent().unwrap_or(snapshot);
    std::fs::create_dir_all(folder)?;
    let temporary = folder.join(format!(
        ".{}.{}.link",
        entry
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    remove_any(&temporary).ok();
    let depth = Path::new(name).components().count();
    let target: PathBuf = std::iter::repeat_n("..", depth + 1)
        .collect::<PathBuf>()
        .join("blobs")
        .join(blob);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &temporary)?;
    #[cfg(not(unix))]
    std::fs::copy(folder.join(&target), &temporary)?;
    std::fs::rename(&temporary, &entry)
}

/// Writes `bytes` to `path` through a temporary file beside it, flushed, then renamed.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(folder)?;
    let temporary = folder.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_give_their_first_byte() {
        assert_eq!(content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(content_range_start("bytes 0-0/5"), Some(0));
        assert_eq!(content_range_start("bytes */200"), None);
        assert_eq!(content_range_start("items 1-2/3"), None);
    }

    #[test]
    fn files_hash_as_git_and_lfs_name_them() {
        let folder = tempfile::tempdir().expect("tempdir");
        let path = folder.path().join("f");
        std::fs::write(&path, b"hello\n").expect("write");
        // `git hash-object` and `sha256sum` of "hello\n".
        assert_eq!(
            hash_file(&path, &BlobId::GitSha1(String::new())).expect("sha1"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(
            hash_file(&path, &BlobId::Sha256(String::new())).expect("sha256"),
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
    }

    #[cfg(unix)]
    #[test]
    fn snapshot_entries_link_to_their_blob_relatively() {
        let cache = tempfile::tempdir().expect("tempdir");
        let repo = cache.path().join("datasets--o--n");
        std::fs::create_dir_all(repo.join("blobs")).expect("mkdir");
        std::fs::write(repo.join("blobs/abc123"), b"x").expect("blob");
        let snapshot = repo.join("snapshots/c0ffee");
        link_into_snapshot(&snapshot, "sub/dir/file.npz", "abc123").expect("link");
        let entry = snapshot.join("sub/dir/file.npz");
        assert_eq!(
            std::fs::read_link(&entry).expect("a link"),
            PathBuf::from("../../../../blobs/abc123")
        );
        assert_eq!(std::fs::read(&entry).expect("read"), b"x");
    }
}

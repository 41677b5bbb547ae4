//! A local stand-in for the Hugging Face hub, for tests.
//!
//! It listens on `127.0.0.1` (never anything else), serves one repository in the hub's
//! layout — `GET /api/{datasets|models}/<id>/revision/<rev>` for the file list, with sizes,
//! Git blob ids and LFS hashes as the hub gives them with `?blobs=true`, and
//! `GET [/datasets]/<id>/resolve/<rev>/<file>` with `Range` support, `ETag` and
//! `X-Repo-Commit` headers — and records every request so tests can check that a download
//! resumed or that a token stayed home. Files named `*.npz`, `*.safetensors`, `*.bin` are
//! LFS files (SHA-256), the others plain Git files (blob SHA-1), as on the hub. Faults can
//! be injected: a dropped connection, ranges ignored, redirects broken in every way, bytes
//! that do not match the listing. It stops when dropped.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sha1::Digest as _;

/// The repository a [`LocalHub`] serves.
#[derive(Clone, Debug)]
pub struct ServedRepo {
    /// `datasets` or `models`.
    pub kind: RepoKindPath,
    /// `owner/name`.
    pub id: String,
    /// The commit every file resolves to.
    pub commit: String,
    /// `(repository path, contents)`.
    pub files: Vec<(String, Vec<u8>)>,
}

/// The URL segment of a repository kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepoKindPath {
    /// `/datasets/...`
    Datasets,
    /// `/...` (models have no prefix in resolve URLs).
    Models,
}

/// How the resolve URL answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Redirect {
    /// It serves the file itself.
    #[default]
    None,
    /// `302` to `http://localhost:<port>/cdn/<blob>` (another origin, as the hub's CDN is).
    ToCdn,
    /// `302` without a `Location` header.
    WithoutLocation,
    /// `302` to its own path, relative.
    ToItself,
}

/// Failures to inject.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Cut the first full-file transfer after this many bytes (the connection drops).
    pub cut_first_transfer_after: Option<usize>,
    /// Answer every request with the whole file and `200`, `Range` or not.
    pub ignore_ranges: bool,
    /// How the resolve URL answers.
    pub redirect: Redirect,
    /// Serve every file with its last byte changed (the listing stays right).
    pub corrupt: bool,
    /// Serve this many bytes more than each file has.
    pub extra_bytes: usize,
    /// List files without sizes or hashes, as a bare mirror might.
    pub unlisted_hashes: bool,
    /// The `ETag` header instead of the blob id.
    pub etag: Option<String>,
    /// Answer `500` for this file.
    pub fail_file: Option<String>,
}

/// One request the server saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenRequest {
    /// The request path.
    pub path: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The `Host` header.
    pub host: String,
    /// Whether an `Authorization` header came with it.
    pub authorized: bool,
}

/// A running local hub. Dropping it stops the server.
pub struct LocalHub {
    address: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LocalHub {
    /// Starts serving `repo` on a free port of 127.0.0.1.
    pub fn start(repo: ServedRepo, faults: Faults) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let state = ServerState {
            repo,
            faults,
            seen: Arc::clone(&seen),
            cut_done: false,
        };
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("local hub".to_owned())
            .spawn(move || serve(&listener, state, &stop_flag))?;
        Ok(Self {
            address,
            seen,
            stop,
            thread: Some(thread),
        })
    }

    /// The base URL to use as `HF_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every request served so far.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for LocalHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the blocking accept so the thread sees the flag.
        TcpStream::connect_timeout(&self.address, Duration::from_secs(1)).ok();
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

struct ServerState {
    repo: ServedRepo,
    faults: Faults,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    cut_done: bool,
}

fn serve(listener: &TcpListener, mut state: ServerState, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(stream) = stream {
            stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
            handle(stream, &mut state).ok();
        }
    }
}

fn handle(mut stream: TcpStream, state: &mut ServerState) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let mut seen = SeenRequest {
        path: path.clone(),
        range: None,
        host: String::new(),
        authorized: false,
    };
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            match name.as_str() {
                "range" => seen.range = Some(value.trim().to_owned()),
                "host" => value.trim().clone_into(&mut seen.host),
                "authorization" => seen.authorized = true,
                _ => {}
            }
        }
    }
    let range = seen.range.clone();
    if let Ok(mut log) = state.seen.lock() {
        log.push(seen);
    }

    let repo = &state.repo;
    let (api_prefix, resolve_prefix) = match repo.kind {
        RepoKindPath::Datasets => ("datasets", format!("/datasets/{}", repo.id)),
        RepoKindPath::Models => ("models", format!("/{}", repo.id)),
    };
    let info_path = format!("/api/{api_prefix}/{}/revision/", repo.id);
    if path.starts_with(&info_path) {
        let body = listing(repo, state.faults.unlisted_hashes);
        return respond(
            &mut stream,
            "200 OK",
            &[("Content-Type", "application/json".into())],
            body.as_bytes(),
        );
    }
    if let Some(blob) = path.strip_prefix("/cdn/") {
        let found = repo
            .files
            .iter()
            .find(|(name, bytes)| blob_id(name, bytes) == blob)
            .cloned();
        return match found {
            Some((name, bytes)) => serve_file(&mut stream, state, &name, &bytes, range.as_deref()),
            None => respond(&mut stream, "404 Not Found", &[], b"no such blob"),
        };
    }
    let Some(rest) = path.strip_prefix(&format!("{resolve_prefix}/resolve/")) else {
        return respond(&mut stream, "404 Not Found", &[], b"not found");
    };
    let file_name = rest.split_once('/').map_or("", |(_, f)| f);
    let Some((name, bytes)) = repo
        .files
        .iter()
        .find(|(name, _)| name == file_name)
        .cloned()
    else {
        return respond(
            &mut stream,
            "404 Not Found",
            &[("X-Error-Code", "EntryNotFound".into())],
            b"entry not found",
        );
    };
    if state.faults.fail_file.as_deref() == Some(name.as_str()) {
        return respond(&mut stream, "500 Internal Server Error", &[], b"broken");
    }
    match state.faults.redirect {
        Redirect::None => serve_file(&mut stream, state, &name, &bytes, range.as_deref()),
        Redirect::ToCdn => {
            let port = stream.local_addr()?.port();
            let location = format!("http://localhost:{port}/cdn/{}", blob_id(&name, &bytes));
            respond(&mut stream, "302 Found", &[("Location", location)], b"")
        }
        Redirect::WithoutLocation => respond(&mut stream, "302 Found", &[], b""),
        Redirect::ToItself => {
            let last = path.rsplit('/').next().unwrap_or_default().to_owned();
            respond(&mut stream, "302 Found", &[("Location", last)], b"")
        }
    }
}

/// The listing the hub gives with `?blobs=true` (or a bare one).
fn listing(repo: &ServedRepo, bare: bool) -> String {
    let siblings: Vec<String> = repo
        .files
        .iter()
        .map(|(name, bytes)| {
            if bare {
                format!("{{\"rfilename\":\"{name}\"}}")
            } else if is_lfs(name) {
                format!(
                    "{{\"rfilename\":\"{name}\",\"size\":{len},\"blobId\":\"{git}\",\
                     \"lfs\":{{\"sha256\":\"{sha}\",\"size\":{len}}}}}",
                    len = bytes.len(),
                    git = git_blob_id(bytes),
                    sha = sha256(bytes),
                )
            } else {
                format!(
                    "{{\"rfilename\":\"{name}\",\"size\":{},\"blobId\":\"{}\"}}",
                    bytes.len(),
                    git_blob_id(bytes)
                )
            }
        })
        .collect();
    format!(
        "{{\"id\":\"{}\",\"sha\":\"{}\",\"siblings\":[{}]}}",
        repo.id,
        repo.commit,
        siblings.join(",")
    )
}

fn serve_file(
    stream: &mut TcpStream,
    state: &mut ServerState,
    name: &str,
    bytes: &[u8],
    range: Option<&str>,
) -> std::io::Result<()> {
    let mut bytes = bytes.to_vec();
    if state.faults.corrupt
        && let Some(last) = bytes.last_mut()
    {
        *last ^= 0xff;
    }
    bytes.extend(std::iter::repeat_n(b'!', state.faults.extra_bytes));
    let range = if state.faults.ignore_ranges {
        None
    } else {
        range
    };
    let total = bytes.len();
    let (start, end) = parse_range(range, total);
    let body = bytes.get(start..end).unwrap_or_default();
    let etag = state
        .faults
        .etag
        .clone()
        .unwrap_or_else(|| blob_id(name, &state.unchanged(name)));
    let headers = vec![
        ("ETag", format!("\"{etag}\"")),
        ("X-Repo-Commit", state.repo.commit.clone()),
        ("Accept-Ranges", "bytes".into()),
        (
            "Content-Range",
            format!("bytes {start}-{}/{total}", end.saturating_sub(1)),
        ),
    ];
    let is_full_transfer = start == 0 && body.len() > 1;
    if let (true, false, Some(cut)) = (
        is_full_transfer,
        state.cut_done,
        state.faults.cut_first_transfer_after,
    ) {
        state.cut_done = true;
        write_head(stream, "206 Partial Content", &headers, body.len())?;
        stream.write_all(body.get(..cut.min(body.len())).unwrap_or_default())?;
        stream.flush()?;
        return stream.shutdown(std::net::Shutdown::Both);
    }
    let status = if range.is_some() {
        "206 Partial Content"
    } else {
        "200 OK"
    };
    respond(stream, status, &headers, body)
}

impl ServerState {
    /// The bytes of `name` as listed.
    fn unchanged(&self, name: &str) -> Vec<u8> {
        self.repo
            .files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    }
}

/// `bytes=a-b` or `bytes=a-` as a half-open `start..end`; the whole file without a range.
fn parse_range(range: Option<&str>, total: usize) -> (usize, usize) {
    let Some(spec) = range.and_then(|r| r.strip_prefix("bytes=")) else {
        return (0, total);
    };
    let (first, last) = spec.split_once('-').unwrap_or((spec, ""));
    let start = first.trim().parse().unwrap_or(0).min(total);
    let end = last
        .trim()
        .parse::<usize>()
        .map_or(total, |last| (last + 1).min(total));
    (start, end.max(start))
}

/// Whether the hub keeps `name` in Git LFS (by extension, as `.gitattributes` does).
pub fn is_lfs(name: &str) -> bool {
    [".npz", ".safetensors", ".bin"]
        .iter()
        .any(|extension| name.ends_with(extension))
}

/// The id the hub gives a file's contents, and so the name of its blob in the cache: the
/// SHA-256 for LFS files, the Git blob id for the others.
pub fn blob_id(name: &str, bytes: &[u8]) -> String {
    if is_lfs(name) {
        sha256(bytes)
    } else {
        git_blob_id(bytes)
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex(&sha2::Sha256::digest(bytes))
}

fn git_blob_id(bytes: &[u8]) -> String {
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut hex, byte| {
        use std::fmt::Write as _;
        write!(hex, "{byte:02x}").ok();
        hex
    })
}

fn write_head(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    length: usize,
) -> std::io::Result<()> {
    let mut head =
        format!("HTTP/1.1 {status}\r\nContent-Length: {length}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    write_head(stream, status, headers, body.len())?;
    stream.write_all(body)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_what_git_and_lfs_give() {
        assert_eq!(
            blob_id("README.md", b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(
            blob_id("a.npz", b"hello\n"),
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
    }

    #[test]
    fn ranges_are_half_open_and_clamped() {
        assert_eq!(parse_range(Some("bytes=0-0"), 10), (0, 1));
        assert_eq!(parse_range(Some("bytes=4-"), 10), (4, 10));
        assert_eq!(parse_range(Some("bytes=4-100"), 10), (4, 10));
        assert_eq!(parse_range(None, 10), (0, 10));
    }
}

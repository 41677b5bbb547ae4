//! A local stand-in for the Hugging Face hub, for tests.
//!
//! It listens on `127.0.0.1` (never anything else), serves one repository in the hub's
//! layout — `GET /api/{datasets|models}/<id>/revision/<rev>` for the file list and
//! `GET [/datasets]/<id>/resolve/<rev>/<file>` with `Range` support, `ETag` and
//! `X-Repo-Commit` headers — and records every request so tests can check that a
//! download resumed. It can cut the first transfer short to simulate a dropped
//! connection. It stops when dropped.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

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

/// Failures to inject.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Cut the first full-file transfer after this many bytes (the connection drops).
    pub cut_first_transfer_after: Option<usize>,
}

/// One request the server saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenRequest {
    /// The request path.
    pub path: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
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
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let mut range = None;
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("range")
        {
            range = Some(value.trim().to_owned());
        }
    }
    if let Ok(mut seen) = state.seen.lock() {
        seen.push(SeenRequest {
            path: path.clone(),
            range: range.clone(),
        });
    }

    let repo = &state.repo;
    let (api_prefix, resolve_prefix) = match repo.kind {
        RepoKindPath::Datasets => ("datasets", format!("/datasets/{}", repo.id)),
        RepoKindPath::Models => ("models", format!("/{}", repo.id)),
    };
    let info_path = format!("/api/{api_prefix}/{}/revision/", repo.id);
    if path.starts_with(&info_path) {
        let siblings: Vec<String> = repo
            .files
            .iter()
            .map(|(name, _)| format!("{{\"rfilename\":\"{name}\"}}"))
            .collect();
        let body = format!(
            "{{\"id\":\"{}\",\"sha\":\"{}\",\"siblings\":[{}]}}",
            repo.id,
            repo.commit,
            siblings.join(",")
        );
        return respond(
            &mut stream,
            "200 OK",
            &[("Content-Type", "application/json".into())],
            body.as_bytes(),
        );
    }
    let Some(rest) = path.strip_prefix(&format!("{resolve_prefix}/resolve/")) else {
        return respond(&mut stream, "404 Not Found", &[], b"not found");
    };
    let file_name = rest.split_once('/').map_or("", |(_, f)| f);
    let Some((_, bytes)) = repo.files.iter().find(|(name, _)| name == file_name) else {
        return respond(
            &mut stream,
            "404 Not Found",
            &[("X-Error-Code", "EntryNotFound".into())],
            b"entry not found",
        );
    };
    let total = bytes.len();
    let (start, end) = parse_range(range.as_deref(), total);
    let body = bytes.get(start..end).unwrap_or_default();
    let headers = vec![
        ("ETag", format!("\"{}\"", etag(bytes))),
        ("X-Repo-Commit", repo.commit.clone()),
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
        write_head(&mut stream, "206 Partial Content", &headers, body.len())?;
        stream.write_all(body.get(..cut.min(body.len())).unwrap_or_default())?;
        stream.flush()?;
        return stream.shutdown(std::net::Shutdown::Both);
    }
    let status = if range.is_some() {
        "206 Partial Content"
    } else {
        "200 OK"
    };
    respond(&mut stream, status, &headers, body)
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

/// The `ETag` the server gives a file (and so the name of its blob in the cache).
pub fn etag(bytes: &[u8]) -> String {
    // FNV-1a: a stable content hash is all the cache layout needs here.
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}{:08x}", bytes.len())
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
    fn ranges_are_half_open_and_clamped() {
        assert_eq!(parse_range(Some("bytes=0-0"), 10), (0, 1));
        assert_eq!(parse_range(Some("bytes=4-"), 10), (4, 10));
        assert_eq!(parse_range(Some("bytes=4-100"), 10), (4, 10));
        assert_eq!(parse_range(None, 10), (0, 10));
    }
}

//! Downloads against a local stand-in for the hub on 127.0.0.1, into a cache built by the test.
#![allow(clippy::case_sensitive_file_extension_comparisons)] // fixed, lower-case test paths

use std::path::Path;
use std::sync::Mutex;

use faceemo_hub::{HubError, HubRepo, HubSettings, cached_snapshot, download_repo_files};
use faceemo_jobs::{CancelToken, IgnoreProgress, JobContext, ProgressUpdate};
use faceemo_testhub::{Faults, LocalHub, Redirect, RepoKindPath, ServedRepo, blob_id};

const COMMIT: &str = "c0ffee0000000000000000000000000000000001";

fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn served() -> ServedRepo {
    ServedRepo {
        kind: RepoKindPath::Datasets,
        id: "owner/name".to_owned(),
        commit: COMMIT.to_owned(),
        files: vec![
            ("a.npz".to_owned(), content(20_000, 1)),
            ("sub/b.csv".to_owned(), content(3_000, 2)),
            ("README.md".to_owned(), b"# readme".to_vec()),
        ],
    }
}

fn wanted(path: &str) -> bool {
    path.ends_with(".npz") || path.ends_with(".csv")
}

fn repo() -> HubRepo {
    HubRepo::dataset("owner/name")
}

fn download(hub: &LocalHub, cache: &Path) -> Result<std::path::PathBuf, HubError> {
    download_with(&HubSettings::new(cache, hub.endpoint()))
}

fn download_with(settings: &HubSettings) -> Result<std::path::PathBuf, HubError> {
    let cancel = CancelToken::new();
    download_repo_files(
        settings,
        &repo(),
        &wanted,
        JobContext::new(&IgnoreProgress, &cancel),
    )
}

#[test]
fn wanted_files_land_in_the_cache_layout() {
    let hub = LocalHub::start(served(), Faults::default()).expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let snapshot = download(&hub, cache.path()).expect("download");

    let repo_dir = cache.path().join("datasets--owner--name");
    assert_eq!(snapshot, repo_dir.join("snapshots").join(COMMIT));
    assert_eq!(
        std::fs::read(snapshot.join("a.npz")).expect("a"),
        content(20_000, 1)
    );
    assert_eq!(
        std::fs::read(snapshot.join("sub/b.csv")).expect("b"),
        content(3_000, 2)
    );
    assert!(
        !snapshot.join("README.md").exists(),
        "unwanted files stay on the hub"
    );
    assert_eq!(
        std::fs::read_to_string(repo_dir.join("refs/main")).expect("ref"),
        COMMIT
    );
    let settings = HubSettings::new(cache.path(), "http://127.0.0.1:1");
    assert_eq!(cached_snapshot(&settings, &repo()), Some(snapshot));
}

#[test]
fn progress_is_reported_in_bytes_per_file() {
    let hub = LocalHub::start(served(), Faults::default()).expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let seen = Mutex::new(Vec::new());
    let sink = |update: ProgressUpdate| seen.lock().expect("lock").push(update);
    let cancel = CancelToken::new();
    let settings = HubSettings::new(cache.path(), hub.endpoint());
    download_repo_files(&settings, &repo(), &wanted, JobContext::new(&sink, &cancel))
        .expect("download");
    let seen = seen.into_inner().expect("lock");
    let last_of_a = seen
        .iter()
        .rev()
        .find(|u| u.stage.contains("a.npz"))
        .expect("a.npz reported");
    assert_eq!((last_of_a.done, last_of_a.total), (20_000, 20_000));
    assert!(seen.iter().any(|u| u.stage.contains("sub/b.csv (2/2)")));
}

#[test]
fn files_already_in_the_cache_are_not_fetched_again() {
    let hub = LocalHub::start(served(), Faults::default()).expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    download(&hub, cache.path()).expect("first download");
    let before = hub.requests().len();
    download(&hub, cache.path()).expect("second download");
    let after: Vec<_> = hub.requests().into_iter().skip(before).collect();
    assert!(
        after.iter().all(|r| !r.path.contains("/resolve/")),
        "second run fetched files again: {after:?}"
    );
}

#[test]
fn a_partial_file_resumes_where_it_stopped() {
    let hub = LocalHub::start(served(), Faults::default()).expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let blobs = cache.path().join("datasets--owner--name/blobs");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    let full = content(20_000, 1);
    let part = blobs.join(format!("{}.part", blob_id("a.npz", &full)));
    std::fs::write(&part, &full[..12_345]).expect("write part");

    let snapshot = download(&hub, cache.path()).expect("download");
    assert_eq!(std::fs::read(snapshot.join("a.npz")).expect("a"), full);
    let ranges: Vec<_> = hub
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("a.npz"))
        .filter_map(|r| r.range)
        .collect();
    assert!(
        ranges.contains(&"bytes=12345-".to_owned()),
        "expected a resumed range request, saw {ranges:?}"
    );
}

#[test]
fn a_dropped_connection_is_resumed() {
    let faults = Faults {
        cut_first_transfer_after: Some(5_000),
        ..Faults::default()
    };
    let hub = LocalHub::start(served(), faults).expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let snapshot = download(&hub, cache.path()).expect("download survives a cut");
    assert_eq!(
        std::fs::read(snapshot.join("a.npz")).expect("a"),
        content(20_000, 1)
    );
    assert!(
        hub.requests()
            .iter()
            .any(|r| r.range.as_deref() == Some("bytes=5000-")),
        "{:?}",
        hub.requests()
    );
}

#[test]
fn cancelling_stops_before_the_next_file() {
    let hub = LocalHub::start(served(), Faults::default()).expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let cancel = CancelToken::new();
    let sink = |update: ProgressUpdate| {
        if update.stage.contains("(1/2)") && update.total > 0 && update.done == update.total {
            cancel.cancel();
        }
    };
    let settings = HubSettings::new(cache.path(), hub.endpoint());
    let result = download_repo_files(&settings, &repo(), &wanted, JobContext::new(&sink, &cancel));
    assert!(
        matches!(result, Err(HubError::Cancelled { .. })),
        "{result:?}"
    );
    assert!(
        !hub.requests().iter().any(|r| r.path.ends_with("b.csv")),
        "the second file was fetched after cancelling"
    );
}

#[test]
fn offline_mode_refuses_to_download() {
    let cache = tempfile::tempdir().expect("tempdir");
    let mut settings = HubSettings::new(cache.path(), "http://127.0.0.1:1");
    settings.offline = true;
    let error = download_with(&settings).expect_err("offline");
    assert!(error.to_string().contains("HF_HUB_OFFLINE"), "{error}");
}

#[test]
fn an_unreachable_endpoint_is_named_in_the_error() {
    let cache = tempfile::tempdir().expect("tempdir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let settings = HubSettings::new(cache.path(), endpoint.clone());
    let error = download_with(&settings).expect_err("nothing listens there");
    assert!(error.to_string().contains(&endpoint), "{error}");
}

#[test]
fn a_repository_without_wanted_files_is_an_error() {
    let mut repo_files = served();
    repo_files.files.retain(|(name, _)| name.ends_with(".md"));
    let hub = LocalHub::start(repo_files, Faults::default()).expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let error = download(&hub, cache.path()).expect_err("nothing wanted");
    assert!(
        matches!(error, HubError::NothingToDownload { .. }),
        "{error}"
    );
}

fn hub_with(faults: Faults) -> LocalHub {
    LocalHub::start(served(), faults).expect("server")
}

fn blob_path(cache: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    cache
        .join("datasets--owner--name/blobs")
        .join(blob_id(name, bytes))
}

#[test]
fn a_range_answered_with_the_whole_file_restarts_it_instead_of_appending() {
    let hub = hub_with(Faults {
        ignore_ranges: true,
        ..Faults::default()
    });
    let cache = tempfile::tempdir().expect("tempdir");
    let full = content(20_000, 1);
    let part = blob_path(cache.path(), "a.npz", &full).with_extension("part");
    std::fs::create_dir_all(part.parent().expect("blobs")).expect("mkdir");
    std::fs::write(&part, &full[..12_345]).expect("write part");
    let snapshot = download(&hub, cache.path()).expect("download");
    assert_eq!(std::fs::read(snapshot.join("a.npz")).expect("a"), full);
    assert!(
        hub.requests()
            .iter()
            .any(|r| r.range.as_deref() == Some("bytes=12345-")),
        "the part was asked to resume"
    );
}

#[test]
fn a_redirect_to_another_host_is_followed_without_the_token() {
    let hub = hub_with(Faults {
        redirect: Redirect::ToCdn,
        ..Faults::default()
    });
    let cache = tempfile::tempdir().expect("tempdir");
    let settings = HubSettings {
        token: Some("hf_secret".to_owned()),
        ..HubSettings::new(cache.path(), hub.endpoint())
    };
    let snapshot = download_with(&settings).expect("download through the CDN");
    assert_eq!(
        std::fs::read(snapshot.join("a.npz")).expect("a"),
        content(20_000, 1)
    );
    let requests = hub.requests();
    let (cdn, home): (Vec<_>, Vec<_>) = requests.iter().partition(|r| r.path.starts_with("/cdn/"));
    assert!(!cdn.is_empty() && cdn.iter().all(|r| r.host.starts_with("localhost:")));
    assert!(
        cdn.iter().all(|r| !r.authorized),
        "the token went to another host: {cdn:?}"
    );
    assert!(
        home.iter().all(|r| r.authorized),
        "the endpoint itself gets the token: {home:?}"
    );
}

#[test]
fn broken_redirects_are_errors_not_panics_or_endless_loops() {
    for (redirect, expected) in [
        (Redirect::WithoutLocation, "without a Location header"),
        (Redirect::ToItself, "in a loop"),
    ] {
        let hub = hub_with(Faults {
            redirect: redirect.clone(),
            ..Faults::default()
        });
        let cache = tempfile::tempdir().expect("tempdir");
        let error = download(&hub, cache.path()).expect_err("a broken redirect");
        let message = anyhow_like(&error);
        assert!(message.contains(expected), "{redirect:?}: {message}");
        assert!(message.contains("a.npz"), "{message}");
    }
}

/// The error and its sources, as the CLI and the window print them.
fn anyhow_like(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[test]
fn bytes_that_do_not_match_the_listing_are_not_kept() {
    for faults in [
        Faults {
            corrupt: true,
            ..Faults::default()
        },
        Faults {
            extra_bytes: 10,
            ..Faults::default()
        },
    ] {
        let hub = hub_with(faults.clone());
        let cache = tempfile::tempdir().expect("tempdir");
        let error = download(&hub, cache.path()).expect_err("bad bytes");
        assert!(
            matches!(&error, HubError::Integrity { file, .. } if file == "a.npz"),
            "{faults:?}: {error}"
        );
        assert!(error.to_string().contains("not kept"), "{error}");
        let blobs = cache.path().join("datasets--owner--name/blobs");
        let kept: Vec<_> = std::fs::read_dir(&blobs)
            .expect("blobs")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(kept.is_empty(), "{faults:?} left {kept:?}");
        let settings = HubSettings::new(cache.path(), "http://127.0.0.1:1");
        assert_eq!(cached_snapshot(&settings, &repo()), None, "{faults:?}");
    }
}

#[test]
fn without_listed_hashes_blobs_are_named_by_a_checked_etag() {
    let hub = hub_with(Faults {
        unlisted_hashes: true,
        ..Faults::default()
    });
    let cache = tempfile::tempdir().expect("tempdir");
    let snapshot = download(&hub, cache.path()).expect("download");
    assert_eq!(
        std::fs::read(snapshot.join("a.npz")).expect("a"),
        content(20_000, 1)
    );
    assert!(blob_path(cache.path(), "a.npz", &content(20_000, 1)).is_file());

    let hostile = hub_with(Faults {
        unlisted_hashes: true,
        etag: Some("../../../../escaped".to_owned()),
        ..Faults::default()
    });
    let cache = tempfile::tempdir().expect("tempdir");
    let error = download(&hostile, cache.path()).expect_err("a path as an ETag");
    assert!(error.to_string().contains("not a hex digest"), "{error}");
    assert!(!cache.path().join("escaped").exists());
    assert!(!cache.path().join("escaped.part").exists());
}

#[test]
fn an_interrupted_download_leaves_no_partial_snapshot_and_the_next_one_finishes_it() {
    let failing = hub_with(Faults {
        fail_file: Some("sub/b.csv".to_owned()),
        ..Faults::default()
    });
    let cache = tempfile::tempdir().expect("tempdir");
    let error = download(&failing, cache.path()).expect_err("the second file fails");
    assert!(anyhow_like(&error).contains("500"), "{error}");
    let repo_dir = cache.path().join("datasets--owner--name");
    assert!(
        !repo_dir
            .join("snapshots")
            .join(COMMIT)
            .join("a.npz")
            .exists()
    );
    assert!(!repo_dir.join("refs/main").exists());
    let offline = HubSettings::new(cache.path(), "http://127.0.0.1:1");
    assert_eq!(cached_snapshot(&offline, &repo()), None);

    let hub = hub_with(Faults::default());
    let snapshot = download(&hub, cache.path()).expect("the rerun");
    assert_eq!(
        std::fs::read(snapshot.join("sub/b.csv")).expect("b"),
        content(3_000, 2)
    );
    assert!(
        !hub.requests().iter().any(|r| r.path.ends_with("a.npz")),
        "the finished blob is reused: {:?}",
        hub.requests()
    );
}

#[test]
fn a_damaged_file_in_the_snapshot_is_fetched_again() {
    let hub = hub_with(Faults::default());
    let cache = tempfile::tempdir().expect("tempdir");
    download(&hub, cache.path()).expect("first download");
    let full = content(20_000, 1);
    let blob = blob_path(cache.path(), "a.npz", &full);
    let mut damaged = full.clone();
    damaged[100] ^= 1;
    std::fs::write(&blob, &damaged).expect("damage");
    let before = hub.requests().len();
    let snapshot = download(&hub, cache.path()).expect("second download");
    assert_eq!(std::fs::read(snapshot.join("a.npz")).expect("a"), full);
    let again: Vec<_> = hub.requests().into_iter().skip(before).collect();
    assert!(again.iter().any(|r| r.path.ends_with("a.npz")), "{again:?}");
    assert!(
        !again.iter().any(|r| r.path.ends_with("b.csv")),
        "{again:?}"
    );
}

#[test]
fn a_listing_with_a_path_outside_the_snapshot_is_refused() {
    let mut hostile = served();
    hostile
        .files
        .push(("../../../escaped.npz".to_owned(), b"x".to_vec()));
    let hub = LocalHub::start(hostile, Faults::default()).expect("server");
    let cache = tempfile::tempdir().expect("tempdir");
    let error = download(&hub, cache.path()).expect_err("refused");
    assert!(matches!(error, HubError::Listing { .. }), "{error}");
    assert!(
        error.to_string().contains("not a plain relative path"),
        "{error}"
    );
    assert!(!cache.path().join("escaped.npz").exists());
    assert!(
        !hub.requests().iter().any(|r| r.path.contains("/resolve/")),
        "nothing was fetched"
    );
}

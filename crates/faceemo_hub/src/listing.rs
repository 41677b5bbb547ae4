//! The hub's answer to "which files does this revision have": parsed, and checked before
//! anything in it names a path or a blob in the cache.

use serde::Deserialize;

/// The largest listing read (the hub's answer for a repository of 10,000 files is ~2 MB).
pub const MAX_LISTING_BYTES: u64 = 32 << 20;

/// A repository revision as the hub lists it (`/api/{kind}/{id}/revision/{rev}?blobs=true`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoListing {
    /// The commit the revision resolves to (40 hex digits).
    pub commit: String,
    /// Every file of the revision.
    pub files: Vec<ListedFile>,
}

/// One file of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedFile {
    /// The path inside the repository: plain and relative (checked).
    pub name: String,
    /// The size the hub gives, when it gives one.
    pub size: Option<u64>,
    /// What the file's bytes hash to, when the hub says; it names the file's blob in the cache.
    pub blob: Option<BlobId>,
}

/// How the hub identifies a file's contents; `huggingface_hub` names cache blobs by it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobId {
    /// A Git LFS file: the SHA-256 of its bytes (64 hex digits).
    Sha256(String),
    /// A plain Git file: its Git blob id, SHA-1 of `"blob <len>\0"` and the bytes (40 hex digits).
    GitSha1(String),
}

impl BlobId {
    /// The hex digest, which is also the blob's file name in the cache.
    pub fn hex(&self) -> &str {
        match self {
            Self::Sha256(hex) | Self::GitSha1(hex) => hex,
        }
    }
}

#[derive(Deserialize)]
struct RawListing {
    sha: String,
    #[serde(default)]
    siblings: Vec<RawSibling>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSibling {
    rfilename: String,
    size: Option<u64>,
    blob_id: Option<String>,
    lfs: Option<RawLfs>,
}

#[derive(Deserialize)]
struct RawLfs {
    sha256: String,
    size: Option<u64>,
}

/// Parses and checks a listing: the commit is a commit hash, every name a plain relative
/// path, every blob id hex of its hash's length. The reason quotes hostile text briefly.
pub fn parse_listing(body: &[u8]) -> Result<RepoListing, String> {
    let raw: RawListing =
        // serde's messages quote the offending value whole: keep them short.
        serde_json::from_slice(body).map_err(|e| {
            format!(
                "not a listing the hub sends: {}",
                excerpt(&e.to_string())
            )
        })?;
    if !is_hex_of_length(&raw.sha, 40) {
        return Err(format!(
            "the revision's commit {:?} is not a 40-digit hash",
            excerpt(&raw.sha)
        ));
    }
    let mut files = Vec::with_capacity(raw.siblings.len());
    for sibling in raw.siblings {
        if !is_plain_relative(&sibling.rfilename) {
            return Err(format!(
                "a file named {:?} is not a plain relative path",
                excerpt(&sibling.rfilename)
            ));
        }
        let (blob, size) = match (sibling.lfs, sibling.blob_id) {
            (Some(lfs), _) => {
                if !is_hex_of_length(&lfs.sha256, 64) {
                    return Err(format!(
                        "{:?} has an LFS hash {:?} that is not 64 hex digits",
                        excerpt(&sibling.rfilename),
                        excerpt(&lfs.sha256)
                    ));
                }
                let size = lfs.size.or(sibling.size);
                (Some(BlobId::Sha256(lfs.sha256.to_ascii_lowercase())), size)
            }
            (None, Some(id)) => {
                if !is_hex_of_length(&id, 40) {
                    return Err(format!(
                        "{:?} has a blob id {:?} that is not 40 hex digits",
                        excerpt(&sibling.rfilename),
                        excerpt(&id)
                    ));
                }
                (Some(BlobId::GitSha1(id.to_ascii_lowercase())), sibling.size)
            }
            (None, None) => (None, sibling.size),
        };
        files.push(ListedFile {
            name: sibling.rfilename,
            size,
            blob,
        });
    }
    Ok(RepoListing {
        commit: raw.sha.to_ascii_lowercase(),
        files,
    })
}

/// Whether a listed name is a plain relative path inside the repository: no root, no
/// `..`, no backslash or drive, no control character, nothing empty.
pub fn is_plain_relative(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 1024
        && !name.contains('\\')
        && !name.contains(':')
        && !name.starts_with('/')
        && !name.chars().any(char::is_control)
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Whether `text` is `length` ASCII hex digits.
pub(crate) fn is_hex_of_length(text: &str, length: usize) -> bool {
    text.len() == length && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// At most 80 characters of text from the network, for a message.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 160;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(MAX).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn a_listing_with_blob_ids_and_lfs_hashes_is_read() {
        let sha256 = "a".repeat(64);
        let body = format!(
            r#"{{"sha":"{COMMIT}","siblings":[
                {{"rfilename":"README.md","size":12,"blobId":"{COMMIT}"}},
                {{"rfilename":"data/train.npz","size":5,"blobId":"{COMMIT}",
                  "lfs":{{"sha256":"{sha256}","size":999}}}},
                {{"rfilename":"old.csv"}}]}}"#
        );
        let listing = parse_listing(body.as_bytes()).expect("listing");
        assert_eq!(listing.commit, COMMIT);
        assert_eq!(
            listing.files,
            [
                ListedFile {
                    name: "README.md".into(),
                    size: Some(12),
                    blob: Some(BlobId::GitSha1(COMMIT.into()))
                },
                ListedFile {
                    name: "data/train.npz".into(),
                    size: Some(999),
                    blob: Some(BlobId::Sha256(sha256))
                },
                ListedFile {
                    name: "old.csv".into(),
                    size: None,
                    blob: None
                },
            ]
        );
    }

    #[test]
    fn names_and_hashes_that_could_leave_the_cache_are_refused() {
        let listing = |sibling: &str| format!(r#"{{"sha":"{COMMIT}","siblings":[{sibling}]}}"#);
        for (sibling, expected) in [
            (r#"{"rfilename":"../x"}"#, "not a plain relative path"),
            (
                r#"{"rfilename":"/etc/passwd"}"#,
                "not a plain relative path",
            ),
            (
                r#"{"rfilename":"a","blobId":"../../../etc/passwd"}"#,
                "not 40 hex digits",
            ),
            (
                r#"{"rfilename":"a","lfs":{"sha256":"../x","size":1}}"#,
                "not 64 hex digits",
            ),
        ] {
            let error = parse_listing(listing(sibling).as_bytes()).expect_err(sibling);
            assert!(error.contains(expected), "{sibling}: {error}");
        }
        let error = parse_listing(br#"{"sha":"../../x","siblings":[]}"#).expect_err("sha");
        assert!(error.contains("not a 40-digit hash"), "{error}");
        let error = parse_listing(b"<html>").expect_err("html");
        assert!(error.contains("not a listing"), "{error}");
    }

    #[test]
    fn long_hostile_text_is_quoted_briefly() {
        let name = "../".repeat(10_000);
        let body = format!(r#"{{"sha":"{COMMIT}","siblings":[{{"rfilename":"{name}"}}]}}"#);
        let error = parse_listing(body.as_bytes()).expect_err("refused");
        assert!(error.len() < 300, "{} bytes", error.len());
    }

    #[test]
    fn a_long_value_of_the_wrong_type_is_quoted_briefly() {
        // Found by the hub_listing fuzz target: serde quoted the whole string back.
        let body = format!(r#"{{"sha":"{}","siblings":[]}}"#, "7".repeat(5000));
        let error = parse_listing(body.as_bytes()).expect_err("refused");
        assert!(error.len() < 300, "{} bytes", error.len());
        let body = format!(r#"{{"siblings":"{}"}}"#, "a".repeat(5000));
        let error = parse_listing(body.as_bytes()).expect_err("refused");
        assert!(error.len() < 300, "{} bytes: {error}", error.len());
    }

    #[test]
    fn plain_relative_names() {
        for good in ["model.safetensors", "data/train.npz", "a.b/c"] {
            assert!(is_plain_relative(good), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "c:\\x",
            "a\\..\\b",
            "./a",
            "a\nb",
        ] {
            assert!(!is_plain_relative(bad), "{bad}");
        }
    }
}

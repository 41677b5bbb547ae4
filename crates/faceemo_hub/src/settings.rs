//! Where the cache is and which endpoint to use, read from the environment the way
//! `huggingface_hub` reads it.

use std::path::PathBuf;

use crate::HubError;

/// Where the Hugging Face cache lives and how to reach the hub. Its `Debug` never shows the
/// token.
#[derive(Clone, PartialEq, Eq)]
pub struct HubSettings {
    /// The `hub` cache folder (holding `datasets--…` and `models--…`).
    pub cache_dir: PathBuf,
    /// Base URL of the hub, without a trailing slash.
    pub endpoint: String,
    /// When true, nothing is downloaded (`HF_HUB_OFFLINE`).
    pub offline: bool,
    /// Access token for private or gated repositories (`HF_TOKEN`).
    pub token: Option<String>,
}

/// The public hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

impl HubSettings {
    /// Settings from the process environment: `HF_HUB_CACHE`, `HUGGINGFACE_HUB_CACHE`,
    /// `HF_HOME`, `XDG_CACHE_HOME`, `HOME`, `HF_ENDPOINT`, `HF_HUB_OFFLINE`, `HF_TOKEN`.
    pub fn from_env() -> Result<Self, HubError> {
        Self::from_vars(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
    }

    /// Settings from any variable lookup (the environment in production, a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, HubError> {
        let cache_dir = var("HF_HUB_CACHE")
            .or_else(|| var("HUGGINGFACE_HUB_CACHE"))
            .map(PathBuf::from)
            .or_else(|| var("HF_HOME").map(|home| PathBuf::from(home).join("hub")))
            .or_else(|| {
                var("XDG_CACHE_HOME").map(|xdg| PathBuf::from(xdg).join("huggingface").join("hub"))
            })
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache/huggingface/hub")))
            .ok_or(HubError::NoCacheDir)?;
        let endpoint = var("HF_ENDPOINT").map_or_else(
            || DEFAULT_ENDPOINT.to_owned(),
            |e| e.trim_end_matches('/').to_owned(),
        );
        let offline = var("HF_HUB_OFFLINE").is_some_and(|value| is_truthy(&value));
        let token = var("HF_TOKEN").or_else(|| var("HUGGING_FACE_HUB_TOKEN"));
        Ok(Self {
            cache_dir,
            endpoint,
            offline,
            token,
        })
    }

    /// Settings for a given cache folder and endpoint, online, without a token.
    pub fn new(cache_dir: impl Into<PathBuf>, endpoint: impl Into<String>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            endpoint: endpoint.into().trim_end_matches('/').to_owned(),
            offline: false,
            token: None,
        }
    }
}

impl std::fmt::Debug for HubSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSettings")
            .field("cache_dir", &self.cache_dir)
            .field("endpoint", &self.endpoint)
            .field("offline", &self.offline)
            .field("token", &self.token.as_ref().map(|_| "(set, not shown)"))
            .finish()
    }
}

impl HubSettings {
    /// The token to send to the endpoint: only over `https`, or plain `http` to this
    /// machine (a local mirror); never in the clear across a network.
    pub fn token_for_endpoint(&self) -> Option<&str> {
        let endpoint = self.endpoint.to_ascii_lowercase();
        let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|prefix| {
                endpoint
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
            });
        (endpoint.starts_with("https://") || local)
            .then_some(self.token.as_deref())
            .flatten()
    }
}

fn is_truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_token_is_never_shown_nor_sent_in_the_clear_across_a_network() {
        let with_token = |endpoint: &str| HubSettings {
            token: Some("hf_secret".to_owned()),
            ..HubSettings::new("/cache", endpoint)
        };
        let shown = format!("{:?}", with_token("https://huggingface.co"));
        assert!(
            !shown.contains("hf_secret") && shown.contains("not shown"),
            "{shown}"
        );
        assert_eq!(
            with_token("https://huggingface.co").token_for_endpoint(),
            Some("hf_secret")
        );
        assert_eq!(
            with_token("http://127.0.0.1:8080").token_for_endpoint(),
            Some("hf_secret")
        );
        assert_eq!(
            with_token("http://mirror.example.org").token_for_endpoint(),
            None
        );
        assert_eq!(
            with_token("http://localhost.example.org").token_for_endpoint(),
            None
        );
    }

    fn settings(vars: &[(&str, &str)]) -> HubSettings {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        HubSettings::from_vars(|name| map.get(name).cloned()).expect("settings")
    }

    #[test]
    fn hf_hub_cache_wins_over_hf_home() {
        let s = settings(&[("HF_HUB_CACHE", "/a"), ("HF_HOME", "/b"), ("HOME", "/h")]);
        assert_eq!(s.cache_dir, PathBuf::from("/a"));
    }

    #[test]
    fn hf_home_holds_the_hub_folder() {
        let s = settings(&[("HF_HOME", "/b"), ("HOME", "/h")]);
        assert_eq!(s.cache_dir, PathBuf::from("/b/hub"));
    }

    #[test]
    fn the_default_cache_is_under_home() {
        let s = settings(&[("HOME", "/h")]);
        assert_eq!(s.cache_dir, PathBuf::from("/h/.cache/huggingface/hub"));
        assert_eq!(s.endpoint, DEFAULT_ENDPOINT);
        assert!(!s.offline);
    }

    #[test]
    fn endpoint_and_offline_come_from_the_environment() {
        let s = settings(&[
            ("HOME", "/h"),
            ("HF_ENDPOINT", "http://127.0.0.1:9/"),
            ("HF_HUB_OFFLINE", "1"),
        ]);
        assert_eq!(s.endpoint, "http://127.0.0.1:9");
        assert!(s.offline);
        assert!(!settings(&[("HOME", "/h"), ("HF_HUB_OFFLINE", "0")]).offline);
    }

    #[test]
    fn without_any_folder_there_is_no_cache() {
        assert!(matches!(
            HubSettings::from_vars(|_| None),
            Err(HubError::NoCacheDir)
        ));
    }
}

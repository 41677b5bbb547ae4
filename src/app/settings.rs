//! What the window remembers between runs.

use std::path::PathBuf;

use super::points::Colouring;

/// Persisted settings (eframe's storage, one RON file per user).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The last release sources opened, newest first.
    pub recent_sources: Vec<Vec<PathBuf>>,
    /// The last model (folder or hub id).
    pub model: Option<String>,
    /// Where the model runs: "auto", "wgpu" or "cpu".
    pub backend: String,
    /// How points are coloured.
    pub colouring: Colouring,
    /// Half the side of a point, pixels.
    pub point_radius: usize,
    /// Inversion steps.
    pub inversion_steps: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            recent_sources: Vec::new(),
            model: None,
            backend: "auto".to_owned(),
            colouring: Colouring::Dataset,
            point_radius: 1,
            inversion_steps: faceemo_inversion::InversionSettings::default().steps,
        }
    }
}

/// Recent source lists kept.
const RECENT: usize = 8;

impl Settings {
    /// Puts `sources` first in the recent list.
    pub fn remember_sources(&mut self, sources: &[PathBuf]) {
        if sources.is_empty() {
            return;
        }
        self.recent_sources.retain(|s| s.as_slice() != sources);
        self.recent_sources.insert(0, sources.to_vec());
        self.recent_sources.truncate(RECENT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_sources_are_newest_first_without_duplicates() {
        let mut settings = Settings::default();
        let a = vec![PathBuf::from("/a")];
        let b = vec![PathBuf::from("/b")];
        settings.remember_sources(&a);
        settings.remember_sources(&b);
        settings.remember_sources(&a);
        assert_eq!(settings.recent_sources, vec![a, b]);
    }
}

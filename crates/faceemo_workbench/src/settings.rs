//! What the window remembers between runs.

use std::path::PathBuf;

use crate::points::Colouring;

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
    /// Stop a reconstruction once its cosine reaches this (with the class kept).
    pub until_cosine: Option<f64>,
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
            until_cosine: None,
        }
    }
}

/// Recent source lists kept.
const RECENT: usize = 8;
/// The largest point radius the map offers (the View menu's slider).
pub const MAX_POINT_RADIUS: usize = 5;
/// The most reconstruction steps the window offers (the View menu's slider).
pub const MAX_INVERSION_STEPS: usize = 1000;

impl Settings {
    /// Brings values read from a settings file someone may have edited into the ranges the
    /// window offers (a huge point radius would freeze the map's rasteriser).
    #[must_use]
    pub fn validated(mut self) -> Self {
        self.point_radius = self.point_radius.min(MAX_POINT_RADIUS);
        self.inversion_steps = self.inversion_steps.clamp(1, MAX_INVERSION_STEPS);
        self.until_cosine = self
            .until_cosine
            .filter(|c| c.is_finite())
            .map(|c| c.clamp(0.5, 1.0));
        if !["auto", "wgpu", "cpu"].contains(&self.backend.as_str()) {
            "auto".clone_into(&mut self.backend);
        }
        self.recent_sources.truncate(RECENT);
        self
    }

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
    fn values_from_an_edited_settings_file_are_brought_into_range() {
        let edited = Settings {
            point_radius: 100_000,
            inversion_steps: 1_000_000_000_000,
            backend: "quantum".to_owned(),
            recent_sources: vec![vec![PathBuf::from("/a")]; 50],
            ..Settings::default()
        }
        .validated();
        assert_eq!(edited.point_radius, MAX_POINT_RADIUS);
        assert_eq!(edited.inversion_steps, MAX_INVERSION_STEPS);
        assert_eq!(edited.backend, "auto");
        assert_eq!(edited.recent_sources.len(), RECENT);
        let zero = Settings {
            inversion_steps: 0,
            ..Settings::default()
        };
        assert_eq!(zero.validated().inversion_steps, 1);
    }

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

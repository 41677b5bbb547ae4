//! What an inversion optimises and how.

use crate::InversionError;
use crate::objective::Objective;

/// How the image starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Start {
    /// Seeded uniform noise over the middle half of the pixel range.
    #[default]
    Noise,
    /// Mid-grey.
    Grey,
}

impl std::str::FromStr for Start {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "noise" => Ok(Self::Noise),
            "grey" | "gray" => Ok(Self::Grey),
            other => Err(format!("unknown start {other:?}: use noise or grey")),
        }
    }
}

/// How predicted logits are compared with the target's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogitLoss {
    /// Cross-entropy against the target's softmax (a soft label).
    #[default]
    CrossEntropy,
    /// Mean squared difference of the logits.
    Mse,
}

impl std::str::FromStr for LogitLoss {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "ce" | "cross-entropy" | "crossentropy" => Ok(Self::CrossEntropy),
            "mse" => Ok(Self::Mse),
            other => Err(format!("unknown logit loss {other:?}: use ce or mse")),
        }
    }
}

/// Every knob of an inversion. The defaults reach what the release reports for its example
/// (cosine ≥ 0.95, CLS MSE ≤ 0.01, class kept).
#[derive(Clone, Debug, PartialEq)]
pub struct InversionSettings {
    /// Optimisation steps.
    pub steps: usize,
    /// Adam's peak learning rate, in normalised pixel units.
    pub learning_rate: f64,
    /// The learning rate decays along a half cosine to this fraction of the peak.
    pub final_learning_rate_fraction: f64,
    /// The weighted loss terms.
    pub objective: Objective,
    /// Each step shifts the image by up to this many pixels (wrapping), 0 for none.
    pub jitter: usize,
    /// How the image starts.
    pub start: Start,
    /// Seeds the start and the jitter.
    pub seed: u64,
    /// A preview image is handed out every this many steps (0: never).
    pub preview_every: usize,
    /// Stop as soon as the image's CLS cosine to the target reaches this, with the target's
    /// class kept (`None`: run every step).
    pub until_cosine: Option<f64>,
}

/// The cosine whose first crossing is reported as `steps_to_target` when no
/// [`InversionSettings::until_cosine`] is given.
pub const DEFAULT_TARGET_COSINE: f64 = 0.95;

impl Default for InversionSettings {
    fn default() -> Self {
        Self {
            steps: 200,
            learning_rate: 0.1,
            final_learning_rate_fraction: 0.05,
            objective: Objective::default(),
            jitter: 0,
            start: Start::Noise,
            seed: 0,
            preview_every: 10,
            until_cosine: None,
        }
    }
}

impl InversionSettings {
    /// Checks every value is usable.
    pub fn validate(&self) -> Result<(), InversionError> {
        let bad = |message: String| Err(InversionError::Settings(message));
        if self.steps == 0 {
            return bad("steps must be at least 1".to_owned());
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(format!(
                "learning rate {} must be positive",
                self.learning_rate
            ));
        }
        if let Some(cosine) = self.until_cosine
            && !(cosine > -1.0 && cosine <= 1.0)
        {
            return bad(format!(
                "the cosine to stop at, {cosine}, must be within (-1, 1]"
            ));
        }
        if !(0.0..=1.0).contains(&self.final_learning_rate_fraction) {
            return bad(format!(
                "final learning-rate fraction {} must be within 0..=1",
                self.final_learning_rate_fraction
            ));
        }
        self.objective.validate()
    }

    /// The cosine whose first crossing is reported (`until_cosine`, else 0.95).
    pub fn target_cosine(&self) -> f64 {
        self.until_cosine.unwrap_or(DEFAULT_TARGET_COSINE)
    }

    /// The learning rate at `step` (0-based): a half cosine from the peak down to the final
    /// fraction of it.
    pub fn learning_rate_at(&self, step: usize) -> f64 {
        let floor = self.learning_rate * self.final_learning_rate_fraction;
        let progress = step as f64 / self.steps.max(1) as f64;
        floor + (self.learning_rate - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_starts_at_the_peak_and_decays_towards_the_floor() {
        let settings = InversionSettings::default();
        assert!((settings.learning_rate_at(0) - 0.1).abs() < 1e-12);
        let last = settings.learning_rate_at(settings.steps - 1);
        assert!(last > 0.005 && last < 0.0051, "{last}");
        assert!(settings.learning_rate_at(50) > settings.learning_rate_at(150));
    }

    #[test]
    fn impossible_settings_are_refused_with_the_value() {
        let settings = InversionSettings {
            learning_rate: -1.0,
            ..InversionSettings::default()
        };
        let message = settings.validate().unwrap_err().to_string();
        assert!(message.contains("-1"), "{message}");
        assert!(
            InversionSettings {
                steps: 0,
                ..InversionSettings::default()
            }
            .validate()
            .is_err()
        );
    }
}

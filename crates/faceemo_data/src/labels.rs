//! Emotion names, their spelling variants, and the column order of the logits.

use std::path::{Path, PathBuf};

use crate::DataError;

/// The seven emotions of the release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Emotion {
    /// Anger (FER2013 says "angry").
    Anger,
    /// Disgust.
    Disgust,
    /// Fear.
    Fear,
    /// Happiness (often "happy").
    Happiness,
    /// Neutral.
    Neutral,
    /// Sadness (often "sad").
    Sadness,
    /// Surprise.
    Surprise,
}

/// The release's documented column order of `logits` and `probs`.
pub const RELEASE_LABEL_ORDER: [Emotion; 7] = [
    Emotion::Anger,
    Emotion::Disgust,
    Emotion::Fear,
    Emotion::Happiness,
    Emotion::Neutral,
    Emotion::Sadness,
    Emotion::Surprise,
];

impl Emotion {
    /// The canonical lower-case name (`"anger"`, `"happiness"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Anger => "anger",
            Self::Disgust => "disgust",
            Self::Fear => "fear",
            Self::Happiness => "happiness",
            Self::Neutral => "neutral",
            Self::Sadness => "sadness",
            Self::Surprise => "surprise",
        }
    }

    /// Recognises the usual spellings (`angry`, `Happy`, `surprised`, …), case-insensitively.
    pub fn parse(text: &str) -> Option<Self> {
        const SPELLINGS: [(&str, Emotion); 17] = [
            ("anger", Emotion::Anger),
            ("angry", Emotion::Anger),
            ("disgust", Emotion::Disgust),
            ("disgusted", Emotion::Disgust),
            ("fear", Emotion::Fear),
            ("fearful", Emotion::Fear),
            ("afraid", Emotion::Fear),
            ("scared", Emotion::Fear),
            ("happiness", Emotion::Happiness),
            ("happy", Emotion::Happiness),
            ("joy", Emotion::Happiness),
            ("neutral", Emotion::Neutral),
            ("calm", Emotion::Neutral),
            ("sadness", Emotion::Sadness),
            ("sad", Emotion::Sadness),
            ("surprise", Emotion::Surprise),
            ("surprised", Emotion::Surprise),
        ];
        let text = text.trim();
        SPELLINGS
            .iter()
            .find(|(spelling, _)| spelling.eq_ignore_ascii_case(text))
            .map(|(_, emotion)| *emotion)
    }
}

impl std::fmt::Display for Emotion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An emotion as written in the metadata: one of the seven, or a label kept verbatim.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EmotionLabel {
    /// A recognised emotion.
    Known(Emotion),
    /// A label that is none of the seven, kept as written (e.g. `"contempt"`).
    Unknown(String),
}

impl EmotionLabel {
    /// Parses a metadata cell; anything unrecognised is kept as [`EmotionLabel::Unknown`].
    pub fn parse(text: &str) -> Self {
        Emotion::parse(text).map_or_else(|| Self::Unknown(text.trim().to_owned()), Self::Known)
    }

    /// The canonical name, or the unknown label as written.
    pub fn name(&self) -> &str {
        match self {
            Self::Known(emotion) => emotion.name(),
            Self::Unknown(label) => label,
        }
    }

    /// The recognised emotion, if any.
    pub fn known(&self) -> Option<Emotion> {
        match self {
            Self::Known(emotion) => Some(*emotion),
            Self::Unknown(_) => None,
        }
    }
}

/// Where the column order of the logits came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelSource {
    /// The release's documented order (no model known).
    ReleaseDefault,
    /// `id2label` of a model's `config.json`.
    ModelConfig(PathBuf),
    /// Neither fitted the data: columns are numbered.
    Numbered,
}

/// The names of the logits columns, in column order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelOrder {
    /// One label per column; recognised emotions are written canonically.
    pub labels: Vec<EmotionLabel>,
    /// Where the order came from.
    pub source: LabelSource,
}

impl Default for LabelOrder {
    fn default() -> Self {
        Self::release_default()
    }
}

impl LabelOrder {
    /// The release's documented order: anger, disgust, fear, happiness, neutral, sadness, surprise.
    pub fn release_default() -> Self {
        Self {
            labels: RELEASE_LABEL_ORDER
                .iter()
                .map(|e| EmotionLabel::Known(*e))
                .collect(),
            source: LabelSource::ReleaseDefault,
        }
    }

    /// `class 0`, `class 1`, … for data whose width fits no known order.
    pub fn numbered(count: usize) -> Self {
        Self {
            labels: (0..count)
                .map(|i| EmotionLabel::Unknown(format!("class {i}")))
                .collect(),
            source: LabelSource::Numbered,
        }
    }

    /// Reads `id2label` from a model's `config.json` (keys are strings of 0..n).
    pub fn from_model_config(path: &Path) -> Result<Self, DataError> {
        let config_error = |reason: String| DataError::ModelConfig {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
            path: path.to_owned(),
            source,
        })?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| config_error(format!("invalid JSON: {e}")))?;
        let id2label = json
            .get("id2label")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| config_error("no \"id2label\" object".to_owned()))?;
        let mut labels = vec![None; id2label.len()];
        for (key, value) in id2label {
            let index: usize = key
                .trim()
                .parse()
                .map_err(|_| config_error(format!("id2label key {key:?} is not a number")))?;
            let name = value
                .as_str()
                .ok_or_else(|| config_error(format!("id2label[{key}] is not a string")))?;
            let slot = labels.get_mut(index).ok_or_else(|| {
                config_error(format!(
                    "id2label key {index} is outside 0..{}",
                    id2label.len()
                ))
            })?;
            *slot = Some(EmotionLabel::parse(name));
        }
        let labels = labels
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| config_error("id2label keys are not 0..n".to_owned()))?;
        if labels.is_empty() {
            return Err(config_error("id2label is empty".to_owned()));
        }
        Ok(Self {
            labels,
            source: LabelSource::ModelConfig(path.to_owned()),
        })
    }

    /// The order of a loaded model's labels (its `id2label`, already parsed), recorded as
    /// coming from `config`; `None` when the model has no usable names (`LABEL_0`, …).
    pub fn from_model_labels(labels: &[String], config: &Path) -> Option<Self> {
        let parsed: Vec<EmotionLabel> = labels.iter().map(|l| EmotionLabel::parse(l)).collect();
        let named = parsed.iter().any(|l| l.known().is_some());
        (named && !parsed.is_empty()).then(|| Self {
            labels: parsed,
            source: LabelSource::ModelConfig(config.to_owned()),
        })
    }

    /// The column of an emotion, if the order has it.
    pub fn column_of(&self, emotion: Emotion) -> Option<usize> {
        self.labels
            .iter()
            .position(|label| label.known() == Some(emotion))
    }

    /// The label names, in column order.
    pub fn names(&self) -> Vec<String> {
        self.labels.iter().map(|l| l.name().to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loaded_models_labels_give_its_order_unless_they_name_no_emotion() {
        let names = ["happy", "sad", "angry"].map(str::to_owned);
        let order = LabelOrder::from_model_labels(&names, Path::new("m/config.json"))
            .expect("named emotions");
        assert_eq!(order.names(), ["happiness", "sadness", "anger"]);
        assert_eq!(
            order.source,
            LabelSource::ModelConfig("m/config.json".into())
        );
        let numbered = ["LABEL_0", "LABEL_1"].map(str::to_owned);
        assert_eq!(
            LabelOrder::from_model_labels(&numbered, Path::new("c")),
            None
        );
    }

    #[test]
    fn spelling_variants_normalise_to_the_canonical_names() {
        for (text, emotion) in [
            ("angry", Emotion::Anger),
            ("Happy", Emotion::Happiness),
            ("sad", Emotion::Sadness),
            (" surprised ", Emotion::Surprise),
            ("FEARFUL", Emotion::Fear),
            ("disgusted", Emotion::Disgust),
            ("neutral", Emotion::Neutral),
        ] {
            assert_eq!(Emotion::parse(text), Some(emotion), "{text}");
        }
    }

    #[test]
    fn unknown_labels_are_kept_verbatim() {
        assert_eq!(
            EmotionLabel::parse(" contempt"),
            EmotionLabel::Unknown("contempt".into())
        );
    }

    #[test]
    fn the_model_config_decides_the_column_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"id2label": {"1": "happy", "0": "angry", "2": "sad"}, "hidden_size": 8}"#,
        )
        .expect("write");
        let order = LabelOrder::from_model_config(&path).expect("order");
        assert_eq!(order.names(), ["anger", "happiness", "sadness"]);
        assert_eq!(order.column_of(Emotion::Sadness), Some(2));
        assert_eq!(order.column_of(Emotion::Fear), None);
    }

    #[test]
    fn a_config_with_gaps_in_id2label_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"id2label": {"0": "angry", "5": "sad"}}"#).expect("write");
        let message = LabelOrder::from_model_config(&path)
            .expect_err("gap")
            .to_string();
        assert!(message.contains("config.json"), "{message}");
        assert!(message.contains("outside"), "{message}");
    }
}

//! `config.json` and `preprocessor_config.json` of a HuggingFace ViT, with their defaults.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::ModelError;

/// The architecture of a `ViTForImageClassification`, as its `config.json` gives it.
///
/// Every size comes from the file; defaults are transformers' `ViTConfig` defaults
/// (ViT-Base/16 at 224×224). Unknown keys are ignored.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct VitConfig {
    /// Width of every token (768 for ViT-Base).
    pub hidden_size: usize,
    /// Number of encoder blocks.
    pub num_hidden_layers: usize,
    /// Attention heads per block.
    pub num_attention_heads: usize,
    /// Width of the MLP inside each block.
    pub intermediate_size: usize,
    /// The MLP's activation: `gelu` (exact, erf), `gelu_new`/`gelu_pytorch_tanh` (tanh), `relu`.
    pub hidden_act: String,
    /// LayerNorm epsilon (1e-12 in ViT).
    pub layer_norm_eps: f64,
    /// Input height and width in pixels.
    pub image_size: usize,
    /// Patch height and width in pixels.
    pub patch_size: usize,
    /// Input channels.
    pub num_channels: usize,
    /// Whether query, key and value have biases.
    pub qkv_bias: bool,
    /// Class index (as a string key) to label.
    pub id2label: BTreeMap<String, String>,
}

impl Default for VitConfig {
    fn default() -> Self {
        Self {
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".to_owned(),
            layer_norm_eps: 1e-12,
            image_size: 224,
            patch_size: 16,
            num_channels: 3,
            qkv_bias: true,
            id2label: BTreeMap::new(),
        }
    }
}

/// The MLP activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// Exact GELU, `x · Φ(x)` with the error function (transformers' `"gelu"`).
    GeluErf,
    /// The tanh approximation (`"gelu_new"`, `"gelu_pytorch_tanh"`).
    GeluTanh,
    /// `max(x, 0)`.
    Relu,
}

/// The largest `image_size` accepted.
const MAX_IMAGE_SIZE: usize = 4096;
/// The largest `hidden_size` accepted (ViT-H is 1280, ViT-G 1664).
const MAX_HIDDEN_SIZE: usize = 8192;
/// The most layers accepted (ViT-G has 48).
const MAX_LAYERS: usize = 256;

impl VitConfig {
    /// Reads and checks a `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        Self::from_json(&read_config_text(path)?, path)
    }

    /// Parses and checks the text of a `config.json`; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, ModelError> {
        let config: Self = serde_json::from_str(text).map_err(|e| ModelError::Config {
            path: path.to_owned(),
            reason: format!("invalid JSON: {e}"),
        })?;
        config.validate().map_err(|reason| ModelError::Config {
            path: path.to_owned(),
            reason,
        })?;
        Ok(config)
    }

    /// Checks that the sizes fit together and stay within what a ViT can be (a hostile
    /// `config.json` must not make the loader allocate terabytes).
    pub fn validate(&self) -> Result<(), String> {
        if self.hidden_size == 0 || self.num_attention_heads == 0 || self.num_hidden_layers == 0 {
            return Err(
                "hidden_size, num_attention_heads and num_hidden_layers must be > 0".into(),
            );
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(format!(
                "hidden_size {} is not divisible by num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if self.num_channels != 3 {
            return Err(format!(
                "num_channels is {}: the model reads RGB images (3 channels)",
                self.num_channels
            ));
        }
        if self.image_size == 0 || self.image_size > MAX_IMAGE_SIZE {
            return Err(format!(
                "image_size {} is outside 1..={MAX_IMAGE_SIZE}",
                self.image_size
            ));
        }
        if self.hidden_size > MAX_HIDDEN_SIZE
            || self.num_hidden_layers > MAX_LAYERS
            || self.intermediate_size > 8 * MAX_HIDDEN_SIZE
        {
            return Err(format!(
                "sizes past any ViT (hidden_size {}, intermediate_size {}, {} layers; at most \
                 {MAX_HIDDEN_SIZE}, {}, {MAX_LAYERS})",
                self.hidden_size,
                self.intermediate_size,
                self.num_hidden_layers,
                8 * MAX_HIDDEN_SIZE
            ));
        }
        if self.patch_size == 0 || !self.image_size.is_multiple_of(self.patch_size) {
            return Err(format!(
                "image_size {} is not a multiple of patch_size {}",
                self.image_size, self.patch_size
            ));
        }
        self.activation()?;
        self.labels()?;
        Ok(())
    }

    /// The MLP activation named by `hidden_act`.
    pub fn activation(&self) -> Result<Activation, String> {
        match self.hidden_act.as_str() {
            "gelu" => Ok(Activation::GeluErf),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Ok(Activation::GeluTanh),
            "relu" => Ok(Activation::Relu),
            other => Err(format!("unsupported hidden_act {other:?}")),
        }
    }

    /// The labels in class order; `LABEL_i` when `id2label` is absent.
    pub fn labels(&self) -> Result<Vec<String>, String> {
        if self.id2label.is_empty() {
            return Ok((0..2).map(|i| format!("LABEL_{i}")).collect());
        }
        let mut labels = vec![None; self.id2label.len()];
        for (key, label) in &self.id2label {
            let index: usize = key
                .parse()
                .map_err(|_| format!("id2label key {key:?} is not a number"))?;
            *labels
                .get_mut(index)
                .ok_or_else(|| format!("id2label key {index} is out of range"))? =
                Some(label.clone());
        }
        labels
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| "id2label keys are not 0..n".to_owned())
    }

    /// Patches per side.
    pub fn patches_per_side(&self) -> usize {
        self.image_size / self.patch_size
    }

    /// Tokens per image: one per patch plus the CLS token.
    pub fn sequence_length(&self) -> usize {
        self.patches_per_side() * self.patches_per_side() + 1
    }
}

/// Pillow's resampling filters, numbered as `preprocessor_config.json` stores them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resample {
    /// 1: Lanczos (a = 3).
    Lanczos,
    /// 2: bilinear (triangle), antialiased when shrinking. ViT's choice.
    Bilinear,
    /// 3: bicubic (a = −0.5).
    Bicubic,
    /// 4: box.
    Box,
    /// 5: Hamming.
    Hamming,
}

impl Resample {
    /// The filter for Pillow's number; nearest (0) is not supported.
    pub fn from_pillow(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::Lanczos),
            2 => Some(Self::Bilinear),
            3 => Some(Self::Bicubic),
            4 => Some(Self::Box),
            5 => Some(Self::Hamming),
            _ => None,
        }
    }

    /// Half-width of the filter at scale 1.
    pub fn support(self) -> f64 {
        match self {
            Self::Box => 0.5,
            Self::Bilinear | Self::Hamming => 1.0,
            Self::Bicubic => 2.0,
            Self::Lanczos => 3.0,
        }
    }

    /// The filter's weight at distance `x`, as Pillow computes it.
    pub fn weight(self, x: f64) -> f64 {
        use std::f64::consts::PI;
        let sinc = |x: f64| {
            if x == 0.0 {
                1.0
            } else {
                (x * PI).sin() / (x * PI)
            }
        };
        match self {
            Self::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Self::Bilinear => {
                let x = x.abs();
                if x < 1.0 { 1.0 - x } else { 0.0 }
            }
            Self::Hamming => {
                let x = x.abs();
                if x == 0.0 {
                    1.0
                } else if x >= 1.0 {
                    0.0
                } else {
                    let x = x * PI;
                    x.sin() / x * (0.54 + 0.46 * x.cos())
                }
            }
            Self::Bicubic => {
                const A: f64 = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
            Self::Lanczos => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

/// What `preprocessor_config.json` says, resolved to concrete values.
#[derive(Clone, Debug, PartialEq)]
pub struct PreprocessorConfig {
    /// Resize to `width × height` first.
    pub do_resize: bool,
    /// Target width.
    pub width: u32,
    /// Target height.
    pub height: u32,
    /// The resampling filter.
    pub resample: Resample,
    /// Multiply by `rescale_factor`.
    pub do_rescale: bool,
    /// Usually 1/255.
    pub rescale_factor: f64,
    /// Subtract the mean and divide by the std per channel.
    pub do_normalize: bool,
    /// Per-channel mean.
    pub image_mean: [f32; 3],
    /// Per-channel standard deviation.
    pub image_std: [f32; 3],
}

#[derive(Deserialize)]
struct RawPreprocessorConfig {
    do_resize: Option<bool>,
    size: Option<serde_json::Value>,
    resample: Option<i64>,
    do_rescale: Option<bool>,
    rescale_factor: Option<f64>,
    do_normalize: Option<bool>,
    image_mean: Option<Vec<f32>>,
    image_std: Option<Vec<f32>>,
}

impl PreprocessorConfig {
    /// `ViTImageProcessor`'s defaults for a model of the given input size.
    pub fn vit_defaults(image_size: usize) -> Self {
        Self {
            do_resize: true,
            width: image_size as u32,
            height: image_size as u32,
            resample: Resample::Bilinear,
            do_rescale: true,
            rescale_factor: 1.0 / 255.0,
            do_normalize: true,
            image_mean: [0.5; 3],
            image_std: [0.5; 3],
        }
    }

    /// Reads `preprocessor_config.json`; missing keys take `ViTImageProcessor`'s defaults.
    pub fn from_file(path: &Path, image_size: usize) -> Result<Self, ModelError> {
        Self::from_json(&read_config_text(path)?, path, image_size)
    }

    /// Parses the text of a `preprocessor_config.json`; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path, image_size: usize) -> Result<Self, ModelError> {
        let config_error = |reason: String| ModelError::Config {
            path: path.to_owned(),
            reason,
        };
        let raw: RawPreprocessorConfig =
            serde_json::from_str(text).map_err(|e| config_error(format!("invalid JSON: {e}")))?;
        let defaults = Self::vit_defaults(image_size);
        let (width, height) = match &raw.size {
            None => (defaults.width, defaults.height),
            Some(size) => {
                let side = |value: Option<&serde_json::Value>| {
                    value
                        .and_then(serde_json::Value::as_u64)
                        .and_then(|side| u32::try_from(side).ok())
                };
                match (
                    side(size.get("width")),
                    side(size.get("height")),
                    side(Some(size)),
                ) {
                    (Some(w), Some(h), _) => (w, h),
                    (_, _, Some(s)) => (s, s),
                    _ => {
                        return Err(config_error(format!(
                            "size {size} is not {{\"height\", \"width\"}}"
                        )));
                    }
                }
            }
        };
        let resample = match raw.resample {
            None => defaults.resample,
            Some(code) => Resample::from_pillow(code)
                .ok_or_else(|| config_error(format!("resample {code} is not supported (1–5)")))?,
        };
        let channels = |values: Option<Vec<f32>>, fallback: [f32; 3], key: &str| match values {
            None => Ok(fallback),
            Some(v) if v.len() == 3 => Ok([v[0], v[1], v[2]]),
            Some(v) if v.len() == 1 => Ok([v[0]; 3]),
            Some(v) => Err(config_error(format!(
                "{key} has {} values, expected 3",
                v.len()
            ))),
        };
        let image_std = channels(raw.image_std, defaults.image_std, "image_std")?;
        if image_std.contains(&0.0) {
            return Err(config_error("image_std contains zero".to_owned()));
        }
        Ok(Self {
            do_resize: raw.do_resize.unwrap_or(true),
            width,
            height,
            resample,
            do_rescale: raw.do_rescale.unwrap_or(true),
            rescale_factor: raw.rescale_factor.unwrap_or(defaults.rescale_factor),
            do_normalize: raw.do_normalize.unwrap_or(true),
            image_mean: channels(raw.image_mean, defaults.image_mean, "image_mean")?,
            image_std,
        })
    }
}

impl PreprocessorConfig {
    /// Checks that images come out at the size the model takes (`path` names the file).
    pub fn fits(&self, image_size: usize, path: &Path) -> Result<(), ModelError> {
        if self.width as usize == image_size && self.height as usize == image_size {
            return Ok(());
        }
        Err(ModelError::Config {
            path: path.to_owned(),
            reason: format!(
                "resizes to {}x{} but the model takes {image_size}x{image_size}",
                self.width, self.height
            ),
        })
    }
}

/// The largest configuration file read (transformers' are a few kilobytes).
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// The text of a configuration file, refused unread past [`MAX_CONFIG_BYTES`].
fn read_config_text(path: &Path) -> Result<String, ModelError> {
    use std::io::Read as _;
    let io_error = |source| ModelError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ModelError::Config {
            path: path.to_owned(),
            reason: format!("larger than {MAX_CONFIG_BYTES} bytes: not a model configuration"),
        });
    }
    String::from_utf8(bytes).map_err(|_| ModelError::Config {
        path: path.to_owned(),
        reason: "not UTF-8 text".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_no_vit_can_have_are_refused_with_the_reason() {
        let base = VitConfig::default();
        assert_eq!(base.validate(), Ok(()));
        let cases = [
            (
                VitConfig {
                    num_channels: 4,
                    ..base.clone()
                },
                "num_channels is 4",
            ),
            (
                VitConfig {
                    image_size: 0,
                    ..base.clone()
                },
                "image_size 0",
            ),
            (
                VitConfig {
                    image_size: 230,
                    ..base.clone()
                },
                "not a multiple of patch_size",
            ),
            (
                VitConfig {
                    hidden_size: 770,
                    ..base.clone()
                },
                "not divisible by num_attention_heads",
            ),
            (
                VitConfig {
                    hidden_size: 1 << 40,
                    num_attention_heads: 1,
                    ..base.clone()
                },
                "sizes past any ViT",
            ),
        ];
        for (config, expected) in cases {
            let error = config.validate().expect_err(expected);
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn defaults_are_vit_base_16() {
        let config: VitConfig = serde_json::from_str("{}").expect("parse");
        assert_eq!(config.hidden_size, 768);
        assert_eq!(config.sequence_length(), 197);
        assert_eq!(config.activation(), Ok(Activation::GeluErf));
    }

    #[test]
    fn inconsistent_sizes_are_rejected() {
        let config = VitConfig {
            hidden_size: 30,
            num_attention_heads: 4,
            ..VitConfig::default()
        };
        assert!(config.validate().expect_err("30/4").contains("divisible"));
    }

    #[test]
    fn pillow_filters_are_normalised_at_the_centre() {
        for filter in [
            Resample::Bilinear,
            Resample::Bicubic,
            Resample::Lanczos,
            Resample::Hamming,
        ] {
            assert!((filter.weight(0.0) - 1.0).abs() < 1e-12, "{filter:?}");
            assert!(
                filter.weight(filter.support() + 0.01).abs() < f64::EPSILON,
                "{filter:?}"
            );
        }
    }
}

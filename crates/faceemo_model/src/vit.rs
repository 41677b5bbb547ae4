//! ViT as transformers implements it, with the module tree named as transformers names it,
//! so a HuggingFace checkpoint's keys map onto these fields without a remapping table.
//!
//! Patch embedding (a stride-`patch` convolution, patches row by row), CLS token first,
//! learned position embeddings added, pre-LayerNorm encoder blocks (self-attention with
//! contiguous head slices scaled by `1/√d_head`, then the MLP), a final LayerNorm, and a
//! linear classifier on token 0. See `modeling_vit.py` in transformers.

use burn::module::{Initializer, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation;

use crate::config::{Activation, VitConfig};

/// `ViTForImageClassification`: the ViT and a linear head on the CLS token.
#[derive(Module, Debug)]
pub struct VitForImageClassification {
    /// The backbone (`vit.*` in the checkpoint).
    pub vit: VitModel,
    /// The head (`classifier.*`).
    pub classifier: Linear,
}

/// `ViTModel` without a pooler.
#[derive(Module, Debug)]
pub struct VitModel {
    /// Patch, CLS and position embeddings.
    pub embeddings: VitEmbeddings,
    /// The transformer blocks.
    pub encoder: VitEncoder,
    /// The final LayerNorm; its output at token 0 is the CLS feature.
    pub layernorm: LayerNorm,
}

/// `ViTEmbeddings`.
#[derive(Module, Debug)]
pub struct VitEmbeddings {
    /// The learned CLS token, `[1, 1, hidden]`.
    pub cls_token: Param<Tensor<3>>,
    /// Learned position embeddings, `[1, patches + 1, hidden]`.
    pub position_embeddings: Param<Tensor<3>>,
    /// The patch projection.
    pub patch_embeddings: VitPatchEmbeddings,
}

/// `ViTPatchEmbeddings`.
#[derive(Module, Debug)]
pub struct VitPatchEmbeddings {
    /// `patch × patch` convolution with stride `patch`.
    pub projection: Conv2d,
}

/// `ViTEncoder`.
#[derive(Module, Debug)]
pub struct VitEncoder {
    /// The blocks, in order (`layer.0`, `layer.1`, …).
    pub layer: Vec<VitLayer>,
}

/// `ViTLayer`: one pre-LayerNorm block.
#[derive(Module, Debug)]
pub struct VitLayer {
    /// Self-attention and its output projection.
    pub attention: VitAttention,
    /// The MLP's first projection and activation.
    pub intermediate: VitIntermediate,
    /// The MLP's second projection.
    pub output: VitOutput,
    /// LayerNorm before attention.
    pub layernorm_before: LayerNorm,
    /// LayerNorm before the MLP.
    pub layernorm_after: LayerNorm,
}

/// `ViTAttention`.
#[derive(Module, Debug)]
pub struct VitAttention {
    /// Query, key and value projections.
    pub attention: VitSelfAttention,
    /// The output projection.
    pub output: VitSelfOutput,
}

/// `ViTSelfAttention`.
#[derive(Module, Debug)]
pub struct VitSelfAttention {
    /// Query projection.
    pub query: Linear,
    /// Key projection.
    pub key: Linear,
    /// Value projection.
    pub value: Linear,
    /// Number of heads.
    pub num_heads: usize,
}

/// `ViTSelfOutput`.
#[derive(Module, Debug)]
pub struct VitSelfOutput {
    /// The projection after attention.
    pub dense: Linear,
}

/// `ViTIntermediate`.
#[derive(Module, Debug)]
pub struct VitIntermediate {
    /// hidden → intermediate.
    pub dense: Linear,
    /// 0: exact GELU, 1: tanh GELU, 2: ReLU.
    pub activation: usize,
}

/// `ViTOutput`.
#[derive(Module, Debug)]
pub struct VitOutput {
    /// intermediate → hidden.
    pub dense: Linear,
}

/// The outputs of one forward pass.
#[derive(Debug)]
pub struct VitOutputs {
    /// CLS feature: the final LayerNorm's output at token 0, `[batch, hidden]`.
    pub cls: Tensor<2>,
    /// Logits, `[batch, classes]`.
    pub logits: Tensor<2>,
}

impl VitForImageClassification {
    /// A model of the configured shape with zero-initialised (lazy) parameters, ready to load.
    pub fn new(config: &VitConfig, num_labels: usize, device: &Device) -> Self {
        let hidden = config.hidden_size;
        let layer_norm = || {
            LayerNormConfig::new(hidden)
                .with_epsilon(config.layer_norm_eps)
                .init(device)
        };
        let linear = |d_in: usize, d_out: usize, bias: bool| {
            LinearConfig::new(d_in, d_out).with_bias(bias).init(device)
        };
        let activation = match config.activation() {
            Ok(Activation::GeluTanh) => 1,
            Ok(Activation::Relu) => 2,
            Ok(Activation::GeluErf) | Err(_) => 0,
        };
        let layer = (0..config.num_hidden_layers)
            .map(|_| VitLayer {
                attention: VitAttention {
                    attention: VitSelfAttention {
                        query: linear(hidden, hidden, config.qkv_bias),
                        key: linear(hidden, hidden, config.qkv_bias),
                        value: linear(hidden, hidden, config.qkv_bias),
                        num_heads: config.num_attention_heads,
                    },
                    output: VitSelfOutput {
                        dense: linear(hidden, hidden, true),
                    },
                },
                intermediate: VitIntermediate {
                    dense: linear(hidden, config.intermediate_size, true),
                    activation,
                },
                output: VitOutput {
                    dense: linear(config.intermediate_size, hidden, true),
                },
                layernorm_before: layer_norm(),
                layernorm_after: layer_norm(),
            })
            .collect();
        let patch = config.patch_size;
        Self {
            vit: VitModel {
                embeddings: VitEmbeddings {
                    cls_token: Initializer::Zeros.init([1, 1, hidden], device),
                    position_embeddings: Initializer::Zeros
                        .init([1, config.sequence_length(), hidden], device),
                    patch_embeddings: VitPatchEmbeddings {
                        projection: Conv2dConfig::new(
                            [config.num_channels, hidden],
                            [patch, patch],
                        )
                        .with_stride([patch, patch])
                        .with_padding(PaddingConfig2d::Valid)
                        .with_bias(true)
                        .init(device),
                    },
                },
                encoder: VitEncoder { layer },
                layernorm: layer_norm(),
            },
            classifier: linear(hidden, num_labels, true),
        }
    }

    /// Runs the model on normalised pixels `[batch, channels, height, width]`.
    pub fn forward(&self, pixels: Tensor<4>) -> VitOutputs {
        let cls = self.vit.cls_features(pixels);
        let logits = self.classifier.forward(cls.clone());
        VitOutputs { cls, logits }
    }
}

impl VitModel {
    /// The final LayerNorm's output at token 0: the release's feature.
    pub fn cls_features(&self, pixels: Tensor<4>) -> Tensor<2> {
        let mut hidden = self.embeddings.forward(pixels);
        for layer in &self.encoder.layer {
            hidden = layer.forward(hidden);
        }
        let hidden = self.layernorm.forward(hidden);
        let [batch, _, width] = hidden.dims();
        hidden
            .slice([0..batch, 0..1, 0..width])
            .reshape([batch, width])
    }
}

impl VitEmbeddings {
    fn forward(&self, pixels: Tensor<4>) -> Tensor<3> {
        let patches = self.patch_embeddings.projection.forward(pixels);
        let [batch, width, rows, cols] = patches.dims();
        let tokens = patches.reshape([batch, width, rows * cols]).swap_dims(1, 2);
        let cls = self.cls_token.val().expand([batch, 1, width]);
        Tensor::cat(vec![cls, tokens], 1) + self.position_embeddings.val()
    }
}

impl VitLayer {
    fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        let attended = self
            .attention
            .forward(self.layernorm_before.forward(hidden.clone()));
        let hidden = hidden + attended;
        let mlp = self
            .intermediate
            .forward(self.layernorm_after.forward(hidden.clone()));
        hidden + self.output.dense.forward(mlp)
    }
}

impl VitAttention {
    fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        self.output.dense.forward(self.attention.forward(hidden))
    }
}

impl VitSelfAttention {
    fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        let [batch, tokens, width] = hidden.dims();
        let heads = self.num_heads;
        let head_width = width / heads;
        let split_heads = |x: Tensor<3>| {
            x.reshape([batch, tokens, heads, head_width])
                .swap_dims(1, 2)
        };
        let query = split_heads(self.query.forward(hidden.clone()));
        let key = split_heads(self.key.forward(hidden.clone()));
        let value = split_heads(self.value.forward(hidden));
        let scores = query.matmul(key.swap_dims(2, 3)) / (head_width as f64).sqrt();
        let weights = activation::softmax(scores, 3);
        weights
            .matmul(value)
            .swap_dims(1, 2)
            .reshape([batch, tokens, width])
    }
}

impl VitIntermediate {
    fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        let projected = self.dense.forward(hidden);
        match self.activation {
            1 => activation::gelu_approximate(projected),
            2 => activation::relu(projected),
            _ => activation::gelu(projected),
        }
    }
}

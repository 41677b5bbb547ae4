//! Loading HuggingFace weights (`model.safetensors`, else `pytorch_model.bin`) into the model.
//!
//! The module tree mirrors transformers' names, so keys match as they are; the PyTorch
//! adapter transposes Linear weights and maps LayerNorm `weight`/`bias`. The PyTorch
//! reader interprets pickles itself and executes no pickled code. Every missing,
//! unexpected or wrongly shaped tensor is reported by name.

use std::path::{Path, PathBuf};

use burn::store::{
    ApplyResult, FloatCastAdapter, ModuleAdapter as _, ModuleSnapshot as _, PyTorchToBurnAdapter,
    PytorchStore, SafetensorsStore,
};
use burn::tensor::DType;

use crate::ModelError;
use crate::vit::VitForImageClassification;

/// The weights file of a model folder: `model.safetensors`, else `pytorch_model.bin`.
pub fn weights_file(folder: &Path) -> Result<PathBuf, ModelError> {
    ["model.safetensors", "pytorch_model.bin"]
        .iter()
        .map(|name| folder.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| ModelError::NoWeights {
            folder: folder.to_owned(),
        })
}

/// transformers 5 renamed the modules it holds in memory (`vit.layers.N.attention.q_proj`,
/// `mlp.fc1`, …); `save_pretrained` writes the classic names, but a state dict saved by hand
/// carries the new ones. Both map onto the classic tree. Anchored; applied in order.
const TRANSFORMERS5_NAMES: [(&str, &str); 7] = [
    (
        r"^vit\.layers\.(\d+)\.attention\.q_proj\.",
        "vit.encoder.layer.$1.attention.attention.query.",
    ),
    (
        r"^vit\.layers\.(\d+)\.attention\.k_proj\.",
        "vit.encoder.layer.$1.attention.attention.key.",
    ),
    (
        r"^vit\.layers\.(\d+)\.attention\.v_proj\.",
        "vit.encoder.layer.$1.attention.attention.value.",
    ),
    (
        r"^vit\.layers\.(\d+)\.attention\.o_proj\.",
        "vit.encoder.layer.$1.attention.output.dense.",
    ),
    (
        r"^vit\.layers\.(\d+)\.mlp\.fc1\.",
        "vit.encoder.layer.$1.intermediate.dense.",
    ),
    (
        r"^vit\.layers\.(\d+)\.mlp\.fc2\.",
        "vit.encoder.layer.$1.output.dense.",
    ),
    (
        r"^vit\.layers\.(\d+)\.(layernorm_before|layernorm_after)\.",
        "vit.encoder.layer.$1.$2.",
    ),
];

/// Loads `path` into `model`, failing with every tensor that does not fit.
pub fn load_weights(model: &mut VitForImageClassification, path: &Path) -> Result<(), ModelError> {
    let store_error = |message: String| ModelError::Weights {
        path: path.to_owned(),
        problems: message,
    };
    let is_pytorch = path
        .extension()
        .is_some_and(|ext| ext == "bin" || ext == "pt" || ext == "pth");
    let result = if is_pytorch {
        let mut store = PytorchStore::from_file(path);
        for (pattern, replacement) in TRANSFORMERS5_NAMES {
            store = store.with_key_remapping(pattern, replacement);
        }
        let mut store = store
            .allow_partial(true)
            .validate(false)
            .map_indices_contiguous(false);
        model
            .load_from(&mut store)
            .map_err(|e| store_error(format!("cannot read the PyTorch checkpoint: {e}")))?
    } else {
        let mut store = SafetensorsStore::from_file(path);
        for (pattern, replacement) in TRANSFORMERS5_NAMES {
            store = store.with_key_remapping(pattern, replacement);
        }
        let mut store = store
            .with_from_adapter(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32)))
            .allow_partial(true)
            .validate(false);
        model
            .load_from(&mut store)
            .map_err(|e| store_error(format!("cannot read the safetensors file: {e}")))?
    };
    let problems = describe_problems(&result);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(store_error(problems.join("; ")))
    }
}

/// One line per tensor that did not load, in the checkpoint's (HuggingFace) naming.
fn describe_problems(result: &ApplyResult) -> Vec<String> {
    let hf_name = |burn_path: &str| {
        burn_path
            .replace(".gamma", ".weight")
            .replace(".beta", ".bias")
    };
    let mut problems: Vec<String> = result
        .missing
        .iter()
        .map(|(path, _)| format!("missing tensor {}", hf_name(path)))
        .collect();
    problems.extend(
        result
            .unused
            .iter()
            .map(|name| format!("unexpected tensor {name}")),
    );
    problems.extend(result.errors.iter().map(ToString::to_string));
    problems.sort();
    problems
}

#!/usr/bin/env python3
"""Builds small seeded random ViTs with HuggingFace transformers and writes reference outputs.

The Rust model crate is tested against these (tests/fixtures/models/, tests/fixtures/images/):
- tiny32:      32x32 input, patch 8, mean = std = 0.5 (the release's preprocessing)
- tiny224:     224x224 input, patch 16, ImageNet mean/std (so the config really is read)
- tiny32_bin:  tiny32's weights as a PyTorch pytorch_model.bin (zip pickle) instead of safetensors
- tiny32_v5_names: tiny32's weights under transformers 5's in-memory names (no preprocessor
               config, so the defaults apply)

Every bias, LayerNorm parameter, the CLS token and the position embeddings are drawn at random
(weights with a large initializer range), so any tensor the Rust side maps wrongly changes the
outputs. For each model and image it stores, in <model>/reference.npz:
  <image>_resized  uint8 (H, W, 3)   PIL path: exif_transpose, convert("RGB"), resize(BILINEAR)
  <image>_pixels   float32 (3, H, W) ViTImageProcessorPil's pixel_values
  <image>_cls      float32 (hidden,) final LayerNorm output at token 0 (the release's feature)
  <image>_logits, <image>_probs
  batch_cls, batch_logits            the same images in one batch, in IMAGES order

Usage: python3 scripts/make_vit_reference.py   (needs torch, transformers, pillow, numpy)
"""
import json
import os
import shutil

import numpy as np
import torch
from PIL import Image, ImageOps
from transformers import ViTConfig, ViTForImageClassification
from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
IMAGES_DIR = os.path.join(ROOT, "images")
MODELS_DIR = os.path.join(ROOT, "models")
LABELS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]


def make_images():
    os.makedirs(IMAGES_DIR, exist_ok=True)
    rng = np.random.default_rng(7)

    def pattern(h, w, channels):
        y, x = np.mgrid[0:h, 0:w]
        base = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 7) % 256], -1)
        noise = rng.integers(-40, 40, size=(h, w, 3))
        rgb = np.clip(base + noise, 0, 255).astype(np.uint8)
        return rgb[..., :channels] if channels < 3 else rgb

    Image.fromarray(pattern(47, 61, 3), "RGB").save(os.path.join(IMAGES_DIR, "colour.png"))
    Image.fromarray(pattern(40, 40, 3)[..., 0], "L").save(os.path.join(IMAGES_DIR, "gray.png"))
    Image.fromarray(pattern(120, 300, 3), "RGB").save(os.path.join(IMAGES_DIR, "wide.png"))
    Image.fromarray(pattern(200, 40, 3), "RGB").save(os.path.join(IMAGES_DIR, "tall.png"))
    rgba = np.concatenate([pattern(70, 50, 3), rng.integers(0, 256, size=(70, 50, 1)).astype(np.uint8)], -1)
    Image.fromarray(rgba, "RGBA").save(os.path.join(IMAGES_DIR, "alpha.png"))
    Image.fromarray(pattern(90, 110, 3), "RGB").save(os.path.join(IMAGES_DIR, "photo.jpg"), quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display
    Image.fromarray(pattern(30, 52, 3), "RGB").save(os.path.join(IMAGES_DIR, "exif_rotated.png"), exif=exif)
    with open(os.path.join(IMAGES_DIR, "not_an_image.png"), "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n but then nothing sensible")


def load(name):
    image = Image.open(os.path.join(IMAGES_DIR, name))
    return ImageOps.exif_transpose(image)


def make_model(name, image_size, patch_size, hidden, heads, intermediate, mean, std, seed):
    torch.manual_seed(seed)
    config = ViTConfig(
        image_size=image_size, patch_size=patch_size, num_channels=3, hidden_size=hidden,
        num_hidden_layers=2, num_attention_heads=heads, intermediate_size=intermediate,
        hidden_act="gelu", layer_norm_eps=1e-12, qkv_bias=True, initializer_range=0.2,
        id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)},
    )
    model = ViTForImageClassification(config).eval()
    with torch.no_grad():
        for pname, param in model.named_parameters():
            if pname.endswith("bias"):
                param.normal_(0.0, 0.3)
            elif "layernorm" in pname and pname.endswith("weight"):
                param.copy_(1.0 + 0.3 * torch.randn_like(param))
            elif "cls_token" in pname or "position_embeddings" in pname:
                param.normal_(0.0, 0.5)
    folder = os.path.join(MODELS_DIR, name)
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder)
    processor = ViTImageProcessorPil(
        do_resize=True, size={"height": image_size, "width": image_size}, resample=2,
        do_rescale=True, rescale_factor=1 / 255, do_normalize=True, image_mean=mean, image_std=std,
    )
    processor.save_pretrained(folder)
    return model, processor, folder


def reference(model, processor, folder, images):
    arrays = {}
    pixels = []
    size = model.config.image_size
    for name in images:
        key = os.path.splitext(name)[0]
        image = load(name)
        resized = np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR))
        pixel_values = processor(images=image.convert("RGB"), return_tensors="np")["pixel_values"][0].astype(np.float32)
        mean = np.array(processor.image_mean, dtype=np.float32)[:, None, None]
        std = np.array(processor.image_std, dtype=np.float32)[:, None, None]
        own = (resized.transpose(2, 0, 1).astype(np.float32) / 255.0 - mean) / std
        assert np.abs(own - pixel_values).max() < 1e-5, (name, np.abs(own - pixel_values).max())
        with torch.no_grad():
            tensor = torch.from_numpy(pixel_values)[None]
            cls = model.vit(tensor).last_hidden_state[0, 0].numpy()
            logits = model(tensor).logits[0].numpy()
        arrays[f"{key}_resized"] = resized
        arrays[f"{key}_pixels"] = pixel_values
        arrays[f"{key}_cls"] = cls
        arrays[f"{key}_logits"] = logits
        arrays[f"{key}_probs"] = torch.softmax(torch.from_numpy(logits), -1).numpy()
        pixels.append(pixel_values)
    with torch.no_grad():
        batch = torch.from_numpy(np.stack(pixels))
        arrays["batch_cls"] = model.vit(batch).last_hidden_state[:, 0].numpy()
        arrays["batch_logits"] = model(batch).logits.numpy()
    np.savez_compressed(os.path.join(folder, "reference.npz"), **arrays)
    with open(os.path.join(folder, "reference_images.json"), "w") as out:
        json.dump({"images": images, "torch": torch.__version__}, out, indent=1)


def main():
    torch.set_num_threads(1)
    make_images()
    all_images = ["colour.png", "gray.png", "wide.png", "tall.png", "alpha.png", "photo.jpg", "exif_rotated.png"]
    model, processor, folder = make_model("tiny32", 32, 8, 32, 4, 64, [0.5] * 3, [0.5] * 3, seed=1)
    reference(model, processor, folder, all_images)
    bin_folder = os.path.join(MODELS_DIR, "tiny32_bin")
    shutil.rmtree(bin_folder, ignore_errors=True)
    os.makedirs(bin_folder)
    shutil.copy(os.path.join(folder, "config.json"), bin_folder)
    shutil.copy(os.path.join(folder, "preprocessor_config.json"), bin_folder)
    # The hub's pickles use the classic (transformers 4) names that save_pretrained writes.
    from safetensors.torch import load_file, save_file
    classic = load_file(os.path.join(folder, "model.safetensors"))
    torch.save(classic, os.path.join(bin_folder, "pytorch_model.bin"))
    # transformers 5's in-memory names (vit.layers.N.attention.q_proj, mlp.fc1, ...), as a
    # state_dict saved by hand carries them.
    v5_folder = os.path.join(MODELS_DIR, "tiny32_v5_names")
    shutil.rmtree(v5_folder, ignore_errors=True)
    os.makedirs(v5_folder)
    shutil.copy(os.path.join(folder, "config.json"), v5_folder)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              os.path.join(v5_folder, "model.safetensors"))
    model, processor, folder = make_model(
        "tiny224", 224, 16, 48, 4, 96, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], seed=2)
    reference(model, processor, folder, ["colour.png", "wide.png", "alpha.png"])
    print(f"fixtures written to {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()

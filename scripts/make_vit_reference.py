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

It also runs feature inversion in PyTorch on tiny224 (inversion_reference.npz), with the
objective, start, Adam and schedule of crates/faceemo_inversion, so the Rust loss curve can be
checked step by step against PyTorch's:
  loss, feature_mse, one_minus_cosine, logit, total_variation, l2   float64 (steps,)
  final_cosine      cosine of the final 8-bit image's CLS to the target
  target            the target image's name; settings in inversion_reference.json

Usage: python3 scripts/make_vit_reference.py [--inversion-only]
       (needs torch, transformers, pillow, numpy)
"""
import json
import math
import os
import shutil
import sys

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


class SplitMix64:
    """The generator of crates/faceemo_jobs (same numbers for the same seed)."""
    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next_u64() >> 11) / float(1 << 53)


# The defaults of faceemo_inversion::InversionSettings / Objective.
INVERSION = dict(steps=200, learning_rate=0.1, final_fraction=0.05, feature_mse=1.0,
                 feature_cosine=1.0, logit=0.0, total_variation=0.05, l2=0.001, seed=3)


def inversion_reference():
    folder = os.path.join(MODELS_DIR, "tiny224")
    model = ViTForImageClassification.from_pretrained(folder).eval()
    for param in model.parameters():
        param.requires_grad_(False)
    with open(os.path.join(folder, "preprocessor_config.json")) as f:
        pre = json.load(f)
    mean = np.array(pre["image_mean"], dtype=np.float32)
    std = np.array(pre["image_std"], dtype=np.float32)
    rescale = np.float32(np.float64(255.0) * pre["rescale_factor"])
    low = (np.float32(0.0) - mean) / std
    high = (rescale - mean) / std
    side = model.config.image_size
    reference = np.load(os.path.join(folder, "reference.npz"))
    target_cls = torch.from_numpy(reference["colour_cls"])[None]
    target_probs = torch.softmax(torch.from_numpy(reference["colour_logits"])[None], -1)
    cfg = INVERSION

    random = SplitMix64(cfg["seed"])
    start = np.empty((3, side * side), dtype=np.float32)
    for c in range(3):
        for i in range(side * side):
            level = np.float32(0.25 + 0.5 * random.uniform())
            start[c, i] = low[c] + level * (high[c] - low[c])
    image = torch.from_numpy(start.reshape(1, 3, side, side)).requires_grad_(True)
    low_t = torch.from_numpy(low)[None, :, None, None]
    high_t = torch.from_numpy(high)[None, :, None, None]
    optimiser = torch.optim.Adam([image], lr=cfg["learning_rate"], foreach=False)
    curve = {k: [] for k in ["loss", "feature_mse", "one_minus_cosine", "logit", "total_variation", "l2"]}
    best = (-2.0, image.detach().clone())
    for step in range(cfg["steps"]):
        floor = cfg["learning_rate"] * cfg["final_fraction"]
        lr = floor + (cfg["learning_rate"] - floor) * 0.5 * (1 + math.cos(math.pi * step / cfg["steps"]))
        for group in optimiser.param_groups:
            group["lr"] = lr
        optimiser.zero_grad()
        cls = model.vit(image).last_hidden_state[:, 0]
        logits = model.classifier(cls)
        mse = ((cls - target_cls) ** 2).mean()
        one_minus_cos = 1 - (cls * target_cls).sum() / ((cls ** 2).sum().sqrt() * (target_cls ** 2).sum().sqrt() + 1e-12)
        logit = -(target_probs * torch.log_softmax(logits, 1)).sum()
        tv = ((image[..., 1:] - image[..., :-1]) ** 2).mean() + ((image[..., 1:, :] - image[..., :-1, :]) ** 2).mean()
        l2 = (image ** 2).mean()
        loss = (cfg["feature_mse"] * mse + cfg["feature_cosine"] * one_minus_cos + cfg["logit"] * logit
                + cfg["total_variation"] * tv + cfg["l2"] * l2)
        for key, value in zip(curve, [loss, mse, one_minus_cos, logit, tv, l2]):
            curve[key].append(float(value))
        if 1 - float(one_minus_cos) > best[0]:
            best = (1 - float(one_minus_cos), image.detach().clone())
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            image.copy_(torch.max(torch.min(image, high_t), low_t))

    def eight_bit_cosine(pixels):
        levels = np.clip(np.round((pixels[0].numpy().astype(np.float64) * std[:, None, None] + mean[:, None, None])
                                  / pre["rescale_factor"]), 0, 255)
        values = ((levels * pre["rescale_factor"]).astype(np.float32) - mean[:, None, None]) / std[:, None, None]
        with torch.no_grad():
            cls = model.vit(torch.from_numpy(values.astype(np.float32))[None]).last_hidden_state[0, 0]
        return float(torch.nn.functional.cosine_similarity(cls, target_cls[0], dim=0))

    final_cosine = max(eight_bit_cosine(image.detach()), eight_bit_cosine(best[1]))
    arrays = {k: np.array(v, dtype=np.float64) for k, v in curve.items()}
    arrays["final_cosine"] = np.array(final_cosine)
    np.savez_compressed(os.path.join(folder, "inversion_reference.npz"), **arrays)
    with open(os.path.join(folder, "inversion_reference.json"), "w") as out:
        json.dump({"target": "colour.png", "settings": cfg, "torch": torch.__version__,
                   "final_cosine": final_cosine}, out, indent=1)
    print(f"inversion: loss {curve['loss'][0]:.4f} -> {curve['loss'][-1]:.4f}, final cosine {final_cosine:.4f}")


def main():
    torch.set_num_threads(1)
    if "--inversion-only" in sys.argv:
        inversion_reference()
        return
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
    inversion_reference()
    print(f"fixtures written to {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()

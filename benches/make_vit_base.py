#!/usr/bin/env python3
"""Writes a seeded random ViT-Base/16 (224x224, 7 labels) in HuggingFace layout for the
benchmarks, plus reference outputs for a batch of fixture images, so the Rust side can
show parity at full size too. Usage: make_vit_base.py OUT_DIR"""
import os
import sys

import numpy as np
import torch
from PIL import Image
from transformers import ViTConfig, ViTForImageClassification
try:
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil
except ImportError:  # transformers releases before the PIL / torchvision processor split
    from transformers import ViTImageProcessor as ViTImageProcessorPil

LABELS = ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
IMAGES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "images")


def main(folder):
    torch.manual_seed(0)
    config = ViTConfig(id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    model = ViTForImageClassification(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias") or "cls_token" in name or "position_embeddings" in name:
                param.normal_(0.0, 0.1)
    model.save_pretrained(folder)
    processor = ViTImageProcessorPil(size={"height": 224, "width": 224}, resample=2,
                                     image_mean=[0.5] * 3, image_std=[0.5] * 3)
    processor.save_pretrained(folder)
    names = ["colour.png", "wide.png", "alpha.png", "photo.jpg"]
    pixels = np.stack([processor(images=Image.open(os.path.join(IMAGES, n)).convert("RGB"),
                                 return_tensors="np")["pixel_values"][0] for n in names]).astype(np.float32)
    with torch.no_grad():
        batch = torch.from_numpy(pixels)
        cls = model.vit(batch).last_hidden_state[:, 0].numpy()
        logits = model(batch).logits.numpy()
    np.savez(os.path.join(folder, "reference.npz"), pixels=pixels, cls=cls, logits=logits)
    print(f"ViT-B/16 written to {folder}")


if __name__ == "__main__":
    main(sys.argv[1])

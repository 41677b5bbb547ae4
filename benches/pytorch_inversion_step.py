#!/usr/bin/env python3
"""The peer of the inversion benchmark: the same objective, start, Adam and schedule as
crates/faceemo_inversion (see scripts/make_vit_reference.py), run in PyTorch on the same
model, same thread count (on the GPU with DEVICE=cuda). Prints the median seconds per step
and the final cosine; with UNTIL_COSINE=C it stops, as `faceemo invert --until-cosine C` does,
at the first step whose CLS cosine reaches C with the target's class kept, and prints that
step and the seconds from the start of the optimisation.
Usage: pytorch_inversion_step.py MODEL_DIR IMAGE STEPS THREADS [DEVICE]"""
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image
from transformers import ViTForImageClassification
try:
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil
except ImportError:  # transformers releases before the PIL / torchvision processor split
    from transformers import ViTImageProcessor as ViTImageProcessorPil

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from make_vit_reference import INVERSION, SplitMix64  # noqa: E402


def synchronise(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main(folder, image_path, steps, threads, device="cpu"):
    torch.set_num_threads(threads)
    model = ViTForImageClassification.from_pretrained(folder).eval().to(device)
    for param in model.parameters():
        param.requires_grad_(False)
    processor = ViTImageProcessorPil.from_pretrained(folder)
    pixels = processor(images=Image.open(image_path).convert("RGB"), return_tensors="pt")["pixel_values"].to(device)
    with torch.no_grad():
        target_cls = model.vit(pixels).last_hidden_state[:, 0]
        target_class = int(model.classifier(target_cls).argmax())
    until = float(os.environ["UNTIL_COSINE"]) if os.environ.get("UNTIL_COSINE") else None
    reached = None
    mean = np.array(processor.image_mean, dtype=np.float32)
    std = np.array(processor.image_std, dtype=np.float32)
    low = torch.from_numpy((0.0 - mean) / std)[None, :, None, None].to(device)
    high = torch.from_numpy((1.0 - mean) / std)[None, :, None, None].to(device)
    side = model.config.image_size
    random = SplitMix64(0)  # the default seed of InversionSettings
    start = np.empty((3, side * side), dtype=np.float32)
    for c in range(3):
        lo, hi = float(low[0, c, 0, 0]), float(high[0, c, 0, 0])
        for i in range(side * side):
            start[c, i] = lo + np.float32(0.25 + 0.5 * random.uniform()) * (hi - lo)
    image = torch.from_numpy(start.reshape(1, 3, side, side)).to(device).requires_grad_(True)
    cfg = INVERSION
    optimiser = torch.optim.Adam([image], lr=cfg["learning_rate"])
    times = []
    started = time.perf_counter()
    for step in range(steps):
        synchronise(device)
        begin = time.perf_counter()
        floor = cfg["learning_rate"] * cfg["final_fraction"]
        for group in optimiser.param_groups:
            group["lr"] = floor + (cfg["learning_rate"] - floor) * 0.5 * (1 + math.cos(math.pi * step / steps))
        optimiser.zero_grad()
        cls = model.vit(image).last_hidden_state[:, 0]
        mse = ((cls - target_cls) ** 2).mean()
        cos = (cls * target_cls).sum() / (cls.norm() * target_cls.norm() + 1e-12)
        if until is not None and float(cos.detach()) >= until and int(model.classifier(cls.detach()).argmax()) == target_class:
            synchronise(device)
            reached = (step, time.perf_counter() - started)
            break
        tv = ((image[..., 1:] - image[..., :-1]) ** 2).mean() + ((image[..., 1:, :] - image[..., :-1, :]) ** 2).mean()
        loss = cfg["feature_mse"] * mse + cfg["feature_cosine"] * (1 - cos) + cfg["total_variation"] * tv \
            + cfg["l2"] * (image ** 2).mean()
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            image.copy_(torch.max(torch.min(image, high), low))
        synchronise(device)
        times.append(time.perf_counter() - begin)
    if until is not None:
        print(f"pytorch {torch.__version__} {device} threads {threads}: cosine {until} "
              + (f"reached at step {reached[0]} after {reached[1]:.1f} s" if reached else f"not reached in {steps} steps"))
    with torch.no_grad():
        final = model.vit(image).last_hidden_state[0, 0]
    cosine = float(torch.nn.functional.cosine_similarity(final, target_cls[0], dim=0))
    print(f"pytorch {torch.__version__} {device} threads {threads}: {len(times)} steps in {sum(times):.1f} s; "
          f"median step {statistics.median(times[1:] or times):.3f} s (first step excluded); final cosine {cosine:.4f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), *sys.argv[5:6])

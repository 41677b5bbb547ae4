#!/usr/bin/env python3
"""The peer of the ViT benchmark: transformers' ViTForImageClassification forward in PyTorch,
batch 1 and batch 16 at 224x224, with the same thread count as the Rust side; on the GPU with DEVICE=cuda.
Usage: pytorch_vit_forward.py MODEL_DIR THREADS RUNS [DEVICE]"""
import statistics
import sys
import time

import torch
from transformers import ViTForImageClassification


def synchronise(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main(folder, threads, runs, device="cpu"):
    torch.set_num_threads(threads)
    model = ViTForImageClassification.from_pretrained(folder).eval().to(device)
    for batch in (1, 16):
        pixels = torch.randn(batch, 3, 224, 224, device=device)
        with torch.inference_mode():
            model(pixels)  # warm-up
            times = []
            for _ in range(runs):
                synchronise(device)
                start = time.perf_counter()
                model(pixels)
                synchronise(device)
                times.append(time.perf_counter() - start)
        print(f"pytorch {torch.__version__} {device} threads {threads}: batch {batch}: "
              f"runs {' '.join(f'{t:.3f}' for t in times)} s; median {statistics.median(times):.3f} s; "
              f"{batch / statistics.median(times):.2f} images/s")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:5])

#!/usr/bin/env python3
"""The peer of the ViT benchmark: transformers' ViTForImageClassification forward in PyTorch,
batch 1 and batch 16 at 224x224, with the same thread count as the Rust side.
Usage: pytorch_vit_forward.py MODEL_DIR THREADS RUNS"""
import statistics
import sys
import time

import torch
from transformers import ViTForImageClassification


def main(folder, threads, runs):
    torch.set_num_threads(threads)
    model = ViTForImageClassification.from_pretrained(folder).eval()
    for batch in (1, 16):
        pixels = torch.randn(batch, 3, 224, 224)
        with torch.inference_mode():
            model(pixels)  # warm-up
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                model(pixels)
                times.append(time.perf_counter() - start)
        print(f"pytorch {torch.__version__} threads {threads}: batch {batch}: "
              f"runs {' '.join(f'{t:.3f}' for t in times)} s; median {statistics.median(times):.3f} s; "
              f"{batch / statistics.median(times):.2f} images/s")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))

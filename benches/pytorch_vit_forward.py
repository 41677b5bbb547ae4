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


# Floating-point operations of one ViT-B/16 forward at 224x224, counted as benches/vit_forward.rs does.
TOKENS, WIDTH, MLP, LAYERS = 197, 768, 3072, 12
FLOPS = 2 * 196 * 768 * WIDTH + LAYERS * (2 * TOKENS * WIDTH * 3 * WIDTH + 4 * TOKENS * TOKENS * WIDTH
                                          + 2 * TOKENS * WIDTH * WIDTH + 4 * TOKENS * WIDTH * MLP)


def matmul_peak(device):
    """Best GFLOP/s of a few 3152 x 768 @ 768 x 3072 float32 products (the MLP's first layer at batch 16)."""
    left = torch.rand(16 * TOKENS, WIDTH, device=device)
    right = torch.rand(WIDTH, MLP, device=device)
    left @ right
    best = 0.0
    for _ in range(5):
        synchronise(device)
        start = time.perf_counter()
        left @ right
        synchronise(device)
        best = max(best, 2 * left.shape[0] * WIDTH * MLP / (time.perf_counter() - start) / 1e9)
    return best


def main(folder, threads, runs, device="cpu"):
    torch.set_num_threads(threads)
    peak = matmul_peak(device)
    print(f"pytorch matrix-product peak ({device}, {threads} threads): {peak:.0f} GFLOP/s")
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
              f"{batch / statistics.median(times):.2f} images/s; "
              f"{FLOPS * batch / statistics.median(times) / 1e9:.0f} GFLOP/s, "
              f"{100 * FLOPS * batch / statistics.median(times) / 1e9 / peak:.0f}% of its peak")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:5])

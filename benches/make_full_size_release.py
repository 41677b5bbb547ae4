#!/usr/bin/env python3
"""Writes a full-size stand-in of the release (89,032 x 768 float32, same file names and
metadata columns) with numpy, for the loading and PCA benchmarks: i.i.d. noise, or with
--spectrum features whose explained variance ratios fall as the release's do, without a clear
gap below the top two (0.128, 0.030, 0.027, 0.025, ...: a power-law tail), in a random rotation.
Usage: make_full_size_release.py DIR [--spectrum]"""
import os
import sys

import numpy as np

SPLITS = {"train": 62902, "val": 15946, "test_fer2013": 7178, "test_affectnet": 3006}
DATASETS = ["FaceEmo-Set", "FER2013", "RAF-DB", "RAVDESS"]
EMOTIONS = ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]


def release_like_spectrum(rng, dims=768):
    """Column scales and a rotation giving explained variance ratios 0.128, 0.030, then
    c * i**-0.8 for i >= 3 (c so that they sum to 1)."""
    tail = np.arange(3, dims + 1, dtype=np.float64) ** -0.8
    variances = np.concatenate([[0.128, 0.030], tail * (1 - 0.158) / tail.sum()])
    rotation, _ = np.linalg.qr(rng.standard_normal((dims, dims)))
    return (np.sqrt(variances)[:, None] * rotation.T).astype(np.float32)


def main(folder, spectrum=False):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    mixing = release_like_spectrum(rng) if spectrum else None
    lines = ["sample_id,Dataset,Emotion,Split,valid_image"]
    for split, rows in SPLITS.items():
        features = rng.standard_normal((rows, 768), dtype=np.float32)
        if mixing is not None:
            features = features @ mixing
        logits = rng.standard_normal((rows, 7), dtype=np.float32)
        probs = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
        np.savez(os.path.join(folder, f"combined_vit_features_{split}.npz"),
                 features=features, logits=logits, probs=probs)
        for row in range(rows):
            if split == "test_fer2013":
                dataset, csv_split = "FER2013", "test"
            elif split == "test_affectnet":
                dataset, csv_split = "AffectNet", "test"
            else:
                dataset, csv_split = DATASETS[row % 4], split
            lines.append(f"{split}_{row:06d},{dataset},{EMOTIONS[row % 7]},{csv_split},True")
    with open(os.path.join(folder, "combined_vit_metadata_all.csv"), "w") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], "--spectrum" in sys.argv[2:])

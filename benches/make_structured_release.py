#!/usr/bin/env python3
"""Writes a full-size stand-in of the release with structure a map should show (89,032 x 768
float32, the release's file names and metadata columns): each row is its emotion's centre plus
its dataset's offset plus noise in a 32-d latent space, mixed into 768 dimensions. Pure noise
(make_full_size_release.py) is fine for timing a loader but meaningless for t-SNE quality.
Usage: make_structured_release.py DIR"""
import os
import sys

import numpy as np

SPLITS = {"train": 62902, "val": 15946, "test_fer2013": 7178, "test_affectnet": 3006}
DATASETS = ["FaceEmo-Set", "FER2013", "RAF-DB", "RAVDESS", "AffectNet"]
EMOTIONS = ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]


def main(folder):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(1)
    emotion_centres = rng.normal(scale=3.0, size=(7, 32))
    dataset_offsets = rng.normal(scale=1.5, size=(5, 32))
    mixing = rng.normal(size=(32, 768)) / np.sqrt(32)
    lines = ["sample_id,Dataset,Emotion,Split,valid_image"]
    for split, rows in SPLITS.items():
        if split == "test_fer2013":
            datasets = np.full(rows, 1)
        elif split == "test_affectnet":
            datasets = np.full(rows, 4)
        else:
            datasets = rng.integers(0, 4, size=rows)
        emotions = rng.integers(0, 7, size=rows)
        latent = emotion_centres[emotions] + dataset_offsets[datasets] + rng.normal(size=(rows, 32))
        features = (latent @ mixing + 0.5 * rng.normal(size=(rows, 768))).astype(np.float32)
        logits = (latent @ rng.normal(size=(32, 7)) * 0.3).astype(np.float32)
        probs = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
        np.savez(os.path.join(folder, f"combined_vit_features_{split}.npz"),
                 features=features, logits=logits, probs=probs)
        csv_split = "test" if split.startswith("test") else split
        for row in range(rows):
            lines.append(f"{split}_{row},{DATASETS[datasets[row]]},{EMOTIONS[emotions[row]]},{csv_split},True")
    with open(os.path.join(folder, "combined_vit_metadata_all.csv"), "w") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])

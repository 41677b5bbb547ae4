#!/usr/bin/env python3
"""Writes the fixture release of `faceemo shift` and its reference figures, computed with numpy,
SciPy and scikit-learn as docs/shift-measures.md defines them (scripts/shift_measures.py).

The files are committed (tests/fixtures/shift/); rerun this script only to change them:
`python3 scripts/make_shift_reference.py` (needs numpy, scipy, scikit-learn; seeded, so a rerun
writes the same fixture; the figures can differ in the last digits across library versions).

- release/        a small release: combined_vit_features_{train,val,test_fer2013,test_affectnet}.npz
                  (features (N, 16), logits and probs (N, 7), float32; probs = softmax(logits))
                  and combined_vit_metadata_all.csv. Five datasets, each with an offset, seven
                  emotions, each with a centre; RAVDESS has no disgust in val and AffectNet no fear
                  at all (null recalls); logits follow the truth with per-dataset strength and a
                  per-row temperature, so accuracy is ~0.5-0.8 and confidences fill most bins.
- a.csv, b.csv    two selections as the window exports them (split,row,sample_id,dataset,emotion):
                  A = 60 FER2013 train rows, B = every test_affectnet row.
- reference.json  {"full": REPORT (sample 1000, seed 0: nothing is sampled),
                   "sampled": REPORT (sample 40, seed 7: SplitMix64 samples),
                   "samples": {dataset: the sampled report's rows, as indices within the dataset's
                               rows in release order},
                   "comparison": {"a": M, "b": M, "pair": {...}} (sample 1000, seed 0),
                   "settings": {...}}
                  REPORT has the layout of `faceemo shift --json` less sampling, notes and seconds.
                  mmd_p comes from numpy's own permutations: compare it loosely.
"""
import csv
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shift_measures as sm  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "shift")
DIM = 16
SIZES = {"train": 400, "val": 150, "test_fer2013": 120, "test_affectnet": 80}
MIXED = ["FaceEmo-Set", "FER2013", "RAF-DB", "RAVDESS"]  # the datasets of train and val
SHARE = [0.3, 0.3, 0.2, 0.2]
# Per dataset: how strongly the logits follow the truth, and the class priors.
STRENGTH = {"FaceEmo-Set": 2.4, "FER2013": 1.7, "RAF-DB": 2.1, "RAVDESS": 2.8, "AffectNet": 1.3}
PRIORS = {
    "FaceEmo-Set": [1, 1, 1, 2, 2, 1, 1],
    "FER2013": [2, 1, 2, 3, 2, 2, 1],
    "RAF-DB": [1, 1, 1, 3, 2, 1, 2],
    "RAVDESS": [2, 1, 2, 1, 1, 2, 2],
    "AffectNet": [2, 1, 0, 3, 3, 2, 1],
}
SETTINGS = {"full": {"sample": 1000, "seed": 0}, "sampled": {"sample": 40, "seed": 7},
            "comparison": {"sample": 1000, "seed": 0}}


def make_release(folder):
    rng = np.random.default_rng(20250601)
    centres = rng.normal(scale=0.7, size=(7, DIM))
    offsets = {name: rng.normal(scale=0.35, size=DIM) for name in MIXED + ["AffectNet"]}
    # RAF-DB all but shares FaceEmo-Set's offset: one pair whose MMD test is not decisive.
    offsets["RAF-DB"] = offsets["FaceEmo-Set"] + rng.normal(scale=0.03, size=DIM)
    os.makedirs(folder, exist_ok=True)
    lines = ["sample_id,Dataset,Emotion,Split,valid_image"]
    for split, rows in SIZES.items():
        if split == "test_fer2013":
            datasets = ["FER2013"] * rows
        elif split == "test_affectnet":
            datasets = ["AffectNet"] * rows
        else:
            datasets = [MIXED[i] for i in rng.choice(4, size=rows, p=SHARE)]
        emotions = np.empty(rows, dtype=np.int64)
        for i, name in enumerate(datasets):
            prior = np.array(PRIORS[name], dtype=float)
            if name == "RAVDESS" and split == "val":
                prior[1] = 0.0  # no disgust: a null recall in per_split
            emotions[i] = rng.choice(7, p=prior / prior.sum())
        features = np.stack([centres[e] + offsets[d] + rng.normal(size=DIM) for e, d in zip(emotions, datasets)])
        strength = np.array([STRENGTH[d] for d in datasets])
        signal = np.eye(7)[emotions] * strength[:, None] + rng.normal(size=(rows, 7))
        temperature = rng.uniform(0.25, 3.0, size=(rows, 1))
        logits = (signal * temperature).astype(np.float32)
        wide = logits.astype(np.float64)
        probs = np.exp(wide - wide.max(1, keepdims=True))
        probs = (probs / probs.sum(1, keepdims=True)).astype(np.float32)
        np.savez(os.path.join(folder, f"combined_vit_features_{split}.npz"),
                 features=features.astype(np.float32), logits=logits, probs=probs)
        csv_split = "test" if split.startswith("test") else split
        for row, (d, e) in enumerate(zip(datasets, emotions)):
            lines.append(f"{split}_{row},{d},{sm.LABELS[e]},{csv_split},True")
    with open(os.path.join(folder, "combined_vit_metadata_all.csv"), "w") as out:
        out.write("\n".join(lines) + "\n")


def write_selection(path, data, rows):
    with open(path, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["split", "row", "sample_id", "dataset", "emotion"])
        for i in rows:
            split = data.split_names[data.split[i]]
            row = int(data.source_row[i])
            writer.writerow([split, row, f"{split}_{row}", data.dataset_names[data.dataset[i]],
                             data.label_names[data.truth[i]]])


def main():
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    make_release(os.path.join(ROOT, "release"))
    data = sm.load_release(os.path.join(ROOT, "release"))

    full, _ = sm.shift_report(data, **SETTINGS["full"])
    sampled, samples = sm.shift_report(data, **SETTINGS["sampled"])

    train = data.split_names.index("train")
    fer = data.dataset_names.index("FER2013")
    candidates = np.flatnonzero((data.split == train) & (data.dataset == fer))
    rows_a = np.sort(np.random.default_rng(3).choice(candidates, size=60, replace=False))
    rows_b = np.flatnonzero(data.split == data.split_names.index("test_affectnet"))
    write_selection(os.path.join(ROOT, "a.csv"), data, rows_a)
    write_selection(os.path.join(ROOT, "b.csv"), data, rows_b)
    comparison = sm.compare_selections(data, rows_a, rows_b, **SETTINGS["comparison"])

    settings = dict(SETTINGS, permutations=sm.PERMUTATIONS, folds=sm.FOLDS, C=sm.C, tol=sm.TOL,
                    max_iter=sm.MAX_ITER, neighbours=sm.NEIGHBOURS, bins=sm.BINS,
                    rows={split: int((data.split == s).sum()) for s, split in enumerate(data.split_names)},
                    note="mmd_p uses numpy permutations (not SplitMix64): compare it loosely; "
                         "samples are the sampled report's, indices within each dataset's rows "
                         "in release order")
    reference = {"full": full, "sampled": sampled, "samples": samples, "comparison": comparison,
                 "settings": settings}
    with open(os.path.join(ROOT, "reference.json"), "w") as out:
        json.dump(reference, out, indent=1, allow_nan=False)
        out.write("\n")
    print(f"fixture and reference written to {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The peer of the UMAP benchmark and the quality judge of both map methods.

Times umap-learn (n_neighbors 15, min_dist 0.1, n_jobs = cores, no random_state so it runs
in parallel) on every row of a release folder, fitting twice in one process and timing the
second fit (numba's compile time excluded). Then scores maps on one seeded sample of at
least 5,000 rows (SplitMix64 Fisher-Yates, seed 0, as `faceemo project` draws): 10-NN
preservation and scikit-learn's trustworthiness (k = 10), both in the 768-d feature space.
Maps scored: umap-learn's, and every CSV given after the thread count (faceemo project's
output; its x, y columns), and openTSNE's when --opentsne is given.
Usage: umap_vs_umap_learn.py RELEASE_DIR THREADS [--opentsne] [MAP.csv ...]"""
import csv
import glob
import os
import sys
import time

import numpy as np
from sklearn.manifold import trustworthiness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from shift_measures import sample_rows  # noqa: E402  (SplitMix64 draws, as faceemo's)

ORDER = ["train", "val", "test_fer2013", "test_affectnet"]
SAMPLE = 5000
K = 10


def neighbour_sets(data, k):
    data = data.astype(np.float64)
    norms = (data ** 2).sum(1)
    d = norms[:, None] + norms[None, :] - 2 * data @ data.T
    np.fill_diagonal(d, np.inf)
    return [set(row.tolist()) for row in np.argsort(d, axis=1, kind="stable")[:, :k]]


def score(name, features, embedding, sample, seconds=None):
    high = features[sample]
    low = np.asarray(embedding, dtype=np.float32)[sample]
    a, b = neighbour_sets(high, K), neighbour_sets(low, K)
    preservation = np.mean([len(x & y) / K for x, y in zip(a, b)])
    trust = trustworthiness(high, low, n_neighbors=K)
    timing = f"{seconds:.1f} s; " if seconds is not None else ""
    print(f"{name}: {timing}{K}-NN preservation {preservation:.4f}; trustworthiness {trust:.4f} "
          f"(sample of {len(sample)})")


def read_map(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return np.array([[float(r["x"] or "nan"), float(r["y"] or "nan")] for r in rows], dtype=np.float32)


def main(folder, threads, rest):
    import umap
    files = sorted(glob.glob(os.path.join(folder, "*.npz")),
                   key=lambda f: next((i for i, s in enumerate(ORDER) if f.endswith(f"_{s}.npz")), 99))
    features = np.concatenate([np.load(f)["features"] for f in files]).astype(np.float32)
    sample = sample_rows(len(features), SAMPLE, 0)
    for path in [p for p in rest if p.endswith(".csv")]:
        score(f"faceemo {os.path.basename(path)}", features, read_map(path), sample)
    if "--opentsne" in rest:
        import openTSNE
        start = time.perf_counter()
        embedding = openTSNE.TSNE(perplexity=30, n_jobs=threads, random_state=0,
                                  negative_gradient_method="fft").fit(features)
        score(f"openTSNE {openTSNE.__version__} n_jobs {threads} (its own neighbours)", features,
              embedding, sample, time.perf_counter() - start)
    small = features[sample_rows(len(features), 2000, 1)]
    umap.UMAP(n_neighbors=15, min_dist=0.1, n_jobs=threads).fit(small)  # compiles numba
    start = time.perf_counter()
    embedding = umap.UMAP(n_neighbors=15, min_dist=0.1, n_jobs=threads).fit_transform(features)
    score(f"umap-learn {umap.__version__} n_jobs {threads} (second fit)", features, embedding,
          sample, time.perf_counter() - start)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])

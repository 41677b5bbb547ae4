#!/usr/bin/env python3
"""The peer of the t-SNE benchmark: scikit-learn PCA to 50 dimensions, then openTSNE (FFT
gradients, PCA initialisation, n_jobs = cores) on every row of a release folder; reports the
seconds and the 10-NN preservation on the same 1,000-row sample `faceemo project` scores
(SplitMix64 Fisher-Yates, seed 0).
Usage: tsne_vs_opentsne.py RELEASE_DIR THREADS"""
import glob
import os
import sys
import time

import numpy as np
import openTSNE
from sklearn.decomposition import PCA

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from make_vit_reference import SplitMix64  # noqa: E402

ORDER = ["train", "val", "test_fer2013", "test_affectnet"]


def sample_rows(rows, count, seed):
    count = min(count, rows)
    indices = list(range(rows))
    random = SplitMix64(seed)
    for i in range(count):
        j = i + random.next_u64() % (rows - i)
        indices[i], indices[j] = indices[j], indices[i]
    return sorted(indices[:count])


def neighbours(data, queries, k):
    found = []
    norms = (data.astype(np.float64) ** 2).sum(1)
    for q in queries:
        d = norms - 2 * data.astype(np.float64) @ data[q].astype(np.float64)
        d[q] = np.inf
        found.append(set(np.argsort(d, kind="stable")[:k].tolist()))
    return found


def main(folder, threads):
    files = sorted(glob.glob(os.path.join(folder, "*.npz")),
                   key=lambda f: next((i for i, s in enumerate(ORDER) if f.endswith(f"_{s}.npz")), 99))
    features = np.concatenate([np.load(f)["features"] for f in files]).astype(np.float32)
    start = time.perf_counter()
    reduced = PCA(n_components=50, random_state=0).fit_transform(features)
    pca_seconds = time.perf_counter() - start
    embedding = openTSNE.TSNE(perplexity=30, n_jobs=threads, random_state=0,
                              negative_gradient_method="fft", initialization="pca").fit(reduced)
    seconds = time.perf_counter() - start
    sample = sample_rows(len(features), 1000, 0)
    high = neighbours(features, sample, 10)
    low = neighbours(np.asarray(embedding, dtype=np.float32), sample, 10)
    preservation = np.mean([len(h & l) / 10 for h, l in zip(high, low)])
    print(f"openTSNE {openTSNE.__version__} n_jobs {threads}: {len(features)} rows in {seconds:.1f} s "
          f"(PCA {pca_seconds:.1f} s); KL {embedding.kl_divergence:.4f}; 10-NN preservation {preservation:.4f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

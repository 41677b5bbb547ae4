#!/usr/bin/env python3
"""The peer of the PCA benchmark: scikit-learn PCA (2 components, default solver) fit +
transform of all rows of a release folder, after loading them with numpy.
Usage: pca_vs_sklearn.py DIR [REPEATS]"""
import glob
import os
import statistics
import sys
import time

import numpy as np
import sklearn
from sklearn.decomposition import PCA


def main(folder, repeats):
    features = np.concatenate([np.load(p)["features"] for p in sorted(glob.glob(os.path.join(folder, "*.npz")))])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pca = PCA(n_components=2)
        pca.fit_transform(features)
        times.append(time.perf_counter() - start)
    print(f"scikit-learn {sklearn.__version__} PCA ({pca._fit_svd_solver}) of {features.shape}: "
          f"runs {' '.join(f'{t:.2f}' for t in times)} s; median {statistics.median(times):.2f} s; "
          f"explained variance ratio {pca.explained_variance_ratio_.tolist()}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)

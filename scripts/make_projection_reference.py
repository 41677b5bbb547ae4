#!/usr/bin/env python3
"""Writes scikit-learn PCA reference values for the projection tests
(tests/fixtures/projection/pca_reference.npz): structured float32 data (600 x 48: a few
strong directions plus noise), a PCA with 3 components fitted on the first 400 rows, and
the coordinates of all 600 rows. Usage: python3 scripts/make_projection_reference.py"""
import os

import numpy as np
import sklearn
from sklearn.decomposition import PCA

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "projection")


def main():
    rng = np.random.default_rng(3)
    latent = rng.normal(size=(600, 4)) * np.array([6.0, 3.0, 1.5, 0.8])
    mixing = rng.normal(size=(4, 48))
    data = (latent @ mixing + rng.normal(scale=0.5, size=(600, 48)) + 2.0).astype(np.float32)
    pca = PCA(n_components=3, svd_solver="full").fit(data[:400].astype(np.float64))
    coords = pca.transform(data.astype(np.float64))
    os.makedirs(OUT, exist_ok=True)
    np.savez(os.path.join(OUT, "pca_reference.npz"), data=data,
             components=pca.components_, explained_variance_ratio=pca.explained_variance_ratio_,
             coords=coords)
    print(f"scikit-learn {sklearn.__version__}: ratios {pca.explained_variance_ratio_}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The peer of the shift benchmark: the whole `faceemo shift` report (metrics per dataset and
split, centroid and Frechet distances, MMD^2 with 1,000 permutations, the cross-validated domain
classifier, the linear probes, the 10-NN neighbourhood shares and the silhouettes) of a release
folder, computed with numpy, SciPy and scikit-learn exactly as docs/shift-measures.md defines it
(the code of scripts/shift_measures.py, which also writes the test reference).

Loading the release is excluded from the time. Two departures from the definitions, both for
speed and both stated in the output: the logistic regressions (domain classifier and probes) stop
at max_iter=1000 instead of 10000, and the cosine neighbours are found in float32 (as faceemo
does) by blocked matrix products with argpartition. BLAS uses every core.
Usage: shift_vs_sklearn.py DIR [N] [SEED]   (N rows sampled per dataset, default 1000; seed 0)"""
import os
import sys
import time
import warnings

import numpy as np
import scipy
import sklearn
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import shift_measures as sm  # noqa: E402

MAX_ITER = 1000


def main(folder, sample, seed):
    data = sm.load_release(folder)
    timings = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        sm.shift_report(data, sample, seed, max_iter=MAX_ITER, knn_dtype=np.float32, timings=timings)
        total = time.perf_counter() - start
    stopped = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    parts = ", ".join(f"{part} {timings.get(part, 0.0):.1f} s" for part in sm.PARTS)
    print(f"numpy {np.__version__}/scipy {scipy.__version__}/scikit-learn {sklearn.__version__} "
          f"({len(data.features):,} x {data.features.shape[1]}, sample {sample}, seed {seed}, "
          f"max_iter={MAX_ITER}, loading excluded): {total:.1f} s (per part: {parts})"
          + (f"; {stopped} logistic fits stopped at max_iter" if stopped else ""))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000,
         int(sys.argv[3]) if len(sys.argv) > 3 else 0)

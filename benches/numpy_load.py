#!/usr/bin/env python3
"""The peer of the loading benchmark: numpy.load of every array of every split in one process.
Prints seconds per run, the median, and peak RSS (VmHWM). Usage: numpy_load.py DIR [REPEATS]"""
import glob
import os
import statistics
import sys
import time

import numpy as np


def peak_rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load_all(folder):
    arrays = []
    for path in sorted(glob.glob(os.path.join(folder, "*.npz"))):
        with np.load(path) as npz:
            arrays.extend(npz[name] for name in ("features", "logits", "probs"))
    return arrays


def main(folder, repeats):
    times = []
    first_peak = float("nan")
    for run in range(repeats):
        start = time.perf_counter()
        arrays = load_all(folder)
        times.append(time.perf_counter() - start)
        if run == 0:
            first_peak = peak_rss_mib()
        nbytes = sum(a.nbytes for a in arrays)
        del arrays
    print(f"numpy {np.__version__}: runs {' '.join(f'{t:.3f}' for t in times)} s; "
          f"median {statistics.median(times):.3f} s; arrays {nbytes / 2**20:.1f} MiB; "
          f"peak RSS after one load {first_peak:.1f} MiB")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)

#!/usr/bin/env bash
# PCA of all 89,032 x 768 rows of a full-size stand-in release: `faceemo project --method pca`
# (fit + transform, the JSON "seconds") against scikit-learn's PCA, same machine, same run.
# DIR defaults to the i.i.d. noise stand-in (benches/make_full_size_release.py), the worst case for
# the randomized method; bench-data/structured-release (benches/make_structured_release.py) has
# the clusters and spectral gap of real features.
# With LINFA=1 it also times linfa-reduction's PCA (the crate issue 5 names first), built in its own
# crate (benches/pca_linfa, own workspace and lock file) so linfa never enters the workbench build.
# Needs python3 with numpy and scikit-learn. Usage: [LINFA=1] benches/pca_vs_sklearn.sh [DIR] [REPEATS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
print_cpu
dir="${1:-bench-data/full-size-release}"
repeats="${2:-3}"
[ -f "$dir/combined_vit_features_train.npz" ] || python3 benches/make_full_size_release.py "$dir"
cargo build --release
for _ in $(seq "$repeats"); do
    "$CARGO_TARGET_DIR/release/faceemo" project "$dir" --method pca --json -o /tmp/faceemo-pca-bench.csv \
        | grep -E '"(rows|seconds|explained_variance_ratio)"' -A2 | tr -d '\n '
    echo
done
python3 benches/pca_vs_sklearn.py "$dir" "$repeats"
if [ "${LINFA:-0}" = 1 ]; then
    features=/tmp/faceemo-pca-features.npy
    python3 -c "
import glob, os, sys, numpy as np
paths = sorted(glob.glob(os.path.join(sys.argv[1], '*.npz')))
np.save(sys.argv[2], np.concatenate([np.load(p)['features'] for p in paths]))" "$dir" "$features"
    cargo build --release --manifest-path benches/pca_linfa/Cargo.toml
    "$CARGO_TARGET_DIR/release/pca_linfa" "$features" "$repeats"
fi

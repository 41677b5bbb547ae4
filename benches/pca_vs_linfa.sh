#!/usr/bin/env bash
# PCA of all 89,032 x 768 rows: `faceemo project --method pca` against linfa-reduction's PCA
# (the crate issue 5 names first), same data, same machine, same run. linfa builds in its own
# crate (benches/pca_linfa) so it never enters the workbench's build.
# Usage: benches/pca_vs_linfa.sh [DIR] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/faceemo/target}"
dir="${1:-bench-data/full-size-release}"
repeats="${2:-3}"
[ -f "$dir/combined_vit_features_train.npz" ] || python3 benches/make_full_size_release.py "$dir"
features=/tmp/faceemo-pca-features.npy
python3 -c "
import glob, os, sys, numpy as np
paths = sorted(glob.glob(os.path.join(sys.argv[1], '*.npz')))
np.save(sys.argv[2], np.concatenate([np.load(p)['features'] for p in paths]))" "$dir" "$features"
cargo build --release
cargo build --release --manifest-path benches/pca_linfa/Cargo.toml
for _ in $(seq "$repeats"); do
    "$CARGO_TARGET_DIR/release/faceemo" project "$dir" --method pca --json -o /tmp/faceemo-pca-bench.csv \
        | grep -E '"(rows|seconds|explained_variance_ratio)"' -A2 | tr -d '\n '
    echo
done
"$CARGO_TARGET_DIR/release/pca_linfa" "$features" "$repeats"

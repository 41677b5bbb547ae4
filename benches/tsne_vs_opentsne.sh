#!/usr/bin/env bash
# t-SNE of all 89,032 x 768 rows of a full-size structured stand-in release (make_structured_release.py): `faceemo project --method tsne`
# (PCA to 50, exact 90-NN, FFT-accelerated gradients; the JSON "seconds") against scikit-learn's
# PCA + openTSNE (FFT, n_jobs = cores), same machine, same run; both report the 10-NN
# preservation on the same 1,000-row sample.
# Needs python3 with numpy, scikit-learn and openTSNE. Usage: benches/tsne_vs_opentsne.sh [DIR]
set -euo pipefail
source "$(dirname "$0")/common.sh"
print_cpu
dir="${1:-bench-data/structured-release}"
threads="$(nproc)"
[ -f "$dir/combined_vit_features_train.npz" ] || python3 benches/make_structured_release.py "$dir"
cargo build --release
RAYON_NUM_THREADS="$threads" "$CARGO_TARGET_DIR/release/faceemo" project "$dir" --method tsne --json \
    -o /tmp/faceemo-tsne-bench.csv | grep -E '"(rows|seconds|kl_divergence|knn_preservation)"' | tr -d '\n'
echo
python3 benches/tsne_vs_opentsne.py "$dir" "$threads"

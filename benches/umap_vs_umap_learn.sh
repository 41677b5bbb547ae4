#!/usr/bin/env bash
# UMAP and t-SNE of all 89,032 x 768 rows of a full-size structured stand-in release
# (make_structured_release.py) against umap-learn and openTSNE, same machine, same run:
# `faceemo project --method umap` and `--method tsne` (the JSON "seconds", "knn_recall"),
# then umap-learn (second fit in one process, n_jobs = cores) and openTSNE (FFT, n_jobs = cores,
# its own approximate neighbours); every map scored by 10-NN preservation and
# trustworthiness (k = 10) on the same seeded sample of 5,000 rows.
# Needs python3 with numpy, scikit-learn, umap-learn and openTSNE.
# Usage: benches/umap_vs_umap_learn.sh [DIR]
set -euo pipefail
source "$(dirname "$0")/common.sh"
dir="${1:-bench-data/structured-release}"
threads="$(nproc)"
[ -f "$dir/combined_vit_features_train.npz" ] || python3 benches/make_structured_release.py "$dir"
cargo build --release
print_cpu
for method in umap tsne; do
    RAYON_NUM_THREADS="$threads" "$CARGO_TARGET_DIR/release/faceemo" project "$dir" --method "$method" \
        --json --no-map-cache -o "/tmp/faceemo-$method-bench.csv" \
        | grep -E '"(method|rows|seconds|knn|knn_recall|knn_preservation)"' | tr -d '\n'
    echo
done
python3 benches/umap_vs_umap_learn.py "$dir" "$threads" --opentsne \
    /tmp/faceemo-umap-bench.csv /tmp/faceemo-tsne-bench.csv

#!/usr/bin/env bash
# The domain-shift report of all 89,032 x 768 rows of a full-size structured stand-in release
# (make_structured_release.py): `faceemo shift --json` (per dataset and split metrics, centroid and
# Frechet distances, MMD^2 with 1,000 permutations, domain classifier, linear probes, neighbourhood
# shares, silhouettes; the JSON "seconds") against the same measures in numpy/SciPy/scikit-learn
# (benches/shift_vs_sklearn.py: the definitions of docs/shift-measures.md, loading excluded,
# logistic regressions at max_iter=1000), same machine, same run.
# Needs python3 with numpy, scipy and scikit-learn. Usage: benches/shift_vs_sklearn.sh [DIR]
set -euo pipefail
source "$(dirname "$0")/common.sh"
dir="${1:-bench-data/structured-release}"
[ -f "$dir/combined_vit_features_train.npz" ] || python3 benches/make_structured_release.py "$dir"
cargo build --release
"$CARGO_TARGET_DIR/release/faceemo" shift "$dir" --json | grep -E '"seconds"' | tr -d '\n '
echo
GLIBC_TUNABLES="$peer_malloc" python3 benches/shift_vs_sklearn.py "$dir"
print_cpu
echo

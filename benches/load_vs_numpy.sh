#!/usr/bin/env bash
# Loading benchmark: the workbench's load_release against numpy.load on the same full-size
# stand-in release (89,032 x 768 float32), same machine, same run. Needs python3 with numpy.
# Usage: benches/load_vs_numpy.sh [DIR] [REPEATS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
print_cpu
dir="${1:-bench-data/full-size-release}"
repeats="${2:-9}"
[ -f "$dir/combined_vit_features_train.npz" ] || python3 benches/make_full_size_release.py "$dir"
cargo build --release --example load_release
# Warm the page cache so both read from memory, then alternate the two.
cat "$dir"/* >/dev/null
"$CARGO_TARGET_DIR/release/examples/load_release" "$dir" "$repeats"
python3 benches/numpy_load.py "$dir" "$repeats"
"$CARGO_TARGET_DIR/release/examples/load_release" "$dir" "$repeats"
python3 benches/numpy_load.py "$dir" "$repeats"

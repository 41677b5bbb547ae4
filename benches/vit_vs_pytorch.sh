#!/usr/bin/env bash
# ViT-B/16 forward at 224x224, batch 1 and 16: Burn (this workbench) against PyTorch running
# transformers' model, same weights, same machine, same thread count, same run.
# Needs python3 with torch + transformers + pillow. Usage: benches/vit_vs_pytorch.sh [BACKEND] [RUNS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
print_cpu
backend="${1:-cpu}"
runs="${2:-5}"
threads="$(nproc)"
dir=bench-data/vit-base
[ -f "$dir/model.safetensors" ] || python3 benches/make_vit_base.py "$dir"
cargo build --release --example vit_forward
RAYON_NUM_THREADS="$threads" "$CARGO_TARGET_DIR/release/examples/vit_forward" "$dir" "$backend" "$runs"
GLIBC_TUNABLES="$peer_malloc" python3 benches/pytorch_vit_forward.py "$dir" "$threads" "$runs"

#!/usr/bin/env bash
# Feature inversion on ViT-B/16 at 224x224: seconds per step (forward + backward to the image
# + Adam) and the cosine reached, this workbench (Burn) against PyTorch running the same
# objective on the same seeded base-size model, same machine, same thread count, same run.
# Needs python3 with torch + transformers + pillow.
# With UNTIL_COSINE=C both stop at the first step whose cosine reaches C with the class kept
# (`faceemo invert --until-cosine C`, its JSON steps_to_target / seconds_to_target), the
# time to a reconstruction that issue 15 measures (C = 0.999 from the noise start, STEPS 200).
# Usage: [UNTIL_COSINE=C] benches/inversion_vs_pytorch.sh [STEPS] [BACKEND]
set -euo pipefail
source "$(dirname "$0")/common.sh"
steps="${1:-20}"
backend="${2:-cpu}"
threads="$(nproc)"
dir=bench-data/vit-base
[ -f "$dir/model.safetensors" ] || python3 benches/make_vit_base.py "$dir"
target=bench-data/inversion_target.png
[ -f "$target" ] || python3 -c "
import numpy as np; from PIL import Image
y, x = np.mgrid[0:256, 0:256]
rgb = np.stack([x, y, (x * y) % 256], -1).astype(np.uint8)
Image.fromarray(rgb).save('$target')"
print_cpu
if [ -n "${UNTIL_COSINE:-}" ]; then
    cargo build --release
    RAYON_NUM_THREADS="$threads" "$CARGO_TARGET_DIR/release/faceemo" invert --model "$dir" --image "$target" \
        -o /tmp/faceemo-inversion-bench.png --steps "$steps" --backend "$backend" \
        --until-cosine "$UNTIL_COSINE" --json | grep -E '"(cosine|steps_to_target|seconds_to_target)"' | tr -d '\n'
    echo
else
    cargo build --release --example invert_step
    RAYON_NUM_THREADS="$threads" "$CARGO_TARGET_DIR/release/examples/invert_step" "$dir" "$target" "$steps" "$backend"
fi
GLIBC_TUNABLES="$peer_malloc" python3 benches/pytorch_inversion_step.py "$dir" "$target" "$steps" "$threads"

#!/usr/bin/env bash
# The GPU check for issue 3, run on the device machine after benches/gpu_prepare.sh:
#  1. wgpu parity with transformers on a real GPU (CLS and logits, ViT-B/16, 4 images);
#  2. which backend `auto` picks there (it must be the GPU, not a software adapter);
#  3. ViT-B/16 forward latency (batch 1) and throughput (batch 16), Burn wgpu vs PyTorch CUDA;
#  4. one inversion step (forward + backward + Adam), Burn wgpu vs PyTorch CUDA.
# Everything it prints also lands in $OUT/gpu_check.log.
set -uo pipefail
source "$(dirname "$0")/common.sh"
log="${OUT:-/tmp}/gpu_check.log"
exec > >(tee "$log") 2>&1
for program in vit_forward invert_step; do
    gzip -dc ".gpu/$program.gz" >"/tmp/$program" && chmod +x "/tmp/$program"
done
for f in .gpu/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
nvidia-smi -L
export PYTHONUNBUFFERED=1
dir=/tmp/vit-base
python3 benches/make_vit_base.py "$dir"
target=/tmp/inversion_target.png
python3 -c "
import numpy as np; from PIL import Image
y, x = np.mgrid[0:256, 0:256]
Image.fromarray(np.stack([x, y, (x * y) % 256], -1).astype(np.uint8)).save('$target')"
echo "== auto backend"
timeout 120 /tmp/vit_forward "$dir" auto 1
echo "== ViT-B/16 forward, Burn wgpu (parity first)"
timeout 240 /tmp/vit_forward "$dir" wgpu 10
echo "== ViT-B/16 forward, PyTorch CUDA"
GLIBC_TUNABLES="$peer_malloc" python3 benches/pytorch_vit_forward.py "$dir" "$(nproc)" 10 cuda
echo "== inversion step, Burn wgpu"
timeout 240 /tmp/invert_step "$dir" "$target" 20 wgpu
echo "== inversion step, PyTorch CUDA"
GLIBC_TUNABLES="$peer_malloc" python3 benches/pytorch_inversion_step.py "$dir" "$target" 20 "$(nproc)" cuda

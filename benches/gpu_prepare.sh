#!/usr/bin/env bash
# Prepares the GPU check (benches/gpu_check.sh) on this machine: the device machine has the
# NVIDIA driver, PyTorch and transformers but no Rust toolchain and no Vulkan loader, so the
# two benchmark programs are built and stripped here and the loader's Debian packages are
# downloaded, all into .gpu/ (ignored by git, carried to the device; gzipped, the programs
# are 20 MB each, inside the 64 MiB a call may carry).
# Then, with the `device` tool: run `bash benches/gpu_check.sh` with carry [".gpu"].
set -euo pipefail
source "$(dirname "$0")/common.sh"
cargo build --release --example vit_forward --example invert_step
mkdir -p .gpu
grep -qx '/.gpu/' .git/info/exclude || echo '/.gpu/' >>.git/info/exclude
for program in vit_forward invert_step; do
    strip -o ".gpu/$program" "$CARGO_TARGET_DIR/release/examples/$program"
    gzip -9 -f ".gpu/$program"
done
lists=/tmp/faceemo-apt-amd64
mkdir -p "$lists/partial"
apt_options=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt_options[@]}" update -qq
(cd .gpu && apt-get "${apt_options[@]}" download libvulkan1)
du -sh .gpu

# Sourced by every benchmark script: run from the repository root, build into the shared target
# folder, and give the peers the malloc settings `faceemo` gives itself (src/process.rs: a fixed
# 32 MiB mmap threshold, no trimming), so the comparisons are like for like.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/faceemo/target}"
peer_malloc=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=2147483647

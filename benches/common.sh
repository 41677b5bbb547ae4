# Sourced by every benchmark script: run from the repository root, build into the shared target
# folder, and give the peers the malloc settings `faceemo` gives itself (src/process.rs: a fixed
# 32 MiB mmap threshold, no trimming), so the comparisons are like for like.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/faceemo/target}"
peer_malloc=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=2147483647

# The processor every figure depends on: model, family/model numbers, and the vector flags
# that pick the matrix-product kernels (ratios flip between processor generations).
print_cpu() {
    lscpu | grep -E '^(Model name|CPU family|Model|CPU\(s\)):' | tr -s ' ' | tr '\n' ';'
    echo " flags: $(grep -o -w -E 'avx512[a-z_0-9]*|avx2|fma|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')"
}

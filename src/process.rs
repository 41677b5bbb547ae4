//! Process-wide settings the programs apply first thing in `main`.

/// glibc's largest allowed `M_MMAP_THRESHOLD` on 64-bit targets.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD_CEILING: libc::c_int = 32 * 1024 * 1024;

/// Keeps freed tensor buffers in the heap for reuse instead of handing them back to the
/// kernel. By glibc's default, buffers of a few MB and more (a ViT-B batch allocates and
/// frees 10-40 MB per layer) are mapped fresh and unmapped on free, so every forward pass
/// pays page faults to zero them again: with this, ViT-B/16 at batch 16 on the CPU took
/// 2.2 s instead of 3.0 s (`benches/vit_vs_pytorch.sh`). Call it before any other thread
/// starts; elsewhere than Linux with glibc it does nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn keep_freed_memory_for_reuse() {
    // SAFETY: `mallopt` only changes glibc malloc's tuning parameters, under the
    // allocator's own lock; it touches no memory the program owns. A rejected value
    // (return 0) leaves the default in place, which is harmless.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_CEILING);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
    }
}

/// Does nothing here: the setting is glibc's.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_freed_memory_for_reuse() {}

#pragma once
// Process-wide settings of the C library's heap.

namespace quicksr {

// Keeps up to 1 GB of freed memory in the heap (glibc mallopt) instead of returning it to the
// kernel. For processes running LibTorch, which frees and reallocates tensors of many MB every
// step: faulting them in again took 2/3 of a short AdaRound run (11.8 -> 3.1 s wall). Tensors up
// to 32 MiB come from the heap too (6 ERFDN x2 training steps: 2.5M -> 0.47M page faults, CPU time
// 37-40 -> 32-32.5 s, measured under load).
void keep_freed_memory_in_heap();

}  // namespace quicksr

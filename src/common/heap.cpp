#include "common/heap.hpp"

#include <malloc.h>

namespace quicksr {

void keep_freed_memory_in_heap() {
  constexpr int kOneGigabyte = 1 << 30;
  mallopt(M_TRIM_THRESHOLD, kOneGigabyte);
  mallopt(M_TOP_PAD, kOneGigabyte / 2);
  // Setting the trim threshold stops glibc from raising the mmap threshold above its 128 KiB
  // default, so every larger tensor was mmapped and faulted in anew each step; 32 MiB is the
  // largest threshold glibc accepts.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

}  // namespace quicksr

#include "common/heap.hpp"

#include <malloc.h>

namespace quicksr {

void keep_freed_memory_in_heap() {
  constexpr int kOneGigabyte = 1 << 30;
  mallopt(M_TRIM_THRESHOLD, kOneGigabyte);
  mallopt(M_TOP_PAD, kOneGigabyte / 2);
}

}  // namespace quicksr

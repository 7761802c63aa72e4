#include "media/spool_memory_budget.h"

namespace callvault::media {

bool SpoolMemoryBudget::TryReserve(size_t n) {
  size_t cur = used_.load(std::memory_order_relaxed);
  do {
    if (cur + n > limit_) return false;
  } while (!used_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
  return true;
}

}  // namespace callvault::media

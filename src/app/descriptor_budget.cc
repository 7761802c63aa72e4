#include "app/descriptor_budget.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/fs.h"

namespace callvault::app {
namespace {

uint64_t Pack(size_t counted, size_t calls) {
  const uint64_t kMax = 0xFFFFFFFF;
  return std::min<uint64_t>(counted, kMax) << 32 | std::min<uint64_t>(calls, kMax);
}

}  // namespace

Result<size_t> CountOpenDescriptors() {
  // The listing's own directory descriptor is among the names: it is not held afterwards.
  CV_ASSIGN_OR_RETURN(std::vector<std::string> names, DefaultFs()->ListDir("/proc/self/fd"));
  return names.empty() ? 0 : names.size() - 1;
}

DescriptorBudget::DescriptorBudget(const Clock* clock, CountFn call_descriptors,
                                   std::function<Result<size_t>()> count_open)
    : clock_(clock),
      call_descriptors_(std::move(call_descriptors)),
      count_open_(std::move(count_open)) {}

void DescriptorBudget::Configure(size_t limit, size_t reserve, size_t per_call,
                                 std::chrono::milliseconds refresh) {
  limit_.store(limit);
  reserve_.store(reserve);
  per_call_.store(std::max<size_t>(per_call, 1));
  {
    MutexLock lock(&mu_);
    refresh_ = refresh;
  }
  Refresh().IgnoreError();  // an unreadable /proc: Admit() goes by the call counter alone
}

Status DescriptorBudget::Refresh() {
  MutexLock lock(&mu_);
  const size_t calls = call_descriptors_();  // before the listing: a call opened meanwhile
  Result<size_t> open = count_open_();       // is counted twice, never missed
  counted_at_ = clock_->Now();
  if (!open.ok()) {
    // Keep the last count, moved by what calls did since (the estimate stays conservative).
    return open.status().Annotate("counting the process's descriptors");
  }
  snapshot_.store(Pack(*open, calls), std::memory_order_release);
  return Status::Ok();
}

size_t DescriptorBudget::in_use() const {
  const uint64_t snap = snapshot_.load(std::memory_order_acquire);
  const size_t counted = static_cast<size_t>(snap >> 32);
  const size_t calls_then = static_cast<size_t>(snap & 0xFFFFFFFF);
  const size_t calls_now = call_descriptors_();
  // Calls that ended since the count give their descriptors back, but never below what calls
  // do not hold.
  if (calls_now >= calls_then) return counted + (calls_now - calls_then);
  const size_t freed = calls_then - calls_now;
  return counted > freed ? counted - freed : 0;
}

size_t DescriptorBudget::free_calls() const {
  const size_t usable = limit() > reserve() ? limit() - reserve() : 0;
  const size_t used = in_use();
  return usable > used ? (usable - used) / per_call() : 0;
}

Status DescriptorBudget::Admit() const {
  const size_t lim = limit();
  if (lim == 0) return Status::Ok();  // not configured (no limit known)
  const size_t used = in_use(), need = per_call(), res = reserve();
  if (used + need + res <= lim) return Status::Ok();
  return ResourceExhaustedError(
      fmt::format("file descriptors: {} of {} in use, a new call needs {} and {} are reserved "
                  "(server.fd_reserve)",
                  used, lim, need, res));
}

Status DescriptorBudget::Check() {
  bool stale = false;
  {
    MutexLock lock(&mu_);
    stale = clock_->Now() - counted_at_ >= refresh_;
  }
  // An unreadable /proc keeps the last count, moved by the call counter: still conservative
  // for calls, blind only to other descriptors opened since (the reserve is for those).
  if (stale) Refresh().IgnoreError();
  return Admit();
}

}  // namespace callvault::app

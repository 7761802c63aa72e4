#include "recording/disk_headroom.h"

#include <fmt/format.h>

namespace callvault::recording {
namespace {

// Samples closer together than this are not kept (/readyz may be polled often).
constexpr std::chrono::milliseconds kMinSpacing{100};
// The rate is not trusted over a shorter span.
constexpr std::chrono::milliseconds kMinSpan{1000};
constexpr double kResumeFactor = 1.25;

}  // namespace

DiskHeadroom::DiskHeadroom(DiskHeadroomOptions options, const Clock* clock,
                           std::function<uint64_t()> written,
                           std::function<Result<uint64_t>()> free_bytes)
    : options_(options),
      clock_(clock),
      written_(std::move(written)),
      free_bytes_(std::move(free_bytes)) {}

Status DiskHeadroom::Check() {
  if (options_.horizon.count() <= 0) return Status::Ok();
  Result<uint64_t> free = free_bytes_();
  if (!free.ok()) return free.status();
  const auto now = clock_->Now();
  const uint64_t written = written_();
  MutexLock lock(&mu_);
  if (samples_.empty() || now - samples_.back().first >= kMinSpacing)
    samples_.emplace_back(now, written);
  while (samples_.size() > 2 && now - samples_[1].first >= options_.window) samples_.pop_front();
  const auto span = now - samples_.front().first;
  rate_ = 0;
  if (span >= kMinSpan && written >= samples_.front().second) {
    rate_ = static_cast<double>(written - samples_.front().second) /
            std::chrono::duration<double>(span).count();
  }
  const double horizon = static_cast<double>(options_.horizon.count());
  seconds_to_full_ = rate_ > 0 ? static_cast<double>(*free) / rate_ : 0;
  const double limit = refusing_ ? horizon * kResumeFactor : horizon;
  refusing_ = rate_ > 0 && seconds_to_full_ < limit;
  if (!refusing_) return Status::Ok();
  return ResourceExhaustedError(
      fmt::format("{:.1f} MiB free, written at {:.2f} MiB/s: full in ~{:.0f} s, under "
                  "recorder.disk_full_horizon_s = {}",
                  static_cast<double>(*free) / (1 << 20), rate_ / (1 << 20), seconds_to_full_,
                  options_.horizon.count()));
}

double DiskHeadroom::rate_bytes_per_s() const {
  MutexLock lock(&mu_);
  return rate_;
}

double DiskHeadroom::seconds_to_full() const {
  MutexLock lock(&mu_);
  return seconds_to_full_;
}

}  // namespace callvault::recording

#include "base/hlc.h"

#include <algorithm>
#include <cstdio>

namespace callvault {
namespace {

// The next stamp after `h` within the limits: logical + 1, or the next millisecond.
Hlc Tick(Hlc h) {
  if (h.logical < Hlc::kMaxLogical) {
    ++h.logical;
  } else {
    ++h.wall_ms;
    h.logical = 0;
  }
  return h;
}

}  // namespace

std::string Hlc::ToString() const {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%013lld.%06u", static_cast<long long>(wall_ms), logical);
  return buf;
}

Result<Hlc> ParseHlc(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError("hlc: \"" + std::string(text.substr(0, 40)) +
                                "\" is not 13 digits, '.', 6 digits");
  };
  if (text.size() != 20 || text[13] != '.') return bad();
  Hlc h;
  for (size_t i = 0; i < 20; ++i) {
    if (i == 13) continue;
    if (text[i] < '0' || text[i] > '9') return bad();
    if (i < 13) {
      h.wall_ms = h.wall_ms * 10 + (text[i] - '0');
    } else {
      h.logical = h.logical * 10 + static_cast<uint32_t>(text[i] - '0');
    }
  }
  return h;
}

HlcClock::HlcClock(const Clock* clock) : clock_(clock) {}

int64_t HlcClock::WallMs() const {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->WallNow().time_since_epoch())
          .count();
  return std::clamp<int64_t>(ms, 0, Hlc::kMaxWallMs);
}

Hlc HlcClock::Now() {
  const int64_t wall = WallMs();
  MutexLock lock(&mu_);
  last_ = wall > last_.wall_ms ? Hlc{wall, 0} : Tick(last_);
  return last_;
}

Status HlcClock::Observe(const Hlc& remote, std::chrono::milliseconds max_skew) {
  const int64_t wall = WallMs();
  // remote - wall > max_skew, written so that neither side overflows.
  if (remote.wall_ms > wall && remote.wall_ms - wall > max_skew.count()) {
    return OutOfRangeError("hlc: a peer's stamp " + remote.ToString() + " is " +
                           std::to_string(remote.wall_ms - wall) +
                           " ms ahead of this node's clock (max " +
                           std::to_string(max_skew.count()) + " ms)");
  }
  MutexLock lock(&mu_);
  // Receive rule: the new stamp exceeds both the local one and the remote one; the wall part
  // follows this node's clock when that is ahead of both.
  if (wall > last_.wall_ms && wall > remote.wall_ms) {
    last_ = Hlc{wall, 0};
  } else {
    last_ = Tick(std::max(last_, remote));
  }
  return Status::Ok();
}

void HlcClock::Seed(const Hlc& floor) {
  MutexLock lock(&mu_);
  last_ = std::max(last_, floor);
}

Hlc HlcClock::Last() const {
  MutexLock lock(&mu_);
  return last_;
}

}  // namespace callvault

// Hybrid logical clocks (Kulkarni et al., "Logical Physical Clocks and Consistent Snapshots in
// Globally Distributed Databases", 2014): timestamps that stay close to wall time yet never go
// backwards on a node and always exceed every timestamp the node has seen from a peer, so "the
// newest write wins" (catalog/ change log, docs/formats/catalog-schema.md §change_log) holds
// across nodes whose wall clocks differ a little, and a change made after seeing another is
// always stamped later.
//
// An Hlc is (wall_ms, logical): milliseconds since the Unix epoch, and a counter that orders
// events within one millisecond. Its text form (ToString) is fixed width and sorts as text in
// the same order as the values, so databases store it as TEXT and ORDER BY / MAX() work.
//
// Called by: catalog/ (stamps local changes, observes peers' stamps). Thread-safety: Hlc is a
// value; HlcClock is thread-safe.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"

namespace callvault {

struct Hlc {
  int64_t wall_ms = 0;   // 0 … kMaxWallMs
  uint32_t logical = 0;  // 0 … kMaxLogical

  static constexpr int64_t kMaxWallMs = 9'999'999'999'999;  // 13 digits: year 2286
  static constexpr uint32_t kMaxLogical = 999'999;          // 6 digits

  auto operator<=>(const Hlc&) const = default;

  // "0001767225600000.000000"-like: wall_ms as 13 zero-padded digits, '.', logical as 6
  // zero-padded digits (20 characters). Text order = value order.
  std::string ToString() const;
};

// The inverse of Hlc::ToString: exactly 13 digits, '.', 6 digits. InvalidArgument otherwise.
Result<Hlc> ParseHlc(std::string_view text);

class HlcClock {
 public:
  // REQUIRES: clock outlives this object. Starts at Hlc{} (below every stamp).
  explicit HlcClock(const Clock* clock);

  // A stamp greater than every stamp returned or observed before: (max(wall, last.wall_ms),
  // logical) where logical counts up while the millisecond repeats. When logical would pass
  // kMaxLogical the stamp moves to the next millisecond (stays well ordered and fixed width).
  Hlc Now() EXCLUDES(mu_);

  // Merges a stamp received from a peer (HLC receive rule) so that every later Now() is greater
  // than `remote`. OutOfRange, and nothing merged, when remote.wall_ms is more than `max_skew`
  // ahead of this node's wall clock: a peer with a runaway clock must not drag this node's
  // stamps into the future (its change is refused and counted by the caller).
  [[nodiscard]] Status Observe(const Hlc& remote, std::chrono::milliseconds max_skew) EXCLUDES(mu_);

  // Raises the clock to at least `floor` without skew checks (at start: the newest stamp found
  // in the database, so stamps stay increasing across restarts and processes).
  void Seed(const Hlc& floor) EXCLUDES(mu_);

  // The last stamp returned, observed or seeded.
  Hlc Last() const EXCLUDES(mu_);

 private:
  int64_t WallMs() const;

  const Clock* const clock_;
  mutable Mutex mu_;
  Hlc last_ GUARDED_BY(mu_);
};

}  // namespace callvault

// AuditDedupe: "at most one audit entry per key per window" for what would otherwise be audited
// on every request — a recording played (user + call: every Range request of a player),
// downloaded, an API token or HTTP Basic credentials used (docs/api.md §Audit). In memory,
// per node: a node that restarts, or another node, audits the key again.
//
// Claim() is atomic: of concurrent requests for one key, one gets true and audits; the others
// go on unaudited. If that audit cannot be written, Release() gives the claim back so that a
// later request audits.
//
// Memory is bounded: at most `max_keys` keys; past that, keys whose window has passed go first,
// then the oldest tenth (such a key may then be audited again within its window: a duplicate
// entry, never a missing one).
//
// Who calls it: http/ (Authenticator, the audio handler). Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace callvault::http {

struct AuditDedupeOptions {
  std::chrono::seconds window{10 * 60};
  size_t max_keys = 50000;
};

class AuditDedupe {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit AuditDedupe(AuditDedupeOptions options = {}) : options_(options) {}

  // True when `key` was not claimed within the window before `now`; it is claimed at `now`.
  bool Claim(std::string_view key, TimePoint now);
  // Undoes the claim made at `claimed_at` (a later claim of the key stays).
  void Release(std::string_view key, TimePoint claimed_at);

  size_t keys() const;

 private:
  void Bound(TimePoint now);

  const AuditDedupeOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, TimePoint> claimed_;  // key → when claimed
};

}  // namespace callvault::http

// UUIDv7 (RFC 9562 §5.7): the call id of every recording, unique across cluster nodes and
// sortable by creation time. Layout (big-endian):
//   unix_ts_ms (48 bits) | ver=0111 (4) | rand_a (12) | var=10 (2) | rand_b (62)
// Monotonic within a process (RFC 9562 §6.2 method 1): rand_a is a 12-bit counter that starts at
// a random value below 2^11 each new millisecond and is incremented while the millisecond repeats
// (or the wall clock steps back); when it overflows, the timestamp is advanced by 1 ms. rand_b is
// 62 fresh bits from getrandom(2) (the kernel CSPRNG) for every id.
//
// Who calls it: siprec/ (new recording sessions), catalog/ and http/ (IsUuid on input).
// Thread-safety: NewUuidV7, IsUuid, UuidV7Time and UuidV7Generator are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"

namespace callvault {

// A UUIDv7 from clock.WallNow() in canonical form: 36 lowercase characters,
// "0190a6f2-7c3e-7b1a-9f2d-3e4c5b6a7d8e". Ids from one process sort (as strings) in the order
// they were made. Uses a process-wide generator.
std::string NewUuidV7(const Clock& clock);

// True for the canonical form: 8-4-4-4-12 lowercase hex digits with '-' (any version; callers
// that accept uppercase input lowercase it first).
bool IsUuid(std::string_view s);

// The creation time (ms precision) of a UUIDv7 in canonical form. InvalidArgument if `s` is not
// a canonical UUID of version 7 and variant 10.
Result<std::chrono::system_clock::time_point> UuidV7Time(std::string_view s);

// A generator with its own monotonic state (NewUuidV7 uses one shared instance; tests use their
// own to control the time).
class UuidV7Generator {
 public:
  std::string Next(const Clock& clock) EXCLUDES(mu_);

 private:
  Mutex mu_;
  int64_t last_ms_ GUARDED_BY(mu_) = -1;
  uint16_t counter_ GUARDED_BY(mu_) = 0;  // the 12-bit rand_a of the last id
};

}  // namespace callvault

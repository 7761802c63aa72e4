// IP fragment reassembly for passive capture (RFC 791 §3.2, RFC 8200 §4.5): a SIPREC INVITE
// with SDP and metadata often exceeds one UDP datagram's MTU, so the primary receives it in
// fragments and the spare must put them back together.
//
// Bounded: at most `max_datagrams` datagrams in progress and `max_bytes` buffered in all; a
// datagram not complete `timeout_ns` after its first fragment (capture time) is dropped; when a
// bound is hit the oldest datagram in progress is dropped first. Every drop is counted.
// Overlapping fragments: later bytes overwrite earlier ones (what Linux did before it started
// discarding overlaps); a datagram over 65,535 bytes is invalid.
//
// Called by: PacketDecoder, on the capture thread only.
// Thread-safety: not thread-safe (one owner thread); counters may be read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "capture/internal/counter.h"
#include "capture/ip_decode.h"

namespace callvault::capture {

struct IpReassemblyOptions {
  // Datagrams in progress at once. Default: 256.
  size_t max_datagrams = 256;
  // Bytes buffered across all datagrams in progress. Default: 4 MiB.
  size_t max_bytes = size_t{4} << 20;
  // Capture time from a datagram's first fragment to its drop. Default: 30 s (Linux ipfrag_time).
  int64_t timeout_ns = int64_t{30} * 1'000'000'000;
};

struct IpReassemblyCounters {
  internal::Counter fragments;    // fragments seen
  internal::Counter reassembled;  // datagrams completed
  internal::Counter timed_out;    // datagrams dropped incomplete after timeout_ns
  internal::Counter evicted;      // datagrams dropped to respect max_datagrams / max_bytes
  internal::Counter invalid;      // fragments beyond 65,535 bytes or contradicting the end
};

class IpReassembler {
 public:
  explicit IpReassembler(IpReassemblyOptions options = {});

  enum class Outcome : uint8_t { kHeld, kComplete, kDropped };

  // Adds one fragment (REQUIRES: fragment.fragment). kComplete sets *out to the protocol's
  // reassembled bytes (IPv6 extension headers after the Fragment header already skipped) and
  // *protocol; both stay valid until the next call of Add.
  Outcome Add(const IpPacket& fragment, int64_t ts_ns, std::span<const uint8_t>* out,
              uint8_t* protocol);

  // Drops datagrams whose first fragment is older than timeout_ns at `now_ns`.
  void Expire(int64_t now_ns);

  size_t datagrams_in_progress() const { return pending_.size(); }
  size_t bytes_buffered() const { return bytes_; }
  const IpReassemblyCounters& counters() const { return counters_; }

 private:
  struct Pending {
    IpAddress src;
    IpAddress dst;
    uint32_t id = 0;
    uint8_t protocol = 0;
    int64_t first_ts_ns = 0;
    int64_t total = -1;  // known once the last fragment arrived
    std::vector<uint8_t> data;
    std::vector<std::pair<uint32_t, uint32_t>> have;  // [begin, end) sorted, merged
  };

  size_t Find(const IpPacket& f) const;
  void Erase(size_t index);
  bool MakeRoom(size_t extra);

  const IpReassemblyOptions options_;
  std::vector<Pending> pending_;  // small (max_datagrams); linear search
  size_t bytes_ = 0;
  std::vector<uint8_t> done_;  // the last completed datagram
  IpReassemblyCounters counters_;
};

}  // namespace callvault::capture

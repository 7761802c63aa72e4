// RtpStats: reception statistics of one media stream (RFC 3550 §6.4.1, Appendix A.1, A.8), kept
// per SSRC. Pure: fed packets and arrival times, no clock and no I/O.
//
// Definitions (per SSRC; the totals of RtpStatsSnapshot add them up):
//   - extended sequence number: 16-bit seq + 65536 × wraps (RFC 3550 A.1), starting at 65536 +
//     the first seq (so packets reordered before the first one stay positive).
//   - expected = highest − lowest extended seq + 1 (per run, see restarts); received = distinct
//     seqs; lost = expected − received, never negative; a late packet lowers `lost` again.
//   - duplicate: a seq already received (within the last 1024 seqs).
//   - reordered: arrived with a seq lower than the highest seen (not a duplicate).
//   - late: a reordered packet that arrived more than `late_after` (default 200 ms, a typical
//     jitter-buffer depth) after the packet that jumped over it — too late for a live listener,
//     still recorded.
//   - gaps: runs of missing seqs, with their time position (arrival of the packet before and of
//     the packet after the run); reordered packets that arrive later shrink or split them. At
//     most kMaxGaps are kept per SSRC (gaps_dropped counts the rest).
//   - restarts: a jump of ≥ 3000 forward or > 100 backward is a source restart once two
//     consecutive packets confirm it (RFC 3550 A.1 MAX_DROPOUT / MAX_MISORDER): tracking restarts
//     there; the unconfirmed packet is counted in packets/bytes only.
//   - jitter: RFC 3550 A.8 interarrival jitter in RTP timestamp units (clock_rate per stream).
//   - ssrc_changes: packets whose SSRC differs from the previous RTP packet's. Every SSRC seen is
//     listed in order of appearance (at most kMaxSsrcs; later ones count in other_ssrc_packets).
// RTCP packets are counted by the type of the first packet of the compound (RFC 3550 §6.4–6.7).
//
// Who calls it: media::internal::IoThread (one per stream), tests.
// Thread-safety: one thread at a time; a snapshot is a value.
#pragma once

#include <bitset>
#include <cstdint>
#include <string_view>
#include <vector>

namespace callvault::media {

struct RtpGap {
  uint64_t first_seq = 0;  // extended seq of the first missing packet
  uint32_t count = 0;      // missing seqs in the run
  int64_t before_ns = 0;   // arrival of the packet before the run
  int64_t after_ns = 0;    // arrival of the packet after the run (when it was detected)
};

struct SsrcStats {
  uint32_t ssrc = 0;
  uint64_t packets = 0, bytes = 0;          // every packet of this SSRC (bytes: whole RTP packet)
  uint64_t first_seq = 0, highest_seq = 0;  // extended, current run
  uint64_t expected = 0, received = 0, lost = 0;
  uint64_t duplicates = 0, reordered = 0, late = 0, restarts = 0;
  double jitter = 0;  // RTP timestamp units
  int64_t first_arrival_ns = 0, last_arrival_ns = 0;
  std::vector<RtpGap> gaps;
  uint64_t gaps_dropped = 0;
};

struct RtpStatsSnapshot {
  // Totals over all SSRCs.
  uint64_t packets = 0, bytes = 0, expected = 0, lost = 0;
  uint64_t duplicates = 0, reordered = 0, late = 0, restarts = 0;
  uint64_t ssrc_changes = 0, other_ssrc_packets = 0;
  uint64_t invalid = 0;  // on the RTP port, not RTP version 2 or shorter than its header
  double jitter_ms = 0;  // the largest per-SSRC jitter, in ms (via clock_rate)
  uint64_t rtcp_packets = 0, rtcp_bytes = 0;
  // RTCP by type of the first packet: SR (200), RR (201), SDES (202), BYE (203), APP (204),
  // other (anything else, including too short to have a type).
  uint64_t rtcp_sr = 0, rtcp_rr = 0, rtcp_sdes = 0, rtcp_bye = 0, rtcp_app = 0, rtcp_other = 0;
  std::vector<SsrcStats> ssrcs;  // order of first appearance
};

class RtpStats {
 public:
  static constexpr size_t kMaxGaps = 1000;
  static constexpr size_t kMaxSsrcs = 32;
  static constexpr uint16_t kMaxDropout = 3000;
  static constexpr uint16_t kMaxMisorder = 100;
  static constexpr size_t kWindow = 1024;  // seqs remembered for duplicate detection

  // `clock_rate`: RTP clock of the stream (Hz) for jitter; `late_after_ns`: see "late" above.
  explicit RtpStats(uint32_t clock_rate = 8000, int64_t late_after_ns = 200'000'000);

  // One packet that arrived on the RTP port (plaintext header; SRTP keeps the header clear).
  void OnRtp(std::string_view packet, int64_t arrival_ns);
  // One (S)RTCP compound packet.
  void OnRtcp(std::string_view packet);

  RtpStatsSnapshot Snapshot() const;
  uint64_t packets() const { return packets_; }

 private:
  struct Tracker {
    SsrcStats s;
    bool initialized = false;
    uint64_t max_ext = 0, base_ext = 0;
    uint64_t prior_expected = 0, prior_received = 0;  // finished runs (restarts)
    uint16_t bad_seq = 0;
    bool bad_seq_valid = false;
    std::bitset<kWindow> seen;
    bool have_transit = false;
    double transit = 0;
    int64_t max_arrival_ns = 0;  // arrival of the packet that set max_ext
  };
  void Init(Tracker& t, uint16_t seq, int64_t arrival_ns);
  void Track(Tracker& t, uint16_t seq, uint32_t ts, int64_t arrival_ns);
  void AddGap(Tracker& t, uint64_t first, uint64_t count, int64_t before, int64_t after);
  // Removes `ext` from the gaps; returns the detection time of the gap it was in (0: none).
  int64_t FillGap(Tracker& t, uint64_t ext);
  void Jitter(Tracker& t, uint32_t ts, int64_t arrival_ns);

  const uint32_t clock_rate_;
  const int64_t late_after_ns_;
  std::vector<Tracker> trackers_;
  size_t current_ = SIZE_MAX;  // index of the last packet's tracker
  uint64_t packets_ = 0;
  uint64_t ssrc_changes_ = 0, other_ssrc_packets_ = 0, invalid_ = 0;
  uint64_t rtcp_packets_ = 0, rtcp_bytes_ = 0;
  uint64_t rtcp_types_[6] = {};
};

// True when a datagram on an RTP port is RTCP multiplexed on it (RFC 5761 §4: second byte,
// the RTCP packet type, in 192..223). Inline: the I/O thread asks for every datagram.
inline bool IsRtcpMux(std::string_view packet) {
  if (packet.size() < 2) return false;
  const uint8_t pt = static_cast<uint8_t>(packet[1]);
  return pt >= 192 && pt <= 223;
}

}  // namespace callvault::media

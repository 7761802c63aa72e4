// Test-only: random RTP streams with every irregularity the timeline method handles (jitter,
// shallow and deep reordering, duplicates, loss, late outliers, SSRC changes, sequence and
// timestamp jumps, talkspurts with markers, sender clock drift, payload type changes, comfort
// noise, DTMF, RTCP, garbage, SRTP auth failures, receiver gap markers), for the differential
// tests of the streaming timeline and renderer against the in-memory reference.
//
// Callers: src/recording/timeline_builder_test.cc, stream_renderer_test.cc. Thread-safety: none.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "media/spool_reader.h"
#include "recording/session_log.h"

namespace callvault::recording::testing {

struct Rec {
  media::spool::RecordKind kind = media::spool::RecordKind::kRtp;
  uint8_t flags = 0;
  int64_t arrival_ns = 0;
  std::string payload;
};

inline std::string Rtp(uint16_t seq, uint32_t ts, uint32_t ssrc, uint8_t pt, bool marker,
                       std::string payload) {
  std::string p(12, '\0');
  p[0] = static_cast<char>(0x80);
  p[1] = static_cast<char>((marker ? 0x80 : 0) | (pt & 0x7f));
  p[2] = static_cast<char>(seq >> 8);
  p[3] = static_cast<char>(seq);
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<char>(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<char>(ssrc >> (24 - 8 * i));
  return p + payload;
}

inline StreamInfo Info() {
  StreamInfo info{.id = "s0"};
  info.payload_types[101] = codec::CodecSpec{.name = "telephone-event", .clock_rate = 8000};
  info.payload_types[111] = codec::CodecSpec{.name = "opus", .clock_rate = 48000, .channels = 2};
  return info;
}

// A random stream: phases of one SSRC/payload type each, with the irregularities chosen by `rng`.
inline std::vector<Rec> RandomStream(uint32_t seed, int phases, int packets_per_phase) {
  std::mt19937 rng(seed);
  auto uni = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  std::vector<Rec> out;
  int64_t now = 1'800'000'000'000'000'000 + uni(0, 1'000'000);
  uint32_t ssrc = static_cast<uint32_t>(rng());
  uint16_t seq = static_cast<uint16_t>(rng());
  uint32_t ts = static_cast<uint32_t>(rng());
  const int deep = uni(0, 3);  // some streams reorder deeply
  for (int phase = 0; phase < phases; ++phase) {
    if (phase > 0 && chance(0.3)) ssrc = static_cast<uint32_t>(rng());
    if (phase > 0 && chance(0.2)) seq = static_cast<uint16_t>(seq + uni(3001, 60000));  // epoch
    if (phase > 0 && chance(0.3)) ts += static_cast<uint32_t>(uni(-50000, 5'000'000));
    static const uint8_t kPts[] = {0, 0, 0, 8, 9, 111, 13};
    const uint8_t pt = kPts[uni(0, 6)];
    const int clock = pt == 111 ? 48000 : 8000;
    const int units = clock / 50;  // 20 ms
    const double ppm = uni(-300, 300);
    const int64_t jitter = uni(0, 3) == 0 ? 0 : int64_t{uni(0, 60)} * 1'000'000;
    const double loss = chance(0.5) ? 0.0 : 0.02 * uni(0, 10);
    const double dup = chance(0.7) ? 0.0 : 0.02;
    const double late = chance(0.7) ? 0.0 : 0.01;
    const bool dtx = chance(0.3);
    const bool dtmf = chance(0.3);
    const size_t phase_begin = out.size();
    const int64_t delay = uni(10, 80) * int64_t{1'000'000};
    int64_t t0 = now;
    for (int n = 0; n < packets_per_phase; ++n) {
      bool marker = n == 0;
      if (dtx && chance(0.02)) {  // a silence: neither timestamps nor packets for a while
        const int skip = uni(5, 100);
        ts += static_cast<uint32_t>(skip * units);
        t0 += static_cast<int64_t>(skip * 20'000'000 * (1 + ppm * 1e-6));
        marker = true;
      }
      const int64_t send = t0 + static_cast<int64_t>(n * 20'000'000.0 * (1 + ppm * 1e-6));
      int64_t arrival = send + delay + (jitter ? uni(0, static_cast<int>(jitter)) : 0);
      if (chance(late)) arrival += uni(210, 900) * int64_t{1'000'000};
      std::string payload(pt == 111  ? uni(20, 80)
                          : pt == 13 ? 1
                                     : 160,
                          static_cast<char>(seq & 0xff));
      uint8_t this_pt = pt;
      if (dtmf && n % 50 >= 20 && n % 50 < 26) {  // an event: same timestamp, growing duration
        this_pt = 101;
        const int d = (n % 50 - 19) * 160;
        payload =
            std::string{static_cast<char>(n / 50 % 16), static_cast<char>(n % 50 == 25 ? 0x80 : 0),
                        static_cast<char>(d >> 8), static_cast<char>(d)};
      }
      const uint32_t event_ts = ts - static_cast<uint32_t>((n % 50 - 20) * units);
      if (!chance(loss)) {
        out.push_back(Rec{
            .arrival_ns = arrival,
            .payload = Rtp(seq, this_pt == 101 ? event_ts : ts, ssrc, this_pt, marker, payload)});
        if (chance(dup)) {
          Rec d = out.back();
          d.arrival_ns += uni(0, 100) * int64_t{1'000'000};
          out.push_back(d);
        }
      }
      if (chance(0.01))
        out.push_back(Rec{.kind = media::spool::RecordKind::kRtcp, .arrival_ns = arrival});
      if (chance(0.005)) out.push_back(Rec{.arrival_ns = arrival, .payload = "garbage"});
      if (chance(0.005))
        out.push_back(Rec{.flags = media::spool::kFlagSrtpAuthFailed,
                          .arrival_ns = arrival,
                          .payload = Rtp(seq, ts, ssrc, pt, false, "x")});
      if (chance(0.003))
        out.push_back(Rec{.kind = media::spool::RecordKind::kGap,
                          .arrival_ns = arrival,
                          .payload = std::string("\x03\0\0\0", 4)});
      if (chance(0.002))
        out.push_back(Rec{.arrival_ns = arrival, .payload = Rtp(seq, ts, ssrc, 96, false, "u")});
      ++seq;
      ts += static_cast<uint32_t>(units);
    }
    // Arrival order: by arrival time (jitter and late packets reorder), plus deep swaps.
    std::stable_sort(out.begin() + static_cast<long>(phase_begin), out.end(),
                     [](const Rec& a, const Rec& b) { return a.arrival_ns < b.arrival_ns; });
    if (deep > 0) {
      for (int k = 0; k < deep * 3 && out.size() - phase_begin > 200; ++k) {
        const size_t a = phase_begin + static_cast<size_t>(uni(
                                           0, static_cast<int>(out.size() - phase_begin) - 150));
        std::swap(out[a], out[a + static_cast<size_t>(uni(1, 120))]);
      }
    }
    now = out.empty() ? now : out.back().arrival_ns + uni(0, 3000) * int64_t{1'000'000};
    (void)t0;
  }
  return out;
}

inline std::vector<media::SpoolRecord> Views(const std::vector<Rec>& recs) {
  std::vector<media::SpoolRecord> v;
  for (const Rec& r : recs)
    v.push_back(media::SpoolRecord{
        .kind = r.kind, .flags = r.flags, .arrival_ns = r.arrival_ns, .payload = r.payload});
  return v;
}

}  // namespace callvault::recording::testing

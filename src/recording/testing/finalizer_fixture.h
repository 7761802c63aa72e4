// The fixture shared by the finalizer tests: a temp dir with spool/ and recordings/, the real
// filesystem, a FakeClock, and a two-party call builder (PCMU 1 kHz left, PCMA 2 kHz right).
// Test-only.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "recording/finalizer.h"
#include "recording/testing/spool_fixture.h"
#include "recording/testing/temp_dir.h"

namespace callvault::recording::testing {

inline constexpr int64_t kT0 = 1'795'600'000'000'000'000;  // 2026-11-25T09:46:40Z
inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kSec = 1'000'000'000;

class FinalizerTest : public ::testing::Test {
 protected:
  std::string Spool(const std::string& id) { return tmp_.path() + "/spool/" + id; }
  FinalizeOptions Options() {
    FinalizeOptions o;
    o.recordings_dir = tmp_.path() + "/recordings";
    o.node_id = "rec-a";
    return o;
  }
  // A 2-stream call: PCMU 1 kHz left, PCMA 2 kHz right, `seconds` long, answered at kT0.
  void TwoToneCall(const std::string& id, double seconds, std::vector<Packet>* left_out = nullptr,
                   bool end = true) {
    SpoolBuilder b(&fs_, Spool(id), kT0);
    b.Start(kT0);
    b.Stream(kT0 + 1 * kMs, "s0", 0, "PCMU", 0);
    b.Stream(kT0 + 1 * kMs, "s1", 1, "PCMA", 8);
    StreamSpec l{.codec = "PCMU",
                 .pt = 0,
                 .ssrc = 0xA1,
                 .start_ns = kT0,
                 .seconds = seconds,
                 .jitter_ns = 10 * kMs,
                 .signal = Tone(1000)};
    StreamSpec r{.codec = "PCMA",
                 .pt = 8,
                 .ssrc = 0xB2,
                 .seq0 = 65000,
                 .ts0 = 0xFFFFF000u,
                 .start_ns = kT0,
                 .seconds = seconds,
                 .jitter_ns = 10 * kMs,
                 .seed = 7,
                 .signal = Tone(2000)};
    std::vector<Packet> lp = MakeStream(l);
    if (left_out) *left_out = lp;
    b.Rtp("s0", lp);
    b.Rtp("s1", MakeStream(r));
    if (end) b.End(kT0 + static_cast<int64_t>(seconds * kSec) + 100 * kMs);
    b.Close();
  }

  TempDir tmp_;
  Fs& fs_ = *DefaultFs();
  FakeClock clock_;
};

}  // namespace callvault::recording::testing

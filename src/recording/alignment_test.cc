// Both directions on one wall clock: clicks at the same wall time land at the same sample
// (± 20 ms) across codecs and rates, with sender clock drift, and Ogg/Opus size per hour.
#include <gtest/gtest.h>

#include "recording/finalizer.h"
#include "recording/testing/spool_fixture.h"
#include "recording/testing/temp_dir.h"

namespace callvault::recording {
namespace {

using testing::FindClick;
using testing::MakeStream;
using testing::ReadWav;
using testing::SpoolBuilder;
using testing::StreamSpec;

constexpr int64_t kT0 = 1'795'600'000'000'000'000;
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

class AlignmentTest : public ::testing::Test {
 protected:
  // Left PCMU and right `right_codec`, both with clicks at `clicks` (call time, s); the right
  // sender starts `right_late_s` later, with other bases, and its clock drifts by `ppm`.
  Result<FinalizeResult> Run(const std::string& id, const std::string& right_codec, double seconds,
                             std::vector<double> clicks, double ppm, double right_late_s,
                             FinalizeOptions options = {}) {
    SpoolBuilder b(fs_, tmp_.path() + "/spool/" + id, kT0);
    b.Start(kT0);
    const int right_pt = right_codec == "G722"   ? 9
                         : right_codec == "PCMA" ? 8
                         : right_codec == "opus" ? 111
                                                 : 0;
    b.Stream(kT0, "s0", 0, "PCMU", 0);
    b.Stream(kT0, "s1", 1, right_codec, right_pt);
    b.Rtp("s0", MakeStream({.codec = "PCMU",
                            .pt = 0,
                            .ssrc = 1,
                            .start_ns = kT0,
                            .seconds = seconds,
                            .delay_ns = 30 * kMs,
                            .jitter_ns = 15 * kMs,
                            .seed = 3,
                            .signal = testing::ToneWithClicks(440, clicks)}));
    const int64_t late = static_cast<int64_t>(right_late_s * kSec);
    b.Rtp("s1", MakeStream({.codec = right_codec,
                            .pt = static_cast<uint8_t>(right_pt),
                            .ssrc = 2,
                            .seq0 = 40000,
                            .ts0 = 0x7ffffff0,
                            .start_ns = kT0 + late,
                            .start_s = right_late_s,
                            .seconds = seconds - right_late_s,
                            .drift_ppm = ppm,
                            .delay_ns = 30 * kMs,
                            .jitter_ns = 15 * kMs,
                            .seed = 9,
                            .signal = testing::ToneWithClicks(660, clicks)}));
    b.End(kT0 + static_cast<int64_t>(seconds * kSec));
    b.Close();
    options.recordings_dir = tmp_.path() + "/recordings";
    return FinalizeCall(*fs_, clock_, options, {.spool_dir = tmp_.path() + "/spool/" + id});
  }

  // Offsets (ms) between the left and right click near each `clicks` time.
  static std::vector<double> ClickSkewsMs(const testing::Wav& w,
                                          const std::vector<double>& clicks) {
    std::vector<double> out;
    for (double c : clicks) {
      const size_t from = static_cast<size_t>((c - 0.5) * w.rate);
      const int64_t l = FindClick(w.left, from), r = FindClick(w.right, from);
      out.push_back(l < 0 || r < 0 ? 1e9 : 1000.0 * static_cast<double>(r - l) / w.rate);
    }
    return out;
  }

  testing::TempDir tmp_;
  Fs* fs_ = DefaultFs();
  FakeClock clock_;
};

TEST_F(AlignmentTest, ClickAtTenSecondsLinesUpAcrossG711AndG722) {
  Result<FinalizeResult> r = Run("g722", "G722", 15, {10.0}, 0, 1.3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const testing::Wav w = ReadWav(r->audio_path);
  EXPECT_EQ(w.rate, 16000);  // a wideband codec is present
  EXPECT_EQ(r->manifest["audio"]["sample_rate"], 16000);
  const double skew = ClickSkewsMs(w, {10.0})[0];
  EXPECT_LE(std::abs(skew), 20.0) << skew;
  // And at the right place: at its arrival, 10 s into the call + 20 ms packet + 30 ms delay.
  EXPECT_NEAR(static_cast<double>(FindClick(w.left, 0)) / w.rate, 10.05, 0.005);
  RecordProperty("skew_ms", std::to_string(skew));
}

TEST_F(AlignmentTest, HundredPpmDriftOverTenMinutesStaysAligned) {
  std::vector<double> clicks;
  for (double t = 30; t < 600; t += 60) clicks.push_back(t);
  Result<FinalizeResult> r = Run("drift", "PCMA", 600, clicks, 100, 0.7);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const testing::Wav w = ReadWav(r->audio_path);
  EXPECT_NEAR(static_cast<double>(w.left.size()) / w.rate, 600, 6);
  double worst = 0;
  for (double s : ClickSkewsMs(w, clicks)) worst = std::max(worst, std::abs(s));
  EXPECT_LE(worst, 20.0);
  RecordProperty("worst_skew_ms", std::to_string(worst));
  // Without re-anchoring the right channel would run 100 ppm × 570 s ≈ 57 ms early by the end.
  FinalizeOptions no_reanchor;
  no_reanchor.timeline.drift_threshold_ns = 10 * kSec;
  Result<FinalizeResult> naive = Run("drift-naive", "PCMA", 600, clicks, 100, 0.7, no_reanchor);
  ASSERT_TRUE(naive.ok());
  const std::vector<double> naive_skews = ClickSkewsMs(ReadWav(naive->audio_path), clicks);
  EXPECT_GT(std::abs(naive_skews.back()), 40.0);
}

TEST_F(AlignmentTest, OggOpusStaysUnderFourteenPointFourMegabytesPerHour) {
  FinalizeOptions o;
  o.format = AudioFormat::kOggOpus;
  Result<FinalizeResult> r = Run("opus", "PCMU", 60, {10.0, 30.0}, 0, 0, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest["audio"]["format"], "opus");
  EXPECT_NE(r->audio_path.find(".opus"), std::string::npos);
  const uint64_t bytes = DefaultFs()->FileSize(r->audio_path).value();
  const double mb_per_hour = static_cast<double>(bytes) * 60 / 1e6;
  EXPECT_LE(mb_per_hour, 14.4);
  RecordProperty("opus_mb_per_hour", std::to_string(mb_per_hour));
  const testing::Wav w = ReadWav(r->audio_path);  // libsndfile decodes it back
  EXPECT_EQ(w.channels, 2);
  EXPECT_NEAR(static_cast<double>(w.left.size()) / w.rate, 60, 0.6);
}

TEST_F(AlignmentTest, ClickLinesUpAcrossG711AndOpus) {
  Result<FinalizeResult> r = Run("opus-in", "opus", 15, {10.0}, 0, 0.4);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const testing::Wav w = ReadWav(r->audio_path);
  EXPECT_EQ(w.rate, 16000);  // Opus decodes at 48 kHz: resampled to 16 kHz
  EXPECT_EQ(r->manifest["streams"][1]["codec"], "opus");
  EXPECT_EQ(r->manifest["streams"][1]["clock_rate"], 48000);
  const double skew = ClickSkewsMs(w, {10.0})[0];
  EXPECT_LE(std::abs(skew), 20.0) << skew;
  RecordProperty("skew_ms", std::to_string(skew));
}

}  // namespace
}  // namespace callvault::recording

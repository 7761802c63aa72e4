#include "media/rtp_stats.h"

#include <gtest/gtest.h>

#include "media/internal/test_rtp.h"

namespace callvault::media {
namespace {

using testing::MakeRtcp;
using testing::MakeRtp;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kT0 = 1'700'000'000'000 * kMs;

// Feeds seq numbers (20 ms apart, timestamps in step) from one SSRC.
void Feed(RtpStats& st, const std::vector<int>& seqs, uint32_t ssrc = 0xAABB, int64_t t0 = kT0) {
  int i = 0;
  for (int seq : seqs) {
    st.OnRtp(MakeRtp(static_cast<uint16_t>(seq), static_cast<uint32_t>(seq) * 160, ssrc),
             t0 + (i++) * 20 * kMs);
  }
}

std::vector<int> Range(int from, int to) {  // [from, to)
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST(RtpStatsTest, InOrderStreamHasNoLossAndZeroJitter) {
  RtpStats st;
  Feed(st, Range(100, 600));
  auto s = st.Snapshot();
  EXPECT_EQ(s.packets, 500u);
  EXPECT_EQ(s.bytes, 500u * 172);
  EXPECT_EQ(s.expected, 500u);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.duplicates + s.reordered + s.late + s.ssrc_changes, 0u);
  ASSERT_EQ(s.ssrcs.size(), 1u);
  EXPECT_TRUE(s.ssrcs[0].gaps.empty());
  EXPECT_NEAR(s.jitter_ms, 0.0, 1e-6);
}

TEST(RtpStatsTest, LossIsCountedWithGapPositions) {
  RtpStats st;
  std::vector<int> seqs = Range(0, 100);
  seqs.erase(seqs.begin() + 50);                     // 50
  seqs.erase(seqs.begin() + 10, seqs.begin() + 13);  // 10, 11, 12
  Feed(st, seqs);
  auto s = st.Snapshot();
  EXPECT_EQ(s.expected, 100u);
  EXPECT_EQ(s.lost, 4u);
  const auto& g = s.ssrcs[0].gaps;
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].first_seq, 65536u + 10);
  EXPECT_EQ(g[0].count, 3u);
  EXPECT_EQ(g[0].before_ns, kT0 + 9 * 20 * kMs);  // seq 9 was the 10th packet
  EXPECT_EQ(g[0].after_ns, kT0 + 10 * 20 * kMs);  // seq 13 the 11th
  EXPECT_EQ(g[1].first_seq, 65536u + 50);
  EXPECT_EQ(g[1].count, 1u);
}

TEST(RtpStatsTest, DuplicatesAndReorderingAreExact) {
  RtpStats st;
  // 0..9, then 11 before 10, then 5 again (duplicate, older), 11 again (duplicate of the max).
  Feed(st, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 10, 5, 11, 12});
  auto s = st.Snapshot();
  EXPECT_EQ(s.packets, 15u);
  EXPECT_EQ(s.expected, 13u);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.duplicates, 2u);
  EXPECT_EQ(s.reordered, 1u);
  EXPECT_EQ(s.late, 0u);  // 20 ms after the jump: within a jitter buffer
  EXPECT_TRUE(s.ssrcs[0].gaps.empty());
}

TEST(RtpStatsTest, ReorderedPacketSplitsItsGapAndLateOnesAreCounted) {
  RtpStats st(8000, /*late_after_ns=*/100 * kMs);
  // 0, then 10 (gap 1..9), then 5 arrives 20 ms later, 3 arrives 200 ms later.
  st.OnRtp(MakeRtp(0, 0, 1), kT0);
  st.OnRtp(MakeRtp(10, 1600, 1), kT0 + 200 * kMs);
  st.OnRtp(MakeRtp(5, 800, 1), kT0 + 220 * kMs);
  st.OnRtp(MakeRtp(3, 480, 1), kT0 + 500 * kMs);
  auto s = st.Snapshot();
  EXPECT_EQ(s.lost, 7u);
  EXPECT_EQ(s.reordered, 2u);
  EXPECT_EQ(s.late, 1u);
  const auto& g = s.ssrcs[0].gaps;
  ASSERT_EQ(g.size(), 3u);  // 1-2, 4, 6-9
  EXPECT_EQ(g[0].first_seq - 65536, 1u);
  EXPECT_EQ(g[0].count, 2u);
  EXPECT_EQ(g[1].first_seq - 65536, 4u);
  EXPECT_EQ(g[1].count, 1u);
  EXPECT_EQ(g[2].first_seq - 65536, 6u);
  EXPECT_EQ(g[2].count, 4u);
}

TEST(RtpStatsTest, SequenceWrapsAt65535) {
  RtpStats st;
  std::vector<int> seqs;
  for (int i = 65500; i < 65536; ++i) seqs.push_back(i);
  for (int i = 0; i < 40; ++i) {
    if (i != 2) seqs.push_back(i);  // one loss after the wrap
  }
  seqs.push_back(65535);  // a duplicate from before the wrap
  Feed(st, seqs);
  auto s = st.Snapshot();
  EXPECT_EQ(s.expected, 76u);
  EXPECT_EQ(s.lost, 1u);
  EXPECT_EQ(s.duplicates, 1u);
  EXPECT_EQ(s.ssrcs[0].highest_seq, 65536u + 65536 + 39);
  ASSERT_EQ(s.ssrcs[0].gaps.size(), 1u);
  EXPECT_EQ(s.ssrcs[0].gaps[0].first_seq, 65536u + 65536 + 2);
}

TEST(RtpStatsTest, ReorderAcrossTheWrap) {
  RtpStats st;
  Feed(st, {65533, 65534, 0, 65535, 1});
  auto s = st.Snapshot();
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.reordered, 1u);
  EXPECT_EQ(s.expected, 5u);
}

TEST(RtpStatsTest, SsrcChangeRestartsTrackingAndIsListed) {
  RtpStats st;
  Feed(st, Range(1000, 1050), 0x1111);
  Feed(st, Range(7, 57), 0x2222, kT0 + 2000 * kMs);  // new source, unrelated seq
  auto s = st.Snapshot();
  EXPECT_EQ(s.ssrc_changes, 1u);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.expected, 100u);
  ASSERT_EQ(s.ssrcs.size(), 2u);
  EXPECT_EQ(s.ssrcs[0].ssrc, 0x1111u);
  EXPECT_EQ(s.ssrcs[0].packets, 50u);
  EXPECT_EQ(s.ssrcs[1].ssrc, 0x2222u);
  EXPECT_EQ(s.ssrcs[1].first_seq, 65536u + 7);
  EXPECT_EQ(s.ssrcs[1].first_arrival_ns, kT0 + 2000 * kMs);
}

TEST(RtpStatsTest, LargeJumpRestartsOnlyWhenConfirmed) {
  RtpStats st;
  Feed(st, {10, 11, 12, 30000, 13, 14});  // a stray packet far away, then back to normal
  auto s = st.Snapshot();
  EXPECT_EQ(s.restarts, 0u);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.packets, 6u);
  RtpStats st2;
  Feed(st2, {10, 11, 12, 30000, 30001, 30002});  // the source restarted
  s = st2.Snapshot();
  EXPECT_EQ(s.restarts, 1u);
  EXPECT_EQ(s.expected, 6u);
  EXPECT_EQ(s.lost, 0u);
}

TEST(RtpStatsTest, JitterFollowsRfc3550) {
  RtpStats st;  // 8 kHz
  // Packets every 20 ms of timestamps, arriving alternately 0 / +10 ms late: |D| = 80 units.
  for (int i = 0; i < 400; ++i) {
    st.OnRtp(MakeRtp(static_cast<uint16_t>(i), i * 160u, 5),
             kT0 + i * 20 * kMs + (i % 2) * 10 * kMs);
  }
  auto s = st.Snapshot();
  EXPECT_NEAR(s.ssrcs[0].jitter, 80.0, 0.5);
  EXPECT_NEAR(s.jitter_ms, 10.0, 0.1);
}

TEST(RtpStatsTest, RtcpCountedByTypeAndInvalidRtp) {
  RtpStats st;
  st.OnRtcp(MakeRtcp(200, 1));
  st.OnRtcp(MakeRtcp(201, 1));
  st.OnRtcp(MakeRtcp(201, 1));
  st.OnRtcp(MakeRtcp(203, 1));
  st.OnRtcp("x");
  st.OnRtp("short", kT0);
  st.OnRtp(std::string(20, '\0'), kT0);  // version 0
  auto s = st.Snapshot();
  EXPECT_EQ(s.rtcp_packets, 5u);
  EXPECT_EQ(s.rtcp_sr, 1u);
  EXPECT_EQ(s.rtcp_rr, 2u);
  EXPECT_EQ(s.rtcp_bye, 1u);
  EXPECT_EQ(s.rtcp_other, 1u);
  EXPECT_EQ(s.invalid, 2u);
  EXPECT_EQ(s.packets, 2u);
  EXPECT_TRUE(IsRtcpMux(MakeRtcp(201, 1)));
  EXPECT_FALSE(IsRtcpMux(MakeRtp(1, 1, 1)));
}

}  // namespace
}  // namespace callvault::media

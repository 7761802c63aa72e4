// The streaming timeline (PacketOrderer + Segmenter = TimelineBuilder, and the orderer's replay
// with an OrderPlan) against the in-memory BuildTimeline, on randomly generated streams with
// every irregularity the method handles: jitter, reordering (shallow and deep), duplicates,
// loss, late outliers, SSRC changes, sequence and timestamp jumps, talkspurts with markers,
// sender clock drift, payload type changes, comfort noise, DTMF, RTCP, garbage, SRTP auth
// failures and receiver gap markers. Every field must be equal.
#include "recording/timeline_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "recording/packet_orderer.h"
#include "recording/stream_timeline.h"
#include "recording/testing/random_stream.h"

namespace callvault::recording {
namespace {

using testing::Info;
using testing::RandomStream;
using testing::Rec;
using testing::Rtp;
using testing::Views;

void ExpectSameTimeline(const StreamTimeline& want, const StreamTimeline& got, uint32_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  EXPECT_EQ(got.first_arrival_ns, want.first_arrival_ns);
  EXPECT_EQ(got.last_arrival_ns, want.last_arrival_ns);
  const StreamStats& a = want.stats;
  const StreamStats& b = got.stats;
  EXPECT_EQ(b.packets, a.packets);
  EXPECT_EQ(b.bytes, a.bytes);
  EXPECT_EQ(b.lost, a.lost);
  EXPECT_EQ(b.duplicates, a.duplicates);
  EXPECT_EQ(b.reordered, a.reordered);
  EXPECT_EQ(b.late, a.late);
  EXPECT_EQ(b.bad, a.bad);
  EXPECT_EQ(b.auth_failed, a.auth_failed);
  EXPECT_EQ(b.unknown_payload, a.unknown_payload);
  EXPECT_EQ(b.rtcp, a.rtcp);
  EXPECT_EQ(b.gap_markers, a.gap_markers);
  EXPECT_EQ(b.ssrcs, a.ssrcs);
  EXPECT_EQ(b.payload_type_packets, a.payload_type_packets);
  ASSERT_EQ(b.gaps.size(), a.gaps.size());
  for (size_t i = 0; i < a.gaps.size(); ++i) {
    EXPECT_EQ(b.gaps[i].start_ns, a.gaps[i].start_ns) << i;
    EXPECT_EQ(b.gaps[i].duration_ns, a.gaps[i].duration_ns) << i;
  }
  ASSERT_EQ(b.dtmf.size(), a.dtmf.size());
  for (size_t i = 0; i < a.dtmf.size(); ++i) {
    EXPECT_EQ(b.dtmf[i].start_ns, a.dtmf[i].start_ns) << i;
    EXPECT_EQ(b.dtmf[i].digit, a.dtmf[i].digit) << i;
    EXPECT_EQ(b.dtmf[i].duration_ms, a.dtmf[i].duration_ms) << i;
  }
  ASSERT_EQ(got.sources.size(), want.sources.size());
  for (size_t s = 0; s < want.sources.size(); ++s) {
    EXPECT_EQ(got.sources[s].ssrc, want.sources[s].ssrc);
    const auto& x = want.sources[s].segments;
    const auto& y = got.sources[s].segments;
    ASSERT_EQ(y.size(), x.size()) << "source " << s;
    for (size_t k = 0; k < x.size(); ++k) {
      SCOPED_TRACE("source " + std::to_string(s) + " segment " + std::to_string(k));
      EXPECT_EQ(y[k].begin, x[k].begin);
      EXPECT_EQ(y[k].end, x[k].end);
      EXPECT_EQ(y[k].payload_type, x[k].payload_type);
      EXPECT_EQ(y[k].clock_rate, x[k].clock_rate);
      EXPECT_EQ(y[k].start_ts, x[k].start_ts);
      EXPECT_EQ(y[k].start_wall_ns, x[k].start_wall_ns);
    }
  }
}

// Pass 2: the orderer replaying with the plan hands on exactly BuildTimeline's packets.
void ExpectSameReplay(const std::vector<media::SpoolRecord>& records, const StreamInfo& info,
                      const StreamTimeline& want, const BuiltTimeline& built, uint32_t seed) {
  SCOPED_TRACE("replay, seed " + std::to_string(seed));
  std::vector<std::vector<TimedPacket>> got(want.sources.size());
  std::vector<std::vector<std::string>> payloads(want.sources.size());
  size_t max_held = 0;
  PacketOrderer replay(info, &built.plan, /*keep_audio_payloads=*/true,
                       [&](const OrderedPacket& p) {
                         ASSERT_LT(p.source, got.size());
                         ASSERT_EQ(p.index, got[p.source].size());
                         got[p.source].push_back(p.packet);
                         payloads[p.source].emplace_back(p.packet.payload);
                       });
  for (const media::SpoolRecord& r : records) {
    replay.Push(r);
    max_held = std::max(max_held, replay.held());
  }
  replay.Finish();
  for (size_t s = 0; s < want.sources.size(); ++s) {
    const auto& x = want.sources[s].packets;
    ASSERT_EQ(got[s].size(), x.size());
    EXPECT_EQ(built.source_packets[s], x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(got[s][i].ext_seq, x[i].ext_seq) << i;
      ASSERT_EQ(got[s][i].ext_ts, x[i].ext_ts) << i;
      ASSERT_EQ(got[s][i].arrival_ns, x[i].arrival_ns) << i;
      ASSERT_EQ(got[s][i].lost_before, x[i].lost_before) << i;
      ASSERT_EQ(got[s][i].payload_type, x[i].payload_type) << i;
      ASSERT_EQ(got[s][i].marker, x[i].marker) << i;
      ASSERT_EQ(got[s][i].kind, x[i].kind) << i;
      ASSERT_EQ(payloads[s][i], x[i].payload) << i;
    }
  }
}

TEST(TimelineBuilderTest, EqualsBuildTimelineOnRandomStreams) {
  const StreamInfo info = Info();
  // What the streams exercised, so the comparison cannot pass on trivial input.
  uint64_t segments = 0, sources = 0, lost = 0, duplicates = 0, reordered = 0, late = 0, dtmf = 0,
           bad = 0, gaps = 0, multi_segment_runs = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    const std::vector<Rec> recs =
        RandomStream(seed, 1 + static_cast<int>(seed % 5), 300 + static_cast<int>(seed % 7) * 150);
    const std::vector<media::SpoolRecord> records = Views(recs);
    const StreamTimeline want = BuildTimeline(records, info);
    TimelineBuilder b(info);
    for (const media::SpoolRecord& r : records) b.Push(r);
    const BuiltTimeline got = b.Finish();
    ExpectSameTimeline(want, got.timeline, seed);
    ExpectSameReplay(records, info, want, got, seed);
    if (::testing::Test::HasFailure()) return;
    for (const Source& src : want.sources) {
      segments += src.segments.size();
      for (size_t k = 1; k < src.segments.size(); ++k)
        multi_segment_runs += src.segments[k].payload_type == src.segments[k - 1].payload_type;
    }
    sources += want.sources.size();
    lost += want.stats.lost;
    duplicates += want.stats.duplicates;
    reordered += want.stats.reordered;
    late += want.stats.late;
    dtmf += want.stats.dtmf.size();
    bad += want.stats.bad;
    gaps += want.stats.gaps.size();
  }
  std::printf(
      "exercised: %llu sources, %llu segments (%llu after one of the same type), lost "
      "%llu, duplicates %llu, reordered %llu, late %llu, dtmf %llu, bad %llu, gaps %llu\n",
      (unsigned long long)sources, (unsigned long long)segments,
      (unsigned long long)multi_segment_runs, (unsigned long long)lost,
      (unsigned long long)duplicates, (unsigned long long)reordered, (unsigned long long)late,
      (unsigned long long)dtmf, (unsigned long long)bad, (unsigned long long)gaps);
  EXPECT_GT(sources, 400u);
  EXPECT_GT(multi_segment_runs, 200u);
  EXPECT_GT(lost, 1000u);
  EXPECT_GT(duplicates, 1000u);
  EXPECT_GT(reordered, 1000u);
  EXPECT_GT(late, 100u);
  EXPECT_GT(dtmf, 100u);
  EXPECT_GT(bad, 100u);
}

TEST(TimelineBuilderTest, EmptyAndEventOnlyStreams) {
  const StreamInfo info = Info();
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<Rec> recs;
    for (int n = 0; n < 40 && variant > 0; ++n) {
      const std::string ev{static_cast<char>(5), static_cast<char>(n % 10 == 9 ? 0x80 : 0), 0,
                           static_cast<char>(n % 10 * 16)};
      recs.push_back(
          Rec{.arrival_ns = 1'000'000'000 + n * 20'000'000,
              .payload = Rtp(static_cast<uint16_t>(n), 8000u * (n / 10), 7, 101, false, ev)});
      if (variant == 2 && n == 30)
        recs.push_back(Rec{.arrival_ns = 1'000'000'000 + n * 20'000'000,
                           .payload = Rtp(static_cast<uint16_t>(n), 9999, 8, 0, false, "a")});
    }
    const std::vector<media::SpoolRecord> records = Views(recs);
    const StreamTimeline want = BuildTimeline(records, info);
    TimelineBuilder b(info);
    for (const media::SpoolRecord& r : records) b.Push(r);
    const BuiltTimeline got = b.Finish();
    ExpectSameTimeline(want, got.timeline, static_cast<uint32_t>(variant));
    ExpectSameReplay(records, info, want, got, static_cast<uint32_t>(variant));
  }
}

TEST(TimelineBuilderTest, MemoryStaysBoundedOnALongStream) {
  // 2 hours of 20 ms packets with jitter and a little reordering: the builder never holds more
  // than about two anchor windows plus the reorder bound; the replay holds a handful.
  const StreamInfo info = Info();
  TimelineBuilder b(info);
  size_t max_held = 0;
  const int kPackets = 2 * 3600 * 50;
  auto record = [&](int n, std::string* storage) {
    const int m = (n % 100 == 50) ? n + 1 : (n % 100 == 51) ? n - 1 : n;  // swap pairs
    *storage = Rtp(static_cast<uint16_t>(m), 160u * static_cast<uint32_t>(m), 42, 0, false,
                   std::string(160, 'x'));
    return media::SpoolRecord{.arrival_ns = int64_t{m} * 20'000'000 + int64_t{m % 7} * 700'000,
                              .payload = *storage};
  };
  std::string storage;
  for (int n = 0; n < kPackets; ++n) {
    b.Push(record(n, &storage));
    max_held = std::max(max_held, b.held());
  }
  const BuiltTimeline got = b.Finish();
  // Pass 2 holds a packet only while the one before it is still to come.
  size_t replay_held = 0, emitted = 0;
  PacketOrderer replay(info, &got.plan, true, [&](const OrderedPacket&) { ++emitted; });
  for (int n = 0; n < kPackets; ++n) {
    replay.Push(record(n, &storage));
    replay_held = std::max(replay_held, replay.held());
  }
  EXPECT_EQ(emitted, static_cast<size_t>(kPackets));  // nothing left for Finish()
  EXPECT_LE(replay_held, 1u);
  EXPECT_EQ(got.timeline.stats.packets, static_cast<uint64_t>(kPackets));
  EXPECT_EQ(got.source_packets[0], static_cast<size_t>(kPackets));
  EXPECT_LT(max_held, 1300u) << "packets held at once";
  ASSERT_EQ(got.plan.late_suffix_min.size(), 1u);
  EXPECT_EQ(got.plan.late_suffix_min[0].size(), static_cast<size_t>(kPackets / 100));
}

}  // namespace
}  // namespace callvault::recording

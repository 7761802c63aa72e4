// The streaming renderer (TimelineBuilder pass + StreamRenderer pass) against the in-memory
// reference (BuildTimeline + RenderChannels) on random calls: the frames must be identical, and
// the memory held must not grow with the call's length.
#include "recording/stream_renderer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "recording/internal/resample.h"
#include "recording/renderer.h"
#include "recording/stream_timeline.h"
#include "recording/testing/random_stream.h"
#include "recording/timeline_builder.h"

namespace callvault::recording {
namespace {

using testing::Rec;

TEST(StreamResamplerTest, PiecesGiveTheSameSamplesAsTheWholeBlock) {
  std::mt19937 rng(3);
  for (auto [a, b] : std::vector<std::pair<int, int>>{
           {8000, 16000}, {16000, 8000}, {48000, 16000}, {48000, 8000}, {8000, 8000}}) {
    for (size_t len : {0u, 1u, 7u, 160u, 1000u, 48000u, 160001u}) {
      std::vector<int16_t> in(len);
      for (size_t i = 0; i < len; ++i)
        in[i] = static_cast<int16_t>(8000 * std::sin(static_cast<double>(i) * 0.05) +
                                     static_cast<int>(rng() % 2000) - 1000);
      const std::vector<int16_t> whole = internal::Resample(in, a, b);
      for (size_t max_piece : {3u, 320u, 20000u}) {
        internal::StreamResampler r(a, b);
        std::vector<int16_t> out;
        for (size_t pos = 0; pos < len;) {
          const size_t n = std::min<size_t>(len - pos, 1 + rng() % max_piece);
          r.Push(in.data() + pos, n, &out);
          pos += n;
        }
        r.Finish(&out);
        ASSERT_EQ(out, whole) << a << " -> " << b << ", " << len << " samples, pieces ≤ "
                              << max_piece;
      }
    }
  }
}

class CollectingSink final : public FrameSink {
 public:
  Status Write(const int16_t* interleaved, size_t frames) override {
    for (size_t i = 0; i < frames; ++i) {
      left.push_back(interleaved[2 * i]);
      right.push_back(interleaved[2 * i + 1]);
    }
    return Status::Ok();
  }
  std::vector<int16_t> left, right;
};

struct Call {
  std::vector<StreamInfo> infos;
  std::vector<std::vector<Rec>> records;
  std::vector<int> channels;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> muted;
  int64_t hint = 0;
};

Call RandomCall(uint32_t seed) {
  std::mt19937 rng(seed * 7919u);
  Call c;
  const int streams = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < streams; ++i) {
    StreamInfo info = testing::Info();
    info.id = "s" + std::to_string(i);
    c.infos.push_back(info);
    c.records.push_back(testing::RandomStream(seed * 10 + static_cast<uint32_t>(i),
                                              1 + static_cast<int>(rng() % 3),
                                              200 + static_cast<int>(rng() % 400)));
    c.channels.push_back(streams == 1 ? -1 : i % 2);
    std::vector<std::pair<int64_t, int64_t>> muted;
    if (rng() % 3 == 0 && !c.records.back().empty()) {
      const int64_t t = c.records.back()[c.records.back().size() / 2].arrival_ns;
      muted.emplace_back(t, t + static_cast<int64_t>(rng() % 3000) * 1'000'000);
    }
    c.muted.push_back(muted);
  }
  if (rng() % 2 && !c.records[0].empty())
    c.hint =
        c.records[0].front().arrival_ns + (static_cast<int64_t>(rng() % 2000) - 1000) * 1'000'000;
  return c;
}

// Pushes every stream's records, interleaved by arrival (each stream in its own order).
Status PushAll(const Call& c, StreamRenderer* r) {
  std::vector<size_t> next(c.records.size(), 0);
  while (true) {
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < c.records.size(); ++i)
      if (next[i] < c.records[i].size() &&
          (best == SIZE_MAX ||
           c.records[i][next[i]].arrival_ns < c.records[best][next[best]].arrival_ns))
        best = i;
    if (best == SIZE_MAX) return r->Finish();
    const Rec& rec = c.records[best][next[best]++];
    CV_RETURN_IF_ERROR(r->Push(best, media::SpoolRecord{.kind = rec.kind,
                                                        .flags = rec.flags,
                                                        .arrival_ns = rec.arrival_ns,
                                                        .payload = rec.payload}));
  }
}

TEST(StreamRendererTest, EqualsRenderChannelsOnRandomCalls) {
  const DecoderFactory factory(codec::NewDecoder);
  uint64_t frames_total = 0, undecodable_total = 0, wide = 0;
  for (uint32_t seed = 1; seed <= 80; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Call c = RandomCall(seed);
    // Reference.
    std::vector<std::vector<media::SpoolRecord>> views;
    std::vector<StreamTimeline> timelines;
    for (size_t i = 0; i < c.records.size(); ++i) {
      views.push_back(testing::Views(c.records[i]));
      timelines.push_back(BuildTimeline(views.back(), c.infos[i]));
    }
    std::vector<RenderInput> ref_inputs;
    for (size_t i = 0; i < c.records.size(); ++i)
      ref_inputs.push_back(RenderInput{.info = &c.infos[i],
                                       .timeline = &timelines[i],
                                       .channel = c.channels[i],
                                       .muted = c.muted[i]});
    const RenderedAudio want = RenderChannels(ref_inputs, c.hint, factory);
    // Streaming: pass 1, a measuring pass, the writing pass.
    std::vector<BuiltTimeline> built;
    for (size_t i = 0; i < c.records.size(); ++i) {
      TimelineBuilder b(c.infos[i]);
      for (const media::SpoolRecord& r : views[i]) b.Push(r);
      built.push_back(b.Finish());
    }
    auto inputs = [&] {
      std::vector<StreamRenderInput> in;
      for (size_t i = 0; i < c.records.size(); ++i)
        in.push_back(StreamRenderInput{.info = &c.infos[i],
                                       .built = &built[i],
                                       .channel = c.channels[i],
                                       .muted = c.muted[i]});
      return in;
    };
    StreamRenderer measure(inputs(), c.hint, factory, nullptr);
    ASSERT_TRUE(PushAll(c, &measure).ok());
    CollectingSink sink;
    StreamRenderer render(inputs(), c.hint, factory, &sink);
    ASSERT_TRUE(PushAll(c, &render).ok());
    EXPECT_EQ(render.sample_rate(), want.sample_rate);
    EXPECT_EQ(render.origin_ns(), want.origin_ns);
    EXPECT_EQ(measure.frames(), want.frames());
    EXPECT_EQ(render.frames(), want.frames());
    EXPECT_EQ(render.undecodable(), want.undecodable);
    EXPECT_EQ(render.warnings(), want.warnings);
    ASSERT_EQ(sink.left.size(), want.left.size());
    for (size_t f = 0; f < want.left.size(); ++f) {
      ASSERT_EQ(sink.left[f], want.left[f]) << "frame " << f;
      ASSERT_EQ(sink.right[f], want.right[f]) << "frame " << f;
    }
    frames_total += static_cast<uint64_t>(want.frames());
    undecodable_total += want.undecodable;
    wide += want.sample_rate == 16000;
  }
  EXPECT_GT(frames_total, 1'000'000u);
  EXPECT_GT(undecodable_total, 0u);
  EXPECT_GT(wide, 10u);
}

TEST(StreamRendererTest, HoldsSecondsNotTheCall) {
  // Two 20-minute G.711 streams with jitter: the frames pending for mixing stay within a few
  // seconds (≤ 2 × the decoders' 3 s holdback), however long the call.
  const DecoderFactory factory(codec::NewDecoder);
  Call c;
  for (int i = 0; i < 2; ++i) {
    StreamInfo info = testing::Info();
    info.id = "s" + std::to_string(i);
    c.infos.push_back(info);
    std::vector<Rec> recs;
    std::mt19937 rng(static_cast<uint32_t>(i) + 1);
    for (int n = 0; n < 20 * 60 * 50; ++n) {
      std::string payload(160, '\0');
      for (char& ch : payload) ch = static_cast<char>(rng());
      recs.push_back(Rec{.arrival_ns = 1'800'000'000'000'000'000 + int64_t{n} * 20'000'000 +
                                       static_cast<int64_t>(rng() % 30) * 1'000'000,
                         .payload = testing::Rtp(static_cast<uint16_t>(n + 100 * i),
                                                 160u * static_cast<uint32_t>(n), 10u + i,
                                                 i == 0 ? 0 : 8, n == 0, payload)});
    }
    std::stable_sort(recs.begin(), recs.end(),
                     [](const Rec& a, const Rec& b) { return a.arrival_ns < b.arrival_ns; });
    c.records.push_back(std::move(recs));
    c.channels.push_back(i);
    c.muted.emplace_back();
  }
  std::vector<BuiltTimeline> built;
  for (size_t i = 0; i < 2; ++i) {
    TimelineBuilder b(c.infos[i]);
    for (const media::SpoolRecord& r : testing::Views(c.records[i])) b.Push(r);
    built.push_back(b.Finish());
  }
  std::vector<StreamRenderInput> in;
  for (size_t i = 0; i < 2; ++i)
    in.push_back(
        StreamRenderInput{.info = &c.infos[i], .built = &built[i], .channel = c.channels[i]});
  CollectingSink sink;
  StreamRenderer render(std::move(in), 0, factory, &sink);
  ASSERT_TRUE(PushAll(c, &render).ok());
  EXPECT_GT(render.frames(), 20 * 60 * 8000 - 8000);
  EXPECT_EQ(static_cast<int64_t>(sink.left.size()), render.frames());
  EXPECT_LT(render.peak_pending_frames(), 8 * 8000) << "frames held for mixing at once";
}

}  // namespace
}  // namespace callvault::recording

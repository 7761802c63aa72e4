// MediaRouter: bound endpoints get their packets, packets ahead of their binding are held and
// delivered first and in order, what stays unbound ages out, memory stays bounded.
#include "passive/media_router.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace callvault::passive {
namespace {

struct Got {
  std::string call, stream;
  int64_t ts;
  uint8_t first;
};

class Sink : public PassiveMediaSink {
 public:
  void OnMedia(const std::string& call, const std::string& stream, int64_t ts,
               std::span<const uint8_t> d) override {
    got.push_back({call, stream, ts, d.empty() ? uint8_t{0} : d[0]});
  }
  std::vector<Got> got;
};

capture::Endpoint Ep(uint16_t port) {
  uint8_t b[4];
  inet_pton(AF_INET, "192.0.2.20", b);
  return capture::Endpoint{capture::IpAddress::V4(b), port};
}

capture::UdpPacket Packet(uint16_t port, int64_t ts, const std::vector<uint8_t>& bytes) {
  capture::UdpPacket p;
  p.dst = Ep(port);
  p.ts_ns = ts;
  p.payload = bytes;
  return p;
}

TEST(MediaRouter, HeldPacketsGoFirstThenLiveOnes) {
  Sink sink;
  MediaRouter r(&sink);
  std::vector<uint8_t> a{1}, b{2}, c{3};
  r.Route(Packet(31000, 100, a));  // before the binding
  r.Route(Packet(31000, 200, b));
  EXPECT_TRUE(sink.got.empty());
  r.Post({Ep(31000), "call", "s0", true});
  r.Route(Packet(31000, 300, c));
  ASSERT_EQ(sink.got.size(), 3u);
  EXPECT_EQ(sink.got[0].first, 1);
  EXPECT_EQ(sink.got[1].first, 2);
  EXPECT_EQ(sink.got[2].first, 3);
  EXPECT_EQ(sink.got[2].stream, "s0");
  EXPECT_EQ(r.counters().held_delivered.load(), 2u);
  r.Post({Ep(31000), "call", "s0", false});
  r.Route(Packet(31000, 400, c));
  EXPECT_EQ(sink.got.size(), 3u);
}

// A BYE captured ends its dialog's routes at once: what the SRC sends after it is not the
// call's, even before the follower has processed the BYE. Other dialogs keep theirs.
TEST(MediaRouter, ACapturedByeEndsItsDialogsRoutesAtOnce) {
  Sink sink;
  MediaRouter r(&sink);
  std::vector<uint8_t> a{1};
  r.Post({Ep(31000), "call1", "s0", true, "leg-a@src"});
  r.Post({Ep(31002), "call1", "s1", true, "leg-a@src"});
  r.Post({Ep(31004), "call1", "s1", true, "leg-b@src"});  // a BiB call's other leg
  EXPECT_EQ(r.EndDialog("other@src"), 0u);
  r.Route(Packet(31000, 100, a));
  EXPECT_EQ(r.EndDialog("leg-a@src"), 2u);
  r.Route(Packet(31000, 200, a));
  r.Route(Packet(31002, 200, a));
  r.Route(Packet(31004, 200, a));
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0].ts, 100);
  EXPECT_EQ(sink.got[1].stream, "s1");
  EXPECT_EQ(r.routes(), 1u);
  r.Post({Ep(31000), "call1", "s0", false, "leg-a@src"});  // the follower's unbind, later
  r.Route(Packet(31004, 300, a));
  EXPECT_EQ(r.routes(), 1u);
}

TEST(MediaRouter, UnboundPacketsAgeOutAndAreBounded) {
  Sink sink;
  MediaRouter r(&sink);
  std::vector<uint8_t> p(200, 7);
  for (size_t i = 0; i < MediaRouter::kHeldPerEndpoint + 10; ++i)
    r.Route(Packet(40000, 1000 + static_cast<int64_t>(i), p));
  EXPECT_EQ(r.counters().held_expired.load(), 10u);
  r.Poll(1000 + MediaRouter::kHeldWindowNs + 100);
  r.Post({Ep(40000), "late", "s0", true});
  r.Poll(1000 + MediaRouter::kHeldWindowNs + 200);
  EXPECT_TRUE(sink.got.empty()) << "aged out before the binding";
  // A flood of distinct unbound destinations stays under the byte bound.
  std::vector<uint8_t> big(1400, 1);
  const int64_t t = 10 * MediaRouter::kHeldWindowNs;
  for (int i = 0; i < 20000; ++i) r.Route(Packet(static_cast<uint16_t>(1024 + i), t, big));
  EXPECT_GT(r.counters().held_overflow.load(), 0u);
}

TEST(MediaRouter, LastRtpIsPublishedPerCall) {
  Sink sink;
  MediaRouter r(&sink);
  std::vector<uint8_t> a{1};
  r.Post({Ep(31000), "call", "s0", true});
  r.Route(Packet(31000, 5'000'000'000, a));
  r.Poll(5'000'000'001);
  EXPECT_EQ(r.LastRtp("call"), 5'000'000'000);
  EXPECT_EQ(r.LastRtp("other"), 0);
}

}  // namespace
}  // namespace callvault::passive

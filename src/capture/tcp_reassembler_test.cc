// TCP reassembly and SIP framing: split, reordered, retransmitted and overlapping segments,
// several messages per segment, keep-alives, gaps and resync, FIN/RST, bounds.
#include "capture/tcp_reassembler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "capture/ip_decode.h"
#include "capture/testing/frame_builder.h"

namespace callvault::capture {
namespace {

using testing::Ep;

constexpr int64_t kMs = 1'000'000;

struct Collect : PacketSink {
  std::vector<std::string> messages;
  std::vector<SipDatagram> meta;
  void OnSipMessage(const SipDatagram& m) override {
    messages.emplace_back(m.bytes);
    meta.push_back(m);
    meta.back().bytes = {};
  }
  void OnUdpPacket(const UdpPacket&) override {}
};

std::string Msg(int n, std::string_view body = "", bool compact = false) {
  return "OPTIONS sip:srs@192.0.2.2 SIP/2.0\r\nCall-ID: call-" + std::to_string(n) + "\r\n" +
         (compact ? "l: " : "Content-Length: ") + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

class TcpTest : public ::testing::Test {
 protected:
  TcpTest() : r_(Options()) {}
  static TcpReassemblyOptions Options() { return {}; }

  // A segment of the client → server flow carrying stream bytes [off, off + text.size()).
  void Send(uint32_t off, std::string_view text, uint8_t flags = kTcpAck, int64_t ts = 0) {
    TcpReassembler::Segment s;
    s.src = a_;
    s.dst = b_;
    s.seq = isn_ + 1 + off;
    s.flags = flags;
    s.payload =
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    s.ts_ns = ts == 0 ? ++now_ : ts;
    r_.AddSegment(s, &sink_);
  }
  void Syn() {
    TcpReassembler::Segment s;
    s.src = a_;
    s.dst = b_;
    s.seq = isn_;
    s.flags = kTcpSyn;
    s.ts_ns = ++now_;
    r_.AddSegment(s, &sink_);
  }

  Endpoint a_ = Ep("192.0.2.1", 40001);
  Endpoint b_ = Ep("192.0.2.2", 5060);
  uint32_t isn_ = 1000;
  int64_t now_ = 1;
  TcpReassembler r_;
  Collect sink_;
};

TEST_F(TcpTest, ThreeMessagesInOneSegment) {
  Syn();
  const std::string m = Msg(1) + Msg(2, "v=0\r\n") + Msg(3, "abc");
  Send(0, m);
  ASSERT_EQ(sink_.messages.size(), 3u);
  EXPECT_EQ(sink_.messages[0], Msg(1));
  EXPECT_EQ(sink_.messages[1], Msg(2, "v=0\r\n"));
  EXPECT_EQ(sink_.messages[2], Msg(3, "abc"));
  EXPECT_EQ(sink_.meta[0].transport, Transport::kTcp);
  EXPECT_EQ(sink_.meta[0].src, a_);
  EXPECT_EQ(sink_.meta[0].dst, b_);
  EXPECT_EQ(r_.counters().midstream_joins.Get(), 0u);
  EXPECT_EQ(r_.bytes_buffered(), 0u);
}

TEST_F(TcpTest, OneMessageSplitOverSegments) {
  Syn();
  const std::string m = Msg(1, std::string(3000, 'b'));
  Send(0, m.substr(0, 10));
  Send(10, m.substr(10, 1400));
  EXPECT_TRUE(sink_.messages.empty());
  Send(1410, m.substr(1410));
  ASSERT_EQ(sink_.messages.size(), 1u);
  EXPECT_EQ(sink_.messages[0], m);
}

TEST_F(TcpTest, ReorderedSegments) {
  Syn();
  const std::string s = Msg(1, "x") + Msg(2, "yy") + Msg(3, "zzz");
  const size_t p1 = 30, p2 = 90;
  Send(p2, s.substr(p2));
  Send(p1, s.substr(p1, p2 - p1));
  EXPECT_TRUE(sink_.messages.empty());
  Send(0, s.substr(0, p1));
  ASSERT_EQ(sink_.messages.size(), 3u);
  EXPECT_EQ(sink_.messages[0], Msg(1, "x"));
  EXPECT_EQ(sink_.messages[2], Msg(3, "zzz"));
  EXPECT_EQ(r_.counters().out_of_order_segments.Get(), 2u);
  EXPECT_EQ(r_.counters().gaps.Get(), 0u);
}

TEST_F(TcpTest, RetransmissionsAndOverlapsDeliverOnce) {
  Syn();
  const std::string s = Msg(1, "hello") + Msg(2, "world");
  const size_t half = s.size() / 2;
  Send(0, s.substr(0, half));
  Send(0, s.substr(0, half));                // retransmission
  Send(half - 20, s.substr(half - 20, 40));  // overlaps both halves
  Send(half + 40, s.substr(half + 40, 10));  // out of order, inside what comes next
  Send(half, s.substr(half));                // the rest, overlapping what was held
  Send(0, s);                                // everything again
  ASSERT_EQ(sink_.messages.size(), 2u);
  EXPECT_EQ(sink_.messages[0], Msg(1, "hello"));
  EXPECT_EQ(sink_.messages[1], Msg(2, "world"));
  EXPECT_GT(r_.counters().retransmitted_bytes.Get(), s.size());
  EXPECT_EQ(r_.counters().framing_errors.Get(), 0u);
}

TEST_F(TcpTest, CompactLengthAndKeepAlives) {
  Syn();
  const std::string s = "\r\n\r\n" + Msg(1, "body", true) + "\r\n\r\n\r\n" + Msg(2);
  Send(0, s);
  ASSERT_EQ(sink_.messages.size(), 2u);
  EXPECT_EQ(sink_.messages[0], Msg(1, "body", true));
  EXPECT_GT(r_.counters().keepalives.Get(), 0u);
}

TEST_F(TcpTest, SequenceNumbersWrap) {
  isn_ = 0xFFFFFF00u;
  Syn();
  const std::string s = Msg(1, std::string(600, 'w')) + Msg(2);
  Send(0, s.substr(0, 200));
  Send(400, s.substr(400));  // crosses 2^32, held
  Send(200, s.substr(200, 200));
  ASSERT_EQ(sink_.messages.size(), 2u);
  EXPECT_EQ(sink_.messages[1], Msg(2));
}

TEST_F(TcpTest, GapThatNeverFillsResyncsAtTheNextStartLine) {
  Syn();
  // Bodies end with CRLF, as SDP and XML do: resync looks for a start line at a line start.
  const std::string s =
      Msg(1, "aaaa") + Msg(2, std::string(500, 'b') + "\r\n") + Msg(3, "cc\r\n") + Msg(4);
  const size_t m2 = Msg(1, "aaaa").size();
  const size_t hole = m2 + 100;   // lost: from inside message 2's headers...
  const size_t after = m2 + 150;  // ...to inside its body
  Send(0, s.substr(0, hole), kTcpAck, 10 * kMs);
  Send(after, s.substr(after), kTcpAck, 20 * kMs);
  ASSERT_EQ(sink_.messages.size(), 1u);
  // The hole is skipped at the first segment after gap_timeout (2 s).
  Send(static_cast<uint32_t>(s.size()), Msg(5), kTcpAck, 3000 * kMs);
  ASSERT_EQ(sink_.messages.size(), 4u);
  EXPECT_EQ(sink_.messages[1], Msg(3, "cc\r\n"));
  EXPECT_EQ(sink_.messages[2], Msg(4));
  EXPECT_EQ(sink_.messages[3], Msg(5));
  EXPECT_EQ(r_.counters().gaps.Get(), 1u);
  EXPECT_EQ(r_.counters().gap_bytes.Get(), 50u);
  EXPECT_EQ(r_.counters().resyncs.Get(), 1u);
  EXPECT_GT(r_.counters().skipped_bytes.Get(), 0u);
}

TEST_F(TcpTest, ExpireSkipsAHoleWithoutNewTraffic) {
  Syn();
  const std::string s = Msg(1) + Msg(2);
  Send(10, s.substr(10), kTcpAck, 1 * kMs);
  EXPECT_TRUE(sink_.messages.empty());
  r_.Expire(5000 * kMs, &sink_);
  ASSERT_EQ(sink_.messages.size(), 1u);
  EXPECT_EQ(sink_.messages[0], Msg(2));
}

TEST_F(TcpTest, MidstreamJoinStartsAtAStartLine) {
  const std::string s = Msg(1, "xyz\r\n") + Msg(2);
  Send(20, s.substr(20));  // no SYN seen; first bytes are inside message 1
  ASSERT_EQ(sink_.messages.size(), 1u);
  EXPECT_EQ(sink_.messages[0], Msg(2));
  EXPECT_EQ(r_.counters().midstream_joins.Get(), 1u);
  EXPECT_EQ(r_.counters().resyncs.Get(), 0u);
}

TEST_F(TcpTest, FramingErrorResyncs) {
  Syn();
  const std::string bad = "INVITE sip:a@b SIP/2.0\r\nCall-ID: no-length\r\n\r\n";
  Send(0, bad + Msg(2));
  ASSERT_EQ(sink_.messages.size(), 1u);
  EXPECT_EQ(sink_.messages[0], Msg(2));
  EXPECT_EQ(r_.counters().framing_errors.Get(), 1u);
  EXPECT_EQ(r_.counters().resyncs.Get(), 1u);
}

TEST_F(TcpTest, FinAndRstRemoveFlows) {
  Syn();
  const std::string m = Msg(1);
  Send(0, m, kTcpAck | kTcpFin);
  EXPECT_EQ(sink_.messages.size(), 1u);
  EXPECT_EQ(r_.flow_count(), 0u);
  EXPECT_EQ(r_.counters().flows_closed.Get(), 1u);
  // FIN before the last data: closed once the data arrives.
  isn_ = 5000;
  Syn();
  Send(static_cast<uint32_t>(m.size() / 2), m.substr(m.size() / 2), kTcpAck | kTcpFin);
  EXPECT_EQ(r_.flow_count(), 1u);
  Send(0, m.substr(0, m.size() / 2));
  EXPECT_EQ(sink_.messages.size(), 2u);
  EXPECT_EQ(r_.flow_count(), 0u);
  // RST drops both directions.
  isn_ = 9000;
  Syn();
  Send(0, m.substr(0, 10));
  TcpReassembler::Segment back;
  back.src = b_;
  back.dst = a_;
  back.seq = 1;
  back.flags = kTcpAck;
  const std::string resp = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  back.payload =
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(resp.data()), resp.size());
  r_.AddSegment(back, &sink_);
  EXPECT_EQ(r_.flow_count(), 2u);
  back.flags = kTcpRst;
  back.payload = {};
  r_.AddSegment(back, &sink_);
  EXPECT_EQ(r_.flow_count(), 0u);
  EXPECT_EQ(r_.bytes_buffered(), 0u);
}

TEST(TcpBounds, FlowsIdleAndMemory) {
  TcpReassembler r(TcpReassemblyOptions{.max_out_of_order_bytes = 4096,
                                        .max_total_bytes = 64 * 1024,
                                        .max_flows = 8,
                                        .idle_timeout_ns = 10'000 * kMs});
  Collect sink;
  const std::string partial = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 100000\r\n";
  for (uint16_t port = 1; port <= 20; ++port) {
    TcpReassembler::Segment s;
    s.src = Ep("192.0.2.1", port);
    s.dst = Ep("192.0.2.2", 5060);
    s.seq = 1;
    s.flags = kTcpAck;
    s.payload =
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(partial.data()), partial.size());
    s.ts_ns = port * kMs;
    r.AddSegment(s, &sink);
    EXPECT_LE(r.flow_count(), 8u);
    EXPECT_LE(r.bytes_buffered(), 64u * 1024);
    // Out-of-order data beyond the per-flow bound forces the hole to be skipped.
    for (uint32_t k = 1; k <= 4; ++k) {
      std::string filler(2000, 'f');
      s.seq = 100000 * k;
      s.payload =
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(filler.data()), filler.size());
      r.AddSegment(s, &sink);
      EXPECT_LE(r.bytes_buffered(), 64u * 1024);
    }
  }
  EXPECT_EQ(r.counters().flows_evicted_memory.Get(), 12u);
  EXPECT_GT(r.counters().gaps.Get(), 0u);
  r.Expire(100'000 * kMs, &sink);
  EXPECT_EQ(r.flow_count(), 0u);
  EXPECT_EQ(r.bytes_buffered(), 0u);
  EXPECT_EQ(r.counters().flows_evicted_idle.Get(), 8u);
}

}  // namespace
}  // namespace callvault::capture

// Dispatcher: SIP datagrams vs other UDP, SIP detection on other ports, keep-alives, fragmented
// INVITEs, TCP streams end to end from Ethernet frames, non-SIP TCP.
#include "capture/dispatcher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "capture/link_layer.h"
#include "capture/testing/frame_builder.h"

namespace callvault::capture {
namespace {

using testing::Bytes;
using testing::Ep;

struct Collect : PacketSink {
  std::vector<std::string> sip;
  std::vector<Transport> sip_transport;
  std::vector<std::string> udp;
  std::vector<UdpPacket> udp_meta;
  void OnSipMessage(const SipDatagram& m) override {
    sip.emplace_back(m.bytes);
    sip_transport.push_back(m.transport);
  }
  void OnUdpPacket(const UdpPacket& p) override {
    udp.emplace_back(reinterpret_cast<const char*>(p.payload.data()), p.payload.size());
    udp_meta.push_back(p);
  }
};

std::string Invite(size_t body_size) {
  std::string body(body_size, 'x');
  return "INVITE sip:srs@192.0.2.2 SIP/2.0\r\nCall-ID: c1\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(Dispatcher, SipAndRtpOverUdp) {
  Collect sink;
  Dispatcher d(DispatcherOptions{}, &sink);
  const Endpoint src = Ep("192.0.2.1", 5060), srs = Ep("192.0.2.2", 5060);
  d.OnFrame(kDltEthernet, 1, testing::Ethernet(testing::IpUdp(src, srs, Invite(10))));
  const std::string rtp("\x80\x08\x00\x01\x00\x00\x00\xa0\x12\x34\x56\x78payload", 20);
  d.OnFrame(kDltEthernet, 2,
            testing::Ethernet(testing::IpUdp(Ep("192.0.2.1", 40000), Ep("192.0.2.2", 30000), rtp)));
  // SIP on a port nobody configured, found by its start line.
  d.OnFrame(kDltEthernet, 3,
            testing::Ethernet(testing::IpUdp(Ep("192.0.2.1", 5080), Ep("192.0.2.2", 5090),
                                             "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")));
  // CRLF keep-alive on the SIP port.
  d.OnFrame(kDltEthernet, 4, testing::Ethernet(testing::IpUdp(src, srs, "\r\n\r\n")));
  ASSERT_EQ(sink.sip.size(), 2u);
  EXPECT_EQ(sink.sip[0], Invite(10));
  EXPECT_EQ(sink.sip_transport[0], Transport::kUdp);
  ASSERT_EQ(sink.udp.size(), 1u);
  EXPECT_EQ(sink.udp[0], rtp);
  EXPECT_EQ(sink.udp_meta[0].src.port, 40000);
  EXPECT_EQ(sink.udp_meta[0].ts_ns, 2);
  EXPECT_EQ(d.counters().udp_keepalives.Get(), 1u);
}

TEST(Dispatcher, DetectionOffKeepsOtherPortsAsUdp) {
  Collect sink;
  DispatcherOptions o;
  o.detect_sip_on_any_port = false;
  Dispatcher d(o, &sink);
  d.OnFrame(kDltRaw, 1,
            testing::IpUdp(Ep("192.0.2.1", 5080), Ep("192.0.2.2", 5090), "SIP/2.0 200 OK\r\n\r\n"));
  EXPECT_TRUE(sink.sip.empty());
  EXPECT_EQ(sink.udp.size(), 1u);
}

TEST(Dispatcher, FragmentedInviteIsOneMessage) {
  Collect sink;
  Dispatcher d(DispatcherOptions{}, &sink);
  const Endpoint src = Ep("192.0.2.1", 5060), srs = Ep("192.0.2.2", 5060);
  Bytes l4 = testing::Udp(5060, 5060, Invite(3500));
  for (const Bytes& f : testing::Ipv4Fragments(src.ip, srs.ip, 17, l4, 99, 1480)) {
    d.OnFrame(kDltLinuxSll2, 1, testing::Sll2(f));
  }
  ASSERT_EQ(sink.sip.size(), 1u);
  EXPECT_EQ(sink.sip[0], Invite(3500));
}

TEST(Dispatcher, SipOverTcpSplitAndReordered) {
  Collect sink;
  Dispatcher d(DispatcherOptions{}, &sink);
  const Endpoint a = Ep("2001:db8::1", 45000), b = Ep("2001:db8::2", 5060);
  const std::string stream = Invite(700) + "SIP/2.0 100 Trying\r\nl: 0\r\n\r\n" + Invite(5);
  auto seg = [&](size_t off, size_t len, uint8_t flags) {
    return testing::Ethernet(
        testing::IpTcp(a, b, 101 + static_cast<uint32_t>(off), flags, stream.substr(off, len)));
  };
  d.OnFrame(kDltEthernet, 1, testing::Ethernet(testing::IpTcp(a, b, 100, 0x02, "")));
  d.OnFrame(kDltEthernet, 2, seg(500, 300, 0x18));
  d.OnFrame(kDltEthernet, 3, seg(0, 500, 0x18));
  d.OnFrame(kDltEthernet, 4, seg(800, std::string::npos, 0x19));
  ASSERT_EQ(sink.sip.size(), 3u);
  EXPECT_EQ(sink.sip[0], Invite(700));
  EXPECT_EQ(sink.sip[2], Invite(5));
  EXPECT_EQ(sink.sip_transport[1], Transport::kTcp);
  EXPECT_EQ(d.tcp().flow_count(), 0u);  // FIN closed it
}

TEST(Dispatcher, OtherTcpIsIgnored) {
  Collect sink;
  Dispatcher d(DispatcherOptions{}, &sink);
  d.OnFrame(kDltRaw, 1,
            testing::IpTcp(Ep("192.0.2.1", 443), Ep("192.0.2.2", 50000), 1, 0x18, "\x16\x03"));
  EXPECT_EQ(d.counters().tcp_ignored.Get(), 1u);
  EXPECT_EQ(d.tcp().flow_count(), 0u);
}

}  // namespace
}  // namespace callvault::capture

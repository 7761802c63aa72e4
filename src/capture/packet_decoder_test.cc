// Frame → UDP/TCP payload: IPv4, IPv6 (extension headers, fragments), truncation, counters.
#include "capture/packet_decoder.h"

#include <gtest/gtest.h>

#include <string>

#include "capture/link_layer.h"
#include "capture/testing/frame_builder.h"

namespace callvault::capture {
namespace {

using testing::Bytes;
using testing::Ep;

std::string Text(std::span<const uint8_t> p) {
  return std::string(reinterpret_cast<const char*>(p.data()), p.size());
}

TEST(PacketDecoder, UdpOverEveryLink) {
  const Endpoint a = Ep("192.0.2.1", 40000), b = Ep("192.0.2.2", 5060);
  const Bytes ip = testing::IpUdp(a, b, "hello");
  struct Case {
    int dlt;
    Bytes frame;
  };
  for (const Case& c :
       {Case{kDltEthernet, testing::Ethernet(ip)}, Case{kDltEthernet, testing::Ethernet(ip, 100)},
        Case{kDltLinuxSll, testing::Sll(ip)}, Case{kDltLinuxSll2, testing::Sll2(ip)},
        Case{kDltNull, testing::Null(ip)}, Case{kDltRaw, ip}, Case{kDltRawLinktype, ip}}) {
    PacketDecoder d;
    DecodedPacket p;
    ASSERT_EQ(d.Decode(c.dlt, 123, c.frame, &p), DecodeOutcome::kPacket) << c.dlt;
    EXPECT_EQ(p.protocol, kIpProtoUdp);
    EXPECT_EQ(p.src, a);
    EXPECT_EQ(p.dst, b);
    EXPECT_EQ(p.ts_ns, 123);
    EXPECT_EQ(Text(p.payload), "hello");
  }
}

TEST(PacketDecoder, Ipv6WithExtensionHeaderAndEthernetPadding) {
  const Endpoint a = Ep("2001:db8::1", 5060), b = Ep("2001:db8::2", 5062);
  Bytes ip = testing::Ipv6(a.ip, b.ip, kIpProtoUdp, testing::Udp(5060, 5062, "v6"), true);
  PacketDecoder d;
  DecodedPacket p;
  const Bytes frame = testing::Ethernet(ip);  // the payload points into it
  ASSERT_EQ(d.Decode(kDltEthernet, 1, frame, &p), DecodeOutcome::kPacket);
  EXPECT_EQ(p.src.ToString(), "[2001:db8::1]:5060");
  EXPECT_EQ(Text(p.payload), "v6");
  // Ethernet pads short frames to 60 bytes: the IP length wins.
  Bytes small = testing::IpUdp(Ep("192.0.2.1", 1), Ep("192.0.2.2", 2), "x");
  Bytes padded = testing::Ethernet(small);
  padded.resize(60, 0);
  ASSERT_EQ(d.Decode(kDltEthernet, 1, padded, &p), DecodeOutcome::kPacket);
  EXPECT_EQ(Text(p.payload), "x");
}

TEST(PacketDecoder, Tcp) {
  const Endpoint a = Ep("198.51.100.7", 33000), b = Ep("198.51.100.8", 5060);
  PacketDecoder d;
  DecodedPacket p;
  Bytes f = testing::Ethernet(testing::IpTcp(a, b, 1000, 0x18, "INVITE"));
  ASSERT_EQ(d.Decode(kDltEthernet, 5, f, &p), DecodeOutcome::kPacket);
  EXPECT_EQ(p.protocol, kIpProtoTcp);
  EXPECT_EQ(p.tcp_seq, 1000u);
  EXPECT_EQ(p.tcp_flags, 0x18);
  EXPECT_EQ(Text(p.payload), "INVITE");
}

TEST(PacketDecoder, TruncatedMalformedOther) {
  const Endpoint a = Ep("192.0.2.1", 1), b = Ep("192.0.2.2", 2);
  PacketDecoder d;
  DecodedPacket p;
  Bytes f = testing::Ethernet(testing::IpUdp(a, b, std::string(200, 'x')));
  f.resize(100);  // snaplen cut
  EXPECT_EQ(d.Decode(kDltEthernet, 1, f, &p), DecodeOutcome::kTruncated);
  Bytes icmp = testing::Ipv4(a.ip, b.ip, 1, Bytes(8, 0));
  EXPECT_EQ(d.Decode(kDltRaw, 1, icmp, &p), DecodeOutcome::kOtherProtocol);
  Bytes bad = testing::IpUdp(a, b, "x");
  bad[0] = 0x43;  // IHL 3
  EXPECT_EQ(d.Decode(kDltRaw, 1, bad, &p), DecodeOutcome::kMalformed);
  EXPECT_EQ(d.counters().truncated.Get(), 1u);
  EXPECT_EQ(d.counters().other_protocol.Get(), 1u);
  EXPECT_EQ(d.counters().malformed.Get(), 1u);
  EXPECT_EQ(d.counters().frames.Get(), 3u);
}

TEST(PacketDecoder, FragmentedUdpIsReassembled) {
  const Endpoint a = Ep("192.0.2.1", 5060), b = Ep("192.0.2.2", 5060);
  std::string big(4000, 'S');
  Bytes l4 = testing::Udp(a.port, b.port, big);
  auto frags = testing::Ipv4Fragments(a.ip, b.ip, kIpProtoUdp, l4, 42, 1480);
  PacketDecoder d;
  DecodedPacket p;
  EXPECT_EQ(d.Decode(kDltEthernet, 1, testing::Ethernet(frags[2]), &p),
            DecodeOutcome::kFragmentHeld);
  EXPECT_EQ(d.Decode(kDltEthernet, 1, testing::Ethernet(frags[0]), &p),
            DecodeOutcome::kFragmentHeld);
  ASSERT_EQ(d.Decode(kDltEthernet, 2, testing::Ethernet(frags[1]), &p), DecodeOutcome::kPacket);
  EXPECT_TRUE(p.reassembled);
  EXPECT_EQ(p.src, a);
  EXPECT_EQ(p.dst.port, 5060);
  EXPECT_EQ(Text(p.payload), big);
}

}  // namespace
}  // namespace callvault::capture

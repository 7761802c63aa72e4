// Link-layer decoding: every supported link type finds the IP packet.
#include "capture/link_layer.h"

#include <gtest/gtest.h>

#include "capture/testing/frame_builder.h"

namespace callvault::capture {
namespace {

using testing::Bytes;
using testing::Ep;

const Bytes& V4Packet() {
  static const Bytes b = testing::IpUdp(Ep("192.0.2.1", 5060), Ep("192.0.2.2", 5060), "x");
  return b;
}

TEST(LinkLayer, EthernetUntaggedAndVlan) {
  LinkFrame f;
  Bytes e = testing::Ethernet(V4Packet());
  ASSERT_EQ(DecodeLink(kDltEthernet, e, &f), LinkStatus::kOk);
  EXPECT_EQ(f.ip_version, 4);
  EXPECT_EQ(f.ip_offset, 14u);
  Bytes v = testing::Ethernet(V4Packet(), 42);
  ASSERT_EQ(DecodeLink(kDltEthernet, v, &f), LinkStatus::kOk);
  EXPECT_EQ(f.ip_offset, 18u);
  EXPECT_EQ(f.vlan_id, 42);
}

TEST(LinkLayer, QinQ) {
  Bytes b = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xA8, 0, 7, 0x81, 0x00, 0, 9, 0x08, 0x00};
  b.insert(b.end(), V4Packet().begin(), V4Packet().end());
  LinkFrame f;
  ASSERT_EQ(DecodeLink(kDltEthernet, b, &f), LinkStatus::kOk);
  EXPECT_EQ(f.ip_offset, 22u);
  EXPECT_EQ(f.vlan_id, 9);
}

TEST(LinkLayer, CookedV1V2NullRaw) {
  LinkFrame f;
  ASSERT_EQ(DecodeLink(kDltLinuxSll, testing::Sll(V4Packet()), &f), LinkStatus::kOk);
  EXPECT_EQ(f.ip_offset, 16u);
  ASSERT_EQ(DecodeLink(kDltLinuxSll2, testing::Sll2(V4Packet()), &f), LinkStatus::kOk);
  EXPECT_EQ(f.ip_offset, 20u);
  ASSERT_EQ(DecodeLink(kDltNull, testing::Null(V4Packet()), &f), LinkStatus::kOk);
  EXPECT_EQ(f.ip_offset, 4u);
  EXPECT_EQ(f.ip_version, 4);
  Bytes be = {0, 0, 0, 10};  // DLT_LOOP: network order, AF_INET6 (Linux)
  ASSERT_EQ(DecodeLink(kDltLoop, be, &f), LinkStatus::kTruncated);
  be.push_back(0x60);
  ASSERT_EQ(DecodeLink(kDltLoop, be, &f), LinkStatus::kOk);
  EXPECT_EQ(f.ip_version, 6);
  ASSERT_EQ(DecodeLink(kDltRaw, V4Packet(), &f), LinkStatus::kOk);
  EXPECT_EQ(f.ip_offset, 0u);
}

TEST(LinkLayer, NotIpTruncatedUnsupported) {
  LinkFrame f;
  Bytes arp = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1};
  EXPECT_EQ(DecodeLink(kDltEthernet, arp, &f), LinkStatus::kNotIp);
  EXPECT_EQ(DecodeLink(kDltEthernet, Bytes(10, 0), &f), LinkStatus::kTruncated);
  EXPECT_EQ(DecodeLink(kDltLinuxSll2, Bytes(19, 0), &f), LinkStatus::kTruncated);
  EXPECT_EQ(DecodeLink(147, V4Packet(), &f), LinkStatus::kUnsupported);
  EXPECT_FALSE(IsSupportedLinkType(147));
}

}  // namespace
}  // namespace callvault::capture

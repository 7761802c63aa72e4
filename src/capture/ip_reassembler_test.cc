// IPv4/IPv6 fragment reassembly: order, overlap, timeout and memory bounds.
#include "capture/ip_reassembler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "capture/testing/frame_builder.h"

namespace callvault::capture {
namespace {

using testing::Bytes;
using testing::Ep;

constexpr int64_t kSec = 1'000'000'000;

Bytes BigUdp(size_t n) {
  std::string payload(n, 'a');
  for (size_t i = 0; i < n; ++i) payload[i] = static_cast<char>('a' + i % 26);
  return testing::Udp(5060, 5060, payload);
}

IpPacket DecodeV(const Bytes& b) {
  IpPacket p;
  EXPECT_EQ(DecodeIp(static_cast<uint8_t>(b[0] >> 4), b, &p), IpStatus::kOk);
  return p;
}

TEST(IpReassembler, InOrderAndReversedGiveTheDatagram) {
  const Endpoint a = Ep("192.0.2.1", 0), b = Ep("192.0.2.2", 0);
  const Bytes l4 = BigUdp(3000);
  for (bool reverse : {false, true}) {
    IpReassembler r;
    auto frags = testing::Ipv4Fragments(a.ip, b.ip, kIpProtoUdp, l4, 7, 1480);
    ASSERT_EQ(frags.size(), 3u);
    if (reverse) std::reverse(frags.begin(), frags.end());
    std::span<const uint8_t> out;
    uint8_t proto = 0;
    EXPECT_EQ(r.Add(DecodeV(frags[0]), 1, &out, &proto), IpReassembler::Outcome::kHeld);
    EXPECT_EQ(r.Add(DecodeV(frags[1]), 2, &out, &proto), IpReassembler::Outcome::kHeld);
    ASSERT_EQ(r.Add(DecodeV(frags[2]), 3, &out, &proto), IpReassembler::Outcome::kComplete);
    EXPECT_EQ(proto, kIpProtoUdp);
    EXPECT_EQ(Bytes(out.begin(), out.end()), l4);
    EXPECT_EQ(r.datagrams_in_progress(), 0u);
    EXPECT_EQ(r.bytes_buffered(), 0u);
  }
}

TEST(IpReassembler, DuplicateAndOverlapStillComplete) {
  const Endpoint a = Ep("192.0.2.1", 0), b = Ep("192.0.2.2", 0);
  const Bytes l4 = BigUdp(2000);
  auto frags = testing::Ipv4Fragments(a.ip, b.ip, kIpProtoUdp, l4, 9, 1008);  // 2 pieces
  // An overlapping piece [504, 1504) in the middle.
  Bytes mid(l4.begin() + 504, l4.begin() + 1504);
  Bytes overlap = testing::Ipv4(a.ip, b.ip, kIpProtoUdp, mid, 9, 504, true);
  IpReassembler r;
  std::span<const uint8_t> out;
  uint8_t proto;
  EXPECT_EQ(r.Add(DecodeV(frags[0]), 1, &out, &proto), IpReassembler::Outcome::kHeld);
  EXPECT_EQ(r.Add(DecodeV(frags[0]), 1, &out, &proto), IpReassembler::Outcome::kHeld);
  EXPECT_EQ(r.Add(DecodeV(overlap), 1, &out, &proto), IpReassembler::Outcome::kHeld);
  ASSERT_EQ(r.Add(DecodeV(frags[1]), 1, &out, &proto), IpReassembler::Outcome::kComplete);
  EXPECT_EQ(Bytes(out.begin(), out.end()), l4);
}

TEST(IpReassembler, TimeoutDropsAnIncompleteDatagram) {
  const Endpoint a = Ep("192.0.2.1", 0), b = Ep("192.0.2.2", 0);
  auto frags = testing::Ipv4Fragments(a.ip, b.ip, kIpProtoUdp, BigUdp(3000), 1, 1480);
  IpReassembler r(IpReassemblyOptions{.timeout_ns = 5 * kSec});
  std::span<const uint8_t> out;
  uint8_t proto;
  EXPECT_EQ(r.Add(DecodeV(frags[0]), 0, &out, &proto), IpReassembler::Outcome::kHeld);
  r.Expire(6 * kSec);
  EXPECT_EQ(r.counters().timed_out.Get(), 1u);
  EXPECT_EQ(r.bytes_buffered(), 0u);
  // The rest arrives too late: never completes.
  EXPECT_EQ(r.Add(DecodeV(frags[1]), 7 * kSec, &out, &proto), IpReassembler::Outcome::kHeld);
  EXPECT_EQ(r.Add(DecodeV(frags[2]), 7 * kSec, &out, &proto), IpReassembler::Outcome::kHeld);
}

TEST(IpReassembler, BoundsEvictTheOldest) {
  const Endpoint a = Ep("192.0.2.1", 0), b = Ep("192.0.2.2", 0);
  IpReassembler r(IpReassemblyOptions{.max_datagrams = 4, .max_bytes = 10000});
  std::span<const uint8_t> out;
  uint8_t proto;
  for (uint16_t id = 0; id < 10; ++id) {
    auto frags = testing::Ipv4Fragments(a.ip, b.ip, kIpProtoUdp, BigUdp(4000), id, 1480);
    (void)r.Add(DecodeV(frags[0]), id, &out, &proto);
    EXPECT_LE(r.datagrams_in_progress(), 4u);
    EXPECT_LE(r.bytes_buffered(), 10000u);
  }
  EXPECT_GT(r.counters().evicted.Get(), 0u);
}

TEST(IpReassembler, ContradictionsAndOversizeAreDropped) {
  const Endpoint a = Ep("192.0.2.1", 0), b = Ep("192.0.2.2", 0);
  IpReassembler r;
  std::span<const uint8_t> out;
  uint8_t proto;
  Bytes tail = testing::Ipv4(a.ip, b.ip, kIpProtoUdp, Bytes(100, 1), 3, 1000, false);
  Bytes past = testing::Ipv4(a.ip, b.ip, kIpProtoUdp, Bytes(100, 1), 3, 2000, true);
  EXPECT_EQ(r.Add(DecodeV(tail), 1, &out, &proto), IpReassembler::Outcome::kHeld);
  EXPECT_EQ(r.Add(DecodeV(past), 1, &out, &proto), IpReassembler::Outcome::kDropped);
  Bytes huge = testing::Ipv4(a.ip, b.ip, kIpProtoUdp, Bytes(1000, 1), 4, 65000, true);
  EXPECT_EQ(r.Add(DecodeV(huge), 1, &out, &proto), IpReassembler::Outcome::kDropped);
  EXPECT_EQ(r.counters().invalid.Get(), 2u);
}

TEST(IpReassembler, Ipv6Fragments) {
  const Endpoint a = Ep("2001:db8::1", 0), b = Ep("2001:db8::2", 0);
  const Bytes l4 = BigUdp(2500);
  IpReassembler r;
  std::span<const uint8_t> out;
  uint8_t proto;
  Bytes f1 = testing::Ipv6Fragment(a.ip, b.ip, kIpProtoUdp, l4, 77, 0, 1232);
  Bytes f2 = testing::Ipv6Fragment(a.ip, b.ip, kIpProtoUdp, l4, 77, 1232, 1232);
  Bytes f3 = testing::Ipv6Fragment(a.ip, b.ip, kIpProtoUdp, l4, 77, 2464, 1232);
  EXPECT_EQ(r.Add(DecodeV(f3), 1, &out, &proto), IpReassembler::Outcome::kHeld);
  EXPECT_EQ(r.Add(DecodeV(f1), 1, &out, &proto), IpReassembler::Outcome::kHeld);
  ASSERT_EQ(r.Add(DecodeV(f2), 1, &out, &proto), IpReassembler::Outcome::kComplete);
  EXPECT_EQ(proto, kIpProtoUdp);
  EXPECT_EQ(Bytes(out.begin(), out.end()), l4);
}

}  // namespace
}  // namespace callvault::capture

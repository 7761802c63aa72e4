#include "base/cidr.h"

#include <gtest/gtest.h>

namespace callvault {
namespace {

IpAddress Ip(std::string_view s) {
  std::optional<IpAddress> a = IpAddress::Parse(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(IpAddress{});
}

TEST(CidrTest, Ipv4BlockContainsItsAddressesOnly) {
  Result<Cidr> c = Cidr::Parse("10.1.0.0/16");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->Contains(Ip("10.1.0.0")));
  EXPECT_TRUE(c->Contains(Ip("10.1.255.255")));
  EXPECT_FALSE(c->Contains(Ip("10.2.0.1")));
  EXPECT_FALSE(c->Contains(Ip("2001:db8::1")));
  EXPECT_EQ(c->ToString(), "10.1.0.0/16");
}

TEST(CidrTest, OddPrefixLengthsCompareTheRightBits) {
  Result<Cidr> c = Cidr::Parse("192.168.4.0/22");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Contains(Ip("192.168.7.200")));
  EXPECT_FALSE(c->Contains(Ip("192.168.8.1")));
  EXPECT_FALSE(c->Contains(Ip("192.168.3.255")));
  Result<Cidr> v6 = Cidr::Parse("2001:db8:8000::/33");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(Ip("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->Contains(Ip("2001:db8:7fff::1")));
}

TEST(CidrTest, BareAddressIsOneHost) {
  Result<Cidr> c = Cidr::Parse("127.0.0.2");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "127.0.0.2/32");
  EXPECT_TRUE(c->Contains(Ip("127.0.0.2")));
  EXPECT_FALSE(c->Contains(Ip("127.0.0.3")));
  Result<Cidr> v6 = Cidr::Parse("::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->ToString(), "::1/128");
}

TEST(CidrTest, MappedIpv6MatchesIpv4Blocks) {
  Result<Cidr> c = Cidr::Parse("127.0.0.0/8");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Contains(Ip("::ffff:127.0.0.3")));
  Result<Cidr> all = Cidr::Parse("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Contains(Ip("203.0.113.9")));
  EXPECT_FALSE(all->Contains(Ip("2001:db8::1")));
}

TEST(CidrTest, ErrorsSayWhatIsWrong) {
  EXPECT_NE(Cidr::Parse("10.1.2.3/16").status().message().find("did you mean 10.1.0.0/16"),
            std::string::npos);
  EXPECT_NE(Cidr::Parse("10.0.0.0/33").status().message().find("0–32"), std::string::npos);
  EXPECT_NE(Cidr::Parse("2001:db8::/129").status().message().find("0–128"), std::string::npos);
  EXPECT_NE(Cidr::Parse("10.0.0.0/").status().message().find("prefix length"), std::string::npos);
  EXPECT_NE(Cidr::Parse("10.0.0.0/8x").status().message().find("prefix length"), std::string::npos);
  EXPECT_NE(Cidr::Parse("example.com/8").status().message().find("not an IP address"),
            std::string::npos);
  EXPECT_FALSE(Cidr::Parse("").ok());
  EXPECT_FALSE(Cidr::Parse("300.1.1.1/8").ok());
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/-1").ok());
}

TEST(CidrTest, HostOfEndpoints) {
  EXPECT_EQ(IpAddress::ParseHostOf("127.0.0.2:5060")->bytes, Ip("127.0.0.2").bytes);
  EXPECT_EQ(IpAddress::ParseHostOf("[2001:db8::1]:5060")->bytes, Ip("2001:db8::1").bytes);
  EXPECT_EQ(IpAddress::ParseHostOf("2001:db8::1")->bytes, Ip("2001:db8::1").bytes);
  EXPECT_EQ(IpAddress::ParseHostOf("10.0.0.1")->bytes, Ip("10.0.0.1").bytes);
  EXPECT_FALSE(IpAddress::ParseHostOf("[2001:db8::1:5060").has_value());
  EXPECT_FALSE(IpAddress::ParseHostOf("host.example:5060").has_value());
}

}  // namespace
}  // namespace callvault

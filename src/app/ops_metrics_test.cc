#include "app/ops_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace callvault::app {
namespace {

// Self-signed, CN=callvault-test, notAfter Dec 4 19:33:33 2036 GMT = 2112032013.
constexpr char kCertificate[] = R"(-----BEGIN CERTIFICATE-----
MIIBhzCCAS2gAwIBAgIUdPgVBs3bbOlNVwLtQZM4Uu96aA8wCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOY2FsbHZhdWx0LXRlc3QwHhcNMjYxMjA3MTkzMzMzWhcNMzYx
MjA0MTkzMzMzWjAZMRcwFQYDVQQDDA5jYWxsdmF1bHQtdGVzdDBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABL3R6haNgXyjmVauLg6qbpejbXwGSmdlzFR1ATpYO5gv
4y1/Ap+QNalKjBMSuexx+DIBZ72H7l7hMZdZLBJHcTWjUzBRMB0GA1UdDgQWBBRB
m05ZXy3uBVlNoDWG3/U8yMs0RTAfBgNVHSMEGDAWgBRBm05ZXy3uBVlNoDWG3/U8
yMs0RTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIDQckbikAk2h
Pp8yUroNyJRSngj5oFa7/RzuWaQiXtodAiEAy8Qt+LJ8tCoxWg82sJZ2fSY4CtNc
2Y6qegZUeJsRC20=
-----END CERTIFICATE-----
)";

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/ops-metrics-" + std::to_string(::getpid()) + "-" + name;
}

TEST(CertificateNotAfterTest, ReadsNotAfter) {
  std::string path = TempPath("cert.pem");
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), path, kCertificate).ok());
  Result<int64_t> t = CertificateNotAfter(DefaultFs(), path);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(*t, 2112032013);
}

TEST(CertificateNotAfterTest, NotAPemIsAnError) {
  std::string path = TempPath("junk.pem");
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), path, "not a certificate").ok());
  EXPECT_FALSE(CertificateNotAfter(DefaultFs(), path).ok());
  EXPECT_FALSE(CertificateNotAfter(DefaultFs(), TempPath("missing.pem")).ok());
}

TEST(RegisterOpsMetricsTest, RendersEverySeries) {
  std::string cert = TempPath("sip.pem");
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), cert, kCertificate).ok());
  sip::StackStats stats;
  stats.requests_in = 7;
  stats.answered_stateless = 3;
  bool accepting = false;
  Registry registry;
  RegisterOpsMetrics(&registry, DefaultFs(),
                     {.sip_stats = [&] { return stats; },
                      .accepting_calls = [&] { return accepting; },
                      .spool_dir = ::testing::TempDir(),
                      .min_free_bytes = 512u << 20,
                      .certificates = {{"sip", cert}, {"cluster", ""}}});
  std::string text = registry.Render();
  EXPECT_NE(text.find("callvault_sip_requests_total 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("callvault_sip_stateless_answers_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("callvault_sip_overload_drops_total 0\n"), std::string::npos);
  EXPECT_NE(text.find("callvault_sip_accepting_calls 0\n"), std::string::npos);
  EXPECT_NE(text.find("callvault_disk_min_free_bytes 536870912\n"), std::string::npos);
  EXPECT_NE(text.find("callvault_disk_free_bytes "), std::string::npos);
  EXPECT_EQ(text.find("callvault_disk_free_bytes -1"), std::string::npos);
  EXPECT_NE(text.find("callvault_tls_certificate_expiry_timestamp_seconds{certificate=\"sip\"} "
                      "2112032013"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("certificate=\"cluster\""), std::string::npos);
  accepting = true;
  stats.requests_in = 8;
  text = registry.Render();
  EXPECT_NE(text.find("callvault_sip_accepting_calls 1\n"), std::string::npos);
  EXPECT_NE(text.find("callvault_sip_requests_total 8\n"), std::string::npos);
}

}  // namespace
}  // namespace callvault::app

#include "http/audit_dedupe.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace callvault::http {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST(AuditDedupeTest, OncePerKeyPerWindow) {
  AuditDedupe d;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(d.Claim("play\nalice\ncall-1", t0));
  EXPECT_FALSE(d.Claim("play\nalice\ncall-1", t0 + seconds(1)));
  EXPECT_FALSE(d.Claim("play\nalice\ncall-1", t0 + minutes(10) - seconds(1)));
  EXPECT_TRUE(d.Claim("play\nbob\ncall-1", t0 + seconds(2)));    // another user
  EXPECT_TRUE(d.Claim("play\nalice\ncall-2", t0 + seconds(3)));  // another call
  EXPECT_TRUE(d.Claim("play\nalice\ncall-1", t0 + minutes(10)));
  EXPECT_FALSE(d.Claim("play\nalice\ncall-1", t0 + minutes(15)));  // the window restarted
}

TEST(AuditDedupeTest, ReleaseGivesTheClaimBackButNotALaterOne) {
  AuditDedupe d;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(d.Claim("k", t0));
  d.Release("k", t0);  // the audit entry could not be written
  EXPECT_TRUE(d.Claim("k", t0 + seconds(1)));
  d.Release("k", t0);  // a stale release: the claim at t0+1 s stays
  EXPECT_FALSE(d.Claim("k", t0 + seconds(2)));
}

TEST(AuditDedupeTest, ConcurrentClaimsOfOneKeyLetOneThrough) {
  AuditDedupe d;
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 100; ++j) won += d.Claim("same", t0) ? 1 : 0;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
}

TEST(AuditDedupeTest, MemoryIsBounded) {
  AuditDedupe d({.window = minutes(10), .max_keys = 100});
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) d.Claim("k" + std::to_string(i), t0 + seconds(i));
  EXPECT_LE(d.keys(), 100u);
  // The newest keys are still remembered; expired ones go first.
  EXPECT_FALSE(d.Claim("k999", t0 + seconds(1000)));
  for (int i = 0; i < 50; ++i) d.Claim("n" + std::to_string(i), t0 + seconds(5000));
  EXPECT_LE(d.keys(), 100u);
  EXPECT_FALSE(d.Claim("n49", t0 + seconds(5001)));
}

}  // namespace
}  // namespace callvault::http

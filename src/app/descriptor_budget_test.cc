#include "app/descriptor_budget.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>

namespace callvault::app {
namespace {

using namespace std::chrono_literals;

// A process with `other` descriptors that are not calls', plus what calls hold.
struct FakeProcess {
  std::atomic<size_t> other{100}, calls{0};
  std::atomic<int> listings{0};
  bool readable = true;
  Result<size_t> Count() {
    ++listings;
    if (!readable) return IoError("listing /proc/self/fd", EACCES);
    return other + calls;
  }
};

TEST(DescriptorBudgetTest, AdmitsWhileACallFitsBesideTheReserveAndFollowsCallsBetweenCounts) {
  FakeClock clock;
  FakeProcess p;
  DescriptorBudget b(
      &clock, [&] { return p.calls.load(); }, [&] { return p.Count(); });
  b.Configure(/*limit=*/1000, /*reserve=*/100, /*per_call=*/4, 1s);
  EXPECT_EQ(p.listings, 1);
  EXPECT_EQ(b.in_use(), 100u);
  EXPECT_EQ(b.free_calls(), 200u);  // (1000 - 100 - 100) / 4
  int admitted = 0;
  while (b.Admit().ok() && admitted < 1000) {
    p.calls += 4;  // the call opens: no new listing needed to see it
    ++admitted;
  }
  EXPECT_EQ(admitted, 200);
  EXPECT_EQ(p.listings, 1);  // Admit never lists /proc
  Status refused = b.Admit();
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(),
            "file descriptors: 900 of 1000 in use, a new call needs 4 and 100 are reserved "
            "(server.fd_reserve)");
  EXPECT_EQ(b.free_calls(), 0u);
  p.calls -= 4;  // one ends
  EXPECT_TRUE(b.Admit().ok());
  // Something else took 50 descriptors (TCP connections): seen at the next count only.
  p.other += 50;
  EXPECT_TRUE(b.Check().ok());  // the count is fresh: not listed again
  EXPECT_EQ(p.listings, 1);
  clock.Advance(1s);
  EXPECT_FALSE(b.Check().ok());
  EXPECT_EQ(p.listings, 2);
  EXPECT_EQ(b.in_use(), 946u);
  p.calls = 0;  // every call ended
  EXPECT_EQ(b.in_use(), 150u);
  EXPECT_TRUE(b.Admit().ok());
}

TEST(DescriptorBudgetTest, AnUnreadableProcKeepsTheLastCountMovedByTheCalls) {
  FakeClock clock;
  FakeProcess p;
  DescriptorBudget b(
      &clock, [&] { return p.calls.load(); }, [&] { return p.Count(); });
  b.Configure(1000, 100, 4, 1s);
  p.readable = false;
  p.calls = 400;
  clock.Advance(2s);
  EXPECT_FALSE(b.Refresh().ok());
  EXPECT_TRUE(b.Check().ok());
  EXPECT_EQ(b.in_use(), 500u);
  p.calls = 800;
  EXPECT_EQ(b.Check().code(), StatusCode::kResourceExhausted);
}

TEST(DescriptorBudgetTest, UnconfiguredAdmitsAndTheRealCountSeesANewDescriptor) {
  FakeClock clock;
  DescriptorBudget b(&clock, [] { return size_t{0}; });
  EXPECT_TRUE(b.Admit().ok());
  Result<size_t> before = CountOpenDescriptors();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_GE(*before, 3u);  // stdin, stdout, stderr at least
  int fd = ::dup(2);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(CountOpenDescriptors().value(), *before + 1);
  ::close(fd);
  b.Configure(*before + 10, 5, 4);
  EXPECT_TRUE(b.Admit().ok());  // before + 4 + 5 <= before + 10
  b.Configure(*before + 8, 5, 4);
  EXPECT_FALSE(b.Admit().ok());
}

}  // namespace
}  // namespace callvault::app

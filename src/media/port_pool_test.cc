#include "media/port_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace callvault::media {
namespace {

Status Ok(uint16_t) { return Status::Ok(); }

TEST(PortPoolTest, HandsOutEvenPortsInsideTheRange) {
  PortPool pool(20001, 20010);  // odd min rounds up: 20002, 20004, 20006, 20008 (20010 has no +1)
  EXPECT_EQ(pool.capacity(), 4u);
  std::set<uint16_t> got;
  for (int i = 0; i < 4; ++i) {
    auto p = pool.Allocate(Ok);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p % 2, 0);
    EXPECT_GE(*p, 20002);
    EXPECT_LE(*p + 1, 20010);
    got.insert(*p);
  }
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_EQ(pool.Allocate(Ok).status().code(), StatusCode::kResourceExhausted);
  pool.Release(20004);
  pool.Release(20004);  // twice: ignored
  pool.Release(20005);  // odd: ignored
  EXPECT_EQ(pool.free_count(), 1u);
  EXPECT_EQ(*pool.Allocate(Ok), 20004);
}

TEST(PortPoolTest, RoundRobinDelaysReuse) {
  PortPool pool(30000, 30009);
  uint16_t a = *pool.Allocate(Ok);
  pool.Release(a);
  EXPECT_NE(*pool.Allocate(Ok), a);
}

TEST(PortPoolTest, SkipsPortsTheOsRefuses) {
  PortPool pool(40000, 40007);  // 40000, 40002, 40004, 40006
  auto p = pool.Allocate(
      [](uint16_t port) { return port < 40004 ? AlreadyExistsError("in use") : Status::Ok(); });
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, 40004);
  EXPECT_EQ(pool.free_count(), 3u);  // the refused ones stay free for later
  auto none = pool.Allocate([](uint16_t) { return AlreadyExistsError("in use"); });
  EXPECT_EQ(none.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(pool.free_count(), 3u);
  auto err = pool.Allocate([](uint16_t) { return IoError("bind", EPERM); });
  EXPECT_EQ(err.status().code(), StatusCode::kIoError);
  EXPECT_EQ(pool.free_count(), 3u);
}

TEST(PortPoolTest, ConcurrentAllocationsAreUnique) {
  PortPool pool(10000, 10999);
  std::vector<uint16_t> a, b;
  auto run = [&](std::vector<uint16_t>* out) {
    for (int i = 0; i < 250; ++i) out->push_back(*pool.Allocate(Ok));
  };
  std::thread t1(run, &a), t2(run, &b);
  t1.join();
  t2.join();
  std::set<uint16_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 500u);
  EXPECT_EQ(pool.free_count(), 0u);
}

}  // namespace
}  // namespace callvault::media

#include "base/mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace callvault {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class Counter {
 public:
  void Inc() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    ++n_;
  }
  int n() const EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return n_;
  }

 private:
  mutable Mutex mu_;
  int n_ GUARDED_BY(mu_) = 0;
};

TEST(MutexTest, MutexLockExcludesOtherThreads) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&counter] {
      for (int i = 0; i < 10000; ++i) counter.Inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.n(), 40000);
}

TEST(MutexTest, TryLockFailsWhileHeld) {
  Mutex mu;
  MutexLock lock(&mu);
  bool got = false;
  std::thread([&mu, &got] {
    if (mu.TryLock()) {
      got = true;
      mu.Unlock();
    }
  }).join();
  EXPECT_FALSE(got);
}

TEST(MutexTest, WaitReturnsWithTheLockHeldAfterNotify) {
  Mutex mu;
  std::condition_variable cv;
  bool ready = false;  // guarded by mu
  std::thread producer([&] {
    {
      MutexLock lock(&mu);
      ready = true;
    }
    cv.notify_one();
  });
  {
    MutexLock lock(&mu);
    while (!ready) mu.Wait(cv);
    EXPECT_TRUE(ready);
    // Still held: another thread cannot take it.
    bool other_got = false;
    std::thread([&mu, &other_got] {
      if (mu.TryLock()) {
        other_got = true;
        mu.Unlock();
      }
    }).join();
    EXPECT_FALSE(other_got);
  }
  producer.join();
}

TEST(MutexTest, WaitUntilTimesOutWithTheLockHeld) {
  Mutex mu;
  std::condition_variable cv;
  MutexLock lock(&mu);
  const auto deadline = steady_clock::now() + milliseconds(20);
  std::cv_status status = std::cv_status::no_timeout;
  while (status == std::cv_status::no_timeout) status = mu.WaitUntil(cv, deadline);
  EXPECT_GE(steady_clock::now(), deadline);
  bool other_got = false;
  std::thread([&mu, &other_got] {
    if (mu.TryLock()) {
      other_got = true;
      mu.Unlock();
    }
  }).join();
  EXPECT_FALSE(other_got);  // held again on return
}

TEST(SharedMutexTest, ReadersShareWritersExclude) {
  SharedMutex mu;
  {
    ReaderMutexLock reader(&mu);
    bool reader_got = false, writer_got = false;
    std::thread([&] {
      if (mu.ReaderTryLock()) {
        reader_got = true;
        mu.ReaderUnlock();
      }
      if (mu.TryLock()) {
        writer_got = true;
        mu.Unlock();
      }
    }).join();
    EXPECT_TRUE(reader_got);
    EXPECT_FALSE(writer_got);
  }
  {
    WriterMutexLock writer(&mu);
    bool reader_got = false;
    std::thread([&] {
      if (mu.ReaderTryLock()) {
        reader_got = true;
        mu.ReaderUnlock();
      }
    }).join();
    EXPECT_FALSE(reader_got);
  }
  bool got = false;
  if (mu.TryLock()) {
    got = true;
    mu.Unlock();
  }
  EXPECT_TRUE(got);
}

}  // namespace
}  // namespace callvault

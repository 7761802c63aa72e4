// Mutex, SharedMutex and their scoped locks: std::mutex and std::shared_mutex with clang
// thread-safety annotations (base/thread_annotations.h), so that `GUARDED_BY(mu_)` fields are
// checked by the `tsa` build (STYLE.md §4, docs/threading.md). Same cost as the std types.
//
//   mutable Mutex mu_;
//   std::deque<Task> queue_ GUARDED_BY(mu_);
//   std::condition_variable cv_;
//
//   void Push(Task t) EXCLUDES(mu_) {
//     { MutexLock lock(&mu_); queue_.push_back(std::move(t)); }
//     cv_.notify_one();
//   }
//   Task Pop() EXCLUDES(mu_) {
//     MutexLock lock(&mu_);
//     while (queue_.empty()) mu_.Wait(cv_);  // mu_ is held again when Wait returns
//     ...
//   }
//
// Condition variables: a plain std::condition_variable, waited on through Mutex::Wait() /
// WaitUntil(), which REQUIRE the mutex and hold it again on return. Write the predicate as a
// loop around them (as above) rather than as a lambda: the analysis checks the loop, not a
// lambda.
//
// Who calls it: every class with state shared between threads (base/, sip/, app/).
// Thread-safety: these are the synchronisation primitives; every method is thread-safe in the
// usual sense. Not recursive; a Mutex must not be destroyed while held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#include "base/thread_annotations.h"

namespace callvault {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

  // Tells the analysis that the caller holds the lock (e.g. in a callback the analysis cannot
  // follow). Checks nothing at run time.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

  // Releases the lock, blocks until `cv` is notified (or spuriously), and takes the lock again
  // before returning. REQUIRES: held by the caller; every waiter on `cv` uses this mutex.
  void Wait(std::condition_variable& cv) REQUIRES(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    cv.wait(lock);
    lock.release();  // still held: ownership goes back to the caller's MutexLock
  }

  // As Wait(), but also returns (std::cv_status::timeout) once `deadline` has passed.
  template <typename Clock, typename Duration>
  std::cv_status WaitUntil(std::condition_variable& cv,
                           const std::chrono::time_point<Clock, Duration>& deadline)
      REQUIRES(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    std::cv_status status = cv.wait_until(lock, deadline);
    lock.release();
    return status;
  }

 private:
  std::mutex mu_;
};

// Holds a Mutex for its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A reader/writer lock: many readers or one writer. Prefer Mutex unless reads dominate and are
// long enough to matter.
class CAPABILITY("shared_mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  // Exclusive (writer).
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Shared (reader). Not recursive: a reader must not take it again (a waiting writer would
  // deadlock it).
  void ReaderLock() ACQUIRE_SHARED() { mu_.lock_shared(); }
  void ReaderUnlock() RELEASE_SHARED() { mu_.unlock_shared(); }
  bool ReaderTryLock() TRY_ACQUIRE_SHARED(true) { return mu_.try_lock_shared(); }

  // See Mutex::AssertHeld(). Check nothing at run time.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}
  void AssertReaderHeld() const ASSERT_SHARED_CAPABILITY(this) {}

 private:
  std::shared_mutex mu_;
};

// Holds a SharedMutex shared for its scope.
class SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex* mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_->ReaderLock(); }
  ~ReaderMutexLock() RELEASE() { mu_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex* const mu_;
};

// Holds a SharedMutex exclusively for its scope.
class SCOPED_CAPABILITY WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~WriterMutexLock() RELEASE() { mu_->Unlock(); }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

 private:
  SharedMutex* const mu_;
};

}  // namespace callvault

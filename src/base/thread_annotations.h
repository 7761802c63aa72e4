// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html):
// they let the compiler check which lock guards which field (STYLE.md §4). The `tsa` CMake
// preset builds with clang's -Wthread-safety -Werror=thread-safety; other compilers see empty
// macros. Use them with base::Mutex / base::SharedMutex (base/mutex.h), not bare std::mutex,
// which libstdc++ does not annotate.
//
//   Mutex mu_;
//   int n_ GUARDED_BY(mu_) = 0;          // read or written only with mu_ held
//   void BumpLocked() REQUIRES(mu_);     // caller holds mu_
//   void Bump() EXCLUDES(mu_);           // takes mu_ itself
//
// Who calls it: every header with a lock. Thread-safety: macros only.
#pragma once

#if defined(__clang__)
#define CV_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define CV_THREAD_ANNOTATION_(x)  // no-op
#endif

// A class that is a lock ("mutex", "shared_mutex").
#define CAPABILITY(x) CV_THREAD_ANNOTATION_(capability(x))
// An RAII class that holds a capability for its lifetime (MutexLock).
#define SCOPED_CAPABILITY CV_THREAD_ANNOTATION_(scoped_lockable)

// The field is read or written only with the capability held (shared suffices for reads).
#define GUARDED_BY(x) CV_THREAD_ANNOTATION_(guarded_by(x))
// The data the pointer field points to is guarded by the capability (the pointer is not).
#define PT_GUARDED_BY(x) CV_THREAD_ANNOTATION_(pt_guarded_by(x))

// Lock order, for documentation (checked only with -Wthread-safety-beta).
#define ACQUIRED_BEFORE(...) CV_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) CV_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))

// The caller must hold the capability exclusively / at least shared.
#define REQUIRES(...) CV_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) CV_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))

// The function acquires / releases the capability (no argument: `this`).
#define ACQUIRE(...) CV_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) CV_THREAD_ANNOTATION_(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) CV_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) CV_THREAD_ANNOTATION_(release_shared_capability(__VA_ARGS__))
// The function acquires the capability when it returns the given value (TryLock).
#define TRY_ACQUIRE(...) CV_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
#define TRY_ACQUIRE_SHARED(...) CV_THREAD_ANNOTATION_(try_acquire_shared_capability(__VA_ARGS__))

// The caller must not hold the capability (the function takes it).
#define EXCLUDES(...) CV_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))

// Tells the analysis the capability is held (checked at run time by the implementation, if at
// all).
#define ASSERT_CAPABILITY(x) CV_THREAD_ANNOTATION_(assert_capability(x))
#define ASSERT_SHARED_CAPABILITY(x) CV_THREAD_ANNOTATION_(assert_shared_capability(x))

// The function returns a reference to the capability (an accessor for a private mutex).
#define RETURN_CAPABILITY(x) CV_THREAD_ANNOTATION_(lock_returned(x))

// Turns the analysis off for one function. Say why next to each use.
#define NO_THREAD_SAFETY_ANALYSIS CV_THREAD_ANNOTATION_(no_thread_safety_analysis)

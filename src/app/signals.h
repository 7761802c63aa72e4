// Synchronous signal handling for `callvault serve`: SIGTERM, SIGINT and SIGHUP are blocked in
// every thread and taken one at a time by the main thread with Wait(), so no code runs in a
// signal handler and no other thread is ever interrupted by them.
//
// Called by: app/server.cc. Thread-safety: construct on the main thread BEFORE any other thread
// is started (threads inherit the blocked mask); Wait() from that thread only.
#pragma once

#include <signal.h>

#include <chrono>

namespace callvault::app {

class SignalWaiter {
 public:
  // Blocks SIGTERM, SIGINT and SIGHUP in the calling thread.
  SignalWaiter();
  // Restores the calling thread's previous mask.
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // The next pending signal (SIGTERM, SIGINT or SIGHUP), or 0 when none came within `timeout`.
  int Wait(std::chrono::milliseconds timeout);

 private:
  sigset_t set_;
  sigset_t previous_;
};

// "SIGTERM", "SIGINT", "SIGHUP" or the number.
const char* SignalName(int sig);

}  // namespace callvault::app

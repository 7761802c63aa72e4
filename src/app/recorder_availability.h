// RecorderAvailability: keeps the SIP stack's admission in step with the recorder's readiness
// checks (the `recorder` role of /readyz: spool writable, RTP ports, disk space, drained by an
// operator). Every `interval` it runs the checks; when the first failing one changes, OPTIONS
// and new INVITEs start (or stop) getting 503 + Retry-After + a Warning naming the check, and
// one `server.availability` line is logged. An SRC pinging with OPTIONS fails over (DNS SRV) to
// the next node within the interval plus its ping period; calls in progress are not touched.
//
// Called by: app/server.cc (Start after the stack, Stop before the SIGTERM drain takes over).
// Thread-safety: Start/Stop from one thread; the checks run on the monitor's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/routes.h"
#include "sip/shard.h"

namespace callvault::app {

class RecorderAvailability {
 public:
  using ApplyFn = std::function<void(const sip::Availability&)>;
  // `checks`: the recorder-role readiness checks (others are ignored).
  RecorderAvailability(std::vector<http::ReadinessCheck> checks, ApplyFn apply,
                       std::chrono::milliseconds interval, int retry_after_s);
  ~RecorderAvailability();  // Stop()

  void Start();
  void Stop();
  // One evaluation on the caller's thread; true when calls are accepted (tests).
  bool RunOnce();

 private:
  std::vector<http::ReadinessCheck> checks_;
  const ApplyFn apply_;
  const std::chrono::milliseconds interval_;
  const int retry_after_s_;
  std::string last_;  // "" = accepting; else the Warning text in force
  bool applied_ = false;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace callvault::app

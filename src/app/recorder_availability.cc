#include "app/recorder_availability.h"

#include "base/log.h"
#include "base/thread_name.h"

namespace callvault::app {

RecorderAvailability::RecorderAvailability(std::vector<http::ReadinessCheck> checks, ApplyFn apply,
                                           std::chrono::milliseconds interval, int retry_after_s)
    : apply_(std::move(apply)), interval_(interval), retry_after_s_(retry_after_s) {
  for (http::ReadinessCheck& c : checks)
    if (c.role == "recorder") checks_.push_back(std::move(c));
}

RecorderAvailability::~RecorderAvailability() { Stop(); }

bool RecorderAvailability::RunOnce() {
  std::string failing;
  for (const http::ReadinessCheck& c : checks_) {
    Status s = c.check ? c.check() : InternalError("no check function");
    if (!s.ok()) {
      failing = c.name + ": " + std::string(s.message());
      break;
    }
  }
  if (applied_ && failing == last_) return failing.empty();
  apply_(sip::Availability{.accept_calls = failing.empty(),
                           .retry_after_s = failing.empty() ? 0 : retry_after_s_,
                           .reason = failing});
  if (applied_ || !failing.empty()) {
    if (failing.empty()) {
      CV_LOG_INFO("server.availability", "accept_calls=true was=\"{}\"", last_);
    } else {
      CV_LOG_WARN("server.availability", "accept_calls=false retry_after_s={} reason=\"{}\"",
                  retry_after_s_, failing);
    }
  }
  applied_ = true;
  last_ = failing;
  return failing.empty();
}

void RecorderAvailability::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    SetCurrentThreadName("cv-availability");
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      RunOnce();
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stop_; });
    }
  });
}

void RecorderAvailability::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace callvault::app

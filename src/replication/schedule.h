// Schedule: when a peer's call transfers may run — `"continuous"`, or daily windows in the
// node's local time, `"22:00-06:00"` (across midnight) or several `"12:00-13:00,22:00-06:00"`.
// A window is [start, end): at its close the file in flight finishes, nothing new starts.
// Configuration changes and deletions ignore schedules (they are small and must be live).
//
// Called by: Sender (is it open now?), app/ (config validation). Thread-safety: a value.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace callvault::replication {

class Schedule {
 public:
  Schedule() = default;  // continuous
  // InvalidArgument naming the bad part ("25:00", "22:00-22:00", …).
  static Result<Schedule> Parse(std::string_view text);

  bool continuous() const { return windows_.empty(); }
  // Whether `minute_of_day` (0..1439, local time) is inside a window.
  bool IsOpenAt(int minute_of_day) const;
  // Now, in the process's local time zone.
  bool IsOpen(std::chrono::system_clock::time_point now) const;
  const std::string& text() const { return text_; }

 private:
  struct Window {
    int start = 0, end = 0;  // minutes of the day; end < start wraps past midnight
  };
  std::vector<Window> windows_;
  std::string text_ = "continuous";
};

// 0..1439: the minute of the day of `t` in the process's local time zone (TZ).
int LocalMinuteOfDay(std::chrono::system_clock::time_point t);

}  // namespace callvault::replication

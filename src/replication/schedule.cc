#include "replication/schedule.h"

#include <fmt/format.h>

#include <charconv>
#include <ctime>

namespace callvault::replication {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// "HH:MM" → minutes; -1 when malformed.
int ParseClock(std::string_view s) {
  s = Trim(s);
  if (s.size() != 5 || s[2] != ':') return -1;
  int h = 0, m = 0;
  auto [p1, e1] = std::from_chars(s.data(), s.data() + 2, h);
  auto [p2, e2] = std::from_chars(s.data() + 3, s.data() + 5, m);
  if (e1 != std::errc() || e2 != std::errc() || p1 != s.data() + 2 || p2 != s.data() + 5) return -1;
  if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) return -1;
  return h * 60 + m;
}

}  // namespace

Result<Schedule> Schedule::Parse(std::string_view text) {
  Schedule s;
  text = Trim(text);
  if (text.empty() || text == "continuous") return s;
  s.text_ = std::string(text);
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view part = Trim(text.substr(start, comma - start));
    const size_t dash = part.find('-');
    const int a = dash == std::string_view::npos ? -1 : ParseClock(part.substr(0, dash));
    const int b = dash == std::string_view::npos ? -1 : ParseClock(part.substr(dash + 1));
    if (a < 0 || b < 0)
      return InvalidArgumentError(
          fmt::format("schedule \"{}\": \"{}\" is not a window HH:MM-HH:MM (or use \"continuous\")",
                      text, part));
    if (a % 1440 == b % 1440)
      return InvalidArgumentError(fmt::format(
          "schedule \"{}\": window \"{}\" is empty (for always, say \"continuous\")", text, part));
    s.windows_.push_back({a % 1440, b % 1440 == 0 ? 1440 : b});
    start = comma + 1;
  }
  return s;
}

bool Schedule::IsOpenAt(int minute) const {
  if (windows_.empty()) return true;
  for (const Window& w : windows_) {
    if (w.start < w.end) {
      if (minute >= w.start && minute < w.end) return true;
    } else if (minute >= w.start || minute < w.end) {
      return true;
    }
  }
  return false;
}

bool Schedule::IsOpen(std::chrono::system_clock::time_point now) const {
  return windows_.empty() || IsOpenAt(LocalMinuteOfDay(now));
}

int LocalMinuteOfDay(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  return tm.tm_hour * 60 + tm.tm_min;
}

}  // namespace callvault::replication

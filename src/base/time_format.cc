#include "base/time_format.h"

#include <cstdio>

namespace callvault {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kNsPerSecond = 1000000000;

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[m - 1] + (m == 2 && IsLeapYear(y) ? 1 : 0);
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level
// Date Algorithms", days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// The inverse (civil_from_days).
void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

// Reads exactly `n` digits at `*pos`.
bool Digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

struct Instant {
  int64_t seconds = 0;  // since the epoch
  int64_t nanos = 0;    // 0 ≤ nanos < 1e9, added to `seconds`
};

// The one RFC 3339 parser (grammar in time_format.h).
std::optional<Instant> ParseRfc3339(std::string_view s) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!Digits(s, &pos, 4, &year) || !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &month) ||
      !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!Digits(s, &pos, 2, &hour) || !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &minute) ||
      !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &second)) {
    return std::nullopt;
  }
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;  // 60: a leap second
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t begin = pos;
    int64_t scale = kNsPerSecond / 10;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;  // 0 after the ninth digit: finer digits are ignored
      ++pos;
    }
    if (pos == begin) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!Digits(s, &pos, 2, &oh) || !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return Instant{days * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset_s, nanos};
}

}  // namespace

std::string FormatRfc3339Ms(int64_t epoch_ms) {
  const int64_t secs = FloorDiv(epoch_ms, 1000);
  const auto millis = static_cast<int>(epoch_ms - secs * 1000);
  const UtcTime t = ToUtcTime(secs);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                static_cast<long long>(t.year), t.month, t.day, t.hour, t.minute, t.second, millis);
  return buf;
}

std::string FormatRfc3339Ms(std::chrono::system_clock::time_point t) {
  return FormatRfc3339Ms(
      std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

std::optional<int64_t> ParseRfc3339Ms(std::string_view text) {
  const std::optional<Instant> t = ParseRfc3339(text);
  if (!t) return std::nullopt;
  return t->seconds * 1000 + t->nanos / 1000000;
}

std::optional<int64_t> ParseRfc3339Ns(std::string_view text) {
  const std::optional<Instant> t = ParseRfc3339(text);
  if (!t) return std::nullopt;
  int64_t ns;
  if (__builtin_mul_overflow(t->seconds, kNsPerSecond, &ns) ||
      __builtin_add_overflow(ns, t->nanos, &ns)) {
    return std::nullopt;
  }
  return ns;
}

UtcTime ToUtcTime(int64_t epoch_seconds) {
  const int64_t days = FloorDiv(epoch_seconds, kSecondsPerDay);
  const int64_t rem = epoch_seconds - days * kSecondsPerDay;
  UtcTime t;
  CivilFromDays(days, &t.year, &t.month, &t.day);
  t.hour = static_cast<int>(rem / 3600);
  t.minute = static_cast<int>(rem / 60 % 60);
  t.second = static_cast<int>(rem % 60);
  return t;
}

}  // namespace callvault

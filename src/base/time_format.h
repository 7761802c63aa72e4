// RFC 3339 times: the one parser and the one formatter of the timestamps callvault writes and
// reads — session-log `at` (docs/formats/spool.md), manifest `times.*` and `audio.started`
// (docs/formats/manifest.md), outbox `finalized`, API fields and filters (docs/api.md), log
// lines — and the one UTC calendar conversion (recording name templates, log timestamps).
// No other file calls gmtime/timegm.
//
// What is written is always UTC with milliseconds and `Z`: "2026-11-25T08:00:00.123Z".
// What is read is RFC 3339 §5.6 date-time, with the RFC's permitted variants:
//   YYYY-MM-DD ('T' | 't' | ' ') hh:mm:ss [ '.' 1*DIGIT ] ( 'Z' | 'z' | ('+' | '-') hh:mm )
// Fields are range-checked (the day against the month, leap years included; hh ≤ 23, mm ≤ 59,
// ss ≤ 60: a leap second reads as the next minute's :00; offsets hh ≤ 23, mm ≤ 59). Fraction
// digits beyond the nanosecond are ignored. Nothing may follow. Years are 0000–9999 (proleptic
// Gregorian calendar, no time zone database).
//
// Called by: media/ (session log), siprec/ (snapshot times), recording/ (session log, manifest,
// name template), catalog/ (ingest, outbox lag), http/ (API times), base/log. Thread-safety:
// pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callvault {

// Nanoseconds → milliseconds since the epoch, rounded towards the past (−1 ns → −1 ms), as
// every formatter here rounds.
constexpr int64_t NsToMs(int64_t epoch_ns) {
  return epoch_ns >= 0 ? epoch_ns / 1000000 : -((-(epoch_ns + 1)) / 1000000) - 1;
}

// "2026-11-25T08:00:00.123Z": UTC, always three fraction digits, always 'Z'.
// 1795593600123 → "2026-11-25T08:00:00.123Z"; −1 → "1969-12-31T23:59:59.999Z".
std::string FormatRfc3339Ms(int64_t epoch_ms);
// The same for a clock reading (rounded towards the past to the millisecond).
std::string FormatRfc3339Ms(std::chrono::system_clock::time_point t);

// Milliseconds since the epoch (a fraction finer than 1 ms is dropped, towards the past);
// nullopt when `text` is not an RFC 3339 date-time as described above.
std::optional<int64_t> ParseRfc3339Ms(std::string_view text);
// Nanoseconds since the epoch; nullopt when `text` is not an RFC 3339 date-time or the time is
// outside what int64 nanoseconds hold (1677-09-21 … 2262-04-11).
std::optional<int64_t> ParseRfc3339Ns(std::string_view text);

// A UTC calendar time (proleptic Gregorian).
struct UtcTime {
  int64_t year = 1970;
  int month = 1;  // 1–12
  int day = 1;    // 1–31
  int hour = 0, minute = 0, second = 0;
};
// Seconds since the epoch → UTC calendar fields (any int64; years may leave 0000–9999).
UtcTime ToUtcTime(int64_t epoch_seconds);

}  // namespace callvault

// Structured logging: one line per event, key=value (STYLE.md §10), on spdlog.
//
//   2026-11-25T08:00:00.123Z info event=sip.listening transport=UDP addr=127.0.0.1:5060
//
// Every module logs through the CV_LOG_* macros below. app/ calls InitLogging() once at start-up
// (before other threads log) and again on SIGHUP to apply a changed level/format/file (a reload
// also reopens the file, so it works with logrotate's move-then-HUP).
//
// Call sites write the event name (lowercase, dot-separated: "<module>.<what>") and key=value
// pairs; values that may hold spaces are quoted at the call site (`reason="{}"`). Call-related
// lines carry `call=<call id>`. Phone numbers and SIP URIs (AORs) are written through LogAor(),
// which masks them when LogOptions::mask_numbers is on.
//
// Formats:
//   text: `<ts> <level> event=<name> k=v ...`, ts in UTC with milliseconds, level one of
//         trace|debug|info|warn|error|critical. Control characters in the message (CR, LF, ...)
//         are escaped as \r, \n, \xHH so one event is always one line, whatever the peer sent.
//   json: one object per line: {"ts":"...","level":"info","event":"sip.listening",
//         "msg":"transport=UDP addr=127.0.0.1:5060"}. `msg` is the key=value text after the event
//         name (not split into fields: values are free text); "event" is absent for lines not
//         written through CV_LOG_*. Invalid UTF-8 is replaced by U+FFFD so every line parses.
//
// Thread-safety: the macros, LogAor() and MaskDigits() may be called from any thread at any time.
// InitLogging() may run concurrently with logging once the first call has returned.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault {

struct LogOptions {
  // Lowest level written: trace|debug|info|warn|error. Default: "info".
  std::string level = "info";
  // text (key=value) | json. Default: "text".
  std::string format = "text";
  // File to append to (created 0640 if missing). Default: "" = stderr.
  std::string file;
  // Mask phone numbers in AORs written through LogAor(). Default: false.
  bool mask_numbers = false;
};

// Validates `options` and makes them the logging configuration of the process: the first call
// replaces spdlog's default logger; later calls change level, format, mask_numbers and (re)open
// the file in place. On error nothing changes.
[[nodiscard]] Status InitLogging(const LogOptions& options);

// "trace" | "debug" | "info" | "warn" (or "warning") | "error" → spdlog level.
[[nodiscard]] Status ParseLogLevel(std::string_view name, spdlog::level::level_enum* level);

// Masks the digits of phone numbers in `s`, keeping the last 4 (and, for long numbers, the first
// 4 so the country/area stays readable): "sip:+15551234567@host" → "sip:+1555***4567@host".
// A number is a run of digits, possibly with RFC 3966 visual separators (-.()) between them;
// runs of 4 digits or fewer are kept. When `s` contains '@', only the part before it (the user
// part of a URI) is masked: hosts and ports stay readable.
std::string MaskDigits(std::string_view s);

// MaskDigits(aor) when mask_numbers is on, else `aor` unchanged. Use it for every AOR, From/To
// URI, phone number or P-Asserted-Identity written to a log line.
std::string LogAor(std::string_view aor);

namespace internal {
// The formatter InitLogging() installs ("text" or "json"); exposed for tests that capture output
// through their own sink. REQUIRES: format is "text" or "json".
std::unique_ptr<spdlog::formatter> NewLogFormatter(std::string_view format);
}  // namespace internal

}  // namespace callvault

// CV_LOG_INFO("sip.listening", "transport={} addr={}", transport, addr);
// The format string is checked at compile time (fmt 9). When the level is disabled the arguments
// are not evaluated at all (one relaxed load and a compare).
#define CV_LOG_IMPL(level, event, fmtstr, ...)                                         \
  do {                                                                                 \
    ::spdlog::logger* cv_logger_ = ::spdlog::default_logger_raw();                     \
    if (cv_logger_->should_log(level)) {                                               \
      SPDLOG_LOGGER_CALL(cv_logger_, level, "event=" event " " fmtstr, ##__VA_ARGS__); \
    }                                                                                  \
  } while (0)
#define CV_LOG_TRACE(event, fmtstr, ...) \
  CV_LOG_IMPL(::spdlog::level::trace, event, fmtstr, ##__VA_ARGS__)
#define CV_LOG_DEBUG(event, fmtstr, ...) \
  CV_LOG_IMPL(::spdlog::level::debug, event, fmtstr, ##__VA_ARGS__)
#define CV_LOG_INFO(event, fmtstr, ...) \
  CV_LOG_IMPL(::spdlog::level::info, event, fmtstr, ##__VA_ARGS__)
#define CV_LOG_WARN(event, fmtstr, ...) \
  CV_LOG_IMPL(::spdlog::level::warn, event, fmtstr, ##__VA_ARGS__)
#define CV_LOG_ERROR(event, fmtstr, ...) \
  CV_LOG_IMPL(::spdlog::level::err, event, fmtstr, ##__VA_ARGS__)

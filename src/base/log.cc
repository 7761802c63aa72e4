#include "base/log.h"

#include <fcntl.h>
#include <spdlog/sinks/sink.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>

#include "base/mutex.h"
#include "base/time_format.h"

namespace callvault {
namespace {

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

void Append(spdlog::memory_buf_t& dest, std::string_view s) {
  dest.append(s.data(), s.data() + s.size());
}

constexpr char kHex[] = "0123456789abcdef";

// Text mode: keep one event on one line whatever a peer put into a logged value.
void AppendTextEscaped(spdlog::memory_buf_t& dest, std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7f) {
      dest.push_back(ch);
    } else if (c == '\n') {
      Append(dest, "\\n");
    } else if (c == '\r') {
      Append(dest, "\\r");
    } else if (c == '\t') {
      Append(dest, "\\t");
    } else {
      char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
      dest.append(esc, esc + 4);
    }
  }
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid (RFC 3629).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;  // overlong
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;  // overlong
    if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xbf) return 0;
  }
  return n;
}

// A JSON string literal (RFC 8259) with quotes; invalid UTF-8 becomes U+FFFD.
void AppendJsonString(spdlog::memory_buf_t& dest, std::string_view s) {
  dest.push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        Append(dest, "\\ufffd");
        ++i;
      } else {
        dest.append(s.data() + i, s.data() + i + n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        Append(dest, "\\\"");
        break;
      case '\\':
        Append(dest, "\\\\");
        break;
      case '\n':
        Append(dest, "\\n");
        break;
      case '\r':
        Append(dest, "\\r");
        break;
      case '\t':
        Append(dest, "\\t");
        break;
      default:
        if (c < 0x20) {
          char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
          dest.append(esc, esc + 6);
        } else {
          dest.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  dest.push_back('"');
}

// Formats "2026-11-25T08:00:00.123Z" lines, text or json. Not thread-safe (spdlog calls a
// formatter under its sink's lock).
class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(bool json) : json_(json) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    while (!payload.empty() && payload.back() == ' ') payload.remove_suffix(1);
    if (json_) {
      Append(dest, "{\"ts\":\"");
      AppendTimestamp(msg.time, dest);
      Append(dest, "\",\"level\":\"");
      Append(dest, LevelName(msg.level));
      dest.push_back('"');
      if (payload.starts_with("event=")) {
        size_t end = payload.find(' ');
        std::string_view event = payload.substr(6, end == payload.npos ? payload.npos : end - 6);
        payload = end == payload.npos ? std::string_view() : payload.substr(end + 1);
        Append(dest, ",\"event\":");
        AppendJsonString(dest, event);
      }
      Append(dest, ",\"msg\":");
      AppendJsonString(dest, payload);
      Append(dest, "}\n");
    } else {
      AppendTimestamp(msg.time, dest);
      dest.push_back(' ');
      Append(dest, LevelName(msg.level));
      dest.push_back(' ');
      AppendTextEscaped(dest, payload);
      dest.push_back('\n');
    }
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(json_);
  }

 private:
  void AppendTimestamp(spdlog::log_clock::time_point t, spdlog::memory_buf_t& dest) {
    auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
    int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int millis = static_cast<int>(ms - sec * 1000);
    if (sec != cached_sec_) {  // the calendar once per second: "2026-11-25T08:00:00"
      const std::string whole = FormatRfc3339Ms(sec * 1000);  // "…T08:00:00.000Z"
      const size_t n = std::min(whole.size() - 5, sizeof(cached_) - 1);
      whole.copy(cached_, n);
      cached_[n] = '\0';
      cached_sec_ = sec;
    }
    Append(dest, cached_);
    char frac[6] = {'.',
                    static_cast<char>('0' + millis / 100),
                    static_cast<char>('0' + millis / 10 % 10),
                    static_cast<char>('0' + millis % 10),
                    'Z',
                    '\0'};
    dest.append(frac, frac + 5);
  }

  bool json_;
  int64_t cached_sec_ = INT64_MIN;
  char cached_[32] = {};
};

// The sink of the process logger: formats and write(2)s each line to a file descriptor (stderr
// or an O_APPEND file), unbuffered, so a crash loses no line that was logged. Reconfigure()
// swaps formatter and descriptor under the same lock, so a SIGHUP reload never races a write.
class FdSink final : public spdlog::sinks::sink {
 public:
  FdSink() : formatter_(std::make_unique<LineFormatter>(false)) {}
  ~FdSink() override {
    if (fd_ != STDERR_FILENO) ::close(fd_);
  }

  void log(const spdlog::details::log_msg& msg) override EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    buf_.clear();
    formatter_->format(msg, buf_);
    const char* p = buf_.data();
    size_t left = buf_.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // nowhere to report a failing log write
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  void flush() override {}
  void set_pattern(const std::string&) override {}  // the format is ours, not a pattern
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    formatter_ = std::move(formatter);
  }

  // Takes ownership of `fd` (STDERR_FILENO is never closed).
  void Reconfigure(std::unique_ptr<spdlog::formatter> formatter, int fd) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    formatter_ = std::move(formatter);
    if (fd_ != STDERR_FILENO && fd_ != fd) ::close(fd_);
    fd_ = fd;
  }

 private:
  Mutex mu_;
  std::unique_ptr<spdlog::formatter> formatter_ GUARDED_BY(mu_);
  int fd_ GUARDED_BY(mu_) = STDERR_FILENO;
  spdlog::memory_buf_t buf_ GUARDED_BY(mu_);
};

std::atomic<bool> g_mask_numbers{false};

struct LogState {
  Mutex mu;  // serializes InitLogging(); taken before FdSink::mu_
  std::shared_ptr<FdSink> sink GUARDED_BY(mu);
  std::shared_ptr<spdlog::logger> logger GUARDED_BY(mu);
};

LogState& State() {
  static LogState* const state = new LogState();  // never destroyed: logging works at exit
  return *state;
}

bool IsVisualSeparator(char c) { return c == '-' || c == '.' || c == '(' || c == ')'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Status ParseLogLevel(std::string_view name, spdlog::level::level_enum* level) {
  if (name == "trace") {
    *level = spdlog::level::trace;
  } else if (name == "debug") {
    *level = spdlog::level::debug;
  } else if (name == "info") {
    *level = spdlog::level::info;
  } else if (name == "warn" || name == "warning") {
    *level = spdlog::level::warn;
  } else if (name == "error") {
    *level = spdlog::level::err;
  } else {
    return InvalidArgumentError("log level \"" + std::string(name) +
                                "\": expected trace, debug, info, warn or error");
  }
  return Status::Ok();
}

Status InitLogging(const LogOptions& options) {
  spdlog::level::level_enum level;
  CV_RETURN_IF_ERROR(ParseLogLevel(options.level, &level).Annotate("logging"));
  if (options.format != "text" && options.format != "json") {
    return InvalidArgumentError("logging: log format \"" + options.format +
                                "\": expected text or json");
  }
  int fd = STDERR_FILENO;
  if (!options.file.empty()) {
    fd = ::open(options.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return IoError("logging: opening log file " + options.file, errno);
  }

  LogState& state = State();
  MutexLock lock(&state.mu);
  if (state.logger == nullptr) {
    state.sink = std::make_shared<FdSink>();
    state.logger = std::make_shared<spdlog::logger>("callvault", state.sink);
  }
  state.sink->Reconfigure(internal::NewLogFormatter(options.format), fd);
  state.logger->set_level(level);
  g_mask_numbers.store(options.mask_numbers, std::memory_order_relaxed);
  if (spdlog::default_logger_raw() != state.logger.get()) {
    spdlog::set_default_logger(state.logger);
  }
  return Status::Ok();
}

std::string MaskDigits(std::string_view s) {
  std::string out(s);
  size_t end = s.find('@');
  if (end == s.npos) end = s.size();
  size_t i = 0;
  while (i < end) {
    if (!IsDigit(s[i])) {
      ++i;
      continue;
    }
    // A number: digits with visual separators between them.
    size_t run_end = i;
    size_t digits = 0;
    for (size_t k = i; k < end && (IsDigit(s[k]) || IsVisualSeparator(s[k])); ++k) {
      if (IsDigit(s[k])) {
        ++digits;
        run_end = k + 1;
      }
    }
    if (digits > 4) {
      // Keep the last 4 digits, and up to 4 leading ones as long as 3 or more stay masked.
      size_t head = digits >= 11 ? 4 : (digits > 7 ? digits - 7 : 0);
      size_t tail_start = digits - 4;
      size_t d = 0;
      for (size_t k = i; k < run_end; ++k) {
        if (!IsDigit(s[k])) continue;
        if (d >= head && d < tail_start) out[k] = '*';
        ++d;
      }
    }
    i = run_end;
  }
  return out;
}

std::string LogAor(std::string_view aor) {
  if (g_mask_numbers.load(std::memory_order_relaxed)) return MaskDigits(aor);
  return std::string(aor);
}

namespace internal {
std::unique_ptr<spdlog::formatter> NewLogFormatter(std::string_view format) {
  CV_CHECK_MSG(format == "text" || format == "json", "log format must be text or json");
  return std::make_unique<LineFormatter>(format == "json");
}
}  // namespace internal

}  // namespace callvault

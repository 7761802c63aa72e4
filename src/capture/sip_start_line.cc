// SIP start line recognition (capture/sip_start_line.h).
#include "capture/sip_start_line.h"

#include <cstring>

#include "base/strings.h"

namespace callvault::capture {

namespace {

constexpr size_t kMaxStartLine = 2048;

bool IsTokenChar(char c) {
  // RFC 3261 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::strchr("-.!%*_+`'~", c) != nullptr;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool StartsWithVersion(std::string_view s) {
  return s.size() >= 7 && EqualsIgnoreCase(s.substr(0, 7), "SIP/2.0");
}

}  // namespace

bool LooksLikeSipStartLine(std::string_view data) {
  if (data.empty()) return false;
  const char c0 = data[0];
  if (!(c0 >= 'A' && c0 <= 'Z') && !(c0 >= 'a' && c0 <= 'z')) return false;
  const size_t nl = data.substr(0, kMaxStartLine).find('\n');
  if (nl == std::string_view::npos) return false;
  std::string_view line = data.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // Status-Line: SIP/2.0 SP 3DIGIT SP Reason-Phrase
  if (StartsWithVersion(line)) {
    return line.size() >= 11 && line[7] == ' ' && IsDigit(line[8]) && IsDigit(line[9]) &&
           IsDigit(line[10]) && (line.size() == 11 || line[11] == ' ');
  }
  // Request-Line: Method SP Request-URI SP SIP/2.0
  size_t i = 0;
  while (i < line.size() && IsTokenChar(line[i])) ++i;
  if (i == 0 || i >= line.size() || line[i] != ' ') return false;
  const size_t uri = i + 1;
  const size_t sp = line.rfind(' ');
  if (sp <= uri) return false;  // no URI between the two spaces
  std::string_view version = line.substr(sp + 1);
  if (version.size() != 7 || !StartsWithVersion(version)) return false;
  // The URI: a scheme ("sip:", "sips:", "tel:", any absoluteURI) and no space inside.
  std::string_view u = line.substr(uri, sp - uri);
  const size_t colon = u.find(':');
  return colon != std::string_view::npos && colon > 0 && u.find(' ') == std::string_view::npos;
}

size_t FindSipStartLine(std::string_view data, size_t from) {
  for (size_t p = from; p < data.size();) {
    if (LooksLikeSipStartLine(data.substr(p))) return p;
    const void* nl = std::memchr(data.data() + p, '\n', data.size() - p);
    if (nl == nullptr) break;
    p = static_cast<size_t>(static_cast<const char*>(nl) - data.data()) + 1;
  }
  return std::string_view::npos;
}

}  // namespace callvault::capture

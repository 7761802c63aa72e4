// Template definitions for sip/message.h. Include sip/message.h, not this file.
#pragma once

#include <string_view>

namespace callvault::sip {
namespace internal {

inline bool IsLws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline std::string_view TrimLws(std::string_view s) {
  while (!s.empty() && IsLws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsLws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace internal

template <typename F>
void ForEachListItem(std::string_view value, F&& f) {
  bool in_quotes = false;
  int angle = 0;
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (in_quotes) {
      if (c == '\\' && i + 1 < value.size()) {
        ++i;  // quoted-pair (RFC 3261 §25.1)
      } else if (c == '"') {
        in_quotes = false;
      }
      continue;
    }
    if (c == '"') {
      in_quotes = true;
    } else if (c == '<') {
      ++angle;
    } else if (c == '>') {
      if (angle > 0) --angle;
    } else if (c == ',' && angle == 0) {
      std::string_view item = internal::TrimLws(value.substr(start, i - start));
      if (!item.empty()) f(item);
      start = i + 1;
    }
  }
  std::string_view item = internal::TrimLws(value.substr(start));
  if (!item.empty()) f(item);
}

template <typename F>
void Message::ForEachValue(HeaderId id, F&& f) const {
  for (const Header& h : headers) {
    if (h.id == id) ForEachListItem(h.value, f);
  }
}

}  // namespace callvault::sip

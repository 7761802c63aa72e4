// Small text helpers shared by the SDP parser, the SDES code and the answer builder
// (siprec/sdp*.cc). Not part of siprec's contract.
//
// Thread-safety: pure functions.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/strings.h"

namespace callvault::siprec::internal {

inline bool IsSdpSpace(char c) { return c == ' ' || c == '\t'; }

inline std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSdpSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSdpSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Splits on runs of spaces/tabs; at most `max_fields` fields (the last one keeps the rest of the
// line, trimmed). Empty fields never appear.
inline std::vector<std::string_view> SplitFields(std::string_view s, size_t max_fields = 64) {
  std::vector<std::string_view> out;
  s = TrimSpace(s);
  while (!s.empty()) {
    if (out.size() + 1 == max_fields) {
      out.push_back(s);
      break;
    }
    size_t end = 0;
    while (end < s.size() && !IsSdpSpace(s[end])) ++end;
    out.push_back(s.substr(0, end));
    s = TrimSpace(s.substr(end));
  }
  return out;
}

// The unsigned decimal number `s` (digits only, no sign, no spaces), nullopt when `s` is empty,
// has another character, or exceeds `max`.
inline std::optional<uint64_t> ParseDecimal(std::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

inline bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace callvault::siprec::internal

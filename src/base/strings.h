// ASCII case-insensitive helpers for protocol tokens (SIP header names, methods in option tags,
// SDP encoding names, MIME types, XML local names). Not locale-aware on purpose: protocol
// tokens are ASCII (RFC 3261 §7.3.1, RFC 4566 §6, RFC 2045 §5.1).
//
// Called by: every module that compares protocol tokens. Thread-safety: pure functions.
#pragma once

#include <string_view>

namespace callvault {

constexpr char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace callvault

// Small text helpers shared by the SIP parser files (message.cc, uri.cc). Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/strings.h"  // EqualsIgnoreCase, AsciiLower
#include "sip/message.h"   // IsLws, TrimLws (message_inl.h)

namespace callvault::sip::internal {

// Value of ";name[=value]" in a parameter list (case-insensitive name); "" for a flag.
std::optional<std::string_view> FindParam(std::string_view params, std::string_view name);
// A decimal port 0..65535, nothing else.
std::optional<uint16_t> ParsePort(std::string_view s);
// host[:port] at the front of `s` (IPv6 in brackets); bytes consumed, 0 on error.
size_t ParseHostPort(std::string_view s, std::string_view* host, uint16_t* port);

}  // namespace callvault::sip::internal

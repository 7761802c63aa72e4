// A cheap test of whether bytes begin with a SIP start line (RFC 3261 §7.1 Request-Line
// "METHOD SP Request-URI SP SIP/2.0 CRLF", §7.2 Status-Line "SIP/2.0 SP 3DIGIT SP ..."):
// used to recognise SIP on ports nobody configured, and to resynchronise a TCP stream after a
// gap that never filled. It does not parse: sip::Parse does that downstream.
//
// Called by: Dispatcher (UDP), TcpReassembler (resync, flows on unconfigured ports).
// Thread-safety: stateless.
#pragma once

#include <cstddef>
#include <string_view>

namespace callvault::capture {

// True when `data` starts with a whole SIP request or status line (up to its LF, looked for in
// the first 2,048 bytes). RTP (first byte 0x80-0xBF) is rejected at the first byte.
bool LooksLikeSipStartLine(std::string_view data);

// The offset of the first line in `data` at or after `from` that LooksLikeSipStartLine — at
// `from` itself or right after an LF — or npos. A start line cut by the end of `data` is not
// found (the caller waits for more bytes).
size_t FindSipStartLine(std::string_view data, size_t from = 0);

}  // namespace callvault::capture

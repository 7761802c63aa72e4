// The host's own address, for SDP answers when media.advertise_* is not configured and the
// media bind address is a wildcard.
//
// Called by: app/server.cc at start. Thread-safety: thread-safe (reads the interface list).
#pragma once

#include <string>

namespace callvault::app {

// The first non-loopback address of the host of that family ("" when none).
std::string DetectLocalAddress(bool ipv6);

}  // namespace callvault::app

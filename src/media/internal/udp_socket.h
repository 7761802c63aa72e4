// UDP sockets for RTP/RTCP. Private to media/.
// Thread-safety: functions of their arguments only.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace callvault::media::internal {

// A non-blocking, close-on-exec UDP socket bound to ip:port with SO_RCVBUF `rcvbuf`,
// SO_TIMESTAMPNS and SO_RXQ_OVFL (IPv6: IPV6_V6ONLY). Errors: AlreadyExists for EADDRINUSE /
// EACCES on the port, ResourceExhausted for EMFILE/ENFILE/ENOBUFS, InvalidArgument for a bad ip,
// IoError otherwise.
Result<int> BindUdp(bool ipv6, const std::string& ip, uint16_t port, int rcvbuf);

}  // namespace callvault::media::internal

// FreeLoopbackPort: a TCP port on 127.0.0.1 that nothing listens on right now, for the private
// servers tests start (PostgreSQL, S3). Another process may take it before the server binds
// it; the servers' start-up fails clearly then.
//
// Test-only. Thread-safety: safe to call from any thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/status.h"

namespace callvault::testing {

inline Result<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return IoError("finding a free loopback port: socket", errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    close(fd);
    return IoError("finding a free loopback port", err);
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

}  // namespace callvault::testing

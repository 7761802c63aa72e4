#include "media/internal/udp_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace callvault::media::internal {
namespace {

Status SocketError(std::string_view what, const std::string& ip, uint16_t port, int err) {
  std::string where = std::string(what) + " " + ip + ":" + std::to_string(port);
  if (err == EADDRINUSE || err == EACCES) {
    return AlreadyExistsError(where + ": " + std::strerror(err));
  }
  if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
    return ResourceExhaustedError(where + ": " + std::strerror(err) + " (errno " +
                                  std::to_string(err) + ")");
  }
  return IoError(where, err);
}

}  // namespace

Result<int> BindUdp(bool ipv6, const std::string& ip, uint16_t port, int rcvbuf) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (ipv6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) != 1) {
      return InvalidArgumentError("RTP socket: bad IPv6 address \"" + ip + "\"");
    }
    len = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (inet_pton(AF_INET, ip.c_str(), &a->sin_addr) != 1) {
      return InvalidArgumentError("RTP socket: bad IPv4 address \"" + ip + "\"");
    }
    len = sizeof(*a);
  }
  int fd = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketError("creating RTP socket for", ip, port, errno);
  int one = 1;
  if (ipv6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  // Best effort: the kernel caps SO_RCVBUF at rmem_max; timestamps fall back to the clock.
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
  ::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int err = errno;
    ::close(fd);
    return SocketError("binding RTP socket to", ip, port, err);
  }
  return fd;
}

}  // namespace callvault::media::internal

#include "app/sd_notify.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace callvault::app {

SystemdNotifier::SystemdNotifier(std::string socket_path) : socket_path_(std::move(socket_path)) {
  if (socket_path_.empty()) {
    const char* env = std::getenv("NOTIFY_SOCKET");
    if (env != nullptr) socket_path_ = env;
  }
  // Only filesystem paths and abstract names are part of the protocol (vsock is not used here).
  if (!socket_path_.empty() && socket_path_[0] != '/' && socket_path_[0] != '@') {
    socket_path_.clear();
  }
}

Status SystemdNotifier::Send(std::string_view state) const {
  if (!enabled()) return Status::Ok();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(addr.sun_path)) {
    return InvalidArgumentError(fmt::format("sd_notify: socket path too long: {}", socket_path_));
  }
  std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
  if (addr.sun_path[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace: no trailing NUL counted
  } else {
    len += 1;
  }
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return InternalError(fmt::format("sd_notify: socket: {}", std::strerror(errno)));
  }
  ssize_t sent;
  do {
    sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&addr), len);
  } while (sent < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (sent < 0) {
    return UnavailableError(
        fmt::format("sd_notify: sendto {}: {}", socket_path_, std::strerror(err)));
  }
  return Status::Ok();
}

}  // namespace callvault::app

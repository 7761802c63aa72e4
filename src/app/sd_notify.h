// The systemd service notification protocol (sd_notify(3)), without libsystemd: one datagram
// of `KEY=VALUE` lines to the AF_UNIX socket named by $NOTIFY_SOCKET ("@name" = abstract
// namespace). `callvault serve` sends READY=1 once SIP and HTTP listen, RELOADING=1/READY=1
// around a SIGHUP reload and STOPPING=1 when a drain begins; the unit is `Type=notify`
// (contrib/systemd/callvault.service). Outside systemd ($NOTIFY_SOCKET unset) it does nothing.
//
// Called by: app/server.cc (main thread). Thread-safety: Send() is thread-safe (each call opens,
// sends on and closes its own socket); the constructor reads the environment once.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault::app {

class SystemdNotifier {
 public:
  // Reads $NOTIFY_SOCKET. `socket_path` overrides it (tests); empty = read the environment.
  explicit SystemdNotifier(std::string socket_path = {});

  // True when there is a socket to notify.
  bool enabled() const { return !socket_path_.empty(); }

  // Sends `state` ("READY=1\nSTATUS=…"). OK and nothing sent when not enabled; an error names
  // the socket when the datagram could not be sent (the caller logs it: it is never fatal).
  [[nodiscard]] Status Send(std::string_view state) const;

 private:
  std::string socket_path_;
};

}  // namespace callvault::app

// Private parts of sip/transport.h: one TCP/TLS connection, and the OpenSSL helpers.
//
// Thread-safety: a Connection is owned by the TransportLayer's connection map (mu_) and
// driven by the I/O thread; Send() callers read id/flow and touch only the fields
// GUARDED_BY(out_mu). out_mu is never held with another lock (docs/threading.md).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <deque>
#include <string>

#include "base/mutex.h"
#include "sip/transport.h"

namespace callvault::sip {

struct TransportLayer::Connection {
  enum class State : uint8_t { kConnecting, kHandshake, kOpen };
  using TimePoint = std::chrono::steady_clock::time_point;

  ~Connection() {
    if (ssl != nullptr) SSL_free(ssl);
  }

  // Set before the connection is published in the map, then read-only (fd: I/O thread only
  // after publication; Close() sets it to -1).
  uint64_t id = 0;
  int fd = -1;
  Flow flow;  // transport, local, remote, id
  bool outbound = false;

  // I/O thread only.
  State state = State::kConnecting;
  SSL* ssl = nullptr;
  bool registered = false;      // in epoll
  uint32_t events = 0;          // current epoll mask
  bool tls_want_write = false;  // SSL_read/handshake needs the socket writable
  bool output_pending = false;  // queued output waits for the socket to be writable
  std::string in;               // received, not yet framed; [in_pos, end) is live
  size_t in_pos = 0;
  int crlf_run = 0;  // consecutive keep-alive line ends (RFC 5626 ping = CRLFCRLF)
  TimePoint created, last_activity;
  TimePoint message_started{};  // when the pending partial message began; {} = none

  // Shared with Send() callers.
  Mutex out_mu;
  std::deque<std::string> out GUARDED_BY(out_mu);  // front() written from out_offset
  size_t out_offset GUARDED_BY(out_mu) = 0;
  size_t out_bytes GUARDED_BY(out_mu) = 0;       // queued and not yet written
  bool flush_posted GUARDED_BY(out_mu) = false;  // a kFlush command is pending
  bool closed GUARDED_BY(out_mu) = false;        // no more output accepted
};

namespace internal {

// "<transport>|<address>": the key of TransportLayer::by_remote_.
std::string RemoteKey(Transport t, const SocketAddress& a);
// setsockopt of an int, best effort.
void SetInt(int fd, int level, int name, int value);
// getsockname() of a socket.
Result<SocketAddress> LocalAddress(int fd);

// "error:0A000086:SSL routines::certificate verify failed" (drains the thread's error queue),
// or "no OpenSSL error" when empty.
std::string OpenSslErrors();
// TLS >= 1.2 server context from PEM files; verifies that the key matches the certificate.
Result<SSL_CTX*> MakeServerTlsContext(const TransportOptions& o);
// Client context for outbound TLS; presents our certificate when configured.
Result<SSL_CTX*> MakeClientTlsContext(const TransportOptions& o);

}  // namespace internal
}  // namespace callvault::sip

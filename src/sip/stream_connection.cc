// TCP/TLS connections on the I/O thread: connect completion, the TLS handshake, reading and
// stream framing (RFC 3261 §18.3, RFC 5626 keep-alives), writing queued output, closing and
// timeouts (sip/transport.h).
#include <openssl/err.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "sip/internal/sip_log.h"
#include "sip/internal/transport_connection.h"

namespace callvault::sip {

using internal::RemoteKey;

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kReadsPerEvent = 16;  // then other connections get a turn

}  // namespace

void TransportLayer::OnConnectionEvent(Connection& c, uint32_t events) {
  if (c.fd < 0) return;
  switch (c.state) {
    case Connection::State::kConnecting:
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) OnConnected(c);
      return;
    case Connection::State::kHandshake:
      DoHandshake(c);
      return;
    case Connection::State::kOpen:
      if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || (c.tls_want_write && (events & EPOLLOUT))) {
        ReadStream(c);
      }
      // Also after a read: an SSL_write that wanted to read may proceed now.
      if (c.fd >= 0) Flush(c);
      return;
  }
}

void TransportLayer::OnConnected(Connection& c) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    SIP_LOG_INFO("sip.connect_failed", "transport={} peer={} conn={} reason=\"{}\"",
                 TransportName(c.flow.transport), c.flow.remote.ToString(), c.id,
                 std::strerror(err));
    Close(c, "connect failed");
    return;
  }
  c.last_activity = Clock::now();
  if (c.ssl != nullptr) {
    c.state = Connection::State::kHandshake;
    DoHandshake(c);
    return;
  }
  c.state = Connection::State::kOpen;
  UpdateEvents(c);
  Flush(c);
}

void TransportLayer::DoHandshake(Connection& c) {
  ERR_clear_error();
  int r = SSL_do_handshake(c.ssl);
  if (r == 1) {
    c.state = Connection::State::kOpen;
    c.tls_want_write = false;
    c.last_activity = Clock::now();
    SIP_LOG_DEBUG("sip.tls_established", "peer={} conn={} version={} cipher={}",
                  c.flow.remote.ToString(), c.id, SSL_get_version(c.ssl),
                  SSL_get_cipher_name(c.ssl));
    UpdateEvents(c);
    ReadStream(c);  // application data may already sit in OpenSSL's buffers
    if (c.fd >= 0) Flush(c);
    return;
  }
  const int e = SSL_get_error(c.ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    c.tls_want_write = e == SSL_ERROR_WANT_WRITE;
    UpdateEvents(c);
    return;
  }
  std::string reason = e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0
                           ? std::string(errno != 0 ? std::strerror(errno) : "peer closed")
                           : internal::OpenSslErrors();
  counters_.tls_failures.fetch_add(1, std::memory_order_relaxed);
  SIP_LOG_INFO("sip.tls_handshake_failed", "peer={} conn={} reason=\"{}\"",
               c.flow.remote.ToString(), c.id, reason);
  Close(c, "TLS handshake failed");
}

void TransportLayer::ReadStream(Connection& c) {
  char* buf = read_buffer_.data();
  const size_t size = read_buffer_.size();
  for (int i = 0;; ++i) {
    if (i == kReadsPerEvent) {
      // Level-triggered epoll reports a TCP socket again, but bytes OpenSSL already holds
      // raise no event: come back after this round.
      read_again_.push_back(c.id);
      break;
    }
    ssize_t n;
    if (c.ssl != nullptr) {
      ERR_clear_error();
      errno = 0;
      n = SSL_read(c.ssl, buf, static_cast<int>(size));
      if (n <= 0) {
        const int e = SSL_get_error(c.ssl, static_cast<int>(n));
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
          c.tls_want_write = e == SSL_ERROR_WANT_WRITE;
          break;
        }
        if (e == SSL_ERROR_ZERO_RETURN ||
            (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)) {
          Close(c, "peer closed");
        } else {
          Close(c, "TLS read failed: " + internal::OpenSslErrors());
        }
        return;
      }
    } else {
      n = read(c.fd, buf, size);
      if (n == 0) {
        Close(c, "peer closed");
        return;
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        Close(c, std::string("read failed: ") + std::strerror(errno));
        return;
      }
    }
    counters_.bytes_in.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    c.last_activity = Clock::now();
    c.in.append(buf, static_cast<size_t>(n));
    if (!Deliver(c)) return;
    if (c.ssl == nullptr && static_cast<size_t>(n) < size) break;  // socket drained
  }
  UpdateEvents(c);
}

bool TransportLayer::Deliver(Connection& c) {
  ParseOptions framing = options_.framing;
  framing.datagram = false;
  for (;;) {
    std::string_view live(c.in.data() + c.in_pos, c.in.size() - c.in_pos);
    if (live.empty()) {
      c.in.clear();
      c.in_pos = 0;
      c.message_started = {};
      return true;
    }
    Frame f = FrameStream(live, framing);
    switch (f.kind) {
      case Frame::kMessage: {
        if (f.length > options_.max_message_bytes) {
          f.kind = Frame::kError;
          f.error = ResourceExhaustedError(
              "message of " + std::to_string(f.length) +
              " bytes exceeds max_message_bytes=" + std::to_string(options_.max_message_bytes));
          break;
        }
        std::string message(live.substr(0, f.length));
        c.in_pos += f.length;
        c.crlf_run = 0;
        c.message_started = {};
        counters_.messages_in.fetch_add(1, std::memory_order_relaxed);
        on_message_(c.flow, std::move(message));
        if (c.fd < 0) return false;
        continue;
      }
      case Frame::kKeepAlive: {
        std::string_view consumed = live.substr(0, std::max<size_t>(f.length, 1));
        c.in_pos += consumed.size();
        c.crlf_run += static_cast<int>(std::count(consumed.begin(), consumed.end(), '\n'));
        if (c.crlf_run >= 2) {  // CRLFCRLF ping → CRLF pong (RFC 5626 §3.5.1)
          c.crlf_run = 0;
          QueueLocal(c, "\r\n");
          if (c.fd < 0) return false;
        }
        continue;
      }
      case Frame::kNeedMore:
        if (live.size() > options_.max_message_bytes) {
          f.kind = Frame::kError;
          f.error = ResourceExhaustedError("incomplete message over max_message_bytes=" +
                                           std::to_string(options_.max_message_bytes));
          break;
        }
        if (c.message_started == Clock::time_point{}) c.message_started = Clock::now();
        if (c.in_pos > 0) {
          c.in.erase(0, c.in_pos);
          c.in_pos = 0;
        }
        return true;
      case Frame::kError:
        break;
    }
    counters_.stream_errors.fetch_add(1, std::memory_order_relaxed);
    SIP_LOG_WARN("sip.stream_error", "transport={} peer={} conn={} reason=\"{}\"",
                 TransportName(c.flow.transport), c.flow.remote.ToString(), c.id,
                 f.error.message());
    Close(c, "stream error");
    return false;
  }
}

void TransportLayer::QueueLocal(Connection& c, std::string data) {
  {
    MutexLock lock(&c.out_mu);
    if (c.closed) return;
    c.out_bytes += data.size();
    c.out.push_back(std::move(data));
  }
  Flush(c);
}

void TransportLayer::Flush(Connection& c) {
  if (c.fd < 0 || c.state != Connection::State::kOpen) return;
  std::string failure;
  bool pending;
  {
    MutexLock lock(&c.out_mu);
    while (!c.out.empty()) {
      const std::string& front = c.out.front();
      const char* p = front.data() + c.out_offset;
      const size_t left = front.size() - c.out_offset;
      ssize_t n;
      if (c.ssl != nullptr) {
        ERR_clear_error();
        n = SSL_write(c.ssl, p, static_cast<int>(std::min<size_t>(left, INT_MAX)));
        if (n <= 0) {
          const int e = SSL_get_error(c.ssl, static_cast<int>(n));
          if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) break;
          failure = "TLS write failed: " + internal::OpenSslErrors();
          break;
        }
      } else {
        n = send(c.fd, p, left, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) break;
          failure = std::string("write failed: ") + std::strerror(errno);
          break;
        }
      }
      counters_.bytes_out.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      c.out_offset += static_cast<size_t>(n);
      c.out_bytes -= static_cast<size_t>(n);
      c.last_activity = Clock::now();
      if (c.out_offset == front.size()) {
        c.out.pop_front();
        c.out_offset = 0;
      }
    }
    pending = !c.out.empty();
  }
  if (!failure.empty()) {
    Close(c, failure);
    return;
  }
  c.output_pending = pending;
  UpdateEvents(c);
}

void TransportLayer::UpdateEvents(Connection& c) {
  if (c.fd < 0 || !c.registered) return;
  uint32_t want = EPOLLIN;
  if (c.state == Connection::State::kConnecting || c.output_pending || c.tls_want_write) {
    want |= EPOLLOUT;
  }
  if (want == c.events) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = c.id;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
    Close(c, std::string("epoll_ctl failed: ") + std::strerror(errno));
    return;
  }
  c.events = want;
}

void TransportLayer::Close(Connection& c, std::string_view reason) {
  if (c.fd < 0) return;
  {
    MutexLock lock(&mu_);
    connections_.erase(c.id);
    auto it = by_remote_.find(RemoteKey(c.flow.transport, c.flow.remote));
    if (it != by_remote_.end() && it->second == c.id) by_remote_.erase(it);
  }
  {
    MutexLock lock(&c.out_mu);
    c.closed = true;
    c.out.clear();
    c.out_bytes = 0;
  }
  if (c.registered) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  c.registered = false;
  if (c.ssl != nullptr && c.state == Connection::State::kOpen) {
    ERR_clear_error();
    SSL_shutdown(c.ssl);  // best effort close_notify; never waits
    ERR_clear_error();
  }
  close(c.fd);
  c.fd = -1;
  SIP_LOG_DEBUG("sip.connection_closed", "transport={} peer={} conn={} reason=\"{}\"",
                TransportName(c.flow.transport), c.flow.remote.ToString(), c.id, reason);
}

void TransportLayer::SweepTimeouts(Clock::time_point now) {
  std::vector<std::pair<std::shared_ptr<Connection>, const char*>> expired;
  {
    MutexLock lock(&mu_);
    for (const auto& [id, c] : connections_) {
      if (c->state != Connection::State::kOpen) {
        if (now - c->created > options_.handshake_timeout) {
          expired.emplace_back(c, c->state == Connection::State::kConnecting
                                      ? "connect timeout"
                                      : "TLS handshake timeout");
        }
      } else if (c->message_started != Clock::time_point{} &&
                 now - c->message_started > options_.header_timeout) {
        expired.emplace_back(c, "incomplete message timeout");
      } else if (now - c->last_activity > options_.idle_timeout) {
        expired.emplace_back(c, "idle timeout");
      }
    }
  }
  for (auto& [c, reason] : expired) {
    counters_.timed_out.fetch_add(1, std::memory_order_relaxed);
    SIP_LOG_INFO("sip.connection_timeout", "transport={} peer={} conn={} reason=\"{}\"",
                 TransportName(c->flow.transport), c->flow.remote.ToString(), c->id, reason);
    Close(*c, reason);
  }
}

}  // namespace callvault::sip

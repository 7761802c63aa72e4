// TransportLayer::Send(): UDP from the caller's thread, TCP/TLS by queueing on a live
// connection or opening a new one (sip/transport.h).
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>

#include "sip/internal/sip_log.h"
#include "sip/internal/transport_connection.h"

namespace callvault::sip {

using internal::LocalAddress;
using internal::RemoteKey;
using internal::SetInt;
using Clock = std::chrono::steady_clock;

Result<Flow> TransportLayer::Send(const Flow& flow, std::string data) {
  if (stopping_.load(std::memory_order_relaxed)) return AbortedError("transport stopped");
  if (flow.transport != Transport::kUdp) return SendStream(flow, std::move(data));
  ReaderMutexLock lock(&listeners_mu_);
  const Listener* chosen = nullptr;
  for (const Listener& l : listeners_) {
    if (l.kind != Transport::kUdp || l.fd < 0 || l.addr.is_v6() != flow.remote.is_v6()) continue;
    if (l.addr == flow.local) {
      chosen = &l;
      break;
    }
    if (chosen == nullptr ||
        (l.addr.port() == flow.local.port() && chosen->addr.port() != flow.local.port())) {
      chosen = &l;
    }
  }
  if (chosen == nullptr) {
    return FailedPreconditionError(std::string("no UDP listener for ") +
                                   (flow.remote.is_v6() ? "IPv6" : "IPv4") + " to send to " +
                                   flow.remote.ToString());
  }
  ssize_t n;
  do {
    n = sendto(chosen->fd, data.data(), data.size(), MSG_DONTWAIT, flow.remote.sockaddr(),
               flow.remote.len());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    counters_.udp_send_errors.fetch_add(1, std::memory_order_relaxed);
    return IoError("sending UDP to " + flow.remote.ToString(), errno);
  }
  counters_.bytes_out.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
  Flow used = flow;
  used.local = chosen->addr;
  used.connection_id = 0;
  return used;
}

Result<Flow> TransportLayer::SendStream(const Flow& flow, std::string data) {
  if (data.size() > options_.max_output_bytes) {
    return ResourceExhaustedError("message of " + std::to_string(data.size()) +
                                  " bytes exceeds max_output_bytes");
  }
  std::shared_ptr<Connection> c;
  {
    MutexLock lock(&mu_);
    if (!running_) return AbortedError("transport not running");
    auto it = connections_.find(flow.connection_id);
    if (it != connections_.end() && it->second->flow.transport == flow.transport) {
      c = it->second;
    } else if (auto r = by_remote_.find(RemoteKey(flow.transport, flow.remote));
               r != by_remote_.end()) {
      auto found = connections_.find(r->second);
      if (found != connections_.end()) c = found->second;
    }
  }
  if (c != nullptr) {
    bool post_flush = false, overflow = false, closed = false;
    {
      MutexLock lock(&c->out_mu);
      if (c->closed) {
        closed = true;
      } else if (c->out_bytes + data.size() > options_.max_output_bytes) {
        overflow = true;
        c->closed = true;
      } else {
        c->out_bytes += data.size();
        c->out.push_back(std::move(data));
        post_flush = !c->flush_posted;
        c->flush_posted = true;
      }
    }
    if (overflow) {
      Post(Command{Command::kClose, c->id});
      SIP_LOG_WARN("sip.output_overflow", "transport={} peer={} conn={} max_output_bytes={}",
                   TransportName(c->flow.transport), c->flow.remote.ToString(), c->id,
                   options_.max_output_bytes);
      return ResourceExhaustedError("output queue of connection to " + c->flow.remote.ToString() +
                                    " is full; connection closed");
    }
    if (!closed) {
      if (post_flush) Post(Command{Command::kFlush, c->id});
      return c->flow;
    }
  }
  CV_ASSIGN_OR_RETURN(c, Connect(flow.transport, flow.remote, std::move(data)));
  return c->flow;
}

Result<std::shared_ptr<TransportLayer::Connection>> TransportLayer::Connect(
    Transport kind, const SocketAddress& remote, std::string data) {
  const std::string what = std::string(TransportName(kind)) + " " + remote.ToString();
  {
    MutexLock lock(&mu_);
    if (connections_.size() >= options_.max_connections) {
      return ResourceExhaustedError("connecting " + what + ": max_connections reached");
    }
  }
  if (remote.IsAny() || remote.port() == 0) {
    return InvalidArgumentError("connecting " + what + ": no destination address");
  }
  int fd =
      socket(remote.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return IoError("connecting " + what + ": socket", errno);
  SetInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  if (connect(fd, remote.sockaddr(), remote.len()) != 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    return IoError("connecting " + what, err);
  }
  Result<SocketAddress> local = LocalAddress(fd);
  if (!local.ok()) {
    close(fd);
    return local.status().Annotate("connecting " + what);
  }
  auto c = std::make_shared<Connection>();
  c->id = next_id_.fetch_add(1);
  c->fd = fd;
  c->outbound = true;
  c->flow = Flow{kind, *local, remote, c->id};
  c->created = c->last_activity = Clock::now();
  c->state = Connection::State::kConnecting;
  if (kind == Transport::kTls) {
    c->ssl = SSL_new(client_tls_);
    if (c->ssl == nullptr || SSL_set_fd(c->ssl, fd) != 1) {
      close(fd);
      return InternalError("connecting " + what + ": SSL_new: " + internal::OpenSslErrors());
    }
    SSL_set_connect_state(c->ssl);
  }
  {
    MutexLock lock(&c->out_mu);  // not shared yet; taken for the analysis
    c->out_bytes = data.size();
    c->out.push_back(std::move(data));
  }
  {
    MutexLock lock(&mu_);
    if (!running_) {
      close(fd);
      return AbortedError("transport not running");
    }
    connections_[c->id] = c;
    by_remote_[RemoteKey(kind, remote)] = c->id;
  }
  counters_.opened.fetch_add(1, std::memory_order_relaxed);
  SIP_LOG_DEBUG("sip.connection_opening", "transport={} peer={} local={} conn={}",
                TransportName(kind), remote.ToString(), local->ToString(), c->id);
  Post(Command{Command::kRegister, c->id});
  return c;
}

}  // namespace callvault::sip

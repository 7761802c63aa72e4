// TransportLayer: listeners, the epoll loop, UDP, accept/connect, Send() and timeouts
// (sip/transport.h). Per-connection reading, framing and writing: stream_connection.cc.
#include "sip/transport.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/thread_name.h"
#include "sip/internal/sip_log.h"
#include "sip/internal/transport_connection.h"

namespace callvault::sip {
namespace {

using Clock = std::chrono::steady_clock;

// epoll tokens: connection ids count up from 1; listeners and the eventfd use the top bits.
constexpr uint64_t kListenerTag = uint64_t{1} << 63;
constexpr uint64_t kWakeToken = uint64_t{1} << 62;
constexpr int kUdpBatch = 32;              // datagrams per recvmmsg
constexpr size_t kUdpMaxDatagram = 65536;  // bytes per datagram buffer
constexpr int kUdpBatchesPerEvent = 8;     // then the other sockets get a turn
constexpr int kAcceptsPerEvent = 64;
constexpr auto kSweepInterval = std::chrono::milliseconds(250);

bool OnlyLineEnds(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != '\r' && p[i] != '\n' && p[i] != ' ') return false;
  }
  return true;
}

}  // namespace

namespace internal {

std::string RemoteKey(Transport t, const SocketAddress& a) {
  return std::string(TransportName(t)) + "|" + a.ToString();
}

void SetInt(int fd, int level, int name, int value) {
  // Best effort: a failing tuning option is not worth refusing a socket.
  (void)setsockopt(fd, level, name, &value, sizeof value);
}

Result<SocketAddress> LocalAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return IoError("getsockname", errno);
  }
  return SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace internal

using internal::LocalAddress;
using internal::RemoteKey;
using internal::SetInt;

TransportLayer::TransportLayer(const TransportOptions& options, OnMessage on_message)
    : options_(options), on_message_(std::move(on_message)) {}

TransportLayer::~TransportLayer() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
  if (server_tls_ != nullptr) SSL_CTX_free(server_tls_);
  if (client_tls_ != nullptr) SSL_CTX_free(client_tls_);
}

Status TransportLayer::AddListener(Transport kind, const SocketAddress& addr) {
  if (started_ || stopped_) return FailedPreconditionError("AddListener after Start()");
  if (kind == Transport::kTls && server_tls_ == nullptr) {
    CV_ASSIGN_OR_RETURN(server_tls_, internal::MakeServerTlsContext(options_));
  }
  const std::string what = std::string(TransportName(kind)) + " " + addr.ToString();
  const int family = addr.is_v6() ? AF_INET6 : AF_INET;
  const int type = kind == Transport::kUdp ? SOCK_DGRAM : SOCK_STREAM;
  int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return IoError("creating socket for " + what, errno);
  if (addr.is_v6()) SetInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
  if (kind == Transport::kUdp) {
    SetInt(fd, SOL_SOCKET, SO_RCVBUF, options_.udp_receive_buffer);
  } else {
    SetInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  }
  if (bind(fd, addr.sockaddr(), addr.len()) != 0) {
    int err = errno;
    close(fd);
    return IoError("binding " + what, err);
  }
  if (kind != Transport::kUdp && listen(fd, SOMAXCONN) != 0) {
    int err = errno;
    close(fd);
    return IoError("listening on " + what, err);
  }
  Result<SocketAddress> bound = LocalAddress(fd);
  if (!bound.ok()) {
    close(fd);
    return bound.status().Annotate(what);
  }
  WriterMutexLock lock(&listeners_mu_);
  listeners_.push_back(Listener{kind, *bound, fd});
  return Status::Ok();
}

Status TransportLayer::Start() {
  if (started_ || stopped_) return FailedPreconditionError("transport already started");
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return IoError("epoll_create1", errno);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return IoError("eventfd", errno);
  spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  CV_ASSIGN_OR_RETURN(client_tls_, internal::MakeClientTlsContext(options_));
  {
    ReaderMutexLock lock(&listeners_mu_);
    for (size_t i = 0; i < listeners_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenerTag | i;
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listeners_[i].fd, &ev) != 0) {
        return IoError("epoll_ctl(listener)", errno);
      }
    }
    for (const Listener& l : listeners_) {
      if (l.kind == Transport::kUdp) udp_buffers_.resize(kUdpBatch * kUdpMaxDatagram);
    }
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return IoError("epoll_ctl(eventfd)", errno);
  }
  read_buffer_.resize(65536);
  {
    MutexLock lock(&mu_);
    running_ = true;
  }
  thread_ = std::thread([this] {
    SetCurrentThreadName("cv-sip-io");
    Run();
  });
  started_ = true;
  return Status::Ok();
}

void TransportLayer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    MutexLock lock(&mu_);
    running_ = false;
  }
  stopping_.store(true);
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
    thread_.join();
  }
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> left;
  {
    MutexLock lock(&mu_);
    left = connections_;
  }
  for (auto& [id, c] : left) Close(*c, "transport stopped");
  {
    WriterMutexLock lock(&listeners_mu_);
    for (Listener& l : listeners_) {
      if (l.fd >= 0) close(l.fd);
      l.fd = -1;
    }
  }
  // wake_fd_ stays open until the destructor: a Send() racing with Stop() may still post.
  for (int* fd : {&epoll_fd_, &spare_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

std::vector<std::pair<Transport, SocketAddress>> TransportLayer::Listeners() const {
  std::vector<std::pair<Transport, SocketAddress>> out;
  ReaderMutexLock lock(&listeners_mu_);
  for (const Listener& l : listeners_) out.emplace_back(l.kind, l.addr);
  return out;
}

TransportStats TransportLayer::stats() const {
  TransportStats s;
  {
    MutexLock lock(&mu_);
    s.connections_open = connections_.size();
  }
  s.connections_accepted = counters_.accepted.load();
  s.connections_opened = counters_.opened.load();
  s.connections_refused = counters_.refused.load();
  s.connections_timed_out = counters_.timed_out.load();
  s.tls_handshake_failures = counters_.tls_failures.load();
  s.stream_errors = counters_.stream_errors.load();
  s.messages_in = counters_.messages_in.load();
  s.bytes_in = counters_.bytes_in.load();
  s.bytes_out = counters_.bytes_out.load();
  s.udp_send_errors = counters_.udp_send_errors.load();
  return s;
}

void TransportLayer::Run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  auto next_sweep = Clock::now() + kSweepInterval;
  while (!stopping_.load(std::memory_order_relaxed)) {
    int timeout_ms = read_again_.empty() ? static_cast<int>(kSweepInterval.count()) : 0;
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      SIP_LOG_WARN("sip.epoll_failed", "reason=\"{}\"", std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t token = events[i].data.u64;
      if (token == kWakeToken) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof count);
        RunCommands();
      } else if (token & kListenerTag) {
        const Listener l = ListenerAt(token & ~kListenerTag);
        if (l.kind == Transport::kUdp) {
          ReceiveUdp(l);
        } else {
          Accept(l);
        }
      } else if (std::shared_ptr<Connection> c = Find(token)) {
        OnConnectionEvent(*c, events[i].events);
      }
    }
    if (!read_again_.empty()) {
      std::vector<uint64_t> again;
      again.swap(read_again_);
      for (uint64_t id : again) {
        if (std::shared_ptr<Connection> c = Find(id)) ReadStream(*c);
      }
    }
    const auto now = Clock::now();
    if (now >= next_sweep) {
      SweepTimeouts(now);
      next_sweep = now + kSweepInterval;
    }
  }
}

TransportLayer::Listener TransportLayer::ListenerAt(size_t i) const {
  ReaderMutexLock lock(&listeners_mu_);
  return listeners_[i];
}

void TransportLayer::Post(Command c) {
  {
    MutexLock lock(&commands_mu_);
    commands_.push_back(c);
  }
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void TransportLayer::RunCommands() {
  std::vector<Command> commands;
  {
    MutexLock lock(&commands_mu_);
    commands.swap(commands_);
  }
  for (const Command& cmd : commands) {
    std::shared_ptr<Connection> c = Find(cmd.id);
    if (c == nullptr || c->fd < 0) continue;
    switch (cmd.kind) {
      case Command::kRegister: {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u64 = c->id;
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
          Close(*c, "epoll_ctl failed");
          break;
        }
        c->registered = true;
        c->events = ev.events;
        break;
      }
      case Command::kFlush: {
        {
          MutexLock lock(&c->out_mu);
          c->flush_posted = false;
        }
        Flush(*c);
        break;
      }
      case Command::kClose:
        Close(*c, "output queue full");
        break;
    }
  }
}

std::shared_ptr<TransportLayer::Connection> TransportLayer::Find(uint64_t id) {
  MutexLock lock(&mu_);
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second;
}

void TransportLayer::ReceiveUdp(const Listener& l) {
  mmsghdr msgs[kUdpBatch];
  iovec iovs[kUdpBatch];
  sockaddr_storage from[kUdpBatch];
  for (int batch = 0; batch < kUdpBatchesPerEvent; ++batch) {
    for (int i = 0; i < kUdpBatch; ++i) {
      iovs[i] = iovec{udp_buffers_.data() + i * kUdpMaxDatagram, kUdpMaxDatagram};
      msgs[i] = mmsghdr{};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int n = recvmmsg(l.fd, msgs, kUdpBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        SIP_LOG_WARN("sip.udp_receive_failed", "local={} reason=\"{}\"", l.addr.ToString(),
                     std::strerror(errno));
      }
      return;
    }
    for (int i = 0; i < n; ++i) {
      const char* data = static_cast<const char*>(iovs[i].iov_base);
      const size_t len = msgs[i].msg_len;
      Result<SocketAddress> remote = SocketAddress::FromSockaddr(
          reinterpret_cast<sockaddr*>(&from[i]), msgs[i].msg_hdr.msg_namelen);
      if (!remote.ok()) continue;
      counters_.bytes_in.fetch_add(len, std::memory_order_relaxed);
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        SIP_LOG_WARN("sip.udp_truncated", "peer={} local={}", remote->ToString(),
                     l.addr.ToString());
        continue;
      }
      if (OnlyLineEnds(data, len)) continue;  // CRLF keep-alive some UAs send over UDP
      counters_.messages_in.fetch_add(1, std::memory_order_relaxed);
      on_message_(Flow{Transport::kUdp, l.addr, *remote, 0}, std::string(data, len));
    }
    if (n < kUdpBatch) return;
  }
}

void TransportLayer::Accept(const Listener& l) {
  for (int i = 0; i < kAcceptsPerEvent; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = accept4(l.fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: use the spare one to accept and drop the connection, else the
        // level-triggered listener would spin.
        SIP_LOG_WARN("sip.connection_refused", "local={} reason=\"out of file descriptors\"",
                     l.addr.ToString());
        counters_.refused.fetch_add(1, std::memory_order_relaxed);
        if (spare_fd_ >= 0) {
          close(spare_fd_);
          int dropped = accept(l.fd, nullptr, nullptr);
          if (dropped >= 0) close(dropped);
          spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        return;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        SIP_LOG_WARN("sip.accept_failed", "local={} reason=\"{}\"", l.addr.ToString(),
                     std::strerror(errno));
      }
      return;
    }
    Result<SocketAddress> remote =
        SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    Result<SocketAddress> local = LocalAddress(fd);
    if (!remote.ok() || !local.ok()) {
      close(fd);
      continue;
    }
    size_t open_now;
    {
      MutexLock lock(&mu_);
      open_now = connections_.size();
    }
    if (open_now >= options_.max_connections) {
      counters_.refused.fetch_add(1, std::memory_order_relaxed);
      close(fd);
      SIP_LOG_WARN("sip.connection_refused",
                   "transport={} peer={} reason=\"max_connections={} reached\"",
                   TransportName(l.kind), remote->ToString(), options_.max_connections);
      continue;
    }
    SetInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    auto c = std::make_shared<Connection>();
    c->id = next_id_.fetch_add(1);
    c->fd = fd;
    c->flow = Flow{l.kind, *local, *remote, c->id};
    c->created = c->last_activity = Clock::now();
    c->state = Connection::State::kOpen;
    if (l.kind == Transport::kTls) {
      c->state = Connection::State::kHandshake;
      c->ssl = SSL_new(server_tls_);
      if (c->ssl == nullptr || SSL_set_fd(c->ssl, fd) != 1) {
        SIP_LOG_WARN("sip.tls_failed", "peer={} reason=\"{}\"", remote->ToString(),
                     internal::OpenSslErrors());
        close(fd);
        continue;
      }
      SSL_set_accept_state(c->ssl);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = c->id;
    {
      MutexLock lock(&mu_);
      connections_[c->id] = c;
      by_remote_[RemoteKey(l.kind, *remote)] = c->id;
    }
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      Close(*c, "epoll_ctl failed");
      continue;
    }
    c->registered = true;
    c->events = ev.events;
    counters_.accepted.fetch_add(1, std::memory_order_relaxed);
    SIP_LOG_DEBUG("sip.connection_accepted", "transport={} peer={} local={} conn={}",
                  TransportName(l.kind), remote->ToString(), local->ToString(), c->id);
  }
}

}  // namespace callvault::sip

// SIP transports (RFC 3261 §18): UDP, TCP and TLS over IPv4 and IPv6, driven by one epoll
// I/O thread.
//
// Inbound: UDP datagrams are delivered one per message (the stack parses them); TCP/TLS bytes
// are framed per connection with FrameStream() (RFC 3261 §18.3): pipelined messages and
// messages split over many reads are delivered whole, RFC 5626 CRLF keep-alives are consumed
// (a CRLFCRLF ping gets a CRLF pong), a framing error closes the connection with one log line.
// Idle connections, slow senders (an incomplete message older than header_timeout) and
// handshakes that do not finish are closed by the I/O thread.
//
// Outbound: Send() writes one whole message. UDP is sent at once from the caller's thread
// (sendto on a listener socket). TCP/TLS data is appended to the connection's bounded output
// queue and the I/O thread is woken (eventfd) to write it: every read, write and OpenSSL call
// of a connection happens on the I/O thread, so an SSL object is never shared between threads.
// When the flow's connection is gone, Send() reuses another live connection to the same
// remote address and transport, or opens a new one (non-blocking connect; TLS as client).
//
// Called by: sip::Stack (production), tests. Thread-safety: SocketAddress and Flow are values.
// TransportLayer: AddListener() before Start(); Send(), Listeners() and stats() are thread-safe
// and may also be called from the OnMessage callback; Stop() from any thread except the I/O
// thread. OnMessage runs on the I/O thread, is the only way data is delivered, and must not
// block (the stack hands messages to its shard queues).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "sip/message.h"

typedef struct ssl_ctx_st SSL_CTX;  // OpenSSL, kept out of this header

namespace callvault::sip {

enum class Transport : uint8_t { kUdp, kTcp, kTls };
std::string_view TransportName(Transport t);  // "UDP" "TCP" "TLS" (as written in Via)

// An IPv4 or IPv6 address and a port. A value; the default is 0.0.0.0:0.
class SocketAddress {
 public:
  SocketAddress();

  // "1.2.3.4:5060", "[::1]:0", "[2001:db8::1]:5061". The port is required; no DNS names.
  static Result<SocketAddress> Parse(std::string_view text);
  // An IP literal ("1.2.3.4", "::1" or "[::1]") and a port. No DNS.
  static Result<SocketAddress> FromIpPort(const std::string& ip, uint16_t port);
  // From a kernel address (AF_INET or AF_INET6); error for other families.
  static Result<SocketAddress> FromSockaddr(const ::sockaddr* sa, socklen_t len);

  const ::sockaddr* sockaddr() const { return &u_.sa; }
  socklen_t len() const;
  std::string ip() const;  // "1.2.3.4" / "2001:db8::1" (no brackets)
  uint16_t port() const;
  bool is_v6() const { return u_.sa.sa_family == AF_INET6; }
  bool IsAny() const;            // 0.0.0.0 or ::
  std::string ToString() const;  // "1.2.3.4:5060" / "[::1]:5060"

  friend bool operator==(const SocketAddress& a, const SocketAddress& b);

 private:
  union {
    ::sockaddr sa;
    ::sockaddr_in v4;
    ::sockaddr_in6 v6;
  } u_;
};

// Where a message came from / goes to.
struct Flow {
  Transport transport = Transport::kUdp;
  SocketAddress local, remote;
  uint64_t connection_id = 0;  // TCP/TLS connection (0 = none / UDP)
};

struct TransportOptions {
  // Limits used by FrameStream on TCP/TLS (max header bytes, max headers); `datagram` is
  // ignored here (streams are always framed with stream semantics). Default: ParseOptions{}.
  ParseOptions framing;
  // A stream message (headers + body) larger than this closes the connection. Default: 65536.
  size_t max_message_bytes = 65536;
  // PEM certificate chain and private key; required when a TLS listener exists, also presented
  // on outbound TLS connections when set. Default: none.
  std::string tls_certificate_file, tls_private_key_file;
  // PEM CA bundle used to verify peers' certificates. Default: none.
  std::string tls_ca_file;
  // Require and verify a client certificate on inbound TLS (mutual TLS); needs tls_ca_file.
  // Default: false.
  bool tls_verify_peer = false;
  // Verify the server's certificate chain on outbound TLS (against tls_ca_file, or the system
  // store when empty). Peers are IP addresses here, so no host name check. Default: false.
  bool tls_verify_server = false;
  // TCP/TLS connections with no bytes in or out for this long are closed (RFC 5626 CRLF
  // keep-alives count as activity). Default: 300 s.
  std::chrono::seconds idle_timeout{300};
  // A connection that started a message must complete it (headers and body) within this, else
  // it is closed (slowloris bound). Default: 30 s.
  std::chrono::seconds header_timeout{30};
  // An outbound connect, and a TLS handshake in either direction, must finish within this.
  // Default: 10 s.
  std::chrono::seconds handshake_timeout{10};
  // Open TCP/TLS connections (inbound + outbound); an accept beyond is closed at once with a
  // log line, an outbound connect beyond fails. Default: 10000.
  size_t max_connections = 10000;
  // Bytes queued for one connection and not yet written; a Send() beyond fails and closes the
  // connection (the peer does not read). Default: 4 MiB.
  size_t max_output_bytes = 4 << 20;
  // SO_RCVBUF of UDP listeners (the kernel may cap it at net.core.rmem_max). Default: 4 MiB.
  int udp_receive_buffer = 4 << 20;
};

// Counters since construction (connections_open is a gauge).
struct TransportStats {
  uint64_t connections_open = 0;
  uint64_t connections_accepted = 0;   // inbound TCP/TLS
  uint64_t connections_opened = 0;     // outbound TCP/TLS
  uint64_t connections_refused = 0;    // over max_connections
  uint64_t connections_timed_out = 0;  // idle, slow sender, handshake
  uint64_t tls_handshake_failures = 0;
  uint64_t stream_errors = 0;            // framing errors and oversize messages
  uint64_t messages_in = 0;              // delivered to OnMessage
  uint64_t bytes_in = 0, bytes_out = 0;  // payload (plaintext for TLS)
  uint64_t udp_send_errors = 0;
};

class TransportLayer {
 public:
  using OnMessage = std::function<void(const Flow& flow, std::string data)>;

  TransportLayer(const TransportOptions& options, OnMessage on_message);
  ~TransportLayer();  // Stop()s
  TransportLayer(const TransportLayer&) = delete;
  TransportLayer& operator=(const TransportLayer&) = delete;

  // Binds now (port 0 allowed). A TLS listener loads the certificate and key (error when they
  // are missing or do not match). REQUIRES: before Start().
  Status AddListener(Transport kind, const SocketAddress& addr) EXCLUDES(listeners_mu_);
  // Starts the I/O thread. Once only.
  Status Start() EXCLUDES(mu_, listeners_mu_);
  // Idempotent; joins the I/O thread and closes every socket. Queued output is dropped.
  void Stop() EXCLUDES(mu_, listeners_mu_);

  // Actual bound addresses (port 0 resolved), in the order added.
  std::vector<std::pair<Transport, SocketAddress>> Listeners() const EXCLUDES(listeners_mu_);

  // Sends one whole message. UDP: sendto from the listener socket matching flow.local (else
  // one of the same family). TCP/TLS: queued on connection flow.connection_id while it lives,
  // else on a live connection to flow.remote, else on a new one; returns the flow used.
  // Errors: no listener/socket for the family, connection limit, output queue full (the
  // connection is closed), transport stopped.
  Result<Flow> Send(const Flow& flow, std::string data) EXCLUDES(mu_, listeners_mu_, commands_mu_);

  TransportStats stats() const EXCLUDES(mu_);

 private:
  struct Connection;  // sip/internal/transport_connection.h
  struct Listener {
    Transport kind;
    SocketAddress addr;  // as bound
    int fd = -1;
  };
  struct Command {
    enum Kind { kRegister, kFlush, kClose } kind;
    uint64_t id;
  };

  // transport.cc
  void Run() EXCLUDES(listeners_mu_);
  Listener ListenerAt(size_t i) const EXCLUDES(listeners_mu_);  // a copy
  void Post(Command c) EXCLUDES(commands_mu_);
  void RunCommands() EXCLUDES(mu_, commands_mu_);
  void ReceiveUdp(const Listener& l);
  void Accept(const Listener& l) EXCLUDES(mu_);
  std::shared_ptr<Connection> Find(uint64_t id) EXCLUDES(mu_);
  // transport_send.cc
  Result<Flow> SendStream(const Flow& flow, std::string data) EXCLUDES(mu_, commands_mu_);
  // Opens a connection with `data` queued; the I/O thread registers it (kRegister).
  Result<std::shared_ptr<Connection>> Connect(Transport kind, const SocketAddress& remote,
                                              std::string data) EXCLUDES(mu_, commands_mu_);
  // stream_connection.cc
  void Close(Connection& c, std::string_view reason) EXCLUDES(mu_);  // idempotent
  void SweepTimeouts(std::chrono::steady_clock::time_point now) EXCLUDES(mu_);
  void OnConnectionEvent(Connection& c, uint32_t events);
  void OnConnected(Connection& c);
  void DoHandshake(Connection& c);
  void ReadStream(Connection& c);
  bool Deliver(Connection& c);  // frames inbuf; false when the connection was closed
  void Flush(Connection& c);
  void UpdateEvents(Connection& c);
  void QueueLocal(Connection& c, std::string data);  // I/O thread: queue and flush

  const TransportOptions options_;
  const OnMessage on_message_;
  SSL_CTX* server_tls_ = nullptr;  // set by AddListener(kTls), before Start()
  SSL_CTX* client_tls_ = nullptr;  // set by Start()
  int epoll_fd_ = -1;
  int wake_fd_ = -1;   // eventfd: commands posted / stop
  int spare_fd_ = -1;  // reserved fd to shed accepts when the process runs out of fds
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;              // Start()/Stop() caller only
  bool stopped_ = false;              // Start()/Stop() caller only
  std::vector<char> udp_buffers_;     // I/O thread: recvmmsg batch
  std::vector<char> read_buffer_;     // I/O thread: one stream read
  std::vector<uint64_t> read_again_;  // I/O thread: connections cut short by the read budget

  // Shared: Send() uses a UDP listener fd, the I/O thread and Listeners() read the list.
  // Exclusive: AddListener() appends (before Start()), Stop() closes the fds.
  mutable SharedMutex listeners_mu_;
  std::vector<Listener> listeners_ GUARDED_BY(listeners_mu_);  // fixed from Start() to Stop()

  mutable Mutex mu_;  // the connection maps and running_; never held with another lock
  bool running_ GUARDED_BY(mu_) = false;
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections_ GUARDED_BY(mu_);
  // "<transport>|<addr>" → latest id
  std::unordered_map<std::string, uint64_t> by_remote_ GUARDED_BY(mu_);
  std::atomic<uint64_t> next_id_{1};

  Mutex commands_mu_;  // commands_ (Send() callers → I/O thread)
  std::vector<Command> commands_ GUARDED_BY(commands_mu_);

  struct Counters {
    std::atomic<uint64_t> accepted{0}, opened{0}, refused{0}, timed_out{0}, tls_failures{0},
        stream_errors{0}, messages_in{0}, bytes_in{0}, bytes_out{0}, udp_send_errors{0};
  };
  mutable Counters counters_;
};

}  // namespace callvault::sip

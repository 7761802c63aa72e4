// Transport tests over real sockets on 127.0.0.1 / ::1 with port 0: SocketAddress, UDP, TCP
// framing (split, pipelined, keep-alive, errors, limits, timeouts), outbound connections,
// TLS (OpenSSL test client, throwaway certificate) and many connections. Every wait is bounded.
#include "sip/transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <set>

namespace callvault::sip {
namespace {

using namespace std::chrono_literals;

// A SIP request framed with Content-Length (or without it when `with_length` is false).
std::string Request(int cseq, const std::string& body = "", bool with_length = true) {
  std::string n = std::to_string(cseq);
  std::string m =
      "OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\n"
      "Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK" +
      n +
      "\r\n"
      "From: <sip:src@127.0.0.1>;tag=1\r\n"
      "To: <sip:srs@127.0.0.1>\r\n"
      "Call-ID: transport-test-" +
      n +
      "\r\n"
      "CSeq: " +
      n +
      " OPTIONS\r\n"
      "Max-Forwards: 70\r\n";
  if (with_length) m += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return m + "\r\n" + body;
}

template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Collects what the transport delivers.
class Inbox {
 public:
  TransportLayer::OnMessage Callback() {
    return [this](const Flow& flow, std::string data) {
      std::lock_guard<std::mutex> lock(mu_);
      got_.emplace_back(flow, std::move(data));
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
  }
  std::vector<std::pair<Flow, std::string>> Got() {
    std::lock_guard<std::mutex> lock(mu_);
    return got_;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return got_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<Flow, std::string>> got_;
};

void SetTimeouts(int fd) {
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int ConnectTcp(const SocketAddress& to) {
  int fd = socket(to.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SetTimeouts(fd);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, to.sockaddr(), to.len()) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, const std::string& s) {
  return write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
}

// Reads exactly n bytes (3 s socket timeout per read).
std::string ReadN(int fd, size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    ssize_t r = read(fd, buf, std::min(sizeof buf, n - out.size()));
    if (r <= 0) break;
    out.append(buf, r);
  }
  return out;
}

// True when the peer closes the connection within the timeout (EOF or reset).
bool ClosedByPeer(int fd, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno == ECONNRESET)) return true;
  }
  return false;
}

class TransportTest : public ::testing::Test {
 protected:
  void StartWith(TransportOptions o, std::vector<std::pair<Transport, std::string>> listen) {
    t_ = std::make_unique<TransportLayer>(o, inbox_.Callback());
    for (const auto& [kind, text] : listen) {
      Status s = t_->AddListener(kind, *SocketAddress::Parse(text));
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    Status s = t_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  SocketAddress Addr(Transport kind, bool v6 = false) {
    for (const auto& [k, a] : t_->Listeners()) {
      if (k == kind && a.is_v6() == v6) return a;
    }
    ADD_FAILURE() << "no listener";
    return {};
  }

  Inbox inbox_;
  std::unique_ptr<TransportLayer> t_;
};

TEST(SocketAddressTest, ParsesAndFormatsIpv4) {
  auto a = SocketAddress::Parse("192.0.2.7:5060");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_FALSE(a->is_v6());
  EXPECT_EQ(a->ip(), "192.0.2.7");
  EXPECT_EQ(a->port(), 5060);
  EXPECT_EQ(a->ToString(), "192.0.2.7:5060");
  EXPECT_EQ(a->len(), sizeof(sockaddr_in));
  EXPECT_FALSE(a->IsAny());
  EXPECT_TRUE(SocketAddress::Parse("0.0.0.0:0")->IsAny());
  EXPECT_TRUE(SocketAddress().IsAny());
  EXPECT_EQ(SocketAddress().ToString(), "0.0.0.0:0");
}

TEST(SocketAddressTest, ParsesAndFormatsIpv6) {
  auto a = SocketAddress::Parse("[2001:DB8:0::1]:5061");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->is_v6());
  EXPECT_EQ(a->ip(), "2001:db8::1");
  EXPECT_EQ(a->port(), 5061);
  EXPECT_EQ(a->ToString(), "[2001:db8::1]:5061");
  EXPECT_EQ(a->len(), sizeof(sockaddr_in6));
  EXPECT_EQ(SocketAddress::Parse("[::1]:0")->ToString(), "[::1]:0");
  EXPECT_TRUE(SocketAddress::Parse("[::]:5060")->IsAny());
  EXPECT_EQ(*SocketAddress::Parse("[::1]:5060"), *SocketAddress::FromIpPort("::1", 5060));
  EXPECT_EQ(*SocketAddress::Parse("[::1]:5060"), *SocketAddress::FromIpPort("[::1]", 5060));
  EXPECT_FALSE(*SocketAddress::Parse("[::1]:5060") == *SocketAddress::Parse("[::1]:5061"));
  EXPECT_FALSE(*SocketAddress::Parse("127.0.0.1:5060") == *SocketAddress::Parse("[::1]:5060"));
}

TEST(SocketAddressTest, RejectsBadInput) {
  for (const char* bad :
       {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:5x", "1.2.3.4: 5",
        "::1:5060", "[::1]", "[::1]5060", "[::1]:", "[1.2.3.4]:5060", "host.example:5060",
        "1.2.3:5060", "999.1.1.1:5060", "[::1]:5060x", "[::g]:5060", ":5060", "[]:5060"}) {
    auto r = SocketAddress::Parse(bad);
    EXPECT_FALSE(r.ok()) << "accepted \"" << bad << "\"";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
  EXPECT_FALSE(SocketAddress::FromIpPort("example.com", 5060).ok());
  EXPECT_FALSE(SocketAddress::FromIpPort("", 5060).ok());
}

TEST(SocketAddressTest, TransportNames) {
  EXPECT_EQ(TransportName(Transport::kUdp), "UDP");
  EXPECT_EQ(TransportName(Transport::kTcp), "TCP");
  EXPECT_EQ(TransportName(Transport::kTls), "TLS");
}

void UdpRoundTrip(TransportTest* test, Inbox& inbox, TransportLayer& t, const SocketAddress& to) {
  int fd = socket(to.is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  SetTimeouts(fd);
  const std::string ping = "\r\n\r\n";  // keep-alive datagrams are not delivered
  sendto(fd, ping.data(), ping.size(), 0, to.sockaddr(), to.len());
  const std::string msg = Request(1);
  ASSERT_EQ(sendto(fd, msg.data(), msg.size(), 0, to.sockaddr(), to.len()),
            static_cast<ssize_t>(msg.size()));
  ASSERT_TRUE(inbox.WaitFor(1));
  auto got = inbox.Got();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second, msg);
  const Flow& flow = got[0].first;
  EXPECT_EQ(flow.transport, Transport::kUdp);
  EXPECT_EQ(flow.connection_id, 0u);
  EXPECT_EQ(flow.local, to);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  EXPECT_EQ(flow.remote.port(),
            SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len)->port());

  Result<Flow> sent = t.Send(flow, "SIP/2.0 200 OK\r\n\r\n");
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->local, to);
  char buf[2048];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  EXPECT_EQ(std::string(buf, std::max<ssize_t>(n, 0)), "SIP/2.0 200 OK\r\n\r\n");
  EXPECT_EQ(t.stats().messages_in, 1u);
  close(fd);
  (void)test;
}

TEST_F(TransportTest, UdpReceiveAndSendBack) {
  StartWith({}, {{Transport::kUdp, "127.0.0.1:0"}});
  UdpRoundTrip(this, inbox_, *t_, Addr(Transport::kUdp));
}

TEST_F(TransportTest, UdpOverIpv6) {
  StartWith({}, {{Transport::kUdp, "127.0.0.1:0"}, {Transport::kUdp, "[::1]:0"}});
  UdpRoundTrip(this, inbox_, *t_, Addr(Transport::kUdp, /*v6=*/true));
}

TEST_F(TransportTest, UdpSendWithoutListenerOfThatFamilyFails) {
  StartWith({}, {{Transport::kUdp, "127.0.0.1:0"}});
  Flow f;
  f.remote = *SocketAddress::Parse("[::1]:5060");
  EXPECT_EQ(t_->Send(f, "x").status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(TransportTest, Ipv6ListenersAreV6OnlySoBothFamiliesShareAPort) {
  t_ = std::make_unique<TransportLayer>(TransportOptions{}, inbox_.Callback());
  ASSERT_TRUE(t_->AddListener(Transport::kTcp, *SocketAddress::Parse("0.0.0.0:0")).ok());
  uint16_t port = t_->Listeners()[0].second.port();
  auto v6 = SocketAddress::FromIpPort("::", port);
  Status s = t_->AddListener(Transport::kTcp, *v6);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(TransportTest, TcpMessageSplitIntoOneByteWrites) {
  StartWith({}, {{Transport::kTcp, "127.0.0.1:0"}});
  int fd = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_GE(fd, 0);
  const std::string msg = Request(1, "v=0\r\n");
  for (char ch : msg) {
    ASSERT_EQ(write(fd, &ch, 1), 1);
  }
  ASSERT_TRUE(inbox_.WaitFor(1));
  auto got = inbox_.Got();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second, msg);
  EXPECT_EQ(got[0].first.transport, Transport::kTcp);
  EXPECT_NE(got[0].first.connection_id, 0u);
  EXPECT_EQ(got[0].first.local, Addr(Transport::kTcp));
  close(fd);
}

TEST_F(TransportTest, TcpThreePipelinedMessagesInOneWriteAndAReply) {
  StartWith({}, {{Transport::kTcp, "127.0.0.1:0"}});
  int fd = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_GE(fd, 0);
  const std::string a = Request(1), b = Request(2, "body-two"), c = Request(3);
  ASSERT_TRUE(WriteAll(fd, a + b + c));
  ASSERT_TRUE(inbox_.WaitFor(3));
  auto got = inbox_.Got();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].second, a);
  EXPECT_EQ(got[1].second, b);
  EXPECT_EQ(got[2].second, c);
  EXPECT_EQ(got[0].first.connection_id, got[2].first.connection_id);

  const std::string reply = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  Result<Flow> sent = t_->Send(got[1].first, reply);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->connection_id, got[1].first.connection_id);
  EXPECT_EQ(ReadN(fd, reply.size()), reply);
  close(fd);
}

TEST_F(TransportTest, TcpKeepAlivePingGetsPong) {
  StartWith({}, {{Transport::kTcp, "127.0.0.1:0"}});
  int fd = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, "\r\n\r\n"));
  EXPECT_EQ(ReadN(fd, 2), "\r\n");
  // The connection stays usable and the keep-alive is not a message.
  const std::string msg = Request(1);
  ASSERT_TRUE(WriteAll(fd, msg));
  ASSERT_TRUE(inbox_.WaitFor(1));
  EXPECT_EQ(inbox_.Got()[0].second, msg);
  EXPECT_EQ(inbox_.size(), 1u);
  close(fd);
}

TEST_F(TransportTest, TcpMessageWithoutContentLengthClosesConnection) {
  StartWith({}, {{Transport::kTcp, "127.0.0.1:0"}});
  int fd = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, Request(1, "", /*with_length=*/false)));
  EXPECT_TRUE(ClosedByPeer(fd));
  EXPECT_EQ(inbox_.size(), 0u);
  EXPECT_EQ(t_->stats().stream_errors, 1u);
  EXPECT_TRUE(WaitUntil([&] { return t_->stats().connections_open == 0; }));
  close(fd);
}

TEST_F(TransportTest, OversizeMessageClosesConnection) {
  TransportOptions o;
  o.max_message_bytes = 1024;
  StartWith(o, {{Transport::kTcp, "127.0.0.1:0"}});
  // A complete message larger than the limit.
  int fd = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, Request(1, std::string(2000, 'x'))));
  EXPECT_TRUE(ClosedByPeer(fd));
  close(fd);
  // Headers that never end, past the limit.
  fd = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_GE(fd, 0);
  std::string flood = "OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\n";
  while (flood.size() < 3000) flood += "X-Pad: " + std::string(60, 'p') + "\r\n";
  ASSERT_TRUE(WriteAll(fd, flood));
  EXPECT_TRUE(ClosedByPeer(fd));
  close(fd);
  EXPECT_EQ(inbox_.size(), 0u);
  EXPECT_EQ(t_->stats().stream_errors, 2u);
}

TEST_F(TransportTest, IdleConnectionIsClosed) {
  TransportOptions o;
  o.idle_timeout = 1s;
  StartWith(o, {{Transport::kTcp, "127.0.0.1:0"}});
  int fd = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_GE(fd, 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(ClosedByPeer(fd, 5s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ(t_->stats().connections_timed_out, 1u);
  close(fd);
}

TEST_F(TransportTest, SlowSenderIsClosed) {
  TransportOptions o;
  o.header_timeout = 1s;
  StartWith(o, {{Transport::kTcp, "127.0.0.1:0"}});
  int fd = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, "OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP x"));
  EXPECT_TRUE(ClosedByPeer(fd, 5s));
  EXPECT_EQ(t_->stats().connections_timed_out, 1u);
  close(fd);
}

TEST_F(TransportTest, SendOnClosedTcpFlowOpensNewConnection) {
  StartWith({}, {{Transport::kTcp, "127.0.0.1:0"}});
  int fd = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, Request(1)));
  ASSERT_TRUE(inbox_.WaitFor(1));
  Flow flow = inbox_.Got()[0].first;
  close(fd);
  ASSERT_TRUE(WaitUntil([&] { return t_->stats().connections_open == 0; }));

  // A peer listening where the new connection must go.
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SocketAddress any = *SocketAddress::Parse("127.0.0.1:0");
  ASSERT_EQ(bind(lfd, any.sockaddr(), any.len()), 0);
  ASSERT_EQ(listen(lfd, 4), 0);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&ss), &len);
  flow.remote = *SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);

  const std::string req = Request(7);
  Result<Flow> sent = t_->Send(flow, req);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_NE(sent->connection_id, flow.connection_id);
  EXPECT_NE(sent->connection_id, 0u);
  EXPECT_EQ(sent->remote, flow.remote);
  pollfd p{lfd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 3000), 1);
  int peer = accept(lfd, nullptr, nullptr);
  ASSERT_GE(peer, 0);
  SetTimeouts(peer);
  EXPECT_EQ(ReadN(peer, req.size()), req);

  // A second Send with connection_id 0 reuses the connection; the answer comes back on it.
  Flow again = flow;
  again.connection_id = 0;
  Result<Flow> reused = t_->Send(again, Request(8));
  ASSERT_TRUE(reused.ok());
  EXPECT_EQ(reused->connection_id, sent->connection_id);
  EXPECT_EQ(ReadN(peer, Request(8).size()), Request(8));
  const std::string answer = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  ASSERT_TRUE(WriteAll(peer, answer));
  ASSERT_TRUE(inbox_.WaitFor(2));
  EXPECT_EQ(inbox_.Got()[1].second, answer);
  EXPECT_EQ(inbox_.Got()[1].first.connection_id, sent->connection_id);
  EXPECT_EQ(t_->stats().connections_opened, 1u);
  close(peer);
  close(lfd);
}

TEST_F(TransportTest, SendToUnreachablePeerFailsOrClosesWithoutHanging) {
  StartWith({}, {{Transport::kTcp, "127.0.0.1:0"}});
  // A port nobody listens on: connect is refused (synchronously or by the I/O thread).
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  SocketAddress any = *SocketAddress::Parse("127.0.0.1:0");
  ASSERT_EQ(bind(lfd, any.sockaddr(), any.len()), 0);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&ss), &len);
  Flow f;
  f.transport = Transport::kTcp;
  f.remote = *SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  close(lfd);
  Result<Flow> r = t_->Send(f, Request(1));
  (void)r;
  EXPECT_TRUE(WaitUntil([&] { return t_->stats().connections_open == 0; }));
}

TEST_F(TransportTest, ConnectionsBeyondMaxAreClosed) {
  TransportOptions o;
  o.max_connections = 2;
  StartWith(o, {{Transport::kTcp, "127.0.0.1:0"}});
  int a = ConnectTcp(Addr(Transport::kTcp)), b = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_TRUE(WaitUntil([&] { return t_->stats().connections_open == 2; }));
  int c = ConnectTcp(Addr(Transport::kTcp));
  EXPECT_TRUE(ClosedByPeer(c));
  EXPECT_EQ(t_->stats().connections_refused, 1u);
  EXPECT_EQ(t_->stats().connections_open, 2u);
  for (int fd : {a, b, c}) close(fd);
}

TEST_F(TransportTest, OutputQueueOverflowFailsAndClosesConnection) {
  TransportOptions o;
  o.max_output_bytes = 64 * 1024;
  StartWith(o, {{Transport::kTcp, "127.0.0.1:0"}});
  int fd = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, Request(1)));
  ASSERT_TRUE(inbox_.WaitFor(1));
  Flow flow = inbox_.Got()[0].first;
  // The client never reads: kernel buffers fill, then the queue, then Send fails.
  Status failure;
  for (int i = 0; i < 20000 && failure.ok(); ++i) {
    Result<Flow> r = t_->Send(flow, std::string(16 * 1024, 'x'));
    if (!r.ok()) failure = r.status();
    if (i % 64 == 0) std::this_thread::sleep_for(1ms);  // let the I/O thread write
  }
  EXPECT_EQ(failure.code(), StatusCode::kResourceExhausted) << failure.ToString();
  EXPECT_TRUE(WaitUntil([&] { return t_->stats().connections_open == 0; }));
  close(fd);
}

TEST_F(TransportTest, ManyConnectionsEachDeliverOneMessage) {
  StartWith({}, {{Transport::kTcp, "127.0.0.1:0"}});
  constexpr int kClients = 500;
  std::vector<int> fds;
  for (int i = 0; i < kClients; ++i) {
    int fd = ConnectTcp(Addr(Transport::kTcp));
    ASSERT_GE(fd, 0) << "client " << i;
    fds.push_back(fd);
  }
  for (int i = 0; i < kClients; ++i) ASSERT_TRUE(WriteAll(fds[i], Request(i)));
  ASSERT_TRUE(inbox_.WaitFor(kClients, 20s)) << inbox_.size();
  std::set<uint64_t> ids;
  std::set<std::string> messages;
  for (const auto& [flow, data] : inbox_.Got()) {
    ids.insert(flow.connection_id);
    messages.insert(data);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kClients));
  EXPECT_EQ(messages.size(), static_cast<size_t>(kClients));
  EXPECT_EQ(t_->stats().connections_open, static_cast<uint64_t>(kClients));
  for (int fd : fds) close(fd);
  EXPECT_TRUE(WaitUntil([&] { return t_->stats().connections_open == 0; }));
}

TEST_F(TransportTest, StopIsIdempotentAndSendAfterStopFails) {
  StartWith({}, {{Transport::kUdp, "127.0.0.1:0"}, {Transport::kTcp, "127.0.0.1:0"}});
  int fd = ConnectTcp(Addr(Transport::kTcp));
  ASSERT_TRUE(WaitUntil([&] { return t_->stats().connections_open == 1; }));
  t_->Stop();
  t_->Stop();
  EXPECT_TRUE(ClosedByPeer(fd));
  Flow f;
  f.remote = *SocketAddress::Parse("127.0.0.1:5060");
  EXPECT_FALSE(t_->Send(f, "x").ok());
  f.transport = Transport::kTcp;
  EXPECT_FALSE(t_->Send(f, "x").ok());
  close(fd);
}

// ---- TLS ----

class TlsTransportTest : public TransportTest {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("cv-transport-tls-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    for (const char* name : {"a", "b"}) {
      std::string cmd =
          "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
          "-keyout " +
          (dir_ / (std::string(name) + "-key.pem")).string() + " -out " +
          (dir_ / (std::string(name) + "-cert.pem")).string() + " >/dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0);
    }
  }
  void TearDown() override {
    t_.reset();
    std::filesystem::remove_all(dir_);
  }
  TransportOptions TlsOptions(const std::string& cert = "a", const std::string& key = "a") {
    TransportOptions o;
    o.tls_certificate_file = (dir_ / (cert + "-cert.pem")).string();
    o.tls_private_key_file = (dir_ / (key + "-key.pem")).string();
    return o;
  }
  std::filesystem::path dir_;
};

TEST_F(TlsTransportTest, ClientHandshakesSendsAndGetsAReply) {
  StartWith(TlsOptions(), {{Transport::kTls, "127.0.0.1:0"}});
  int fd = ConnectTcp(Addr(Transport::kTls));
  ASSERT_GE(fd, 0);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1) << ERR_error_string(ERR_get_error(), nullptr);
  EXPECT_GE(SSL_version(ssl), TLS1_2_VERSION);
  // Two messages in one record plus a split one: framing works on the plaintext.
  const std::string a = Request(1), b = Request(2, "v=0\r\n"), c = Request(3);
  const std::string ab = a + b;
  ASSERT_EQ(SSL_write(ssl, ab.data(), static_cast<int>(ab.size())), static_cast<int>(ab.size()));
  ASSERT_EQ(SSL_write(ssl, c.data(), 10), 10);
  ASSERT_EQ(SSL_write(ssl, c.data() + 10, static_cast<int>(c.size() - 10)),
            static_cast<int>(c.size() - 10));
  ASSERT_TRUE(inbox_.WaitFor(3));
  auto got = inbox_.Got();
  EXPECT_EQ(got[0].second, a);
  EXPECT_EQ(got[1].second, b);
  EXPECT_EQ(got[2].second, c);
  EXPECT_EQ(got[0].first.transport, Transport::kTls);

  const std::string reply = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  Result<Flow> sent = t_->Send(got[0].first, reply);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  std::string in;
  char buf[512];
  while (in.size() < reply.size()) {
    int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, n);
  }
  EXPECT_EQ(in, reply);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
}

TEST_F(TlsTransportTest, OutboundTlsConnectionToAnotherTransport) {
  StartWith(TlsOptions(), {{Transport::kTls, "127.0.0.1:0"}});
  Inbox client_inbox;
  TransportLayer client(TransportOptions{}, client_inbox.Callback());
  ASSERT_TRUE(client.Start().ok());
  Flow f;
  f.transport = Transport::kTls;
  f.remote = Addr(Transport::kTls);
  const std::string req = Request(1);
  Result<Flow> sent = client.Send(f, req);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  ASSERT_TRUE(inbox_.WaitFor(1));
  EXPECT_EQ(inbox_.Got()[0].second, req);
  // And back on the same connection.
  const std::string reply = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  ASSERT_TRUE(t_->Send(inbox_.Got()[0].first, reply).ok());
  ASSERT_TRUE(client_inbox.WaitFor(1));
  EXPECT_EQ(client_inbox.Got()[0].second, reply);
  EXPECT_EQ(client_inbox.Got()[0].first.connection_id, sent->connection_id);
}

TEST_F(TlsTransportTest, MissingOrMismatchedCertificateIsAnError) {
  TransportOptions none;
  TransportLayer t1(none, inbox_.Callback());
  Status s = t1.AddListener(Transport::kTls, *SocketAddress::Parse("127.0.0.1:0"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();

  TransportOptions missing = TlsOptions();
  missing.tls_certificate_file = (dir_ / "nope.pem").string();
  TransportLayer t2(missing, inbox_.Callback());
  s = t2.AddListener(Transport::kTls, *SocketAddress::Parse("127.0.0.1:0"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("nope.pem"), std::string_view::npos) << s.ToString();

  TransportLayer t3(TlsOptions("a", "b"), inbox_.Callback());
  s = t3.AddListener(Transport::kTls, *SocketAddress::Parse("127.0.0.1:0"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("does not match"), std::string_view::npos) << s.ToString();
}

TEST_F(TlsTransportTest, HandshakeTimeoutAndGarbageCloseTheConnection) {
  TransportOptions o = TlsOptions();
  o.handshake_timeout = 1s;
  StartWith(o, {{Transport::kTls, "127.0.0.1:0"}});
  int silent = ConnectTcp(Addr(Transport::kTls));
  int garbage = ConnectTcp(Addr(Transport::kTls));
  ASSERT_TRUE(WriteAll(garbage, Request(1)));  // plaintext SIP to a TLS port
  EXPECT_TRUE(ClosedByPeer(garbage));
  EXPECT_TRUE(ClosedByPeer(silent));
  EXPECT_EQ(t_->stats().tls_handshake_failures, 1u);
  EXPECT_EQ(t_->stats().connections_timed_out, 1u);
  EXPECT_EQ(inbox_.size(), 0u);
  close(silent);
  close(garbage);
}

}  // namespace
}  // namespace callvault::sip

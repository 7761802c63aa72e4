// Stack tests over real sockets on loopback: UDP, TCP, TLS (OpenSSL client), IPv6, and the
// stateless answers to malformed input.
#include "sip/stack.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace callvault::sip {
namespace {

class OkApp : public Application {
 public:
  void OnInvite(const IncomingRequest&, Responder r) override {
    r.Respond(Response::WithBody(200, "application/sdp", "v=0\r\n"));
  }
  void OnDialogRequest(const IncomingRequest&, Responder r) override { r.Respond(Response()); }
  void OnAck(const IncomingRequest&) override { acks++; }
  void OnDialogEnded(const DialogId&, EndReason) override {}
  std::atomic<int> acks{0};
};

std::string Request(const std::string& method, const std::string& transport, int cseq,
                    const std::string& to_tag = "", const std::string& branch = "z9hG4bKst1") {
  std::string m = method + " sip:srs@127.0.0.1 SIP/2.0\r\n";
  m += "Via: SIP/2.0/" + transport + " 127.0.0.1:5999;branch=" + branch + "\r\n";
  m += "From: <sip:src@127.0.0.1>;tag=abc\r\nTo: <sip:srs@127.0.0.1>";
  if (!to_tag.empty()) m += ";tag=" + to_tag;
  m += "\r\nCall-ID: stack-test-" + transport + "\r\nCSeq: " + std::to_string(cseq) + " " + method +
       "\r\nMax-Forwards: 70\r\nContact: <sip:src@127.0.0.1:5999>\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

// Reads one framed message from a stream (TCP or TLS through `read`).
template <typename ReadFn>
std::string ReadMessage(std::string& buffer, ReadFn read) {
  for (int i = 0; i < 200; ++i) {
    Frame f = FrameStream(buffer);
    if (f.kind == Frame::kMessage) {
      std::string m = buffer.substr(0, f.length);
      buffer.erase(0, f.length);
      return m;
    }
    if (f.kind == Frame::kKeepAlive) {
      buffer.erase(0, f.length);
      continue;
    }
    if (f.kind == Frame::kError) return "";
    char tmp[4096];
    int n = read(tmp, sizeof tmp);
    if (n <= 0) return "";
    buffer.append(tmp, n);
  }
  return "";
}

std::string Field(const std::string& msg, HeaderId id) {
  ParseResult p = Parse(msg);
  if (!p.status.ok()) return "<unparsable>";
  return std::string(p.message.Find(id).value_or(""));
}
int Code(const std::string& msg) {
  ParseResult p = Parse(msg);
  return p.status.ok() ? p.message.status_code : -1;
}
std::string ToTag(const std::string& msg) {
  ParseResult p = Parse(msg);
  return p.status.ok() ? std::string(p.message.to.tag) : "";
}

class StackTest : public ::testing::Test {
 protected:
  void StartStack(StackOptions o) {
    o.workers = 2;
    stack_ = std::make_unique<Stack>(o, &app_);
    ASSERT_TRUE(stack_->Start().ok());
  }
  SocketAddress Addr(Transport t) {
    for (const auto& [k, a] : stack_->Listeners())
      if (k == t) return a;
    ADD_FAILURE() << "no listener";
    return {};
  }

  OkApp app_;
  std::unique_ptr<Stack> stack_;
};

int UdpSocket(int family) {
  int fd = socket(family, SOCK_DGRAM, 0);
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string UdpExchange(int fd, const SocketAddress& to, const std::string& msg,
                        bool expect_reply = true) {
  sendto(fd, msg.data(), msg.size(), 0, to.sockaddr(), to.len());
  if (!expect_reply) return "";
  char buf[65536];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, n) : "";
}

std::string UdpFinal(int fd, const SocketAddress& to, const std::string& msg) {
  std::string r = UdpExchange(fd, to, msg);
  while (Code(r) == 100) {
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    r = n > 0 ? std::string(buf, n) : "";
  }
  return r;
}

TEST_F(StackTest, UdpInviteAckByeAndOptions) {
  StackOptions o;
  o.listen.push_back({Transport::kUdp, *SocketAddress::Parse("127.0.0.1:0")});
  StartStack(o);
  int fd = UdpSocket(AF_INET);
  SocketAddress to = Addr(Transport::kUdp);
  std::string ok = UdpFinal(fd, to, Request("INVITE", "UDP", 1));
  ASSERT_EQ(Code(ok), 200) << ok;
  std::string tag = ToTag(ok);
  UdpExchange(fd, to, Request("ACK", "UDP", 1, tag, "z9hG4bKack"), false);
  EXPECT_EQ(Code(UdpFinal(fd, to, Request("BYE", "UDP", 2, tag, "z9hG4bKbye"))), 200);
  EXPECT_EQ(Code(UdpFinal(fd, to, Request("OPTIONS", "UDP", 3, "", "z9hG4bKopt"))), 200);
  close(fd);
  for (int i = 0; i < 100 && app_.acks == 0; ++i) usleep(10000);
  EXPECT_EQ(app_.acks, 1);
}

TEST_F(StackTest, UdpOverIpv6) {
  StackOptions o;
  o.listen.push_back({Transport::kUdp, *SocketAddress::Parse("[::1]:0")});
  StartStack(o);
  int fd = UdpSocket(AF_INET6);
  std::string r = UdpFinal(fd, Addr(Transport::kUdp), Request("OPTIONS", "UDP", 1));
  EXPECT_EQ(Code(r), 200) << r;
  close(fd);
}

TEST_F(StackTest, MalformedRequestGets400WithWarningAndServerKeepsAnswering) {
  StackOptions o;
  o.listen.push_back({Transport::kUdp, *SocketAddress::Parse("127.0.0.1:0")});
  StartStack(o);
  int fd = UdpSocket(AF_INET);
  SocketAddress to = Addr(Transport::kUdp);
  std::string bad = Request("INVITE", "UDP", 1);
  bad.replace(bad.find("CSeq: 1 INVITE"), 14, "CSeq: 1 BYE");  // method mismatch
  std::string r = UdpExchange(fd, to, bad);
  EXPECT_EQ(Code(r), 400) << r;
  EXPECT_NE(Field(r, HeaderId::kWarning).find("399 "), std::string::npos) << r;
  // Junk that cannot be answered is dropped; the next OPTIONS is answered.
  UdpExchange(fd, to, std::string("\x01\x02garbage\r\n\r\n", 13), false);
  EXPECT_EQ(Code(UdpFinal(fd, to, Request("OPTIONS", "UDP", 2, "", "z9hG4bKo2"))), 200);
  EXPECT_GE(stack_->stats().malformed, 2u);
  close(fd);
}

TEST_F(StackTest, TcpPipelinedRequests) {
  StackOptions o;
  o.listen.push_back({Transport::kTcp, *SocketAddress::Parse("127.0.0.1:0")});
  StartStack(o);
  SocketAddress to = Addr(Transport::kTcp);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(fd, to.sockaddr(), to.len()), 0);
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string batch = Request("INVITE", "TCP", 1) + Request("OPTIONS", "TCP", 2, "", "z9hG4bKo1") +
                      Request("OPTIONS", "TCP", 3, "", "z9hG4bKo2");
  ASSERT_EQ(write(fd, batch.data(), batch.size()), static_cast<ssize_t>(batch.size()));
  std::string buffer;
  auto rd = [&](char* b, int n) { return static_cast<int>(read(fd, b, n)); };
  int finals = 0;
  std::string tag;
  for (int i = 0; i < 4 && finals < 3; ++i) {
    std::string m = ReadMessage(buffer, rd);
    ASSERT_FALSE(m.empty());
    int code = Code(m);
    if (code == 100) continue;
    EXPECT_EQ(code, 200) << m;
    if (Field(m, HeaderId::kCSeq) == "1 INVITE") tag = ToTag(m);
    finals++;
  }
  EXPECT_EQ(finals, 3);
  std::string ack_bye =
      Request("ACK", "TCP", 1, tag, "z9hG4bKa") + Request("BYE", "TCP", 4, tag, "z9hG4bKb");
  ASSERT_EQ(write(fd, ack_bye.data(), ack_bye.size()), static_cast<ssize_t>(ack_bye.size()));
  std::string bye_ok = ReadMessage(buffer, rd);
  EXPECT_EQ(Code(bye_ok), 200);
  EXPECT_EQ(Field(bye_ok, HeaderId::kCSeq), "4 BYE");
  close(fd);
}

class TlsStackTest : public StackTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("cv-tls-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " +
        (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(TlsStackTest, InviteAckByeOverTls) {
  StackOptions o;
  o.listen.push_back({Transport::kTls, *SocketAddress::Parse("127.0.0.1:0")});
  o.transport.tls_certificate_file = (dir_ / "cert.pem").string();
  o.transport.tls_private_key_file = (dir_ / "key.pem").string();
  StartStack(o);
  SocketAddress to = Addr(Transport::kTls);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(fd, to.sockaddr(), to.len()), 0);
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1) << ERR_error_string(ERR_get_error(), nullptr);
  EXPECT_GE(SSL_version(ssl), TLS1_2_VERSION);
  auto rd = [&](char* b, int n) { return SSL_read(ssl, b, n); };
  auto wr = [&](const std::string& s) {
    return SSL_write(ssl, s.data(), static_cast<int>(s.size()));
  };
  std::string buffer;
  ASSERT_GT(wr(Request("INVITE", "TLS", 1)), 0);
  std::string m = ReadMessage(buffer, rd);
  if (Code(m) == 100) m = ReadMessage(buffer, rd);
  ASSERT_EQ(Code(m), 200) << m;
  EXPECT_NE(Field(m, HeaderId::kContact).find("transport=tls"), std::string::npos);
  std::string tag = ToTag(m);
  ASSERT_GT(wr(Request("ACK", "TLS", 1, tag, "z9hG4bKa")), 0);
  ASSERT_GT(wr(Request("BYE", "TLS", 2, tag, "z9hG4bKb")), 0);
  m = ReadMessage(buffer, rd);
  EXPECT_EQ(Code(m), 200);
  EXPECT_EQ(Field(m, HeaderId::kCSeq), "2 BYE");
  for (int i = 0; i < 100 && app_.acks == 0; ++i) usleep(10000);
  EXPECT_EQ(app_.acks, 1);
  SSL_shutdown(ssl);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
}

}  // namespace
}  // namespace callvault::sip

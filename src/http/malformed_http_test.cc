// Hostile and broken HTTP over a raw TCP socket: every request gets a 4xx (JSON when it has a
// body) or the connection closed — never a 2xx/5xx, a crash or a hang — and the server still
// answers /healthz afterwards. Targets are auth-protected routes, so that a request httplib
// tolerates still cannot succeed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "http/testing/api_fixture.h"

namespace callvault::http {
namespace {

using namespace std::chrono_literals;

struct RawReply {
  std::string data;     // everything read
  bool closed = false;  // the server closed the connection
  std::chrono::milliseconds elapsed{0};
};

// Sends `request` (optionally in two parts with a pause between, to stall mid-request), then
// reads until one whole response arrived, the server closed, or `limit` passed.
RawReply Exchange(int port, const std::string& request, std::chrono::milliseconds limit = 8000ms,
                  const std::string& after_pause = "", std::chrono::milliseconds pause = 0ms) {
  RawReply reply;
  const auto start = std::chrono::steady_clock::now();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    reply.closed = true;
    return reply;
  }
  auto send_all = [&](const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may close before reading everything
      off += static_cast<size_t>(n);
    }
  };
  send_all(request);
  if (pause.count() > 0) {
    std::this_thread::sleep_for(pause);
    send_all(after_pause);
  }
  char buf[65536];
  while (true) {
    auto left = limit - std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start);
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      reply.closed = true;
      break;
    }
    reply.data.append(buf, static_cast<size_t>(n));
    size_t end = reply.data.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t cl = reply.data.find("Content-Length: ");
      size_t want = 0;
      if (cl != std::string::npos && cl < end) want = std::stoul(reply.data.substr(cl + 16));
      if (reply.data.size() >= end + 4 + want) break;
    }
  }
  ::close(fd);
  reply.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return reply;
}

int StatusOf(const RawReply& r) {
  if (!r.data.starts_with("HTTP/1.1 ") || r.data.size() < 12) return 0;
  return std::stoi(r.data.substr(9, 3));
}

class MalformedHttpTest : public testing::ApiTest {
 protected:
  void SetUp() override {
    HttpOptions o;
    o.read_timeout_s = 1;
    o.keep_alive_timeout_s = 1;
    o.threads = 8;
    Start(o);
  }

  void ExpectRejected(const std::string& name, const RawReply& r) {
    SCOPED_TRACE(name);
    if (r.data.empty()) {
      EXPECT_TRUE(r.closed) << "neither an answer nor a close";
      return;
    }
    int status = StatusOf(r);
    EXPECT_GE(status, 400) << r.data.substr(0, 200);
    EXPECT_LT(status, 500) << r.data.substr(0, 200);
    size_t body = r.data.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos);
    std::string content = r.data.substr(body + 4);
    if (!content.empty()) {
      nlohmann::json j = nlohmann::json::parse(content, nullptr, false);
      EXPECT_TRUE(j.is_object() && j.contains("error")) << content.substr(0, 200);
    }
  }

  void ExpectHealthy() {
    auto res = As("")->Get("/healthz");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
};

TEST_F(MalformedHttpTest, EveryMalformedRequestIsRefusedAndTheServerStaysUp) {
  const std::string calls = "/api/v1/calls";
  const std::string host = "Host: 127.0.0.1\r\n";
  std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage line", "GARBAGE\r\n\r\n"},
      {"method only", "GET\r\n\r\n"},
      {"no version", "GET " + calls + "\r\n\r\n"},
      {"bad version", "GET " + calls + " HTTP/9.9\r\n" + host + "\r\n"},
      {"http2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
      {"unknown method", "BREW " + calls + " HTTP/1.1\r\n" + host + "\r\n"},
      {"lowercase method", "get " + calls + " HTTP/1.1\r\n" + host + "\r\n"},
      {"extra spaces", "GET  " + calls + "  HTTP/1.1\r\n" + host + "\r\n"},
      {"NUL in target", std::string("GET /api/v1/ca\0lls HTTP/1.1\r\n", 30) + host + "\r\n"},
      {"bad percent", "GET /api/v1/calls/%zz HTTP/1.1\r\n" + host + "\r\n"},
      {"bad query percent", "GET /api/v1/calls?limit=%ZZ HTTP/1.1\r\n" + host + "\r\n"},
      {"asterisk target", "GET * HTTP/1.1\r\n" + host + "\r\n"},
      {"absolute target", "GET http://x/api/v1/calls HTTP/1.1\r\n" + host + "\r\n"},
      {"dot segments", "GET /api/v1/../v1/calls HTTP/1.1\r\n" + host + "\r\n"},
      {"uri 20k", "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n" + host + "\r\n"},
      {"query 10k",
       "GET " + calls + "?q=" + std::string(10000, 'b') + " HTTP/1.1\r\n" + host + "\r\n"},
      {"header 20k",
       "GET " + calls + " HTTP/1.1\r\n" + host + "X-Big: " + std::string(20000, 'c') + "\r\n\r\n"},
      {"5000 headers",
       [&] {
         std::string r = "GET " + calls + " HTTP/1.1\r\n" + host;
         for (int i = 0; i < 5000; ++i) r += "X-H" + std::to_string(i) + ": v\r\n";
         return r + "\r\n";
       }()},
      {"header without colon", "GET " + calls + " HTTP/1.1\r\n" + host + "NoColon\r\n\r\n"},
      {"header with CR only", "GET " + calls + " HTTP/1.1\r" + host + "\r\n"},
      {"LF line endings", "GET " + calls + " HTTP/1.1\n" + "Host: x\n\n"},
      {"control chars in header",
       "GET " + calls + " HTTP/1.1\r\n" + host + "X-A: \x01\x02\x7f\r\n\r\n"},
      {"negative content-length",
       "POST /api/v1/users HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n"},
      {"non-numeric content-length",
       "POST /api/v1/users HTTP/1.1\r\n" + host + "Content-Length: abc\r\n\r\n{}"},
      {"huge content-length", "POST /api/v1/users HTTP/1.1\r\n" + host +
                                  "Content-Length: 99999999999999999999999\r\n\r\n"},
      {"content-length over limit", "POST /api/v1/users HTTP/1.1\r\n" + host +
                                        "Content-Type: application/json\r\n"
                                        "Content-Length: 10000000\r\n\r\n{"},
      {"two content-lengths", "POST /api/v1/users HTTP/1.1\r\n" + host +
                                  "Content-Length: 2\r\nContent-Length: 50\r\n\r\n{}"},
      {"short body", "POST /api/v1/users HTTP/1.1\r\n" + host +
                         "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{}"},
      {"chunked garbage size", "POST /api/v1/users HTTP/1.1\r\n" + host +
                                   "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
      {"chunked huge size", "POST /api/v1/users HTTP/1.1\r\n" + host +
                                "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\nab\r\n"},
      {"chunked missing CRLF", "POST /api/v1/users HTTP/1.1\r\n" + host +
                                   "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"},
      {"chunked unterminated", "POST /api/v1/users HTTP/1.1\r\n" + host +
                                   "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"},
      {"chunked over limit",
       [&] {
         std::string r = "POST /api/v1/users HTTP/1.1\r\n" + host +
                         "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
         for (int i = 0; i < 40; ++i) r += "1000\r\n" + std::string(4096, ' ') + "\r\n";
         return r + "0\r\n\r\n";
       }()},
      {"unknown transfer-encoding",
       "POST /api/v1/users HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, zip\r\n\r\nxx"},
      {"expect 100 over limit", "POST /api/v1/users HTTP/1.1\r\n" + host +
                                    "Expect: 100-continue\r\nContent-Length: 999999999\r\n\r\n"},
      {"basic not base64",
       "GET " + calls + " HTTP/1.1\r\n" + host + "Authorization: Basic !!!!\r\n\r\n"},
      {"basic no colon",
       "GET " + calls + " HTTP/1.1\r\n" + host + "Authorization: Basic YWRtaW4=\r\n\r\n"},
      {"bearer 6k", "GET " + calls + " HTTP/1.1\r\n" + host + "Authorization: Bearer cvt_" +
                        std::string(6000, 'x') + "\r\n\r\n"},
      {"unknown scheme", "GET " + calls + " HTTP/1.1\r\n" + host +
                             "Authorization: Digest username=\"admin\"\r\n\r\n"},
      {"range garbage", "GET " + calls + " HTTP/1.1\r\n" + host + "Range: bytes=zz\r\n\r\n"},
      {"range 1000 parts",
       [&] {
         std::string r = "GET " + calls + " HTTP/1.1\r\n" + host + "Range: bytes=0-1";
         for (int i = 0; i < 1000; ++i) r += ",0-1";
         return r + "\r\n\r\n";
       }()},
      {"range on post",
       "POST /api/v1/users HTTP/1.1\r\n" + host + "Range: bytes=x\r\nContent-Length: 0\r\n\r\n"},
      {"tls client hello",
       std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11) + std::string(160, '\x42')},
      {"random bytes",
       [] {
         std::mt19937 rng(42);
         std::string r;
         for (int i = 0; i < 2048; ++i) r += static_cast<char>(rng() & 0xff);
         return r;
       }()},
      {"only CRLFs", "\r\n\r\n\r\n\r\n"},
      {"header folding", "GET " + calls + " HTTP/1.1\r\n" + host + "X-A: a\r\n  folded\r\n\r\n"},
      {"utf8 in target", "GET /api/v1/calls/\xc3\xa9\xff HTTP/1.1\r\n" + host + "\r\n"},
      {"unknown route", "GET /nope HTTP/1.1\r\n" + host + "\r\n"},
      {"wrong method", "PUT /api/v1/calls HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n"},
      {"HTTP/1.0 no host", "GET " + calls + " HTTP/1.0\r\n\r\n"},
  };
  ASSERT_GE(cases.size(), 50u);
  for (const auto& [name, request] : cases) {
    RawReply r = Exchange(server_->port(), request);
    ExpectRejected(name, r);
    EXPECT_LT(r.elapsed, 6000ms) << name;
  }
  ExpectHealthy();
}

// A client that sends part of a request and then nothing is cut off after read_timeout_s (1 s
// here) instead of holding a worker thread forever.
TEST_F(MalformedHttpTest, SlowlorisIsCutOffByTheReadTimeout) {
  for (const std::string& partial :
       {std::string("GET /api/v1/calls HTTP/1.1\r\nHost: x\r\n"), std::string("GE"),
        std::string("POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")}) {
    RawReply r = Exchange(server_->port(), partial, 6000ms);
    EXPECT_TRUE(r.closed || StatusOf(r) >= 400) << partial;
    EXPECT_LT(r.elapsed, 4000ms) << partial;
    if (!r.data.empty()) {
      EXPECT_GE(StatusOf(r), 400);
      EXPECT_LT(StatusOf(r), 500);
    }
  }
  // Trickling the request line byte by byte more slowly than the read timeout also fails.
  RawReply r = Exchange(server_->port(), "GET /hea", 6000ms, "lthz HTTP/1.1\r\n\r\n", 1500ms);
  EXPECT_NE(StatusOf(r), 200);
  ExpectHealthy();
}

// Many slow clients at once cannot starve a healthy one forever: each is cut off after the read
// timeout, and /healthz answers within a few seconds.
TEST_F(MalformedHttpTest, ServerAnswersWhileSlowClientsHoldConnections) {
  std::vector<std::thread> slow;
  for (int i = 0; i < 8; ++i) {
    slow.emplace_back([this] { Exchange(server_->port(), "GET /healthz HTTP/1.1\r\n", 5000ms); });
  }
  std::this_thread::sleep_for(200ms);
  const auto start = std::chrono::steady_clock::now();
  ExpectHealthy();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  for (std::thread& t : slow) t.join();
}

}  // namespace
}  // namespace callvault::http

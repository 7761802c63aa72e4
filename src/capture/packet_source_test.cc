// PacketSource: pcap files (written here with pcap_dump, and the real captures in
// ../shared/siprec-samples when present), filters, errors, the permission error of a user
// without CAP_NET_RAW, and a live capture on loopback (root only).
#include "capture/packet_source.h"

#include <arpa/inet.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "capture/dispatcher.h"
#include "capture/link_layer.h"
#include "capture/testing/frame_builder.h"

namespace callvault::capture {
namespace {

using testing::Ep;

struct Count : PacketSink {
  int sip = 0;
  int udp = 0;
  void OnSipMessage(const SipDatagram&) override { ++sip; }
  void OnUdpPacket(const UdpPacket&) override { ++udp; }
};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cv-capture-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(PacketSource, ReadsAFileWithFilterAndTimestamps) {
  TempDir dir;
  const std::string path = dir.File("t.pcap");
  std::vector<testing::PcapRecord> recs;
  for (int i = 0; i < 10; ++i) {
    const uint16_t port = i % 2 == 0 ? 5060 : 40000;
    recs.push_back({int64_t{1'700'000'000} * 1'000'000'000 + i * 20'000'000,
                    testing::Ethernet(
                        testing::IpUdp(Ep("192.0.2.1", port), Ep("192.0.2.2", port), "OPTIONS"))});
  }
  ASSERT_TRUE(testing::WritePcap(path, kDltEthernet, recs));
  {
    auto src = PacketSource::Open({.file = path});
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    EXPECT_EQ((*src)->link_type(), kDltEthernet);
    std::vector<int64_t> ts;
    ASSERT_TRUE((*src)->Run([&](const CapturedFrame& f) { ts.push_back(f.ts_ns); }).ok());
    ASSERT_EQ(ts.size(), 10u);
    EXPECT_EQ(ts[1], recs[1].ts_ns);
    EXPECT_EQ((*src)->Stats().frames, 10u);
  }
  auto filtered = PacketSource::Open({.file = path, .filter = "udp port 5060"});
  ASSERT_TRUE(filtered.ok());
  int n = 0;
  ASSERT_TRUE((*filtered)->Run([&](const CapturedFrame&) { ++n; }).ok());
  EXPECT_EQ(n, 5);
}

TEST(PacketSource, Errors) {
  auto missing = PacketSource::Open({.file = "/nonexistent/x.pcap"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  TempDir dir;
  const std::string path = dir.File("e.pcap");
  ASSERT_TRUE(testing::WritePcap(path, kDltEthernet, {}));
  auto bad = PacketSource::Open({.file = path, .filter = "udp port banana"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("filter \"udp port banana\""), std::string::npos);
  auto none = PacketSource::Open({});
  EXPECT_FALSE(none.ok());
}

TEST(PacketSource, UnsupportedLinkType) {
  TempDir dir;
  const std::string path = dir.File("u.pcap");
  ASSERT_TRUE(testing::WritePcap(path, 147 /* DLT_USER0 */, {}));
  auto src = PacketSource::Open({.file = path});
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kInvalidArgument);
}

// The real RTP captures of the vendor samples: UDP that is not SIP, and a few ICMP
// port-unreachable messages.
TEST(PacketSource, SampleCaptures) {
  const std::string dir = CALLVAULT_SAMPLES_DIR;
  if (!std::filesystem::exists(dir + "/09a_2833_dtmf.pcap")) GTEST_SKIP() << dir << " missing";
  struct Sample {
    const char* name;
    int udp;
    int icmp;
  };
  for (const auto& [name, packets, icmp] :
       {Sample{"09a_2833_dtmf.pcap", 2165, 2}, Sample{"10a_g722.pcap", 969, 3},
        Sample{"12a_g729.pcap", 1071, 2}}) {
    auto src = PacketSource::Open({.file = dir + "/" + name});
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    Count sink;
    Dispatcher d(DispatcherOptions{}, &sink);
    ASSERT_TRUE((*src)
                    ->Run([&](const CapturedFrame& f) { d.OnFrame(f.link_type, f.ts_ns, f.bytes); })
                    .ok());
    EXPECT_EQ(sink.udp, packets) << name;
    EXPECT_EQ(sink.sip, 0) << name;
    EXPECT_EQ(d.decoder().counters().other_protocol.Get(), static_cast<uint64_t>(icmp)) << name;
    EXPECT_EQ(d.decoder().counters().malformed.Get(), 0u);
    EXPECT_EQ((*src)->Stats().frames, static_cast<uint64_t>(packets + icmp));
  }
}

// What a user without root or CAP_NET_RAW sees, checked in a child that gave them up.
TEST(PacketSource, LiveCaptureWithoutPermissionNamesTheCause) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    if (geteuid() == 0) {
      // nobody/nogroup; setuid from root to another uid clears every capability.
      if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
          setresuid(65534, 65534, 65534) != 0) {
        _exit(3);
      }
    }
    auto src = PacketSource::Open({.device = "lo"});
    const std::string msg = src.ok() ? std::string("opened") : src.status().ToString();
    (void)!write(fds[1], msg.data(), msg.size());
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::printf("without CAP_NET_RAW: %s\n", out.c_str());
  EXPECT_NE(out.find("PermissionDenied: capture on lo needs root or CAP_NET_RAW: "),
            std::string::npos)
      << out;
}

// A UDP socket bound to 127.0.0.1:0 (never read: the capture sees what is sent to it).
struct LoopbackSocket {
  LoopbackSocket() {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  }
  ~LoopbackSocket() { close(fd); }
  uint16_t port() const { return ntohs(addr.sin_port); }
  void Send(const std::string& msg) {
    sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  }
  int fd;
  sockaddr_in addr{};
};

// A live capture on loopback and on `any` (Linux cooked headers): a datagram sent to ourselves
// comes out of the capture thread as a SIP message.
TEST(PacketSource, LiveLoopbackAndAny) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  for (const char* device : {"lo", "any"}) {
    LoopbackSocket sock;
    auto src = PacketSource::Open({.device = device,
                                   .filter = "udp port " + std::to_string(sock.port()),
                                   .buffer_bytes = 4 << 20});
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    if (std::string(device) == "any") {
      EXPECT_TRUE((*src)->link_type() == kDltLinuxSll || (*src)->link_type() == kDltLinuxSll2);
    }
    std::atomic<int> sip{0};
    struct Sink : PacketSink {
      std::atomic<int>* n;
      void OnSipMessage(const SipDatagram&) override { n->fetch_add(1); }
      void OnUdpPacket(const UdpPacket&) override {}
    } sink;
    sink.n = &sip;
    DispatcherOptions o;
    o.sip_ports = {sock.port()};
    Dispatcher d(o, &sink);
    (*src)->Start([&](const CapturedFrame& f) { d.OnFrame(f.link_type, f.ts_ns, f.bytes); });
    for (int i = 0; i < 100 && sip.load() == 0; ++i) {
      sock.Send("OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    (*src)->Stop();
    EXPECT_GT(sip.load(), 0) << device;
    EXPECT_TRUE((*src)->run_status().ok());
    EXPECT_GT((*src)->Stats().frames, 0u);
    EXPECT_EQ((*src)->Stats().dropped, 0u);
  }
}

// A real TCP connection on loopback (kernel sequence numbers, SYN, FIN): SIP messages written
// in pieces and several at once come out whole, in order, once.
TEST(PacketSource, LiveTcpOnLoopback) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(lfd, 1), 0);
  socklen_t len = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  const uint16_t port = ntohs(addr.sin_port);
  auto src = PacketSource::Open(
      {.device = "lo", .filter = "tcp port " + std::to_string(port), .buffer_bytes = 8 << 20});
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  struct Sink : PacketSink {
    Mutex mu;
    std::vector<std::string> messages;
    void OnSipMessage(const SipDatagram& m) override {
      MutexLock lock(&mu);
      messages.emplace_back(m.bytes);
    }
    void OnUdpPacket(const UdpPacket&) override {}
  } sink;
  DispatcherOptions o;
  o.sip_ports = {port};
  Dispatcher d(o, &sink);
  (*src)->Start([&](const CapturedFrame& f) { d.OnFrame(f.link_type, f.ts_ns, f.bytes); });
  int cfd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(cfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  int one = 1;
  setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int afd = accept(lfd, nullptr, nullptr);
  auto msg = [](int n) {
    const std::string body = "v=0\r\ns=call " + std::to_string(n) + "\r\n";
    return "INVITE sip:srs@127.0.0.1 SIP/2.0\r\nCall-ID: live-" + std::to_string(n) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  const std::string first = msg(1);
  const std::string three = msg(2) + "\r\n\r\n" + msg(3) + msg(4);
  for (size_t off = 0; off < first.size(); off += 17) {  // one message in many segments
    const std::string piece = first.substr(off, 17);
    ASSERT_EQ(send(cfd, piece.data(), piece.size(), 0), static_cast<ssize_t>(piece.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(send(cfd, three.data(), three.size(), 0), static_cast<ssize_t>(three.size()));
  close(cfd);
  char buf[4096];
  while (read(afd, buf, sizeof buf) > 0) {
  }
  close(afd);
  close(lfd);
  for (int i = 0; i < 100; ++i) {
    {
      MutexLock lock(&sink.mu);
      if (sink.messages.size() >= 4) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // FIN/ACK reach the capture
  (*src)->Stop();
  MutexLock lock(&sink.mu);
  ASSERT_EQ(sink.messages.size(), 4u);
  EXPECT_EQ(sink.messages[0], msg(1));
  EXPECT_EQ(sink.messages[3], msg(4));
  EXPECT_EQ(d.tcp().counters().gaps.Get(), 0u);
  EXPECT_EQ(d.tcp().counters().midstream_joins.Get(), 0u);
  EXPECT_EQ(d.tcp().flow_count(), 0u);  // both directions ended with FIN
}

// A burst larger than the kernel ring while nobody reads: the drops are counted, never silent.
TEST(PacketSource, ABurstAboveTheRingShowsAsDrops) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  LoopbackSocket sock;
  auto src = PacketSource::Open({.device = "lo",
                                 .filter = "udp port " + std::to_string(sock.port()),
                                 .buffer_bytes = 1 << 20});
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  constexpr int kSent = 4000;
  const std::string payload(1200, 'r');
  for (int i = 0; i < kSent; ++i) sock.Send(payload);  // ~5 MB into a 1 MiB ring
  int frames = 0;
  (*src)->Start([&](const CapturedFrame&) { ++frames; });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  (*src)->Stop();
  const CaptureStats st = (*src)->Stats();
  EXPECT_GT(st.dropped, 0u);
  EXPECT_EQ(st.frames, static_cast<uint64_t>(frames));
  EXPECT_LT(st.frames, static_cast<uint64_t>(kSent));
  // Every packet is delivered or counted as dropped. On lo the kernel offers each packet to the
  // ring twice (outgoing and incoming; libpcap discards the outgoing copies it reads), so the
  // drops may count up to twice what was sent.
  EXPECT_GE(st.frames + st.dropped, static_cast<uint64_t>(kSent)) << st.received;
  std::printf("burst of %d: delivered %llu, dropped %llu, received %llu\n", kSent,
              static_cast<unsigned long long>(st.frames),
              static_cast<unsigned long long>(st.dropped),
              static_cast<unsigned long long>(st.received));
}

}  // namespace
}  // namespace callvault::capture

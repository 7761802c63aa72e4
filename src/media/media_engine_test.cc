#include "media/media_engine.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <thread>

#include "base/fault_injecting_fs.h"
#include "media/internal/test_rtp.h"

namespace callvault::media {
namespace {

using namespace std::chrono_literals;
using spool::RecordKind;
using testing::MakeRtcp;
using testing::MakeRtp;
using testing::ReadCallSpool;
using testing::UdpSender;
using testing::WaitFor;

class MediaEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("cv_media_");
    base_ = testing::RandomPortBase(200);
    options_.ipv4_address = "127.0.0.1";
    options_.ipv6_address = "::1";
    options_.port_min = base_;
    options_.port_max = static_cast<uint16_t>(base_ + 199);
    options_.io_threads = 2;
    options_.spool_flush = 50ms;
    options_.spool_sync = 200ms;
  }
  void TearDown() override {
    if (engine_) engine_->Stop();
    DefaultFs()->RemoveAll(dir_).IgnoreError();
  }

  void StartEngine(Fs* fs = DefaultFs()) {
    engine_ = std::make_unique<MediaEngine>(options_, fs, RealClock(),
                                            [this](const std::string& call_id) {
                                              MutexLock lock(&mu_);
                                              ++timeouts_[call_id];
                                            });
    ASSERT_TRUE(engine_->Start().ok());
  }
  StreamConfig Config(const std::string& call, const std::string& stream) {
    return StreamConfig{call, stream, dir_ + "/" + call};
  }
  // The call's version-2 spool file (one per call, every stream in it).
  std::string SpoolPath(const std::string& call) { return dir_ + "/" + call + "/media.spool"; }
  // The records of one stream of a call's spool.
  std::vector<testing::OwnedRecord> Spooled(const std::string& call, const std::string& stream,
                                            uint64_t* ignored = nullptr) {
    return ReadCallSpool(SpoolPath(call), stream, ignored);
  }
  bool WaitPackets(const std::string& call, const std::string& stream, uint64_t n) {
    return WaitFor(
        [&] {
          auto s = engine_->Stats(call, stream);
          return s && s->rtp.packets + s->rtp.rtcp_packets >= n;
        },
        5s);
  }
  int Timeouts(const std::string& call) {
    MutexLock lock(&mu_);
    return timeouts_.count(call) ? timeouts_[call] : 0;
  }

  std::string dir_;
  uint16_t base_ = 0;
  MediaOptions options_;
  std::unique_ptr<MediaEngine> engine_;
  Mutex mu_;
  std::map<std::string, int> timeouts_ GUARDED_BY(mu_);
};

TEST_F(MediaEngineTest, FiveHundredPacketsAreSpooledInOrderWithExactStats) {
  StartEngine();
  auto port = engine_->OpenStream(Config("call-a", "s0"));
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  EXPECT_EQ(*port % 2, 0);
  EXPECT_EQ(engine_->open_streams(), 1u);
  UdpSender tx;
  std::vector<std::string> sent;
  const auto before = std::chrono::system_clock::now();
  for (int i = 0; i < 500; ++i) {
    sent.push_back(MakeRtp(static_cast<uint16_t>(65300 + i), i * 160u, 0xC0FFEE));
    tx.Send(*port, sent.back());
    if (i % 50 == 49) std::this_thread::sleep_for(2ms);
  }
  ASSERT_TRUE(WaitPackets("call-a", "s0", 500));
  auto stats = engine_->CloseStream("call-a", "s0");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->rtp.packets, 500u);
  EXPECT_EQ(stats->rtp.bytes, 500u * 172);
  EXPECT_EQ(stats->rtp.expected, 500u);
  EXPECT_EQ(stats->rtp.lost, 0u);
  EXPECT_EQ(stats->rtp.duplicates + stats->rtp.reordered + stats->rtp.ssrc_changes, 0u);
  EXPECT_EQ(stats->socket_drops, 0u);
  EXPECT_EQ(stats->spool_records, 500u);
  EXPECT_EQ(stats->spool_synced_bytes, stats->spool_bytes);          // closed = synced
  EXPECT_EQ(stats->spool_bytes, 16u + (20 + 2) + 500 * (20 + 172));  // header, "s0", records
  EXPECT_TRUE(stats->spool_error.empty());
  EXPECT_EQ(engine_->open_streams(), 0u);
  uint64_t ignored = 1;
  auto records = Spooled("call-a", "s0", &ignored);
  EXPECT_EQ(ignored, 0u);
  ASSERT_EQ(records.size(), 500u);
  const int64_t t0 =
      std::chrono::duration_cast<std::chrono::nanoseconds>(before.time_since_epoch()).count();
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].kind, RecordKind::kRtp);
    EXPECT_EQ(records[i].flags, 0);
    ASSERT_EQ(records[i].payload, sent[i]) << i;
    EXPECT_GE(records[i].arrival_ns, t0 - 1'000'000'000);  // kernel wall-clock timestamp
    if (i > 0) {
      EXPECT_GE(records[i].arrival_ns, records[i - 1].arrival_ns);
    }
  }
  EXPECT_EQ(engine_->CloseStream("call-a", "s0").status().code(), StatusCode::kNotFound);
}

TEST_F(MediaEngineTest, LossReorderAndDuplicatesAreCountedExactly) {
  StartEngine();
  auto port = engine_->OpenStream(Config("call-b", "s0"));
  ASSERT_TRUE(port.ok());
  UdpSender tx;
  std::vector<int> seqs;
  for (int i = 0; i < 100; ++i) {
    if (i == 10 || i == 11 || i == 12 || i == 50) continue;  // lost
    if (i == 21) continue;                                   // sent after 22
    seqs.push_back(i);
    if (i == 22) seqs.push_back(21);
    if (i == 30) seqs.push_back(30);  // duplicate
  }
  for (int s : seqs) {
    tx.Send(*port, MakeRtp(static_cast<uint16_t>(s), s * 160u, 7));
    std::this_thread::sleep_for(200us);  // keep the kernel's order
  }
  ASSERT_TRUE(WaitPackets("call-b", "s0", seqs.size()));
  auto st = engine_->CloseStream("call-b", "s0");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->rtp.packets, 97u);
  EXPECT_EQ(st->rtp.expected, 100u);
  EXPECT_EQ(st->rtp.lost, 4u);
  EXPECT_EQ(st->rtp.duplicates, 1u);
  EXPECT_EQ(st->rtp.reordered, 1u);
  ASSERT_EQ(st->rtp.ssrcs.size(), 1u);
  const auto& gaps = st->rtp.ssrcs[0].gaps;
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(gaps[0].first_seq % 65536, 10u);
  EXPECT_EQ(gaps[0].count, 3u);
  EXPECT_EQ(gaps[1].first_seq % 65536, 50u);
  EXPECT_EQ(Spooled("call-b", "s0").size(), 97u);  // duplicates are kept too
}

TEST_F(MediaEngineTest, SsrcChangeAndRtcpOnBothPorts) {
  options_.rtcp_sockets = true;  // RTCP on RTP + 1 is only received with its own socket
  StartEngine();
  auto port = engine_->OpenStream(Config("call-c", "s0"));
  ASSERT_TRUE(port.ok());
  UdpSender tx;
  for (int i = 0; i < 50; ++i) tx.Send(*port, MakeRtp(static_cast<uint16_t>(i), 0, 0x1111));
  tx.Send(*port + 1, MakeRtcp(201, 0x9999));  // RTCP port
  for (int i = 0; i < 50; ++i) {
    tx.Send(*port, MakeRtp(static_cast<uint16_t>(40000 + i), 0, 0x2222));
  }
  tx.Send(*port, MakeRtcp(200, 0x2222));  // rtcp-mux on the RTP port (RFC 5761)
  ASSERT_TRUE(WaitPackets("call-c", "s0", 102));
  auto st = engine_->CloseStream("call-c", "s0");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->rtp.ssrc_changes, 1u);
  ASSERT_EQ(st->rtp.ssrcs.size(), 2u);
  EXPECT_EQ(st->rtp.ssrcs[0].ssrc, 0x1111u);
  EXPECT_EQ(st->rtp.ssrcs[1].ssrc, 0x2222u);
  EXPECT_EQ(st->rtp.lost, 0u);
  EXPECT_EQ(st->rtp.rtcp_packets, 2u);
  EXPECT_EQ(st->rtp.rtcp_rr, 1u);
  EXPECT_EQ(st->rtp.rtcp_sr, 1u);
  auto records = Spooled("call-c", "s0");
  ASSERT_EQ(records.size(), 102u);
  int rtcp = 0;
  for (const auto& r : records) rtcp += r.kind == RecordKind::kRtcp;
  EXPECT_EQ(rtcp, 2);
}

// Descriptors in /proc/self/fd now.
size_t OpenFds() {
  size_t n = 0;
  auto names = DefaultFs()->ListDir("/proc/self/fd");
  if (names.ok()) n = names->size();
  return n;
}

TEST_F(MediaEngineTest, ATwoStreamCallHoldsThreeDescriptorsAndOneSpoolFile) {
  StartEngine();
  UdpSender tx;
  const size_t before = OpenFds();
  auto p0 = engine_->OpenStream(Config("two", "s0"));
  auto p1 = engine_->OpenStream(Config("two", "s1"));
  ASSERT_TRUE(p0.ok() && p1.ok());
  EXPECT_EQ(engine_->open_descriptors(), 3u);  // two RTP sockets + media.spool
  EXPECT_EQ(engine_->DescriptorsPerCall(2), 3u);
  EXPECT_EQ(OpenFds() - before, 3u);
  auto listed = DefaultFs()->ListDir(dir_ + "/two");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<std::string>{"media.spool"});
  // RTP + 1 has no socket (RTCP sent there is refused by the kernel) but stays reserved: the
  // pool never hands it out, so the answer's implicit RTCP port is nobody else's stream.
  int probe = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(*p0 + 1);
  EXPECT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ::close(probe);
  EXPECT_NE(*p1, *p0 + 1);
  for (int i = 0; i < 10; ++i) {
    tx.Send(*p0, MakeRtp(static_cast<uint16_t>(i), 0, 0xA));
    tx.Send(*p1, MakeRtp(static_cast<uint16_t>(i), 0, 0xB));
  }
  tx.Send(*p0 + 1, MakeRtcp(201, 0xA));  // no socket: not recorded
  tx.Send(*p1, MakeRtcp(200, 0xB));      // rtcp-mux: recorded as kind 2
  ASSERT_TRUE(WaitPackets("two", "s0", 10));
  ASSERT_TRUE(WaitPackets("two", "s1", 11));
  EXPECT_EQ(engine_->CloseCall("two").size(), 2u);
  EXPECT_EQ(engine_->open_descriptors(), 0u);
  EXPECT_EQ(OpenFds(), before);
  auto s0 = Spooled("two", "s0");
  auto s1 = Spooled("two", "s1");
  ASSERT_EQ(s0.size(), 10u);
  ASSERT_EQ(s1.size(), 11u);
  EXPECT_EQ(s1[10].kind, RecordKind::kRtcp);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(s0[i].payload, MakeRtp(static_cast<uint16_t>(i), 0, 0xA));
    EXPECT_EQ(s1[i].payload, MakeRtp(static_cast<uint16_t>(i), 0, 0xB));
  }
}

TEST_F(MediaEngineTest, AStreamReopenedInACallGetsANewSlotAndTheLastCloseClosesTheFile) {
  StartEngine();
  auto p0 = engine_->OpenStream(Config("re", "s0"));
  auto p1 = engine_->OpenStream(Config("re", "s1"));
  ASSERT_TRUE(p0.ok() && p1.ok());
  UdpSender tx;
  for (int i = 0; i < 5; ++i) tx.Send(*p0, MakeRtp(static_cast<uint16_t>(i), 0, 0xA));
  ASSERT_TRUE(WaitPackets("re", "s0", 5));
  ASSERT_TRUE(engine_->CloseStream("re", "s0").ok());  // s1 still open: the file stays
  EXPECT_EQ(engine_->open_descriptors(), 2u);
  auto again = engine_->OpenStream(Config("re", "s0"));  // e.g. a re-INVITE moved it
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  for (int i = 5; i < 8; ++i) tx.Send(*again, MakeRtp(static_cast<uint16_t>(i), 0, 0xA));
  ASSERT_TRUE(WaitPackets("re", "s0", 3));
  ASSERT_TRUE(engine_->CloseStream("re", "s0").ok());
  auto last = engine_->CloseStream("re", "s1");  // the call's last stream: the file is closed
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->spool_synced_bytes, last->spool_bytes);
  EXPECT_EQ(engine_->open_descriptors(), 0u);
  // Three declarations (s0, s1, s0 again) and every packet of both s0 slots, in order.
  auto all = testing::ParseCallSpool(DefaultFs()->ReadFile(SpoolPath("re")).value());
  std::vector<std::string> declared;
  for (const auto& r : all) {
    if (r.kind == RecordKind::kStreamDeclaration) declared.push_back(r.payload);
  }
  EXPECT_EQ(declared, (std::vector<std::string>{"s0", "s1", "s0"}));
  auto s0 = Spooled("re", "s0");
  ASSERT_EQ(s0.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(s0[i].payload, MakeRtp(static_cast<uint16_t>(i), 0, 0xA));
  // The call is closed: its file is never overwritten.
  EXPECT_EQ(engine_->OpenStream(Config("re", "s2")).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Spooled("re", "s0").size(), 8u);
}

TEST_F(MediaEngineTest, RtcpSocketsCostOneDescriptorMorePerStream) {
  options_.rtcp_sockets = true;
  StartEngine();
  const size_t before = OpenFds();
  ASSERT_TRUE(engine_->OpenStream(Config("rtcp", "s0")).ok());
  ASSERT_TRUE(engine_->OpenStream(Config("rtcp", "s1")).ok());
  EXPECT_EQ(engine_->open_descriptors(), 5u);
  EXPECT_EQ(engine_->DescriptorsPerCall(2), 5u);
  EXPECT_EQ(OpenFds() - before, 5u);
  engine_->CloseCall("rtcp");
  EXPECT_EQ(OpenFds(), before);
}

TEST_F(MediaEngineTest, AFailedOpenLeavesNothingOpenAndARetryWorks) {
  options_.port_max = static_cast<uint16_t>(base_ + 1);  // one pair
  StartEngine();
  const size_t before = OpenFds();
  ASSERT_TRUE(engine_->OpenStream(Config("one", "s0")).ok());
  // The second call's first stream finds no port: its file is removed again.
  EXPECT_EQ(engine_->OpenStream(Config("other", "s0")).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_FALSE(DefaultFs()->Exists(SpoolPath("other")));
  EXPECT_EQ(engine_->open_descriptors(), 2u);
  // A second stream of the first call fails the same way; the call's file stays.
  EXPECT_EQ(engine_->OpenStream(Config("one", "s1")).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_TRUE(DefaultFs()->Exists(SpoolPath("one")));
  EXPECT_EQ(engine_->open_descriptors(), 2u);
  engine_->CloseCall("one");
  EXPECT_EQ(engine_->open_descriptors(), 0u);
  EXPECT_EQ(OpenFds(), before);
  ASSERT_TRUE(engine_->OpenStream(Config("other", "s0")).ok());  // the retry
  engine_->CloseCall("other");
  EXPECT_EQ(Spooled("one", "s0").size(), 0u);
}

// Passive recording: a stream without port or socket records what is injected, with the
// capture's arrival times, in order, as a received datagram would be; after it closes,
// injected datagrams are dropped and counted.
TEST_F(MediaEngineTest, PassiveStreamRecordsInjectedDatagrams) {
  StartEngine();
  const size_t fds = engine_->open_descriptors();
  StreamConfig c = Config("passive", "s0");
  c.passive = true;
  auto port = engine_->OpenStream(c);
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  EXPECT_EQ(*port, 0);
  EXPECT_EQ(engine_->open_descriptors(), fds + 1) << "only the spool file";
  auto target = engine_->PassiveTarget("passive", "s0");
  ASSERT_TRUE(target.ok());
  EXPECT_FALSE(engine_->PassiveTarget("passive", "s1").ok());
  for (uint16_t seq = 0; seq < 50; ++seq) {
    const std::string rtp = MakeRtp(seq, seq * 160u, 0xABCD);
    engine_->Inject(*target, 1'800'000'000'000'000'000 + seq * 20'000'000,
                    std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(rtp.data()),
                                             rtp.size()));
  }
  ASSERT_TRUE(WaitPackets("passive", "s0", 50));
  auto closed = engine_->CloseCall("passive");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].rtp.packets, 50u);
  EXPECT_EQ(closed[0].rtp.lost, 0u);
  auto records = Spooled("passive", "s0");
  ASSERT_EQ(records.size(), 50u);
  EXPECT_EQ(records[49].arrival_ns, 1'800'000'000'000'000'000 + 49 * 20'000'000);
  EXPECT_EQ(engine_->open_descriptors(), fds);
  const std::string late = MakeRtp(99, 0, 0xABCD);
  engine_->Inject(*target, 0,
                  std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(late.data()),
                                           late.size()));
  EXPECT_TRUE(WaitFor([&] { return engine_->inject_dropped() == 1; }, 2s));
}

TEST_F(MediaEngineTest, PausedCallsNeverTimeOutSilentOnesDoOnce) {
  options_.rtp_timeout = 1s;
  StartEngine();
  const auto opened = std::chrono::steady_clock::now();
  ASSERT_TRUE(engine_->OpenStream(Config("paused", "s0")).ok());
  ASSERT_TRUE(engine_->SetPaused("paused", "s0", true).ok());
  ASSERT_TRUE(engine_->OpenStream(Config("silent", "s0")).ok());
  ASSERT_TRUE(engine_->OpenStream(Config("silent", "s1")).ok());
  auto talking = engine_->OpenStream(Config("talking", "s0"));
  ASSERT_TRUE(talking.ok());
  ASSERT_TRUE(engine_->OpenStream(Config("talking", "s1")).ok());  // one direction is enough
  UdpSender tx;
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    for (uint16_t seq = 0; !stop; ++seq) {
      tx.Send(*talking, MakeRtp(seq, seq * 160u, 3));
      std::this_thread::sleep_for(100ms);
    }
  });
  ASSERT_TRUE(WaitFor([&] { return Timeouts("silent") > 0; }, 2100ms));  // rtp_timeout + 1 s
  EXPECT_LE(std::chrono::steady_clock::now() - opened, 2100ms);
  std::this_thread::sleep_for(1500ms);
  stop = true;
  sender.join();
  EXPECT_EQ(Timeouts("silent"), 1);
  EXPECT_EQ(Timeouts("paused"), 0);
  EXPECT_EQ(Timeouts("talking"), 0);
  // Resuming restarts the silence clock: the paused call times out a second after it.
  ASSERT_TRUE(engine_->SetPaused("paused", "s0", false).ok());
  ASSERT_TRUE(WaitFor([&] { return Timeouts("paused") > 0; }, 2100ms));
  EXPECT_EQ(engine_->CloseCall("silent").size(), 2u);
  EXPECT_TRUE(engine_->CloseCall("silent").empty());
}

TEST_F(MediaEngineTest, TimeoutCallbackMayCloseTheCallInline) {
  options_.rtp_timeout = 1s;
  engine_ = std::make_unique<MediaEngine>(options_, DefaultFs(), RealClock(),
                                          [this](const std::string& call_id) {
                                            auto closed = engine_->CloseCall(call_id);
                                            MutexLock lock(&mu_);
                                            timeouts_[call_id] = static_cast<int>(closed.size());
                                          });
  ASSERT_TRUE(engine_->Start().ok());
  ASSERT_TRUE(engine_->OpenStream(Config("gone", "s0")).ok());
  ASSERT_TRUE(WaitFor([&] { return Timeouts("gone") > 0; }, 2500ms));
  EXPECT_EQ(Timeouts("gone"), 1);
  EXPECT_EQ(engine_->open_streams(), 0u);
}

TEST_F(MediaEngineTest, PortsInUseAreSkippedAndExhaustionIsReported) {
  options_.port_max = static_cast<uint16_t>(base_ + 5);  // 3 pairs
  options_.rtcp_sockets = true;  // both ports of a pair are bound: either may be taken
  int blocker = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(base_ + 1);  // the first pair's RTCP port
  const bool blocked = ::bind(blocker, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  StartEngine();
  EXPECT_EQ(engine_->free_ports(), 3u);
  std::vector<uint16_t> ports;
  for (int i = 0;; ++i) {
    auto p = engine_->OpenStream(Config("full", "s" + std::to_string(i)));
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), StatusCode::kResourceExhausted) << p.status().ToString();
      break;
    }
    ports.push_back(*p);
  }
  if (blocked) {
    EXPECT_EQ(ports.size(), 2u);
    for (uint16_t p : ports) EXPECT_NE(p, base_);
  }
  EXPECT_EQ(engine_->OpenStream(Config("full", "s0")).status().code(), StatusCode::kAlreadyExists);
  engine_->CloseCall("full");
  EXPECT_EQ(engine_->free_ports(), 3u);
  ::close(blocker);
}

TEST_F(MediaEngineTest, DiskFullKeepsCountingAndRecoversWithoutLoss) {
  FaultInjectingFs fs(DefaultFs());
  StartEngine(&fs);
  auto port = engine_->OpenStream(Config("disk", "s0"));
  ASSERT_TRUE(port.ok());
  fs.InjectFault(FsOp::kAppend, SpoolPath("disk"), ENOSPC, 1, /*repeat=*/true);
  UdpSender tx;
  for (int i = 0; i < 100; ++i) tx.Send(*port, MakeRtp(static_cast<uint16_t>(i), 0, 1));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = engine_->Stats("disk", "s0");
        return s && s->rtp.packets == 100 && !s->spool_error.empty();
      },
      5s));
  auto s = engine_->Stats("disk", "s0");
  EXPECT_NE(s->spool_error.find("No space left"), std::string::npos) << s->spool_error;
  EXPECT_GE(s->spool_write_errors, 1u);
  fs.ClearFaults();  // space freed: the buffered records are written
  for (int i = 100; i < 150; ++i) tx.Send(*port, MakeRtp(static_cast<uint16_t>(i), 0, 1));
  ASSERT_TRUE(WaitPackets("disk", "s0", 150));
  auto st = engine_->CloseStream("disk", "s0");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->spool_dropped, 0u);
  EXPECT_EQ(Spooled("disk", "s0").size(), 150u);
}

TEST_F(MediaEngineTest, SocketOverflowWritesAGapRecord) {
  options_.io_threads = 1;
  options_.rtp_timeout = 1s;
  options_.socket_receive_buffer = 4096;  // the kernel doubles it; a few packets fit
  std::atomic<bool> blocked{false}, release{false};
  engine_ =
      std::make_unique<MediaEngine>(options_, DefaultFs(), RealClock(), [&](const std::string&) {
        blocked = true;  // test only: stall the I/O thread
        while (!release) std::this_thread::sleep_for(1ms);
      });
  ASSERT_TRUE(engine_->Start().ok());
  auto port = engine_->OpenStream(Config("flood", "s0"));
  ASSERT_TRUE(port.ok());
  ASSERT_TRUE(engine_->OpenStream(Config("sleepy", "s0")).ok());
  ASSERT_TRUE(WaitFor([&] { return blocked.load(); }, 3s));  // both silent: the thread stalls
  UdpSender tx;
  for (int i = 0; i < 300; ++i) tx.Send(*port, MakeRtp(static_cast<uint16_t>(i), 0, 1));
  release = true;
  // The kernel reports the drop count on the next datagram it queues (SO_RXQ_OVFL).
  std::this_thread::sleep_for(100ms);
  tx.Send(*port, MakeRtp(300, 0, 1));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = engine_->Stats("flood", "s0");
        return s && s->socket_drops > 0;
      },
      3s));
  auto st = engine_->CloseStream("flood", "s0");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->rtp.packets + st->socket_drops, 301u);
  auto records = Spooled("flood", "s0");
  uint64_t marked = 0;
  for (const auto& r : records) {
    if (r.kind == RecordKind::kGap) {
      ASSERT_EQ(r.payload.size(), 4u);
      marked += static_cast<uint8_t>(r.payload[0]) | static_cast<uint8_t>(r.payload[1]) << 8;
    }
  }
  EXPECT_EQ(marked, st->socket_drops);
}

TEST_F(MediaEngineTest, StopFlushesAndSyncsEveryStream) {
  StartEngine();
  auto port = engine_->OpenStream(Config("stop", "s0"));
  ASSERT_TRUE(port.ok());
  UdpSender tx;
  for (int i = 0; i < 20; ++i) tx.Send(*port, MakeRtp(static_cast<uint16_t>(i), 0, 1));
  ASSERT_TRUE(WaitPackets("stop", "s0", 20));
  engine_->Stop();
  EXPECT_EQ(Spooled("stop", "s0").size(), 20u);
  EXPECT_EQ(engine_->OpenStream(Config("stop", "s1")).status().code(),
            StatusCode::kFailedPrecondition);
}

// Streams of the batched-sync tests: call "b<i/2>", stream "s<i%2>" (two streams per call).
std::string BatchCall(int i) { return "b" + std::to_string(i / 2); }
std::string BatchStream(int i) { return "s" + std::to_string(i % 2); }

TEST_F(MediaEngineTest, BatchedSyncCoversEveryRoundAndSurvivesACrash) {
  // Every round is batched (1: even a straggler stream flushed after the others is synced by a
  // syncfs), and per-file syncs fail: whatever becomes durable below, one SyncFilesystem of the
  // spool root made it so.
  options_.spool_batch_sync_min = 1;
  FaultInjectingFs fs(DefaultFs());
  fs.InjectFault(FsOp::kSync, dir_, EIO, 1, /*repeat=*/true);
  fs.InjectFault(FsOp::kSyncDir, dir_, EIO, 1, /*repeat=*/true);
  StartEngine(&fs);
  constexpr int kStreams = 16, kPerRound = 10, kRounds = 3;
  constexpr uint64_t kRecord = 20 + 172;
  constexpr uint64_t kHead = 16 + 2 * (20 + 2);  // file header, declarations of s0 and s1
  std::vector<uint16_t> ports;
  for (int i = 0; i < kStreams; ++i) {
    auto port = engine_->OpenStream(Config(BatchCall(i), BatchStream(i)));
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    ports.push_back(*port);
  }
  UdpSender tx;
  auto send_round = [&](int round) {
    for (int i = 0; i < kStreams; ++i) {
      for (int k = 0; k < kPerRound; ++k) {
        tx.Send(ports[i], MakeRtp(static_cast<uint16_t>(round * kPerRound + k), 0, i + 1u));
      }
    }
  };
  // Every stream has `written` bytes in the kernel and `synced` of them on disk.
  auto all_at = [&](uint64_t written, uint64_t synced) {
    return WaitFor(
        [&] {
          for (int i = 0; i < kStreams; ++i) {
            auto st = engine_->Stats(BatchCall(i), BatchStream(i));
            if (!st || st->spool_bytes != written || st->spool_synced_bytes != synced) return false;
          }
          return true;
        },
        5s);
  };
  for (int round = 0; round < kRounds; ++round) {
    send_round(round);
    // Each call's file holds both its streams' records.
    const uint64_t written = kHead + 2 * (round + 1) * kPerRound * kRecord;
    ASSERT_TRUE(all_at(written, written)) << "round " << round;
  }
  EXPECT_EQ(fs.injected_failures(), 0);  // no per-file sync was even tried

  // From now on nothing becomes durable: the next round is written but lost in the crash.
  fs.InjectFault(FsOp::kSyncFilesystem, dir_, EIO, 1, /*repeat=*/true);
  send_round(kRounds);
  const uint64_t durable = kHead + 2 * kRounds * kPerRound * kRecord;
  // A round ran: its syncfs failed and fell back to (failing) fdatasyncs.
  ASSERT_TRUE(WaitFor([&] { return fs.injected_failures() > kStreams; }, 5s));
  ASSERT_TRUE(all_at(durable + 2 * kPerRound * kRecord, durable));
  // The I/O threads are idle (nothing more arrives); the sync thread's calls meanwhile fail by
  // injection before touching the disk.
  ASSERT_TRUE(fs.SimulateCrash().ok());
  for (int i = 0; i < kStreams; ++i) {
    uint64_t ignored = 1;
    auto records = Spooled(BatchCall(i), BatchStream(i), &ignored);
    EXPECT_EQ(records.size(), static_cast<size_t>(kRounds * kPerRound)) << i;
    EXPECT_EQ(ignored, 0u) << i;
  }
  engine_->Stop();  // before `fs` goes (the streams' files are dead: their errors are ignored)
}

TEST_F(MediaEngineTest, FewStreamsAreSyncedPerFile) {
  options_.spool_batch_sync_min = 8;
  FaultInjectingFs fs(DefaultFs());
  fs.InjectFault(FsOp::kSyncFilesystem, "", EIO, 1, /*repeat=*/true);  // must not be called
  StartEngine(&fs);
  auto port = engine_->OpenStream(Config("few", "s0"));
  ASSERT_TRUE(port.ok());
  UdpSender tx;
  for (int i = 0; i < 20; ++i) tx.Send(*port, MakeRtp(static_cast<uint16_t>(i), 0, 1));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto st = engine_->Stats("few", "s0");
        return st && st->spool_bytes == 16 + (20 + 2) + 20 * (20 + 172) &&
               st->spool_synced_bytes == st->spool_bytes;
      },
      5s));
  EXPECT_EQ(fs.injected_failures(), 0);
  ASSERT_TRUE(fs.SimulateCrash().ok());  // idle engine: nothing needs a sync
  EXPECT_EQ(Spooled("few", "s0").size(), 20u);
  engine_->Stop();
}

TEST_F(MediaEngineTest, FailingBatchedSyncFallsBackToPerFileSyncs) {
  options_.spool_batch_sync_min = 1;
  FaultInjectingFs fs(DefaultFs());
  fs.InjectFault(FsOp::kSyncFilesystem, "", EIO, 1, /*repeat=*/true);
  StartEngine(&fs);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(engine_->OpenStream(Config(BatchCall(i), BatchStream(i))).ok());
  }
  UdpSender tx;
  for (int i = 0; i < 4; ++i) {
    auto st = engine_->Stats(BatchCall(i), BatchStream(i));
    ASSERT_TRUE(st.has_value());
    for (int k = 0; k < 10; ++k) tx.Send(st->rtp_port, MakeRtp(static_cast<uint16_t>(k), 0, 7));
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        for (int i = 0; i < 4; ++i) {
          auto st = engine_->Stats(BatchCall(i), BatchStream(i));
          if (!st || st->spool_bytes != 16 + 2 * (20 + 2) + 2 * 10 * (20 + 172) ||
              st->spool_synced_bytes != st->spool_bytes) {
            return false;
          }
        }
        return true;
      },
      5s));
  EXPECT_GT(fs.injected_failures(), 0);
  for (int i = 0; i < 4; ++i) {
    auto st = engine_->Stats(BatchCall(i), BatchStream(i));
    EXPECT_EQ(st->spool_write_errors, 0u);  // the syncfs failure is not a stream's error
  }
  ASSERT_TRUE(fs.SimulateCrash().ok());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Spooled(BatchCall(i), BatchStream(i)).size(), 10u) << i;
  }
  engine_->Stop();
}

TEST_F(MediaEngineTest, Ipv6Stream) {
  StartEngine();
  StreamConfig c = Config("v6", "s0");
  c.ipv6 = true;
  auto port = engine_->OpenStream(c);
  if (!port.ok()) GTEST_SKIP() << "no IPv6 loopback: " << port.status().ToString();
  UdpSender tx(/*ipv6=*/true);
  for (int i = 0; i < 10; ++i) tx.Send(*port, MakeRtp(static_cast<uint16_t>(i), 0, 1));
  ASSERT_TRUE(WaitPackets("v6", "s0", 10));
  EXPECT_EQ(engine_->CloseStream("v6", "s0")->rtp.packets, 10u);
}

// Regression: an empty ipv6_address (documented: IPv6 media refused) failed Validate().
TEST_F(MediaEngineTest, EmptyIpv6AddressRefusesOnlyIpv6Streams) {
  options_.ipv6_address = "";
  EXPECT_TRUE(options_.Validate().ok());
  StartEngine();
  StreamConfig c = Config("nov6", "s0");
  c.ipv6 = true;
  EXPECT_EQ(engine_->OpenStream(c).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(engine_->OpenStream(Config("nov6", "s1")).ok());
}

TEST_F(MediaEngineTest, BadInputIsRejected) {
  StartEngine();
  EXPECT_EQ(engine_->OpenStream(Config("c", "../x")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->OpenStream(Config("", "s0")).status().code(), StatusCode::kInvalidArgument);
  StreamConfig c = Config("c", "s0");
  c.srtp = SrtpParams{"AES_CM_128_HMAC_SHA1_80", "short"};
  EXPECT_EQ(engine_->OpenStream(c).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->SetPaused("c", "s0", true).code(), StatusCode::kNotFound);
  EXPECT_FALSE(engine_->Stats("c", "s0").has_value());
  MediaOptions bad = options_;
  bad.port_max = bad.port_min;
  EXPECT_EQ(bad.Validate().code(), StatusCode::kInvalidArgument);
}

// Issue 21: a call that ends while the disk is full keeps its records: the engine holds its file
// (SpoolPending) and writes it when the disk takes writes again.
TEST_F(MediaEngineTest, ACallEndingOnAFullDiskKeepsItsRecordsUntilTheDiskTakesThem) {
  FaultInjectingFs fs(DefaultFs());
  StartEngine(&fs);
  auto port = engine_->OpenStream(Config("end-full", "s0"));
  ASSERT_TRUE(port.ok());
  ASSERT_TRUE(WaitFor([&] { return DefaultFs()->FileSize(SpoolPath("end-full")).value_or(0) > 16; },
                      5s));  // the declaration is written
  fs.InjectFault(FsOp::kAppend, SpoolPath("end-full"), ENOSPC, 1, /*repeat=*/true);
  UdpSender tx;
  for (int i = 0; i < 80; ++i) tx.Send(*port, MakeRtp(static_cast<uint16_t>(i), 0, 1));
  ASSERT_TRUE(WaitPackets("end-full", "s0", 80));
  const size_t descriptors = engine_->open_descriptors();
  std::vector<StreamStats> closed = engine_->CloseCall("end-full");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].spool_dropped, 0u);
  EXPECT_TRUE(engine_->SpoolPending("end-full"));
  EXPECT_EQ(engine_->spool_waiting_calls(), 1u);
  EXPECT_GT(engine_->spool_buffered_bytes(), 80u * 20);
  EXPECT_EQ(engine_->open_descriptors(), descriptors - 1);  // the socket; the file stays open
  std::this_thread::sleep_for(500ms);  // sync rounds retry, the disk still refuses
  EXPECT_TRUE(engine_->SpoolPending("end-full"));
  fs.ClearFaults();  // space returns: the sync thread writes, syncs and closes it
  ASSERT_TRUE(WaitFor([&] { return !engine_->SpoolPending("end-full"); }, 5s));
  EXPECT_EQ(engine_->spool_waiting_calls(), 0u);
  EXPECT_EQ(engine_->open_descriptors(), descriptors - 2);
  EXPECT_EQ(Spooled("end-full", "s0").size(), 80u);
}

}  // namespace
}  // namespace callvault::media

// passive_engine_bench: passive recording's media path as `callvault serve` runs it with
// [passive], for bench/passive_bench.sh — libpcap capture (capture::PacketSource, its cv-capture
// thread) → capture::Dispatcher → passive::MediaRouter → app::PassiveEngineSink →
// MediaEngine::Inject into `--streams` passive streams (two per call), spooled like received RTP.
// The streams are bound (as the follower binds them from the primary's 2xx) to the endpoints
// <--address>:<port> for the ports in `--ports-in`: the active receiver's ports, so both record
// the same packets. Same I/O contract as media_engine_bench: writes the ports to `--ports-out`,
// then "READY"; SIGUSR1 prints "received=<datagrams recorded> socket_drops=<ring + interface
// drops> routed=<n> inject_dropped=<n>"; SIGTERM/SIGINT exit at once.
#include <arpa/inet.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "app/passive_engine_sink.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/metrics.h"
#include "capture/dispatcher.h"
#include "capture/packet_source.h"
#include "media/media_engine.h"
#include "passive/media_router.h"

using namespace callvault;

namespace {

// UDP to the router, as passive::PassiveRecorder does (no SIP in this benchmark).
class RouterSink final : public capture::PacketSink {
 public:
  explicit RouterSink(passive::MediaRouter* router) : router_(router) {}
  void OnSipMessage(const capture::SipDatagram&) override {}
  void OnUdpPacket(const capture::UdpPacket& packet) override { router_->Route(packet); }

 private:
  passive::MediaRouter* const router_;
};

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: passive_engine_bench --ports-in F --streams N --dir D --ports-out F2 "
               "[--interface lo] [--address 127.0.0.1] [--filter BPF] [--buffer-mb 64] "
               "[--threads 0] [--flush-ms 200] [--sync-ms 1000]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  long n_streams = 0, threads = 0, flush_ms = 200, sync_ms = 1000, buffer_mb = 64;
  std::string dir, ports_in, ports_out, interface = "lo", address = "127.0.0.1", filter;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Usage();
    const char* v = argv[++i];
    if (a == "--streams")
      n_streams = std::atol(v);
    else if (a == "--threads")
      threads = std::atol(v);
    else if (a == "--flush-ms")
      flush_ms = std::atol(v);
    else if (a == "--sync-ms")
      sync_ms = std::atol(v);
    else if (a == "--buffer-mb")
      buffer_mb = std::atol(v);
    else if (a == "--dir")
      dir = v;
    else if (a == "--ports-in")
      ports_in = v;
    else if (a == "--ports-out")
      ports_out = v;
    else if (a == "--interface")
      interface = v;
    else if (a == "--address")
      address = v;
    else if (a == "--filter")
      filter = v;
    else
      Usage();
  }
  if (n_streams <= 0 || dir.empty() || ports_in.empty() || ports_out.empty()) Usage();
  uint8_t ip[4];
  if (inet_pton(AF_INET, address.c_str(), ip) != 1) Usage();
  std::vector<uint16_t> ports;
  {
    std::ifstream in(ports_in);
    long p = 0;
    while (in >> p && ports.size() < static_cast<size_t>(n_streams))
      ports.push_back(static_cast<uint16_t>(p));
  }
  if (ports.size() != static_cast<size_t>(n_streams)) {
    std::fprintf(stderr, "%s: %zu ports, %ld streams\n", ports_in.c_str(), ports.size(), n_streams);
    return 1;
  }
  if (!InitLogging(LogOptions{.level = "warn"}).ok()) return 1;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts

  media::MediaOptions o;
  o.ipv4_address = "127.0.0.1";
  o.port_min = 40000;  // passive streams take no port; the engine still wants a range
  o.port_max = 40100;
  o.io_threads = static_cast<int>(threads);
  o.spool_flush = std::chrono::milliseconds(flush_ms);
  o.spool_sync = std::chrono::milliseconds(sync_ms);
  o.rtp_timeout = std::chrono::seconds(3600);
  o.max_streams = static_cast<size_t>(n_streams);
  Registry registry;
  media::MediaEngine engine(o, DefaultFs(), RealClock(), nullptr, &registry);
  if (Status s = engine.Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return 1;
  }
  app::PassiveEngineSink sink(&engine);
  passive::MediaRouter router(&sink);
  for (long i = 0; i < n_streams; ++i) {
    const std::string call = "call-" + std::to_string(i / 2);
    const std::string stream = i % 2 ? "b" : "a";
    media::StreamConfig sc{call, stream, dir + "/" + call};
    sc.passive = true;
    if (auto r = engine.OpenStream(sc); !r.ok()) {
      std::fprintf(stderr, "open stream %ld: %s\n", i, r.status().ToString().c_str());
      return 1;
    }
    passive::MediaBinding b;
    b.to.ip = capture::IpAddress::V4(ip);
    b.to.port = ports[static_cast<size_t>(i)];
    b.call_id = call;
    b.stream_id = stream;
    router.Post(b);
  }
  {
    std::ofstream out(ports_out);
    for (uint16_t p : ports) out << p << "\n";
  }
  RouterSink router_sink(&router);
  capture::DispatcherOptions dopt;
  dopt.sip_ports.clear();
  dopt.detect_sip_on_any_port = false;
  capture::Dispatcher dispatcher(dopt, &router_sink);
  capture::PacketSourceOptions po;
  po.device = interface;
  po.filter = filter.empty() ? "udp and dst host " + address : filter;
  po.buffer_bytes = static_cast<size_t>(buffer_mb) << 20;
  po.immediate = false;  // as app/passive_stack.cc: TPACKET_V3 blocks, 10 ms timeout
  po.timeout_ms = 10;
  auto source = capture::PacketSource::Open(po);
  if (!source.ok()) {
    std::fprintf(stderr, "capture: %s\n", source.status().ToString().c_str());
    return 1;
  }
  (*source)->Start([&dispatcher](const capture::CapturedFrame& f) {
    dispatcher.OnFrame(f.link_type, f.ts_ns, f.bytes);
  });
  Counter* packets = *registry.AddCounter("callvault_media_rtp_packets_total", "");
  std::printf("READY streams=%zu io_threads=%ld interface=%s filter=\"%s\" ring_mb=%ld\n",
              engine.open_streams(), threads, interface.c_str(), po.filter.c_str(), buffer_mb);
  std::fflush(stdout);
  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGUSR1) {
      const capture::CaptureStats st = (*source)->Stats();
      std::printf("received=%llu socket_drops=%llu routed=%llu inject_dropped=%llu\n",
                  static_cast<unsigned long long>(packets->value()),
                  static_cast<unsigned long long>(st.dropped + st.if_dropped),
                  static_cast<unsigned long long>(router.counters().routed.load()),
                  static_cast<unsigned long long>(engine.inject_dropped()));
      std::fflush(stdout);
    } else {
      std::_Exit(0);
    }
  }
}

// media_engine_bench: runs callvault's MediaEngine with `--streams` streams (two per call, as a
// SIPREC call records both directions) for bench/media_bench.sh. Same I/O contract as
// rtp_baseline_receiver: writes the RTP ports to `--ports-out`, then "READY"; SIGUSR2 times a drain
// (see Drain()); SIGUSR1 prints "received=<datagrams> socket_drops=<n>" (from the engine's metrics,
// published every spool_flush); SIGTERM/SIGINT exit at once (like kill -9: the spool keeps what was
// flushed).
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>

#include "base/clock.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/metrics.h"
#include "media/media_engine.h"

using namespace callvault;

// SIGUSR2 ("drain"): the script stopped us (SIGSTOP), queued a burst in the socket buffers,
// wrote the counter value that means "all received" to <ports-out>.target, sent SIGUSR2 and
// SIGCONT. We time from the resume (this signal is handled at once) until the counter reaches
// the target: the receiver's own throughput, with no generator competing for the CPU.
template <typename Count>
static void Drain(const std::string& ports_out, Count count) {
  std::ifstream in(ports_out + ".target");
  unsigned long long target = 0;
  in >> target;
  timespec t0, t;
  rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);  // every thread of the process
  clock_gettime(CLOCK_MONOTONIC, &t0);
  const unsigned long long c0 = count();
  unsigned long long c = c0;
  double secs = 0;
  while ((c = count()) < target) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    secs = (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
    if (secs > 60) break;
    timespec nap{0, 200'000};
    nanosleep(&nap, nullptr);
  }
  clock_gettime(CLOCK_MONOTONIC, &t);
  getrusage(RUSAGE_SELF, &ru1);
  secs = (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
  auto us = [](const rusage& r) {
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
  };
  const double cpu_us = us(ru1) - us(ru0);
  std::printf(
      "drain received=%llu target=%llu seconds=%.4f rate_pps=%.0f cpu_us_per_packet=%.3f%s\n", c,
      target, secs, secs > 0 ? (c - c0) / secs : 0.0, c > c0 ? cpu_us / (c - c0) : 0.0,
      c < target ? " TIMEOUT" : "");
  std::fflush(stdout);
}

[[noreturn]] static void Usage() {
  std::fprintf(stderr,
               "usage: media_engine_bench --port-base P --streams N --dir D --ports-out F "
               "[--threads 0] [--flush-ms 200] [--sync-ms 1000] [--rcvbuf 1048576] "
               "[--batch-sync-min 8 (0: one fdatasync per file)] [--address 127.0.0.1]\n");
  std::exit(2);
}

int main(int argc, char** argv) {
  long port_base = 0, n_streams = 0, threads = 0, flush_ms = 200, sync_ms = 1000, rcvbuf = 1 << 20;
  long batch_sync_min = static_cast<long>(media::MediaOptions{}.spool_batch_sync_min);
  std::string dir, ports_out, address = "127.0.0.1";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Usage();
    const char* v = argv[++i];
    if (a == "--port-base")
      port_base = std::atol(v);
    else if (a == "--streams")
      n_streams = std::atol(v);
    else if (a == "--threads")
      threads = std::atol(v);
    else if (a == "--flush-ms")
      flush_ms = std::atol(v);
    else if (a == "--sync-ms")
      sync_ms = std::atol(v);
    else if (a == "--batch-sync-min")
      batch_sync_min = std::atol(v);
    else if (a == "--rcvbuf")
      rcvbuf = std::atol(v);
    else if (a == "--dir")
      dir = v;
    else if (a == "--ports-out")
      ports_out = v;
    else if (a == "--address")
      address = v;
    else
      Usage();
  }
  if (port_base <= 0 || n_streams <= 0 || dir.empty() || ports_out.empty() || batch_sync_min < 0) {
    Usage();
  }
  if (!InitLogging(LogOptions{.level = "warn"}).ok()) return 1;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the engine starts its threads

  media::MediaOptions o;
  o.ipv4_address = address;
  o.port_min = static_cast<uint16_t>(port_base);
  o.port_max = static_cast<uint16_t>(std::min<long>(65535, port_base + 2 * n_streams + 400));
  o.io_threads = static_cast<int>(threads);
  o.spool_flush = std::chrono::milliseconds(flush_ms);
  o.spool_sync = std::chrono::milliseconds(sync_ms);
  o.spool_batch_sync_min = static_cast<size_t>(batch_sync_min);
  o.rtp_timeout = std::chrono::seconds(3600);
  o.socket_receive_buffer = static_cast<int>(rcvbuf);
  o.max_streams = static_cast<size_t>(n_streams);
  Registry registry;
  media::MediaEngine engine(o, DefaultFs(), RealClock(), nullptr, &registry);
  if (Status s = engine.Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return 1;
  }
  std::ofstream ports(ports_out);
  for (long i = 0; i < n_streams; ++i) {
    const std::string call = "call-" + std::to_string(i / 2);
    auto port = engine.OpenStream(media::StreamConfig{call, i % 2 ? "b" : "a", dir + "/" + call});
    if (!port.ok()) {
      std::fprintf(stderr, "open stream %ld: %s\n", i, port.status().ToString().c_str());
      return 1;
    }
    ports << *port << "\n";
  }
  ports.close();
  Counter* packets = *registry.AddCounter("callvault_media_rtp_packets_total", "");
  Counter* drops = *registry.AddCounter("callvault_media_socket_drops_total", "");
  std::printf("READY streams=%zu io_threads=%ld\n", engine.open_streams(), threads);
  std::fflush(stdout);
  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGUSR1) {
      std::printf("received=%llu socket_drops=%llu\n",
                  static_cast<unsigned long long>(packets->value()),
                  static_cast<unsigned long long>(drops->value()));
      std::fflush(stdout);
    } else if (sig == SIGUSR2) {
      Drain(ports_out, [&] { return static_cast<unsigned long long>(packets->value()); });
    } else {
      std::_Exit(0);
    }
  }
}

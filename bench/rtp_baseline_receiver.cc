// rtp_baseline_receiver: the bare minimum an RTP recorder must do, as a yardstick for
// MediaEngine (bench/media_bench.sh): `--threads` threads, each with epoll over its share of
// `--streams` UDP sockets (even ports from `--port-base`; ports in use are skipped), recvmmsg
// batches of 64, each datagram appended (u16 length + payload) to its stream's buffer, every
// buffer written to its own file (one per stream under `--dir`) every `--flush-ms`.
// No RTCP sockets, timestamps, CRC, statistics, SRTP or fdatasync.
//
// Writes the bound ports to `--ports-out` (one per line) and then "READY" on stdout.
// SIGUSR2 times a drain (see Drain()); SIGUSR1 prints "received=<datagrams>" on stdout;
// SIGTERM/SIGINT exit at once.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Stream {
  int fd = -1;
  int file = -1;
  std::string buf;
  bool dirty = false;
};

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

std::atomic<uint64_t> g_received{0};

void RunThread(std::vector<Stream*> streams, int flush_ms) {
  int ep = epoll_create1(0);
  for (Stream* s : streams) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = s;
    epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
  }
  constexpr int kBatch = 64, kSlot = 2048;
  std::vector<char> bufs(kBatch * kSlot);
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  std::memset(msgs, 0, sizeof(msgs));
  for (int i = 0; i < kBatch; ++i) {
    iovs[i] = {bufs.data() + i * kSlot, kSlot};
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  std::vector<Stream*> dirty;
  epoll_event events[256];
  int64_t next_flush = NowMs() + flush_ms;
  for (;;) {
    int timeout = static_cast<int>(std::max<int64_t>(0, next_flush - NowMs()));
    int n = epoll_wait(ep, events, 256, timeout);
    uint64_t got = 0;
    for (int e = 0; e < n; ++e) {
      Stream* s = static_cast<Stream*>(events[e].data.ptr);
      for (int round = 0; round < 4; ++round) {
        int r = recvmmsg(s->fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
        if (r <= 0) break;
        for (int i = 0; i < r; ++i) {
          const uint16_t len = static_cast<uint16_t>(msgs[i].msg_len);
          s->buf.append(reinterpret_cast<const char*>(&len), 2);
          s->buf.append(bufs.data() + i * kSlot, len);
        }
        got += r;
        if (!s->dirty) {
          s->dirty = true;
          dirty.push_back(s);
        }
        if (r < kBatch) break;
      }
    }
    if (got) g_received.fetch_add(got, std::memory_order_relaxed);
    if (NowMs() >= next_flush) {
      for (Stream* s : dirty) {
        if (::write(s->file, s->buf.data(), s->buf.size()) < 0) std::perror("write");
        s->buf.clear();
        s->dirty = false;
      }
      dirty.clear();
      next_flush = NowMs() + flush_ms;
    }
  }
}

// SIGUSR2 ("drain"): the script stopped us (SIGSTOP), queued a burst in the socket buffers,
// wrote the counter value that means "all received" to <ports-out>.target, sent SIGUSR2 and
// SIGCONT. We time from the resume (this signal is handled at once) until the counter reaches
// the target: the receiver's own throughput, with no generator competing for the CPU.
template <typename Count>
void Drain(const std::string& ports_out, Count count) {
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

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: rtp_baseline_receiver --port-base P --streams N --dir D --ports-out F "
               "[--threads 2] [--flush-ms 200] [--rcvbuf 1048576]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  long port_base = 0, n_streams = 0, threads = 2, flush_ms = 200, rcvbuf = 1 << 20;
  std::string dir, ports_out;
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
    else if (a == "--rcvbuf")
      rcvbuf = std::atol(v);
    else if (a == "--dir")
      dir = v;
    else if (a == "--ports-out")
      ports_out = v;
    else
      Usage();
  }
  if (port_base <= 0 || n_streams <= 0 || dir.empty() || ports_out.empty() || threads <= 0) {
    Usage();
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::vector<std::unique_ptr<Stream>> streams;
  std::ofstream ports(ports_out);
  for (long port = port_base; static_cast<long>(streams.size()) < n_streams && port < 65535;
       port += 2) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int rb = static_cast<int>(rcvbuf);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::close(fd);
      continue;  // in use
    }
    auto s = std::make_unique<Stream>();
    s->fd = fd;
    std::string path = dir + "/s" + std::to_string(streams.size()) + ".raw";
    s->file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (s->file < 0) {
      std::perror(path.c_str());
      return 1;
    }
    s->buf.reserve(4096);
    ports << port << "\n";
    streams.push_back(std::move(s));
  }
  ports.close();
  std::vector<std::vector<Stream*>> shares(threads);
  for (size_t i = 0; i < streams.size(); ++i) shares[i % threads].push_back(streams[i].get());
  for (auto& share : shares) std::thread(RunThread, share, static_cast<int>(flush_ms)).detach();
  std::printf("READY streams=%zu threads=%ld\n", streams.size(), threads);
  std::fflush(stdout);
  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGUSR1) {
      std::printf("received=%llu socket_drops=unknown\n",
                  static_cast<unsigned long long>(g_received.load()));
      std::fflush(stdout);
    } else if (sig == SIGUSR2) {
      Drain(ports_out, [] { return static_cast<unsigned long long>(g_received.load()); });
    } else {
      std::_Exit(0);
    }
  }
}

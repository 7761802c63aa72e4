// rtp_load: a paced RTP load generator for media benchmarks (bench/media_bench.sh).
//
// Sends `--streams` RTP streams at `--pps` packets/s each (default 50: 20 ms G.711) of `--size`
// bytes (default 172 = 12-byte header + 160 bytes of payload) to 127.0.0.1 for `--seconds`, one
// stream per destination port read from `--ports-file` (one port per line, as the receivers
// write them). Packets of all streams are spread evenly over the period and sent with sendmmsg
// in batches of what is due. Prints the offered and achieved rate and how late packets left
// relative to their schedule (a late generator means the box, not the receiver, is the limit).
//
//   rtp_load --ports-file ports.txt --streams 4000 --pps 50 --seconds 10
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: rtp_load --ports-file F [--streams N] [--pps 50] [--size 172] "
               "[--seconds 10] [--dst 127.0.0.1]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string ports_file, dst = "127.0.0.1";
  long streams = 0, pps = 50, size = 172;
  double seconds = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Usage();
    const char* v = argv[++i];
    if (a == "--ports-file")
      ports_file = v;
    else if (a == "--streams")
      streams = std::atol(v);
    else if (a == "--pps")
      pps = std::atol(v);
    else if (a == "--size")
      size = std::atol(v);
    else if (a == "--seconds")
      seconds = std::atof(v);
    else if (a == "--dst")
      dst = v;
    else
      Usage();
  }
  std::vector<uint16_t> ports;
  {
    std::ifstream in(ports_file);
    for (long p; in >> p;) ports.push_back(static_cast<uint16_t>(p));
  }
  if (ports.empty() || size < 12 || pps <= 0) Usage();
  if (streams <= 0 || streams > static_cast<long>(ports.size())) streams = ports.size();

  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int sndbuf = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  std::vector<sockaddr_in> addrs(streams);
  for (long s = 0; s < streams; ++s) {
    addrs[s].sin_family = AF_INET;
    addrs[s].sin_port = htons(ports[s]);
    inet_pton(AF_INET, dst.c_str(), &addrs[s].sin_addr);
  }
  std::vector<uint16_t> seq(streams, 0);

  constexpr int kBatch = 512;
  std::vector<std::vector<char>> bufs(kBatch, std::vector<char>(size, 0));
  std::vector<mmsghdr> msgs(kBatch);
  std::vector<iovec> iovs(kBatch);

  const double rate = static_cast<double>(streams) * pps;  // packets/s offered
  const double spacing_ns = 1e9 / rate;
  const int64_t total = static_cast<int64_t>(rate * seconds);
  std::vector<uint32_t> late_hist(2001, 0);  // 50 µs buckets up to 100 ms, last = beyond
  int64_t sent = 0, errors = 0, late_max_ns = 0;
  double late_sum_ns = 0;
  const int64_t t0 = NowNs();
  while (sent < total) {
    const int64_t now = NowNs();
    int64_t due = std::min<int64_t>(total, static_cast<int64_t>((now - t0) / spacing_ns) + 1);
    if (due <= sent) {
      const int64_t next = t0 + static_cast<int64_t>(sent * spacing_ns);
      timespec ts{0, std::max<long>(20'000, next - now)};
      nanosleep(&ts, nullptr);
      continue;
    }
    while (sent < due) {
      const int n = static_cast<int>(std::min<int64_t>(kBatch, due - sent));
      for (int i = 0; i < n; ++i) {
        const int64_t j = sent + i;
        const long s = j % streams;
        char* p = bufs[i].data();
        const uint16_t q = seq[s]++;
        const uint32_t ts = static_cast<uint32_t>(q) * 160;
        const uint32_t ssrc = 0x10000000u + static_cast<uint32_t>(s);
        p[0] = static_cast<char>(0x80);
        p[1] = 0;
        p[2] = static_cast<char>(q >> 8);
        p[3] = static_cast<char>(q);
        for (int k = 0; k < 4; ++k) {
          p[4 + k] = static_cast<char>(ts >> (24 - 8 * k));
          p[8 + k] = static_cast<char>(ssrc >> (24 - 8 * k));
        }
        iovs[i] = {p, static_cast<size_t>(size)};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_name = &addrs[s];
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int done = 0;
      while (done < n) {
        int r = ::sendmmsg(fd, msgs.data() + done, n - done, 0);
        if (r <= 0) {
          ++errors;
          ++done;  // skip the failing datagram (counted), keep the schedule
          continue;
        }
        done += r;
      }
      const int64_t after = NowNs();
      for (int i = 0; i < n; ++i) {
        const int64_t late = after - (t0 + static_cast<int64_t>((sent + i) * spacing_ns));
        const int64_t l = std::max<int64_t>(0, late);
        late_sum_ns += l;
        late_max_ns = std::max(late_max_ns, l);
        ++late_hist[std::min<int64_t>(2000, l / 50'000)];
      }
      sent += n;
    }
  }
  const double elapsed = (NowNs() - t0) / 1e9;
  int64_t acc = 0, p99_bucket = 0;
  for (size_t b = 0; b < late_hist.size(); ++b) {
    acc += late_hist[b];
    if (acc >= sent * 99 / 100) {
      p99_bucket = b;
      break;
    }
  }
  std::printf(
      "rtp_load streams=%ld pps_per_stream=%ld size=%ld offered_pps=%.0f sent=%lld "
      "sent_pps=%.0f elapsed_s=%.2f send_errors=%lld late_avg_us=%.0f late_p99_us<=%lld "
      "late_max_us=%lld\n",
      streams, pps, size, rate, static_cast<long long>(sent - errors), (sent - errors) / elapsed,
      elapsed, static_cast<long long>(errors), sent ? late_sum_ns / sent / 1e3 : 0.0,
      static_cast<long long>((p99_bucket + 1) * 50), static_cast<long long>(late_max_ns / 1000));
  return 0;
}

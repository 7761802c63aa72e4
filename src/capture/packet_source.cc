// libpcap capture (capture/packet_source.h).
#include "capture/packet_source.h"

#include <pcap/pcap.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <utility>

#include "base/log.h"
#include "base/thread_name.h"
#include "capture/link_layer.h"

namespace callvault::capture {

namespace {

constexpr int kFramesPerDispatch = 4096;  // then Stop and the stats get a look
constexpr int kStatsIntervalMs = 1000;

std::string Where(const PacketSourceOptions& o) {
  return o.file.empty() ? "capture on " + o.device : "capture from file " + o.file;
}

// The error of a failed pcap_activate, naming its cause.
Status ActivateError(const PacketSourceOptions& o, int rc, pcap_t* p) {
  const std::string detail = pcap_geterr(p);
  const std::string what = pcap_statustostr(rc);
  switch (rc) {
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      return PermissionDeniedError(
          Where(o) + " needs root or CAP_NET_RAW: " + (detail.empty() ? what : detail));
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return NotFoundError(Where(o) + ": no such device: " + (detail.empty() ? what : detail));
    default:
      return UnavailableError(Where(o) + ": " + what + (detail.empty() ? "" : ": " + detail));
  }
}

}  // namespace

Result<std::unique_ptr<PacketSource>> PacketSource::Open(const PacketSourceOptions& o) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = nullptr;
  if (!o.file.empty()) {
    p = pcap_open_offline_with_tstamp_precision(o.file.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (p == nullptr) return NotFoundError(Where(o) + ": " + errbuf);
  } else {
    if (o.device.empty()) return InvalidArgumentError("capture: no device and no file");
    p = pcap_create(o.device.c_str(), errbuf);
    if (p == nullptr) return UnavailableError(Where(o) + ": " + errbuf);
    pcap_set_snaplen(p, o.snaplen);
    pcap_set_promisc(p, o.promiscuous ? 1 : 0);
    pcap_set_immediate_mode(p, o.immediate ? 1 : 0);
    pcap_set_timeout(p, o.timeout_ms);
    pcap_set_buffer_size(p, static_cast<int>(std::min<size_t>(o.buffer_bytes, INT_MAX)));
    // Nanosecond stamps when the kernel gives them; microseconds otherwise.
    (void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    const int rc = pcap_activate(p);
    if (rc < 0) {
      Status s = ActivateError(o, rc, p);
      pcap_close(p);
      return s;
    }
    if (rc > 0) {
      CV_LOG_WARN("capture.activate_warning", "device={} warning=\"{}\" detail=\"{}\"", o.device,
                  pcap_statustostr(rc), pcap_geterr(p));
    }
  }
  const int dlt = pcap_datalink(p);
  if (!IsSupportedLinkType(dlt)) {
    const char* name = pcap_datalink_val_to_name(dlt);
    pcap_close(p);
    return InvalidArgumentError(Where(o) + ": unsupported link type " +
                                (name ? std::string(name) : std::to_string(dlt)));
  }
  if (!o.filter.empty()) {
    bpf_program prog{};
    if (pcap_compile(p, &prog, o.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 ||
        pcap_setfilter(p, &prog) != 0) {
      Status s =
          InvalidArgumentError(Where(o) + ": filter \"" + o.filter + "\": " + pcap_geterr(p));
      pcap_freecode(&prog);
      pcap_close(p);
      return s;
    }
    pcap_freecode(&prog);
  }
  int wake_fd = -1;
  if (o.file.empty()) {
    if (pcap_setnonblock(p, 1, errbuf) != 0) {
      pcap_close(p);
      return UnavailableError(Where(o) + ": non-blocking mode: " + errbuf);
    }
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0) {
      pcap_close(p);
      return IoError(Where(o) + ": eventfd", errno);
    }
  }
  return std::unique_ptr<PacketSource>(new PacketSource(p, o, wake_fd));
}

PacketSource::PacketSource(pcap_t* pcap, const PacketSourceOptions& options, int wake_fd)
    : pcap_(pcap), options_(options), live_(options.file.empty()), wake_fd_(wake_fd) {
  link_type_ = pcap_datalink(pcap_);
  nano_ = pcap_get_tstamp_precision(pcap_) == PCAP_TSTAMP_PRECISION_NANO;
}

PacketSource::~PacketSource() {
  Stop();
  pcap_close(pcap_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void PacketSource::OnPacket(unsigned char* user, const pcap_pkthdr* h, const unsigned char* b) {
  auto* self = reinterpret_cast<PacketSource*>(user);
  CapturedFrame f;
  f.link_type = self->link_type_;
  f.ts_ns = static_cast<int64_t>(h->ts.tv_sec) * 1'000'000'000 +
            static_cast<int64_t>(h->ts.tv_usec) * (self->nano_ ? 1 : 1000);
  f.wire_length = h->len;
  f.bytes = std::span<const uint8_t>(b, h->caplen);
  self->frames_.store(self->frames_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  self->bytes_.store(self->bytes_.load(std::memory_order_relaxed) + h->caplen,
                     std::memory_order_relaxed);
  (*self->handler_)(f);
}

void PacketSource::RefreshStats() {
  if (!live_) return;  // a file has no kernel counters
  pcap_stat st{};
  if (pcap_stats(pcap_, &st) != 0) return;
  // pcap's counters are 32 bits and wrap; the differences do not.
  auto add = [](std::atomic<uint64_t>& sum, uint32_t* last, u_int now) {
    const uint32_t v = static_cast<uint32_t>(now);
    sum.store(sum.load(std::memory_order_relaxed) + (v - *last), std::memory_order_relaxed);
    *last = v;
  };
  add(received_, &last_recv_, st.ps_recv);
  add(dropped_, &last_drop_, st.ps_drop);
  add(if_dropped_, &last_ifdrop_, st.ps_ifdrop);
}

Status PacketSource::Run(const FrameHandler& handler) {
  handler_ = &handler;
  Status result;
  auto last_stats = std::chrono::steady_clock::now();
  const int fd = live_ ? pcap_get_selectable_fd(pcap_) : -1;
  while (!stop_.load(std::memory_order_acquire)) {
    if (live_) {
      int timeout_ms = kStatsIntervalMs;
      // TPACKET_V3: poll does not wake when a block times out; libpcap says how long to wait.
      if (const timeval* t = pcap_get_required_select_timeout(pcap_)) {
        timeout_ms =
            std::min<int>(timeout_ms, static_cast<int>(t->tv_sec * 1000 + t->tv_usec / 1000));
      }
      pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      if (poll(fds, 2, std::max(timeout_ms, 1)) < 0 && errno != EINTR) {
        result = IoError(Where(options_) + ": poll", errno);
        break;
      }
    }
    const int n = pcap_dispatch(pcap_, kFramesPerDispatch, &PacketSource::OnPacket,
                                reinterpret_cast<unsigned char*>(this));
    if (n == PCAP_ERROR_BREAK) break;
    if (n < 0) {
      result = UnavailableError(Where(options_) + ": reading: " + pcap_geterr(pcap_));
      break;
    }
    if (!live_ && n == 0) break;  // end of file
    const auto now = std::chrono::steady_clock::now();
    if (now - last_stats >= std::chrono::milliseconds(kStatsIntervalMs)) {
      RefreshStats();
      last_stats = now;
    }
  }
  RefreshStats();
  handler_ = nullptr;
  {
    MutexLock lock(&mu_);
    run_status_ = result;
  }
  return result;
}

void PacketSource::Start(FrameHandler handler) {
  thread_ = std::thread([this, handler = std::move(handler)] {
    SetCurrentThreadName(options_.thread_name);
    Status s = Run(handler);
    if (!s.ok()) {
      CV_LOG_ERROR("capture.stopped", "reason=\"{}\"", s.message());
    }
  });
}

void PacketSource::Stop() {
  stop_.store(true, std::memory_order_release);
  pcap_breakloop(pcap_);
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
}

Status PacketSource::run_status() const {
  MutexLock lock(&mu_);
  return run_status_;
}

CaptureStats PacketSource::Stats() const {
  CaptureStats s;
  s.frames = frames_.load(std::memory_order_relaxed);
  s.bytes = bytes_.load(std::memory_order_relaxed);
  s.received = received_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.if_dropped = if_dropped_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace callvault::capture

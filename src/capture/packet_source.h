// A libpcap capture: a live interface (or `any`, or a pcap/pcapng file for tests and replays)
// with a BPF filter, read without blocking on a named thread of its own, frames handed to one
// handler (normally Dispatcher::OnFrame). Kernel drop counters (pcap_stats ps_drop, ps_ifdrop)
// are kept as 64-bit cumulative counters, refreshed about once a second and at the end.
//
// The kernel ring: libpcap ≥ 1.5 on Linux maps a PACKET_MMAP ring of `buffer_bytes`. With
// `immediate` (the default) it uses TPACKET_V2 — every packet is delivered at once; without it,
// TPACKET_V3 (block-based, cheaper per packet at high rates, a block is delivered when full or
// after `timeout_ms`). libpcap chooses; these options decide.
//
// Permission: a live capture needs root or CAP_NET_RAW; without it Open fails with
// PermissionDenied "capture on <device> needs root or CAP_NET_RAW: <pcap error>".
//
// Called by: the passive recorder (app/ wiring) — Open at start (a failure is a start error),
// Start, Stats from the metrics thread, Stop at shutdown; tests read files with Run.
// Thread-safety: Open/Start/Stop/Run from one controlling thread; Stats() and link_type() from
// any thread. The handler runs on the capture thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "base/status.h"

typedef struct pcap pcap_t;  // NOLINT: libpcap's own names
struct pcap_pkthdr;

namespace callvault::capture {

struct PacketSourceOptions {
  // Interface to capture on ("eth1", "any" for all). Ignored when `file` is set.
  std::string device;
  // A pcap or pcapng file to read instead of a device. Default: empty (live capture).
  std::string file;
  // BPF filter expression (pcap-filter(7)), e.g. "udp or tcp port 5060". Default: everything.
  std::string filter;
  // Bytes kept per packet. Default: 65,535 (whole SIP messages and RTP).
  int snaplen = 65535;
  // Kernel ring buffer size (pcap_set_buffer_size). Default: 64 MiB. In immediate mode
  // (TPACKET_V2) each ring slot is sized for one packet of min(snaplen, interface MTU): on lo
  // (MTU 65,536) a 1 MiB ring holds 16 packets, on a 1,500-byte MTU link about 600.
  size_t buffer_bytes = size_t{64} << 20;
  // Deliver each packet at once (TPACKET_V2) rather than by blocks (TPACKET_V3). Default: true.
  bool immediate = true;
  // Block timeout when not immediate (pcap_set_timeout). Default: 10 ms.
  int timeout_ms = 10;
  // Promiscuous mode: mirrored (SPAN/TAP) traffic is not addressed to this host. Default: true.
  bool promiscuous = true;
  // Name of the capture thread (Start). Default: "cv-capture".
  std::string thread_name = "cv-capture";
};

// One captured frame, valid during the handler call only.
struct CapturedFrame {
  int link_type = 0;         // DLT_* (link_layer.h)
  int64_t ts_ns = 0;         // capture time, ns since the Unix epoch
  uint32_t wire_length = 0;  // length on the wire (bytes.size() is less when cut by snaplen)
  std::span<const uint8_t> bytes;
};

using FrameHandler = std::function<void(const CapturedFrame&)>;

// Cumulative since Open.
struct CaptureStats {
  uint64_t frames = 0;      // delivered to the handler
  uint64_t bytes = 0;       // captured bytes delivered
  uint64_t received = 0;    // pcap_stats ps_recv (packets that passed the filter)
  uint64_t dropped = 0;     // ps_drop: no room in the ring (the capture fell behind)
  uint64_t if_dropped = 0;  // ps_ifdrop: dropped by the interface/driver
};

class PacketSource {
 public:
  // Opens and activates the capture and installs the filter. Errors: PermissionDenied (no
  // root / CAP_NET_RAW), NotFound (no such device or file), InvalidArgument (bad filter or
  // unsupported link type), Unavailable (anything else libpcap refuses).
  static Result<std::unique_ptr<PacketSource>> Open(const PacketSourceOptions& options);

  ~PacketSource();  // Stop()
  PacketSource(const PacketSource&) = delete;
  PacketSource& operator=(const PacketSource&) = delete;

  int link_type() const { return link_type_; }

  // Reads on the calling thread, frames to `handler`, until Stop(), the end of a file, or a
  // capture error (returned). OK at Stop or end of file.
  Status Run(const FrameHandler& handler);

  // Run on a new thread named options.thread_name. REQUIRES: not started yet.
  void Start(FrameHandler handler);

  // Stops Run/the capture thread (joins it). Idempotent. The status Run ended with is then
  // available from run_status().
  void Stop();
  Status run_status() const;

  CaptureStats Stats() const;

 private:
  PacketSource(pcap_t* pcap, const PacketSourceOptions& options, int wake_fd);
  static void OnPacket(unsigned char* user, const pcap_pkthdr* h, const unsigned char* b);
  void RefreshStats();

  pcap_t* const pcap_;
  const PacketSourceOptions options_;
  const bool live_;
  const int wake_fd_;  // eventfd that wakes the poll at Stop (-1 for files)
  int link_type_ = 0;
  bool nano_ = false;
  const FrameHandler* handler_ = nullptr;  // during Run
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable Mutex mu_;
  Status run_status_ GUARDED_BY(mu_);
  // pcap's 32-bit counters as last read, and our 64-bit sums (capture thread writes).
  uint32_t last_recv_ = 0, last_drop_ = 0, last_ifdrop_ = 0;
  std::atomic<uint64_t> frames_{0}, bytes_{0}, received_{0}, dropped_{0}, if_dropped_{0};
};

}  // namespace callvault::capture

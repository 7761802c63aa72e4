// TCP stream reassembly for SIP over TCP seen by passive capture (RFC 3261 §18.3 framing, the
// function sip::FrameStream the SIP transport uses). Each direction of a connection is a byte
// stream of its own (a flow keyed by source and destination): segments are put in order
// (out-of-order segments held, retransmissions and overlaps trimmed), then cut into whole SIP
// messages — several per segment or one over many — and CRLF keep-alives are skipped.
//
// Loss: a hole that does not fill within `gap_timeout_ns` (or whose waiting data would exceed
// the flow's bound) is skipped; the partial message before it is dropped and the stream
// resynchronises at the next line that looks like a SIP start line (sip_start_line.h). A flow
// first seen mid-connection (no SYN: capture started late, or the flow was evicted) starts the
// same way. Every skipped byte is counted.
//
// Bounded: `max_out_of_order_bytes` held per flow, `max_message_bytes` of unframed bytes per
// flow, `max_total_bytes` over all flows and `max_flows` flows; past a bound the least recently
// active flow is evicted. Idle flows are evicted by Expire; FIN (once the stream is complete up
// to it) and RST remove flows at once.
//
// Called by: Dispatcher, on the capture thread; the reassembly fuzzer.
// Thread-safety: not thread-safe (one owner thread); counters readable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <span>
#include <string>
#include <unordered_map>

#include "capture/endpoint.h"
#include "capture/internal/counter.h"
#include "capture/sink.h"
#include "sip/message.h"

namespace callvault::capture {

struct TcpReassemblyOptions {
  // The largest SIP message framed; an incomplete message over it is a framing error (resync).
  // Default: 65,536 (sip::TransportOptions::max_message_bytes).
  size_t max_message_bytes = 65536;
  // Out-of-order bytes held per flow while a hole waits to fill. Default: 256 KiB.
  size_t max_out_of_order_bytes = 256 * 1024;
  // Buffered bytes (unframed + out-of-order) over all flows. Default: 64 MiB.
  size_t max_total_bytes = size_t{64} << 20;
  // Flows (connection directions) followed at once. Default: 100,000.
  size_t max_flows = 100000;
  // A hole not filled this long after data behind it arrived is skipped. Default: 2 s.
  int64_t gap_timeout_ns = int64_t{2} * 1'000'000'000;
  // A flow with no segment for this long is evicted by Expire. Default: 600 s (SIP over TCP
  // connections idle between calls; an evicted flow that comes back is joined mid-stream).
  int64_t idle_timeout_ns = int64_t{600} * 1'000'000'000;
  // Header and body limits of the framer (sip::FrameStream).
  sip::ParseOptions framing;
};

struct TcpReassemblyCounters {
  internal::Counter segments;             // segments given to AddSegment
  internal::Counter payload_bytes;        // their payload bytes
  internal::Counter messages;             // SIP messages emitted
  internal::Counter keepalives;           // CRLF keep-alive runs skipped
  internal::Counter retransmitted_bytes;  // bytes seen again (retransmissions, overlaps)
  internal::Counter out_of_order_segments;
  internal::Counter out_of_order_dropped;  // segments that could not be held (bounds)
  internal::Counter gaps;                  // holes skipped
  internal::Counter gap_bytes;             // stream bytes never seen in those holes
  internal::Counter resyncs;               // restarts at a start line after a gap or framing error
  internal::Counter skipped_bytes;         // received bytes dropped while resynchronising
  internal::Counter framing_errors;        // sip::FrameStream errors and oversize messages
  internal::Counter midstream_joins;       // flows first seen without a SYN
  internal::Counter flows_opened;
  internal::Counter flows_closed;  // FIN or RST
  internal::Counter flows_evicted_idle;
  internal::Counter flows_evicted_memory;  // max_flows or max_total_bytes
};

class TcpReassembler {
 public:
  explicit TcpReassembler(TcpReassemblyOptions options = {});
  ~TcpReassembler();
  TcpReassembler(const TcpReassembler&) = delete;
  TcpReassembler& operator=(const TcpReassembler&) = delete;

  struct Segment {
    Endpoint src;
    Endpoint dst;
    uint32_t seq = 0;
    uint8_t flags = 0;  // kTcpSyn, kTcpFin, kTcpRst (ip_decode.h)
    std::span<const uint8_t> payload;
    int64_t ts_ns = 0;
  };

  // Adds one segment; whole messages it completes go to sink->OnSipMessage (transport kTcp)
  // before it returns. Capture timestamps are expected to be roughly non-decreasing.
  void AddSegment(const Segment& segment, PacketSink* sink);

  // Skips holes older than gap_timeout_ns (messages behind them go to `sink`) and evicts flows
  // idle longer than idle_timeout_ns, both judged at capture time `now_ns`.
  void Expire(int64_t now_ns, PacketSink* sink);

  // Whether the flow src → dst is followed (the dispatcher keeps its segments even on ports
  // that are not configured SIP ports, once a start line opened it).
  bool HasFlow(const Endpoint& src, const Endpoint& dst) const;

  size_t flow_count() const { return flows_.size(); }
  size_t bytes_buffered() const { return total_bytes_; }
  const TcpReassemblyCounters& counters() const { return counters_; }

 private:
  struct FlowKey {
    Endpoint src;
    Endpoint dst;
    friend bool operator==(const FlowKey& a, const FlowKey& b) {
      return a.src == b.src && a.dst == b.dst;
    }
  };
  struct FlowKeyHash {
    size_t operator()(const FlowKey& k) const { return HashEndpoint(k.dst, HashEndpoint(k.src)); }
  };
  struct Flow {
    FlowKey key;
    uint32_t next_seq = 0;      // sequence number of the next in-order byte
    uint64_t next_off = 0;      // its offset in the stream (64 bits: never wraps)
    bool synced = true;         // false: looking for a start line
    bool count_resync = false;  // the loss of sync came from a gap or a framing error
    bool fin = false;
    uint64_t fin_off = 0;
    std::string buf;  // in-order bytes; [pos, size) not framed yet
    size_t pos = 0;
    std::map<uint64_t, std::string> ooo;  // held segments by stream offset
    size_t ooo_bytes = 0;
    int64_t hole_since_ns = 0;  // when the oldest held segment arrived
    int64_t last_ts_ns = 0;
  };
  using FlowList = std::list<Flow>;  // most recently active first

  size_t Footprint(const Flow& f) const { return f.buf.size() + f.ooo_bytes; }
  FlowList::iterator Open(const FlowKey& key, int64_t ts_ns);
  void Close(FlowList::iterator it);
  void EvictLeastRecent(FlowList::iterator keep, internal::Counter* reason);
  void Append(Flow& f, std::span<const uint8_t> bytes);
  void Hold(Flow& f, uint64_t off, std::span<const uint8_t> bytes, int64_t ts_ns);
  void DrainHeld(Flow& f);
  void SkipHole(Flow& f);
  void Frame(Flow& f, int64_t ts_ns, PacketSink* sink);
  void Resync(Flow& f);

  const TcpReassemblyOptions options_;
  FlowList lru_;
  std::unordered_map<FlowKey, FlowList::iterator, FlowKeyHash> flows_;
  size_t total_bytes_ = 0;
  TcpReassemblyCounters counters_;
};

}  // namespace callvault::capture

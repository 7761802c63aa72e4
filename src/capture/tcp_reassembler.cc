// TCP stream reassembly and SIP framing (capture/tcp_reassembler.h).
#include "capture/tcp_reassembler.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "capture/ip_decode.h"
#include "capture/sip_start_line.h"

namespace callvault::capture {

namespace {

// A start line longer than this is not waited for while resynchronising.
constexpr size_t kMaxStartLineWait = 2048;

std::string_view AsText(std::span<const uint8_t> b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

TcpReassembler::TcpReassembler(TcpReassemblyOptions options) : options_(std::move(options)) {}

TcpReassembler::~TcpReassembler() = default;

bool TcpReassembler::HasFlow(const Endpoint& src, const Endpoint& dst) const {
  return flows_.contains(FlowKey{src, dst});
}

TcpReassembler::FlowList::iterator TcpReassembler::Open(const FlowKey& key, int64_t ts_ns) {
  if (flows_.size() >= options_.max_flows) {
    EvictLeastRecent(lru_.end(), &counters_.flows_evicted_memory);
  }
  lru_.emplace_front();
  Flow& f = lru_.front();
  f.key = key;
  f.last_ts_ns = ts_ns;
  flows_[key] = lru_.begin();
  counters_.flows_opened.Add();
  return lru_.begin();
}

void TcpReassembler::Close(FlowList::iterator it) {
  total_bytes_ -= Footprint(*it);
  flows_.erase(it->key);
  lru_.erase(it);
}

void TcpReassembler::EvictLeastRecent(FlowList::iterator keep, internal::Counter* reason) {
  if (lru_.empty()) return;
  auto victim = std::prev(lru_.end());
  if (victim == keep) {
    if (victim == lru_.begin()) return;
    victim = std::prev(victim);
  }
  reason->Add();
  counters_.skipped_bytes.Add(victim->buf.size() - victim->pos);
  Close(victim);
}

void TcpReassembler::Append(Flow& f, std::span<const uint8_t> bytes) {
  f.buf.append(AsText(bytes));
  f.next_off += bytes.size();
  f.next_seq += static_cast<uint32_t>(bytes.size());
}

void TcpReassembler::Hold(Flow& f, uint64_t off, std::span<const uint8_t> bytes, int64_t ts_ns) {
  if (f.ooo.empty()) f.hole_since_ns = ts_ns;
  auto [it, inserted] = f.ooo.try_emplace(off, AsText(bytes));
  if (inserted) {
    f.ooo_bytes += bytes.size();
  } else if (it->second.size() < bytes.size()) {
    counters_.retransmitted_bytes.Add(it->second.size());
    f.ooo_bytes += bytes.size() - it->second.size();
    it->second.assign(AsText(bytes));
  } else {
    counters_.retransmitted_bytes.Add(bytes.size());
  }
}

void TcpReassembler::DrainHeld(Flow& f) {
  bool moved = false;
  while (!f.ooo.empty() && f.ooo.begin()->first <= f.next_off) {
    auto it = f.ooo.begin();
    const uint64_t end = it->first + it->second.size();
    if (end > f.next_off) {
      const size_t dup = static_cast<size_t>(f.next_off - it->first);
      counters_.retransmitted_bytes.Add(dup);
      Append(f, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(it->second.data()) + dup,
                                         it->second.size() - dup));
    } else {
      counters_.retransmitted_bytes.Add(it->second.size());
    }
    f.ooo_bytes -= it->second.size();
    f.ooo.erase(it);
    moved = true;
  }
  // What is still held now waits behind a new hole.
  if (moved && !f.ooo.empty()) f.hole_since_ns = f.last_ts_ns;
}

void TcpReassembler::SkipHole(Flow& f) {
  if (f.ooo.empty()) return;
  const uint64_t first = f.ooo.begin()->first;
  const uint64_t gap = first - f.next_off;
  counters_.gaps.Add();
  counters_.gap_bytes.Add(gap);
  // The partial message before the hole can never complete.
  counters_.skipped_bytes.Add(f.buf.size() - f.pos);
  f.buf.clear();
  f.pos = 0;
  f.next_seq += static_cast<uint32_t>(gap);
  f.next_off = first;
  f.synced = false;
  f.count_resync = true;
  DrainHeld(f);
}

// Drops the rest of the current line (the start of a message that cannot be framed) and
// looks for the next start line.
void TcpReassembler::Resync(Flow& f) {
  const char* start = f.buf.data() + f.pos;
  const size_t left = f.buf.size() - f.pos;
  const void* nl = std::memchr(start, '\n', left);
  const size_t skip =
      nl == nullptr ? left : static_cast<size_t>(static_cast<const char*>(nl) - start) + 1;
  counters_.skipped_bytes.Add(skip);
  f.pos += skip;
  f.synced = false;
  f.count_resync = true;
}

void TcpReassembler::Frame(Flow& f, int64_t ts_ns, PacketSink* sink) {
  sip::ParseOptions framing = options_.framing;
  framing.datagram = false;
  for (;;) {
    std::string_view view(f.buf.data() + f.pos, f.buf.size() - f.pos);
    if (view.empty()) break;
    if (!f.synced) {
      const size_t k = FindSipStartLine(view);
      if (k == std::string_view::npos) {
        // Keep the last line if it may be a start line still arriving.
        size_t keep = view.rfind('\n');
        keep = keep == std::string_view::npos ? 0 : keep + 1;
        if (view.size() - keep > kMaxStartLineWait) keep = view.size();
        counters_.skipped_bytes.Add(keep);
        f.pos += keep;
        break;
      }
      counters_.skipped_bytes.Add(k);
      f.pos += k;
      f.synced = true;
      if (f.count_resync) counters_.resyncs.Add();
      f.count_resync = false;
      continue;
    }
    sip::Frame fr = sip::FrameStream(view, framing);
    if (fr.kind == sip::Frame::kMessage) {
      if (fr.length > options_.max_message_bytes) {
        counters_.framing_errors.Add();
        counters_.skipped_bytes.Add(fr.length);
        f.pos += fr.length;
        continue;
      }
      SipDatagram m;
      m.bytes = view.substr(0, fr.length);
      m.src = f.key.src;
      m.dst = f.key.dst;
      m.transport = Transport::kTcp;
      m.ts_ns = ts_ns;
      f.pos += fr.length;
      counters_.messages.Add();
      sink->OnSipMessage(m);
      continue;
    }
    if (fr.kind == sip::Frame::kKeepAlive) {
      counters_.keepalives.Add();
      f.pos += std::max<size_t>(fr.length, 1);
      continue;
    }
    if (fr.kind == sip::Frame::kNeedMore && view.size() <= options_.max_message_bytes) break;
    counters_.framing_errors.Add();
    Resync(f);
  }
  if (f.pos == f.buf.size()) {
    f.buf.clear();
    f.pos = 0;
  } else if (f.pos > 0) {
    f.buf.erase(0, f.pos);
    f.pos = 0;
  }
}

void TcpReassembler::AddSegment(const Segment& s, PacketSink* sink) {
  counters_.segments.Add();
  counters_.payload_bytes.Add(s.payload.size());
  const FlowKey key{s.src, s.dst};
  auto found = flows_.find(key);
  if (s.flags & kTcpRst) {
    // The connection is gone in both directions; what is unframed never completes.
    for (const FlowKey& k : {key, FlowKey{s.dst, s.src}}) {
      auto f = flows_.find(k);
      if (f == flows_.end()) continue;
      counters_.flows_closed.Add();
      counters_.skipped_bytes.Add(f->second->buf.size() - f->second->pos);
      Close(f->second);
    }
    return;
  }
  const bool syn = (s.flags & kTcpSyn) != 0;
  const uint32_t data_seq = s.seq + (syn ? 1 : 0);
  FlowList::iterator it;
  if (found == flows_.end()) {
    if (!syn && s.payload.empty()) return;  // an ACK or FIN of a flow we do not follow
    it = Open(key, s.ts_ns);
    it->next_seq = data_seq;
    if (!syn) {
      it->synced = false;  // joined mid-stream: the first bytes may be inside a message
      counters_.midstream_joins.Add();
    }
  } else {
    it = found->second;
    lru_.splice(lru_.begin(), lru_, it);  // most recently active first
    if (syn && data_seq != it->next_seq) {
      if (it->next_off == 0 && it->buf.empty() && it->ooo.empty()) {
        it->next_seq = data_seq;  // nothing received yet: this SYN gives the start
        it->synced = true;
      } else {
        // A new connection between the same addresses.
        counters_.flows_closed.Add();
        counters_.skipped_bytes.Add(it->buf.size() - it->pos);
        Close(it);
        it = Open(key, s.ts_ns);
        it->next_seq = data_seq;
      }
    }
  }
  Flow& f = *it;
  const size_t before = Footprint(f);
  f.last_ts_ns = s.ts_ns;
  const size_t len = s.payload.size();
  // Where the payload starts relative to the next expected byte (sequence space wraps).
  int64_t d = static_cast<int32_t>(data_seq - f.next_seq);
  // The stream offset just past this segment (its FIN's place), before anything moves.
  const int64_t seg_end = static_cast<int64_t>(f.next_off) + d + static_cast<int64_t>(len);
  if (len > 0) {
    if (d > 0 && f.ooo_bytes + len > options_.max_out_of_order_bytes) {
      // The hole has waited as long as memory allows: skip it, then place this segment again.
      SkipHole(f);
      Frame(f, s.ts_ns, sink);
      d = static_cast<int32_t>(data_seq - f.next_seq);
    }
    if (d <= 0) {
      const size_t dup = static_cast<size_t>(std::min<int64_t>(-d, static_cast<int64_t>(len)));
      counters_.retransmitted_bytes.Add(dup);
      if (dup < len) {
        Append(f, s.payload.subspan(dup));
        DrainHeld(f);
      }
    } else if (len > options_.max_out_of_order_bytes) {
      counters_.out_of_order_dropped.Add();
    } else {
      counters_.out_of_order_segments.Add();
      Hold(f, f.next_off + static_cast<uint64_t>(d), s.payload, s.ts_ns);
    }
  }
  if ((s.flags & kTcpFin) && seg_end >= 0) {
    f.fin = true;
    f.fin_off = static_cast<uint64_t>(seg_end);
  }
  if (!f.ooo.empty() && s.ts_ns - f.hole_since_ns > options_.gap_timeout_ns) SkipHole(f);
  Frame(f, s.ts_ns, sink);
  total_bytes_ = total_bytes_ - before + Footprint(f);
  if (f.fin && f.ooo.empty() && f.next_off >= f.fin_off) {
    counters_.flows_closed.Add();
    counters_.skipped_bytes.Add(f.buf.size() - f.pos);
    Close(it);
    return;
  }
  while (total_bytes_ > options_.max_total_bytes && lru_.size() > 1) {
    EvictLeastRecent(it, &counters_.flows_evicted_memory);
  }
  if (total_bytes_ > options_.max_total_bytes && !f.ooo.empty()) {
    // This flow alone is over the total: give up what it holds out of order.
    counters_.out_of_order_dropped.Add(f.ooo.size());
    total_bytes_ -= f.ooo_bytes;
    f.ooo.clear();
    f.ooo_bytes = 0;
  }
}

void TcpReassembler::Expire(int64_t now_ns, PacketSink* sink) {
  while (!lru_.empty() && now_ns - lru_.back().last_ts_ns > options_.idle_timeout_ns) {
    counters_.flows_evicted_idle.Add();
    counters_.skipped_bytes.Add(lru_.back().buf.size() - lru_.back().pos);
    Close(std::prev(lru_.end()));
  }
  for (auto it = lru_.begin(); it != lru_.end();) {
    Flow& f = *it;
    auto next = std::next(it);
    if (!f.ooo.empty() && now_ns - f.hole_since_ns > options_.gap_timeout_ns) {
      const size_t before = Footprint(f);
      SkipHole(f);
      Frame(f, now_ns, sink);
      total_bytes_ = total_bytes_ - before + Footprint(f);
      if (f.fin && f.ooo.empty() && f.next_off >= f.fin_off) {
        counters_.flows_closed.Add();
        Close(it);
      }
    }
    it = next;
  }
}

}  // namespace callvault::capture

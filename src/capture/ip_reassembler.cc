// IP fragment reassembly (capture/ip_reassembler.h).
#include "capture/ip_reassembler.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace callvault::capture {

namespace {

constexpr uint32_t kMaxDatagram = 65535;

// Adds [b, e) to the sorted, merged interval list.
void AddInterval(std::vector<std::pair<uint32_t, uint32_t>>* have, uint32_t b, uint32_t e) {
  auto it = std::lower_bound(have->begin(), have->end(), std::make_pair(b, uint32_t{0}));
  if (it != have->begin() && std::prev(it)->second >= b) --it;
  auto last = it;
  while (last != have->end() && last->first <= e) {
    b = std::min(b, last->first);
    e = std::max(e, last->second);
    ++last;
  }
  it = have->erase(it, last);
  have->insert(it, {b, e});
}

}  // namespace

IpReassembler::IpReassembler(IpReassemblyOptions options) : options_(options) {}

size_t IpReassembler::Find(const IpPacket& f) const {
  for (size_t i = 0; i < pending_.size(); ++i) {
    const Pending& p = pending_[i];
    if (p.id == f.fragment_id && p.protocol == f.protocol && p.src == f.src && p.dst == f.dst) {
      return i;
    }
  }
  return pending_.size();
}

void IpReassembler::Erase(size_t index) {
  bytes_ -= pending_[index].data.size();
  pending_.erase(pending_.begin() + static_cast<ptrdiff_t>(index));
}

void IpReassembler::Expire(int64_t now_ns) {
  for (size_t i = 0; i < pending_.size();) {
    if (now_ns - pending_[i].first_ts_ns > options_.timeout_ns) {
      counters_.timed_out.Add();
      Erase(i);
    } else {
      ++i;
    }
  }
}

// Drops the oldest datagrams until `extra` more bytes fit; false when they never can.
bool IpReassembler::MakeRoom(size_t extra) {
  if (extra > options_.max_bytes) return false;
  while (!pending_.empty() && bytes_ + extra > options_.max_bytes) {
    counters_.evicted.Add();
    Erase(0);  // pending_ is in arrival order of first fragments
  }
  return true;
}

IpReassembler::Outcome IpReassembler::Add(const IpPacket& f, int64_t ts_ns,
                                          std::span<const uint8_t>* out, uint8_t* protocol) {
  counters_.fragments.Add();
  Expire(ts_ns);
  const uint64_t begin = f.fragment_offset;
  const uint64_t end = begin + f.payload.size();
  if (end > kMaxDatagram) {
    counters_.invalid.Add();
    return Outcome::kDropped;
  }
  size_t i = Find(f);
  if (i == pending_.size()) {
    if (pending_.size() >= options_.max_datagrams) {
      counters_.evicted.Add();
      Erase(0);
    }
    Pending p;
    p.src = f.src;
    p.dst = f.dst;
    p.id = f.fragment_id;
    p.protocol = f.protocol;
    p.first_ts_ns = ts_ns;
    pending_.push_back(std::move(p));
    i = pending_.size() - 1;
  }
  Pending* p = &pending_[i];
  // The last fragment fixes the length; later data past it, or a second different end, is
  // a contradiction that drops the datagram.
  if ((!f.more_fragments && p->total >= 0 && static_cast<uint64_t>(p->total) != end) ||
      (p->total >= 0 && end > static_cast<uint64_t>(p->total))) {
    counters_.invalid.Add();
    Erase(i);
    return Outcome::kDropped;
  }
  if (!f.more_fragments) {
    if (!p->have.empty() && p->have.back().second > end) {
      counters_.invalid.Add();
      Erase(i);
      return Outcome::kDropped;
    }
    p->total = static_cast<int64_t>(end);
  }
  if (end > p->data.size()) {
    const size_t extra = end - p->data.size();
    // MakeRoom may drop older datagrams, moving this one: find it again by its key.
    if (!MakeRoom(extra)) {
      counters_.evicted.Add();
      Erase(i);
      return Outcome::kDropped;
    }
    i = Find(f);
    if (i == pending_.size()) {  // it was the oldest and had to go
      return Outcome::kDropped;
    }
    p = &pending_[i];
    p->data.resize(end);
    bytes_ += extra;
  }
  if (!f.payload.empty()) {
    std::memcpy(p->data.data() + begin, f.payload.data(), f.payload.size());
    AddInterval(&p->have, static_cast<uint32_t>(begin), static_cast<uint32_t>(end));
  }
  if (p->total < 0 || p->have.size() != 1 || p->have[0].first != 0 ||
      p->have[0].second != static_cast<uint32_t>(p->total)) {
    return Outcome::kHeld;
  }
  const size_t held = p->data.size();
  done_.swap(p->data);
  p->data.clear();  // now done_'s old buffer: Erase subtracts nothing for it
  uint8_t proto = p->protocol;
  const bool v6 = p->src.version == 6;
  Erase(i);
  bytes_ -= held;
  counters_.reassembled.Add();
  std::span<const uint8_t> bytes(done_.data(), done_.size());
  if (v6 && !SkipIpv6Extensions(&proto, &bytes)) {
    counters_.invalid.Add();
    return Outcome::kDropped;
  }
  *out = bytes;
  *protocol = proto;
  return Outcome::kComplete;
}

}  // namespace callvault::capture

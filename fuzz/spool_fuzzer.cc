// libFuzzer target for reading a spool and finalizing from it: the bytes describe up to two
// streams' RTP packets (sequence, timestamp and arrival steps, payload type, marker, payload),
// which are encoded as a version 2 media.spool (valid CRCs, so the fuzzer gets past them) with an
// optional corrupted byte, then read back with SpoolReader and given to both the in-memory
// reference (BuildTimeline, RenderChannels) and the streaming finalizer code (TimelineBuilder,
// PacketOrderer replay, StreamRenderer with and without a sink). Checks: no crash, and the two
// agree on every segment, statistic, packet and frame (abort otherwise).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "media/internal/spool_v2_bytes.h"
#include "media/spool_reader.h"
#include "recording/renderer.h"
#include "recording/stream_renderer.h"
#include "recording/stream_timeline.h"
#include "recording/timeline_builder.h"

using namespace callvault;
using namespace callvault::recording;

namespace {

void Check(bool ok) {
  if (!ok) abort();
}

struct Input {
  const uint8_t* p;
  size_t n;
  uint8_t Byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  uint16_t U16() { return static_cast<uint16_t>(Byte() | Byte() << 8); }
};

void Record(std::string* out, uint8_t kind, uint16_t slot, int64_t arrival,
            const std::string& payload) {
  media::testing::AppendSpoolV2Record(out, static_cast<media::spool::RecordKind>(kind), 0, slot,
                                      arrival, payload);
}

StreamInfo Info(const std::string& id) {
  StreamInfo info{.id = id};
  info.payload_types[101] = codec::CodecSpec{.name = "telephone-event", .clock_rate = 8000};
  info.payload_types[111] = codec::CodecSpec{.name = "opus", .clock_rate = 48000, .channels = 2};
  return info;
}

void SameTimeline(const StreamTimeline& a, const StreamTimeline& b) {
  Check(a.first_arrival_ns == b.first_arrival_ns && a.last_arrival_ns == b.last_arrival_ns);
  const StreamStats &x = a.stats, &y = b.stats;
  Check(x.packets == y.packets && x.bytes == y.bytes && x.lost == y.lost &&
        x.duplicates == y.duplicates && x.reordered == y.reordered && x.late == y.late &&
        x.bad == y.bad && x.auth_failed == y.auth_failed &&
        x.unknown_payload == y.unknown_payload && x.rtcp == y.rtcp &&
        x.gap_markers == y.gap_markers && x.ssrcs == y.ssrcs &&
        x.payload_type_packets == y.payload_type_packets);
  Check(x.gaps.size() == y.gaps.size() && x.dtmf.size() == y.dtmf.size());
  for (size_t i = 0; i < x.gaps.size(); ++i)
    Check(x.gaps[i].start_ns == y.gaps[i].start_ns &&
          x.gaps[i].duration_ns == y.gaps[i].duration_ns);
  for (size_t i = 0; i < x.dtmf.size(); ++i)
    Check(x.dtmf[i].start_ns == y.dtmf[i].start_ns && x.dtmf[i].digit == y.dtmf[i].digit &&
          x.dtmf[i].duration_ms == y.dtmf[i].duration_ms);
  Check(a.sources.size() == b.sources.size());
  for (size_t s = 0; s < a.sources.size(); ++s) {
    const auto &p = a.sources[s].segments, &q = b.sources[s].segments;
    Check(a.sources[s].ssrc == b.sources[s].ssrc && p.size() == q.size());
    for (size_t k = 0; k < p.size(); ++k)
      Check(p[k].begin == q[k].begin && p[k].end == q[k].end &&
            p[k].payload_type == q[k].payload_type && p[k].clock_rate == q[k].clock_rate &&
            p[k].start_ts == q[k].start_ts && p[k].start_wall_ns == q[k].start_wall_ns);
  }
}

class Collect final : public FrameSink {
 public:
  Status Write(const int16_t* f, size_t n) override {
    frames.insert(frames.end(), f, f + 2 * n);
    return Status::Ok();
  }
  std::vector<int16_t> frames;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  const uint8_t flags = in.Byte();
  // The spool: two declared streams, then packets.
  std::string file = media::testing::SpoolV2Header();
  int64_t arrival = 1'800'000'000'000'000'000;
  Record(&file, 4, 0, arrival, "s0");
  Record(&file, 4, 1, arrival, "s1");
  uint16_t seq[2] = {static_cast<uint16_t>(in.U16()), 60000};
  uint32_t ts[2] = {in.U16() * 65536u, 0xfffff000u};
  static const uint8_t kPts[] = {0, 8, 9, 13, 101, 111, 96, 0};
  int packets = 0;
  while (in.n >= 5 && packets < 3000) {
    const uint8_t op = in.Byte();
    const int s = op & 1;
    arrival += int64_t{in.Byte()} * 500'000;  // 0..127 ms steps
    seq[s] = static_cast<uint16_t>(seq[s] + static_cast<int8_t>(in.Byte()));
    ts[s] += static_cast<uint32_t>(static_cast<int16_t>(in.U16()));
    const uint8_t pt = kPts[(op >> 1) & 7];
    const bool marker = op & 0x10;
    std::string rtp(12, '\0');
    rtp[0] = static_cast<char>(0x80);
    rtp[1] = static_cast<char>((marker ? 0x80 : 0) | pt);
    rtp[2] = static_cast<char>(seq[s] >> 8);
    rtp[3] = static_cast<char>(seq[s]);
    for (int i = 0; i < 4; ++i) rtp[4 + i] = static_cast<char>(ts[s] >> (24 - 8 * i));
    rtp[8] = static_cast<char>(s + 1);
    const size_t len = (op & 0x20) ? 160 : (op & 0x40) ? 4 : in.Byte() % 48;
    for (size_t i = 0; i < len; ++i) rtp.push_back(static_cast<char>(in.Byte()));
    const uint8_t kind = (op & 0xC0) == 0xC0 ? static_cast<uint8_t>(2 + (op & 0x20 ? 1 : 0)) : 1;
    Record(&file, kind, static_cast<uint16_t>(s), arrival, rtp);
    ++packets;
  }
  if (flags & 1) {  // a corrupted byte: the rest is a torn tail
    const size_t at = 16 + (static_cast<size_t>(flags) * 131) % (file.size() - 16);
    file[at] = static_cast<char>(file[at] ^ 0x5a);
  }
  // Read it back.
  Result<media::SpoolReader> reader = media::SpoolReader::FromBytes(file);
  Check(reader.ok());
  std::map<std::string, std::vector<media::SpoolRecord>> by_stream;
  media::SpoolRecord r;
  while (reader->Next(&r)) {
    Check(r.kind != media::spool::RecordKind::kStreamDeclaration || !r.stream.empty());
    if (r.kind != media::spool::RecordKind::kStreamDeclaration)
      by_stream[std::string(r.stream)].push_back(r);
  }
  Check(reader->tail().ok() || reader->ignored_bytes() > 0);
  // Reference and streaming, per stream.
  std::vector<StreamInfo> infos = {Info("s0"), Info("s1")};
  std::vector<StreamTimeline> want;
  std::vector<BuiltTimeline> built;
  int64_t first = 0, last = 0;
  for (const StreamInfo& info : infos) {
    const std::vector<media::SpoolRecord>& recs = by_stream[info.id];
    want.push_back(BuildTimeline(recs, info));
    TimelineBuilder b(info);
    for (const media::SpoolRecord& x : recs) b.Push(x);
    built.push_back(b.Finish());
    SameTimeline(want.back(), built.back().timeline);
    for (const media::SpoolRecord& x : recs) {
      if (first == 0 || x.arrival_ns < first) first = x.arrival_ns;
      last = std::max(last, x.arrival_ns);
    }
    // The replay hands on BuildTimeline's packets, in order.
    std::vector<size_t> next(want.back().sources.size(), 0);
    PacketOrderer replay(info, &built.back().plan, true, [&](const OrderedPacket& p) {
      const std::vector<TimedPacket>& ref = want.back().sources.at(p.source).packets;
      Check(p.index == next[p.source] && p.index < ref.size());
      const TimedPacket& q = ref[p.index];
      Check(p.packet.ext_seq == q.ext_seq && p.packet.ext_ts == q.ext_ts &&
            p.packet.lost_before == q.lost_before && p.packet.payload == q.payload);
      ++next[p.source];
    });
    for (const media::SpoolRecord& x : recs) replay.Push(x);
    replay.Finish();
    for (size_t s = 0; s < next.size(); ++s)
      Check(next[s] == want.back().sources[s].packets.size());
  }
  // Rendering, when the call is short enough to hold in memory here (≤ 10 min of arrivals and
  // of RTP time per segment: the reference allocates whole channels).
  if (last - first > 600'000'000'000) return 0;
  for (const StreamTimeline& t : want)
    for (const Source& s : t.sources)
      for (const Segment& g : s.segments)
        if (!s.packets.empty() && g.end > g.begin &&
            (s.packets[g.end - 1].ext_ts - g.start_ts) / g.clock_rate > 600)
          return 0;
  const int64_t hint = (flags & 2) ? first + 300'000'000 : 0;
  std::vector<RenderInput> ref_in;
  std::vector<StreamRenderInput> in2;
  for (size_t i = 0; i < infos.size(); ++i) {
    std::vector<std::pair<int64_t, int64_t>> muted;
    if (flags & 4) muted.emplace_back(first + 1'000'000'000, first + 1'500'000'000);
    ref_in.push_back(RenderInput{
        .info = &infos[i], .timeline = &want[i], .channel = static_cast<int>(i), .muted = muted});
    in2.push_back(StreamRenderInput{
        .info = &infos[i], .built = &built[i], .channel = static_cast<int>(i), .muted = muted});
  }
  const RenderedAudio ref = RenderChannels(ref_in, hint, codec::NewDecoder);
  auto push_all = [&](StreamRenderer* sr) {
    reader = media::SpoolReader::FromBytes(file);
    while (reader->Next(&r)) {
      if (r.kind == media::spool::RecordKind::kStreamDeclaration) continue;
      Check(sr->Push(r.stream == "s0" ? 0 : 1, r).ok());
    }
    Check(sr->Finish().ok());
  };
  StreamRenderer measure(in2, hint, codec::NewDecoder, nullptr);
  push_all(&measure);
  Collect sink;
  StreamRenderer render(in2, hint, codec::NewDecoder, &sink);
  push_all(&render);
  for (const std::string& w : render.warnings())  // a documented deviation (stream_renderer.h)
    if (w.find("more than 3 s") != std::string::npos) return 0;
  Check(measure.frames() == ref.frames() && render.frames() == ref.frames());
  Check(render.sample_rate() == ref.sample_rate && render.origin_ns() == ref.origin_ns);
  Check(sink.frames.size() == 2 * ref.left.size());
  for (size_t f = 0; f < ref.left.size(); ++f)
    Check(sink.frames[2 * f] == ref.left[f] && sink.frames[2 * f + 1] == ref.right[f]);
  return 0;
}

#include "recording/renderer.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "recording/internal/resample.h"

namespace callvault::recording {
namespace {

constexpr int kMaxConcealMs = 60;
constexpr int kMaxTrimMs = 100;

using DecoderMap = std::map<int, std::unique_ptr<codec::Decoder>>;  // PT → decoder

void MixInto(std::vector<int16_t>* channel, int64_t pos, const int16_t* data, size_t n) {
  if (channel->size() < static_cast<size_t>(pos) + n)
    channel->resize(static_cast<size_t>(pos) + n, 0);
  int16_t* dst = channel->data() + pos;
  for (size_t i = 0; i < n; ++i) {
    const int sum = dst[i] + data[i];
    dst[i] = static_cast<int16_t>(std::clamp(sum, -32768, 32767));
  }
}

// Decodes one segment at the decoder's rate.
std::vector<int16_t> DecodeSegment(const Source& src, const Segment& seg, codec::Decoder* dec,
                                   uint64_t* undecodable) {
  std::vector<int16_t> buf, tmp;
  const int64_t spu = dec->samples_per_rtp_unit_milli();
  const int max_conceal = dec->sample_rate() * kMaxConcealMs / 1000;
  int pending_loss = 0;
  for (size_t i = seg.begin; i < seg.end; ++i) {
    const TimedPacket& p = src.packets[i];
    pending_loss += p.lost_before;
    if (p.kind != PayloadKind::kAudio || p.payload_type != seg.payload_type) continue;
    const int64_t pos = (p.ext_ts - seg.start_ts) * spu / 1000;
    if (pos < 0) continue;
    if (pos > static_cast<int64_t>(buf.size())) {
      const int64_t missing = pos - static_cast<int64_t>(buf.size());
      if (pending_loss > 0)
        dec->Conceal(static_cast<int>(std::min<int64_t>(missing, max_conceal)), &buf);
      if (static_cast<int64_t>(buf.size()) > pos) buf.resize(static_cast<size_t>(pos));
      buf.resize(static_cast<size_t>(pos), 0);
    }
    tmp.clear();
    if (!dec->Decode(p.payload, &tmp).ok()) {
      ++*undecodable;
      pending_loss = 1;  // conceal its time like a lost packet
      continue;
    }
    pending_loss = 0;
    const size_t start = static_cast<size_t>(pos);
    const size_t overlap = std::min(tmp.size(), buf.size() - start);
    std::copy(tmp.begin(), tmp.begin() + overlap, buf.begin() + start);
    buf.insert(buf.end(), tmp.begin() + overlap, tmp.end());
  }
  return buf;
}

}  // namespace

RenderedAudio RenderChannels(const std::vector<RenderInput>& inputs, int64_t origin_hint_ns,
                             const DecoderFactory& factory) {
  RenderedAudio out;
  // Pass 1: the origin, and the output rate from one probe decoder per (input, payload type).
  // Decoders that cannot be made are reported once and their segments stay silent.
  std::vector<std::map<int, bool>> usable(inputs.size());  // PT → decodable
  int64_t origin = origin_hint_ns > 0 ? origin_hint_ns : INT64_MAX;
  int max_rate = 8000;
  for (size_t n = 0; n < inputs.size(); ++n) {
    const RenderInput& in = inputs[n];
    for (const Source& src : in.timeline->sources) {
      for (const Segment& seg : src.segments) {
        origin = std::min(origin, seg.start_wall_ns);
        if (seg.payload_type < 0 || usable[n].count(seg.payload_type)) continue;
        Result<std::unique_ptr<codec::Decoder>> dec =
            factory(ResolvePayloadType(*in.info, seg.payload_type));
        usable[n][seg.payload_type] = dec.ok();
        if (!dec.ok()) {
          out.warnings.push_back("stream " + in.info->id + ": payload type " +
                                 std::to_string(seg.payload_type) +
                                 " not decoded (silence): " + std::string(dec.status().message()));
          continue;
        }
        max_rate = std::max(max_rate, (*dec)->sample_rate());
      }
    }
  }
  out.sample_rate = max_rate > 8000 ? 16000 : 8000;
  out.origin_ns = origin == INT64_MAX ? 0 : origin;
  const int rate = out.sample_rate;
  const int64_t max_trim = rate * kMaxTrimMs / 1000;
  // Pass 2: per source (its own decoder state), decode, resample and place every segment.
  for (size_t n = 0; n < inputs.size(); ++n) {
    const RenderInput& in = inputs[n];
    for (const Source& src : in.timeline->sources) {
      DecoderMap decoders;
      int64_t source_end = INT64_MIN;
      for (const Segment& seg : src.segments) {
        if (seg.payload_type < 0 || !usable[n][seg.payload_type]) continue;
        std::unique_ptr<codec::Decoder>& dec = decoders[seg.payload_type];
        if (dec == nullptr) {
          Result<std::unique_ptr<codec::Decoder>> made =
              factory(ResolvePayloadType(*in.info, seg.payload_type));
          if (!made.ok()) continue;
          dec = std::move(made).value();
        }
        std::vector<int16_t> pcm = internal::Resample(
            DecodeSegment(src, seg, dec.get(), &out.undecodable), dec->sample_rate(), rate);
        int64_t pos = static_cast<int64_t>(
            std::llround(static_cast<double>(seg.start_wall_ns - out.origin_ns) * rate / 1e9));
        int64_t skip = pos < 0 ? -pos : 0;
        if (pos < source_end && source_end - pos <= max_trim)
          skip = std::max(skip, source_end - pos);
        if (skip >= static_cast<int64_t>(pcm.size())) continue;
        int16_t* data = pcm.data() + skip;
        const size_t count = pcm.size() - static_cast<size_t>(skip);
        const int64_t at = pos + skip;
        for (const auto& [start_ns, end_ns] : in.muted) {
          const int64_t a = static_cast<int64_t>(
              std::llround(static_cast<double>(start_ns - out.origin_ns) * rate / 1e9));
          const int64_t b = static_cast<int64_t>(
              std::llround(static_cast<double>(end_ns - out.origin_ns) * rate / 1e9));
          const int64_t from = std::max(a, at), to = std::min(b, at + static_cast<int64_t>(count));
          if (from < to) std::fill(data + (from - at), data + (to - at), int16_t{0});
        }
        if (in.channel != 1) MixInto(&out.left, at, data, count);
        if (in.channel != 0) MixInto(&out.right, at, data, count);
        source_end = std::max(source_end, at + static_cast<int64_t>(count));
      }
    }
  }
  const size_t frames = std::max(out.left.size(), out.right.size());
  out.left.resize(frames, 0);
  out.right.resize(frames, 0);
  if (out.undecodable > 0)
    out.warnings.push_back(std::to_string(out.undecodable) + " payloads could not be decoded");
  return out;
}

}  // namespace callvault::recording

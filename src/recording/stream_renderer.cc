#include "recording/stream_renderer.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>

#include "recording/internal/resample.h"
#include "recording/packet_orderer.h"

namespace callvault::recording {
namespace {

constexpr int kMaxConcealMs = 60;  // as renderer.cc
constexpr int kMaxTrimMs = 100;
// Decoded audio kept back per source: a later packet of the segment may still overwrite it.
constexpr int kHoldbackSeconds = 3;
// Frames mixed and written at a time (and the least worth a flush).
constexpr int64_t kFlushFrames = 8192;

int64_t ToFrames(int64_t wall_ns, int64_t origin_ns, int rate) {
  return static_cast<int64_t>(std::llround(static_cast<double>(wall_ns - origin_ns) * rate / 1e9));
}

uint64_t MixKey(size_t input, size_t source, size_t segment) {
  return static_cast<uint64_t>(input) << 48 | static_cast<uint64_t>(source) << 28 |
         static_cast<uint64_t>(segment);
}

}  // namespace

struct StreamRenderer::Input {
  StreamRenderInput in;
  size_t index = 0;
  std::map<int, bool> usable;                             // PT → a decoder can be made
  std::vector<std::pair<int64_t, int64_t>> muted_frames;  // [a, b) in output frames
  std::unique_ptr<PacketOrderer> orderer;
  std::vector<std::unique_ptr<Source>> sources;
};

// One source of one stream: decodes its segments in packet order and places them.
class StreamRenderer::Source {
 public:
  Source(StreamRenderer* r, Input* in, size_t index)
      : r_(r),
        in_(in),
        index_(index),
        segs_(in->in.built->timeline.sources[index].segments),
        packets_(index < in->in.built->source_packets.size() ? in->in.built->source_packets[index]
                                                             : 0) {
    // suffix_[k]: the earliest frame segments k.. can still write (their placement before the
    // trim, at least 0); INT64_MAX when none of them is rendered.
    suffix_.assign(segs_.size() + 1, INT64_MAX);
    for (size_t k = segs_.size(); k-- > 0;) {
      suffix_[k] = suffix_[k + 1];
      if (Renders(segs_[k]))
        suffix_[k] = std::min(suffix_[k], std::max<int64_t>(0, ToFrames(segs_[k].start_wall_ns,
                                                                        r_->origin_, r_->rate_)));
    }
    done_ = packets_ == 0 || segs_.empty();
  }

  bool Renders(const Segment& s) const {
    if (s.payload_type < 0) return false;
    auto it = in_->usable.find(s.payload_type);
    return it != in_->usable.end() && it->second;
  }

  // The earliest frame this source may still write.
  int64_t LowerBound() const {
    if (done_) return INT64_MAX;
    if (!started_) return suffix_[0];
    int64_t lb = suffix_[k_ + 1];
    if (rendering_) lb = std::min(lb, pos_ + std::max(produced_, skip_));
    return lb;
  }

  void OnPacket(size_t index, const TimedPacket& p) {
    if (done_) return;
    if (!started_) {
      started_ = true;
      k_ = 0;
      Begin();
    }
    while (k_ < segs_.size() && index >= segs_[k_].end) {
      End();
      ++k_;
      if (k_ < segs_.size()) Begin();
    }
    if (rendering_) Decode(p);
    if (index + 1 >= packets_) Close();
  }

  void Close() {
    if (done_) return;
    if (started_ && k_ < segs_.size()) End();
    done_ = true;
  }

 private:
  void Begin() {
    const Segment& seg = segs_[k_];
    rendering_ = false;
    if (!Renders(seg)) return;
    std::unique_ptr<codec::Decoder>& dec = decoders_[seg.payload_type];
    if (dec == nullptr) {
      Result<std::unique_ptr<codec::Decoder>> made =
          r_->factory_(ResolvePayloadType(*in_->in.info, seg.payload_type));
      if (!made.ok()) return;
      dec = std::move(made).value();
    }
    dec_ = dec.get();
    rendering_ = true;
    spu_ = dec_->samples_per_rtp_unit_milli();
    max_conceal_ = dec_->sample_rate() * kMaxConcealMs / 1000;
    holdback_ = static_cast<size_t>(dec_->sample_rate()) * kHoldbackSeconds;
    buf_.clear();
    base_ = 0;
    pending_loss_ = 0;
    resampler_ = std::make_unique<internal::StreamResampler>(dec_->sample_rate(), r_->rate_);
    pos_ = ToFrames(seg.start_wall_ns, r_->origin_, r_->rate_);
    skip_ = pos_ < 0 ? -pos_ : 0;
    const int64_t max_trim = r_->rate_ * kMaxTrimMs / 1000;
    if (pos_ < source_end_ && source_end_ - pos_ <= max_trim)
      skip_ = std::max(skip_, source_end_ - pos_);
    produced_ = 0;
  }

  void Decode(const TimedPacket& p) {
    const Segment& seg = segs_[k_];
    pending_loss_ += p.lost_before;
    if (p.kind != PayloadKind::kAudio || p.payload_type != seg.payload_type) return;
    const int64_t pos = (p.ext_ts - seg.start_ts) * spu_ / 1000;
    if (pos < 0) return;
    if (pos > Total()) {
      const int64_t missing = pos - Total();
      if (pending_loss_ > 0)
        dec_->Conceal(static_cast<int>(std::min<int64_t>(missing, max_conceal_)), &buf_);
      if (Total() > pos) buf_.resize(static_cast<size_t>(pos - base_));
      buf_.resize(static_cast<size_t>(pos - base_), 0);
    }
    tmp_.clear();
    if (!dec_->Decode(p.payload, &tmp_).ok()) {
      ++r_->undecodable_;
      pending_loss_ = 1;  // conceal its time like a lost packet
      return;
    }
    pending_loss_ = 0;
    size_t from = 0;  // samples of tmp_ that land before base_ were written already
    int64_t start = pos;
    if (start < base_) {
      from =
          static_cast<size_t>(std::min<int64_t>(base_ - start, static_cast<int64_t>(tmp_.size())));
      r_->overwrites_lost_ += from;
      start = base_;
    }
    const size_t at = static_cast<size_t>(start - base_);
    const size_t overlap = std::min(tmp_.size() - from, buf_.size() - std::min(at, buf_.size()));
    std::copy(tmp_.begin() + static_cast<long>(from),
              tmp_.begin() + static_cast<long>(from + overlap),
              buf_.begin() + static_cast<long>(at));
    buf_.insert(buf_.end(), tmp_.begin() + static_cast<long>(from + overlap), tmp_.end());
    if (buf_.size() >= 2 * holdback_) Release(buf_.size() - holdback_);
  }

  int64_t Total() const { return base_ + static_cast<int64_t>(buf_.size()); }

  // Hands the first n decoded samples on to the resampler and places its output.
  void Release(size_t n) {
    out_.clear();
    resampler_->Push(buf_.data(), n, &out_);
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<long>(n));
    base_ += static_cast<int64_t>(n);
    Place();
  }

  void Place() {
    const int64_t first = produced_;
    produced_ += static_cast<int64_t>(out_.size());
    int64_t from = std::max(first, skip_);  // output index of the first sample placed
    if (from >= produced_) return;
    int16_t* data = out_.data() + (from - first);
    const int64_t count = produced_ - from;
    const int64_t at = pos_ + from;
    for (const auto& [a, b] : in_->muted_frames) {
      const int64_t lo = std::max(a, at), hi = std::min(b, at + count);
      if (lo < hi) std::fill(data + (lo - at), data + (hi - at), int16_t{0});
    }
    r_->Add(MixKey(in_->index, index_, k_), at, data, static_cast<size_t>(count), in_->in.channel);
  }

  void End() {
    if (!rendering_) return;
    out_.clear();
    resampler_->Push(buf_.data(), buf_.size(), &out_);
    resampler_->Finish(&out_);
    buf_.clear();
    Place();
    if (produced_ > skip_) source_end_ = std::max(source_end_, pos_ + produced_);
    resampler_.reset();
    rendering_ = false;
  }

  StreamRenderer* const r_;
  Input* const in_;
  const size_t index_;
  const std::vector<Segment>& segs_;
  const size_t packets_;
  std::vector<int64_t> suffix_;
  std::map<int, std::unique_ptr<codec::Decoder>> decoders_;  // PT → decoder (its own state)
  bool started_ = false, done_ = false, rendering_ = false;
  size_t k_ = 0;  // current segment
  codec::Decoder* dec_ = nullptr;
  int64_t spu_ = 1000;
  int max_conceal_ = 0;
  size_t holdback_ = 0;
  std::vector<int16_t> buf_, tmp_, out_;
  int64_t base_ = 0;  // decoded samples of the segment already released
  int pending_loss_ = 0;
  std::unique_ptr<internal::StreamResampler> resampler_;
  int64_t pos_ = 0, skip_ = 0, produced_ = 0;
  int64_t source_end_ = INT64_MIN;
};

StreamRenderer::StreamRenderer(std::vector<StreamRenderInput> inputs, int64_t origin_hint_ns,
                               const DecoderFactory& factory, FrameSink* sink)
    : factory_(factory), sink_(sink) {
  // As RenderChannels: the origin, and the output rate from one probe decoder per (input,
  // payload type); decoders that cannot be made are reported once and stay silent.
  int64_t origin = origin_hint_ns > 0 ? origin_hint_ns : INT64_MAX;
  int max_rate = 8000;
  for (size_t n = 0; n < inputs.size(); ++n) {
    auto input = std::make_unique<Input>();
    input->in = std::move(inputs[n]);
    input->index = n;
    for (const recording::Source& src : input->in.built->timeline.sources) {
      for (const Segment& seg : src.segments) {
        origin = std::min(origin, seg.start_wall_ns);
        if (seg.payload_type < 0 || input->usable.count(seg.payload_type)) continue;
        Result<std::unique_ptr<codec::Decoder>> dec =
            factory_(ResolvePayloadType(*input->in.info, seg.payload_type));
        input->usable[seg.payload_type] = dec.ok();
        if (!dec.ok()) {
          setup_warnings_.push_back("stream " + input->in.info->id + ": payload type " +
                                    std::to_string(seg.payload_type) + " not decoded (silence): " +
                                    std::string(dec.status().message()));
          continue;
        }
        max_rate = std::max(max_rate, (*dec)->sample_rate());
      }
    }
    inputs_.push_back(std::move(input));
  }
  rate_ = max_rate > 8000 ? 16000 : 8000;
  origin_ = origin == INT64_MAX ? 0 : origin;
  for (auto& input : inputs_) {
    Input* in = input.get();
    for (const auto& [start_ns, end_ns] : in->in.muted)
      in->muted_frames.emplace_back(ToFrames(start_ns, origin_, rate_),
                                    ToFrames(end_ns, origin_, rate_));
    for (size_t s = 0; s < in->in.built->timeline.sources.size(); ++s)
      in->sources.push_back(std::make_unique<Source>(this, in, s));
    in->orderer =
        std::make_unique<PacketOrderer>(*in->in.info, &in->in.built->plan,
                                        /*keep_audio_payloads=*/true, [in](const OrderedPacket& p) {
                                          if (p.source < in->sources.size())
                                            in->sources[p.source]->OnPacket(p.index, p.packet);
                                        });
  }
}

StreamRenderer::~StreamRenderer() = default;

Status StreamRenderer::Push(size_t input, const media::SpoolRecord& r) {
  if (input >= inputs_.size() || r.kind == media::spool::RecordKind::kStreamDeclaration)
    return Status::Ok();
  inputs_[input]->orderer->Push(r);
  return MaybeFlush();
}

Status StreamRenderer::Finish() {
  for (auto& in : inputs_) {
    in->orderer->Finish();
    for (auto& s : in->sources) s->Close();
  }
  CV_RETURN_IF_ERROR(Flush(max_end_));
  return sink_status_;
}

void StreamRenderer::Add(uint64_t key, int64_t pos, const int16_t* data, size_t n, int channel) {
  if (n == 0) return;
  max_end_ = std::max(max_end_, pos + static_cast<int64_t>(n));
  if (sink_ == nullptr) return;  // measuring
  if (pos < flushed_) {          // before frames already written: cannot be mixed any more
    const size_t drop =
        static_cast<size_t>(std::min<int64_t>(flushed_ - pos, static_cast<int64_t>(n)));
    frames_dropped_ += drop;
    data += drop;
    n -= drop;
    pos += static_cast<int64_t>(drop);
    if (n == 0) return;
  }
  // The producer's last chunk: extended when this continues it.
  auto open =
      std::find_if(open_.begin(), open_.end(), [&](const auto& o) { return o.first == key; });
  if (open != open_.end()) {
    Chunk& c = chunks_[open->second];
    if (c.pos + static_cast<int64_t>(c.data.size()) == pos) {
      c.data.insert(c.data.end(), data, data + n);
      return;
    }
  }
  chunks_.push_back(Chunk{.key = key,
                          .pos = pos,
                          .left = channel != 1,
                          .right = channel != 0,
                          .data = std::vector<int16_t>(data, data + n)});
  if (open != open_.end()) {
    open->second = chunks_.size() - 1;
  } else {
    open_.emplace_back(key, chunks_.size() - 1);
  }
}

Status StreamRenderer::MaybeFlush() {
  if (sink_ == nullptr) return Status::Ok();
  int64_t lb = INT64_MAX;
  for (auto& in : inputs_)
    for (auto& s : in->sources) lb = std::min(lb, s->LowerBound());
  const int64_t upto = std::min(lb, max_end_);
  peak_pending_ = std::max(peak_pending_, max_end_ - flushed_);
  if (upto - flushed_ < kFlushFrames) return Status::Ok();
  return Flush(upto);
}

Status StreamRenderer::Flush(int64_t upto) {
  if (sink_ == nullptr || upto <= flushed_) return Status::Ok();
  std::stable_sort(chunks_.begin(), chunks_.end(),
                   [](const Chunk& a, const Chunk& b) { return a.key < b.key; });
  open_.clear();
  std::vector<int16_t> left, right, frames;
  while (flushed_ < upto) {
    const int64_t a = flushed_, b = std::min(upto, a + kFlushFrames);
    const size_t n = static_cast<size_t>(b - a);
    left.assign(n, 0);
    right.assign(n, 0);
    for (const Chunk& c : chunks_) {
      const int64_t lo = std::max(a, c.pos);
      const int64_t hi = std::min(b, c.pos + static_cast<int64_t>(c.data.size()));
      for (int64_t f = lo; f < hi; ++f) {
        const int v = c.data[static_cast<size_t>(f - c.pos)];
        if (c.left) {
          int16_t& d = left[static_cast<size_t>(f - a)];
          d = static_cast<int16_t>(std::clamp(d + v, -32768, 32767));
        }
        if (c.right) {
          int16_t& d = right[static_cast<size_t>(f - a)];
          d = static_cast<int16_t>(std::clamp(d + v, -32768, 32767));
        }
      }
    }
    frames.resize(2 * n);
    for (size_t i = 0; i < n; ++i) {
      frames[2 * i] = left[i];
      frames[2 * i + 1] = right[i];
    }
    if (Status s = sink_->Write(frames.data(), n); !s.ok()) {
      sink_status_ = s;
      return s;
    }
    flushed_ = b;
  }
  // Keep what lies beyond the written frames.
  std::vector<Chunk> kept;
  for (Chunk& c : chunks_) {
    const int64_t end = c.pos + static_cast<int64_t>(c.data.size());
    if (end <= flushed_) continue;
    if (c.pos < flushed_) {
      c.data.erase(c.data.begin(), c.data.begin() + (flushed_ - c.pos));
      c.pos = flushed_;
    }
    kept.push_back(std::move(c));
  }
  chunks_ = std::move(kept);
  return Status::Ok();
}

std::vector<std::string> StreamRenderer::warnings() const {
  std::vector<std::string> w = setup_warnings_;
  if (undecodable_ > 0)
    w.push_back(std::to_string(undecodable_) + " payloads could not be decoded");
  if (overwrites_lost_ > 0)
    w.push_back(std::to_string(overwrites_lost_) +
                " decoded samples came more than 3 s after later audio of their segment and were "
                "not mixed in");
  if (frames_dropped_ > 0)
    w.push_back(std::to_string(frames_dropped_) + " frames arrived after their place was written");
  return w;
}

}  // namespace callvault::recording

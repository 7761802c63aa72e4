// StreamRenderer: the streaming form of RenderChannels (renderer.h explains the method) — the
// finalizer's second pass. Each stream's spool records are replayed through a PacketOrderer with
// the OrderPlan of pass 1 (timeline_builder.h); each source decodes the segments pass 1 found,
// converts them to the output rate and lays them on the call's timeline; the stereo frames go to a
// FrameSink (audio_writer.h) in order as soon as nothing can still be added before them. Memory is
// bounded independently of the call's length: per source ~3 s of decoded audio (a later packet may
// still overwrite it, as in the in-memory renderer) and the frames between the slowest source and
// the fastest (normally ~1 s). Output equals RenderChannels' frame for frame (a differential test
// checks it): contributions to a frame are mixed in the same order (stream, source, segment).
//
// Deviations from the in-memory renderer are possible only for input no sender produces — a
// packet that rewrites audio more than 3 s back within a segment — and are counted in a warning,
// never silent.
//
// Who calls it: recording/finalizer.cc, tests, bench.
// Thread-safety: a value used by one thread at a time; the factory is called on that thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "media/spool_reader.h"
#include "recording/audio_writer.h"
#include "recording/renderer.h"
#include "recording/timeline_builder.h"

namespace callvault::recording {

struct StreamRenderInput {
  const StreamInfo* info = nullptr;                // REQUIRES: non-null, outlives the renderer
  const BuiltTimeline* built = nullptr;            // pass 1's result for this stream; same lifetime
  int channel = 0;                                 // 0 = left, 1 = right, -1 = both
  std::vector<std::pair<int64_t, int64_t>> muted;  // wall-clock [start, end) rendered silent
};

class StreamRenderer {
 public:
  // Decides the origin and the output rate from pass 1's segments, as RenderChannels does.
  // `sink` null: a measuring pass — everything is decoded and placed but no frame is mixed or
  // kept; frames() then tells the file's length (the WAV header needs it before the first frame).
  StreamRenderer(std::vector<StreamRenderInput> inputs, int64_t origin_hint_ns,
                 const DecoderFactory& factory, FrameSink* sink);
  ~StreamRenderer();
  StreamRenderer(const StreamRenderer&) = delete;
  StreamRenderer& operator=(const StreamRenderer&) = delete;

  int sample_rate() const { return rate_; }
  int64_t origin_ns() const { return origin_; }

  // The next record of input `input` (each input's records in its file order; inputs interleaved
  // by arrival). Returns the sink's error, if any.
  [[nodiscard]] Status Push(size_t input, const media::SpoolRecord& r);
  // After the last record: renders what is left and writes every remaining frame.
  [[nodiscard]] Status Finish();

  // After Finish().
  int64_t frames() const { return max_end_; }
  uint64_t undecodable() const { return undecodable_; }
  std::vector<std::string> warnings() const;

  // The most frames held for mixing at once (memory accounting for tests and the benchmark).
  int64_t peak_pending_frames() const { return peak_pending_; }

 private:
  class Source;
  struct Input;
  struct Chunk {
    uint64_t key = 0;  // (input, source, segment): the mixing order
    int64_t pos = 0;   // frame of data[0]
    bool left = false, right = false;
    std::vector<int16_t> data;
  };
  friend class Source;
  void Add(uint64_t key, int64_t pos, const int16_t* data, size_t n, int channel);
  [[nodiscard]] Status Flush(int64_t upto);
  [[nodiscard]] Status MaybeFlush();

  std::vector<std::unique_ptr<Input>> inputs_;
  const DecoderFactory factory_;
  FrameSink* const sink_;
  int rate_ = 8000;
  int64_t origin_ = 0;
  std::vector<std::string> setup_warnings_;
  uint64_t undecodable_ = 0;
  uint64_t overwrites_lost_ = 0;  // decoded samples that came too late to overwrite
  uint64_t frames_dropped_ = 0;   // placed before frames already written (should never happen)

  std::vector<Chunk> chunks_;
  std::vector<std::pair<uint64_t, size_t>> open_;  // key → index of its last chunk in chunks_
  int64_t flushed_ = 0;                            // frames handed to the sink
  int64_t max_end_ = 0;                            // end of the furthest contribution
  int64_t peak_pending_ = 0;
  Status sink_status_;
};

}  // namespace callvault::recording

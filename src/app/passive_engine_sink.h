// PassiveEngineSink: where passive capture's routed media goes — each captured RTP/RTCP
// datagram of a followed stream into that stream's passive MediaEngine stream
// (MediaEngine::Inject), which records it exactly as a received one. The engine's target is
// looked up once per stream and cached, not per packet.
//
// Called by: passive::MediaRouter on the capture thread (app/passive_stack.cc wires it;
// bench/passive_engine_bench.cc measures it). Thread-safety: capture thread only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>

#include "media/media_engine.h"
#include "passive/media_router.h"

namespace callvault::app {

class PassiveEngineSink final : public passive::PassiveMediaSink {
 public:
  // REQUIRES: media outlives the sink.
  explicit PassiveEngineSink(media::MediaEngine* media) : media_(media) {}

  void OnMedia(const std::string& call_id, const std::string& stream_id, int64_t ts_ns,
               std::span<const uint8_t> datagram) override;
  void OnUnbound(const std::string& call_id, const std::string& stream_id) override;

  // Datagrams for a stream the engine does not have open (it ended meanwhile).
  uint64_t not_open() const { return not_open_; }

 private:
  media::MediaEngine* const media_;
  std::unordered_map<std::string, media::InjectTarget> targets_;  // "<call>/<stream>"
  uint64_t not_open_ = 0;
};

}  // namespace callvault::app

#include "app/passive_engine_sink.h"

namespace callvault::app {

void PassiveEngineSink::OnMedia(const std::string& call_id, const std::string& stream_id,
                                int64_t ts_ns, std::span<const uint8_t> datagram) {
  const std::string key = call_id + '/' + stream_id;
  auto it = targets_.find(key);
  if (it == targets_.end()) {
    Result<media::InjectTarget> t = media_->PassiveTarget(call_id, stream_id);
    if (!t.ok()) {
      ++not_open_;
      return;
    }
    it = targets_.emplace(key, *t).first;
  }
  media_->Inject(it->second, ts_ns, datagram);
}

void PassiveEngineSink::OnUnbound(const std::string& call_id, const std::string& stream_id) {
  targets_.erase(call_id + '/' + stream_id);
}

}  // namespace callvault::app

#include "waveform/cache.h"

namespace callvault::waveform {

size_t WaveformCache::SizeOf(const Peaks& p) {
  return sizeof(Peaks) +
         2 * sizeof(float) * static_cast<size_t>(p.channels) * static_cast<size_t>(p.points);
}

size_t WaveformCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}
size_t WaveformCache::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}
uint64_t WaveformCache::computed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return computed_;
}

void WaveformCache::Insert(const std::string& key, std::shared_ptr<const Peaks> peaks) {
  const size_t size = SizeOf(*peaks);
  if (size > options_.max_bytes) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (index_.count(key)) return;  // computed twice at once: the first one stays
  lru_.emplace_front(key, std::move(peaks));
  index_[key] = lru_.begin();
  bytes_ += size;
  while (bytes_ > options_.max_bytes && !lru_.empty()) {
    bytes_ -= SizeOf(*lru_.back().second);
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

Result<std::shared_ptr<const Peaks>> WaveformCache::Get(const std::string& sha256, int points,
                                                        const OpenFn& open) {
  const std::string key = sha256.empty() ? "" : sha256 + ":" + std::to_string(points);
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!key.empty()) {
      if (auto it = index_.find(key); it != index_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second);  // most recently used
        return it->second->second;
      }
    }
    if (!slot_free_.wait_for(lock, options_.wait,
                             [&] { return running_ < options_.max_concurrent; }))
      return UnavailableError("waveform: " + std::to_string(options_.max_concurrent) +
                              " waveforms are being computed; try again");
    ++running_;
    ++computed_;
  }
  struct Release {
    WaveformCache* c;
    ~Release() {
      {
        std::lock_guard<std::mutex> lock(c->mu_);
        --c->running_;
      }
      c->slot_free_.notify_one();
    }
  } release{this};
  CV_ASSIGN_OR_RETURN(std::unique_ptr<storage::AudioReader> reader, open());
  CV_ASSIGN_OR_RETURN(Peaks peaks, ComputePeaks(*reader, points));
  auto shared = std::make_shared<const Peaks>(std::move(peaks));
  if (!key.empty()) Insert(key, shared);
  return shared;
}

}  // namespace callvault::waveform

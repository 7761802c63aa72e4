#include "media/port_pool.h"

#include <string>

namespace callvault::media {
namespace {

size_t Pairs(uint32_t first, uint32_t port_max) {
  return port_max >= first + 1 ? (port_max - first - 1) / 2 + 1 : 0;
}

}  // namespace

PortPool::PortPool(uint16_t port_min, uint16_t port_max)
    : first_(static_cast<uint16_t>(port_min + (port_min & 1))),
      used_size_(Pairs(port_min + (port_min & 1u), port_max)),
      used_(used_size_, false),
      free_(used_size_) {}

Result<uint16_t> PortPool::Allocate(const std::function<Status(uint16_t)>& try_bind) {
  std::vector<size_t> refused;
  Result<uint16_t> result = ResourceExhaustedError("allocating RTP port: no free port");
  for (;;) {
    size_t slot;
    {
      MutexLock lock(&mu_);
      if (free_ == 0) break;
      slot = next_;
      while (used_[slot]) slot = (slot + 1) % used_size_;
      used_[slot] = true;
      --free_;
      next_ = (slot + 1) % used_size_;
    }
    const uint16_t port = static_cast<uint16_t>(first_ + 2 * slot);
    Status s = try_bind(port);
    if (s.ok()) {
      result = port;
      break;
    }
    refused.push_back(slot);
    if (s.code() != StatusCode::kAlreadyExists) {
      result = s;
      break;
    }
    result = ResourceExhaustedError("allocating RTP port: every free port refused, last " +
                                    std::to_string(port) + ": " + std::string(s.message()));
  }
  MutexLock lock(&mu_);
  for (size_t slot : refused) {
    used_[slot] = false;
    ++free_;
  }
  return result;
}

void PortPool::Release(uint16_t rtp_port) {
  if (rtp_port < first_ || (rtp_port - first_) % 2 != 0) return;
  const size_t slot = (rtp_port - first_) / 2;
  MutexLock lock(&mu_);
  if (slot >= used_size_ || !used_[slot]) return;
  used_[slot] = false;
  ++free_;
}

size_t PortPool::free_count() const {
  MutexLock lock(&mu_);
  return free_;
}

}  // namespace callvault::media

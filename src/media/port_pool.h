// PortPool: the even RTP ports of [port_min, port_max] (RTCP on RTP + 1, RFC 3550 §11), handed out
// round-robin so a just-released port is reused as late as possible (late packets of an ended
// call do not land in a new one).
//
// Allocate() takes a `try_bind` callback that binds the pair; a port the OS refuses
// (AlreadyExists, which the engine returns for EADDRINUSE) is skipped and stays free for later
// (another process may release it). free_count() is what recorder admission reads to refuse new
// calls with 503 before the pool runs dry.
//
// Who calls it: MediaEngine (OpenStream/CloseStream), admission via MediaEngine::free_ports().
// Thread-safety: thread-safe. `try_bind` runs without the pool's lock held.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"

namespace callvault::media {

class PortPool {
 public:
  // Pairs (p, p+1) with p even, port_min <= p and p+1 <= port_max. An odd port_min is rounded
  // up. REQUIRES: port_min >= 1 (validated by MediaEngine).
  PortPool(uint16_t port_min, uint16_t port_max);

  // Returns the first free port p for which `try_bind(p)` is OK, marked used. Ports for which it
  // returns AlreadyExists are skipped; any other error is returned at once. ResourceExhausted
  // when no port is free or every free port was refused.
  Result<uint16_t> Allocate(const std::function<Status(uint16_t rtp_port)>& try_bind) EXCLUDES(mu_);
  // Marks an allocated port free again (a port not allocated is ignored).
  void Release(uint16_t rtp_port) EXCLUDES(mu_);

  size_t free_count() const EXCLUDES(mu_);
  size_t capacity() const { return used_size_; }

 private:
  const uint16_t first_;    // lowest even port
  const size_t used_size_;  // number of pairs
  mutable Mutex mu_;
  std::vector<bool> used_ GUARDED_BY(mu_);
  size_t free_ GUARDED_BY(mu_);
  size_t next_ GUARDED_BY(mu_) = 0;  // round-robin cursor
};

}  // namespace callvault::media

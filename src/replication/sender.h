// Sender: pushes finished calls to one peer. The finalizer puts every call recorded here into
// the peer's outbox queue (`peer.<id>`, protocol.h PeerQueueName); an outbox::Drainer hands the
// oldest entries here, and an entry is removed only once the peer answered that the call is
// durable there (DESIGN.md rule 2). Per call:
//
//   tombstoned here → dropped; the peer says have → done, deleted → dropped;
//   else audio from the peer's offset (a cut or a kill -9 on either side resumes there), then
//   the manifest (commit); a 422 mismatch resends from 0 once, then waits for the next round.
//   A peer sharing the S3 bucket (shared_bucket) gets a call whose audio was moved there as its
//   manifest and the location alone: the relocator queues it after the copy was verified.
//
// The peer down, refusing, or full: the entries stay and the drainer backs off (doubling to
// max_backoff) and retries until the link returns. Transfers run on up to `parallel` threads at
// a lower CPU priority than recording (nice +10), at most `max_bytes_per_s` each, and only while
// the schedule's window is open (a window closing lets the files in flight finish).
//
// Metrics, labelled peer: backlog and lag (the outbox gauges of queue peer.<id>),
// callvault_replication_sent_bytes_total, callvault_replication_sent_calls_total,
// callvault_replication_errors_total{kind}, callvault_replication_window_open,
// callvault_replication_peer_up.
//
// Called by: app/ (Start/Stop/SetSchedule/RetryNow), tests (RunOnce through drainer()).
// Thread-safety: Start/Stop from one thread; the rest from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/fs.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "outbox/drainer.h"
#include "outbox/outbox.h"
#include "replication/call_index.h"
#include "replication/peer_client.h"
#include "replication/schedule.h"

namespace callvault::replication {

struct SenderOptions {
  std::string recordings_dir;  // manifests in entries are relative to it. Required.
  Schedule schedule;           // default: continuous
  int parallel = 2;            // transfers at once (threads)
  int batch = 16;              // entries per drainer round
  std::chrono::milliseconds first_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
  bool lower_priority = true;  // nice +10 for transfer threads
  // The peer uses the S3 bucket this node moves audio to: a call whose audio is there (the
  // entry's or the manifest's location) goes as its manifest alone (commit with the location).
  bool shared_bucket = false;
};

class Sender {
 public:
  // REQUIRES: the peer's queue is open in `outbox`; everything outlives the sender;
  // `tombstones` (calls deleted in the cluster) and `metrics` may be null.
  Sender(SenderOptions options, PeerClientOptions peer, outbox::Outbox* outbox, Fs* fs,
         const Clock* clock, const CallIndex* tombstones, Registry* metrics);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  void Start();
  void Stop();
  // A new schedule (SIGHUP); takes effect at the next round.
  void SetSchedule(Schedule schedule) EXCLUDES(mu_);
  // A new url, rate cap or TLS files for the peer (SIGHUP); transfers in flight finish on the
  // old connection.
  void SetPeer(PeerClientOptions peer) EXCLUDES(mu_);
  // Ends a backoff (the peer is back, the operator asked).
  void RetryNow() { drainer_->RetryNow(); }

  const std::string& peer_id() const { return peer_id_; }
  std::string queue() const;
  bool window_open() const;
  bool peer_up() const { return peer_up_.load(); }
  uint64_t sent_bytes() const { return sent_bytes_.load(); }
  uint64_t sent_calls() const { return sent_calls_.load(); }
  outbox::Drainer* drainer() { return drainer_.get(); }
  std::shared_ptr<PeerClient> client() const EXCLUDES(mu_);

 private:
  Status ApplyBatch(std::vector<outbox::Delivery>& batch);
  // One call; sets the delivery's outcome. An error: the peer is unreachable or refusing.
  Status Transfer(outbox::Delivery& d);
  void CountError(std::string_view kind);

  const SenderOptions options_;
  const std::string peer_id_;
  outbox::Outbox* const outbox_;
  Fs* const fs_;
  const Clock* const clock_;
  const CallIndex* const tombstones_;
  std::unique_ptr<outbox::Drainer> drainer_;
  mutable Mutex mu_;
  Schedule schedule_ GUARDED_BY(mu_);
  std::shared_ptr<PeerClient> client_ GUARDED_BY(mu_);
  std::atomic<bool> peer_up_{false};
  std::atomic<uint64_t> sent_bytes_{0}, sent_calls_{0};
  Counter* bytes_total_ = nullptr;
  Counter* calls_total_ = nullptr;
  std::optional<Family<Counter>> errors_;
  Gauge* window_gauge_ = nullptr;
  Gauge* up_gauge_ = nullptr;
};

}  // namespace callvault::replication

// Outbox: the node's durable queues of finished calls waiting for a consumer (DESIGN.md rule
// 2, docs/formats/outbox.md). One directory per queue under <data>/outbox: `catalog` (catalog
// ingest); relocation to S3 and one queue per replication peer come next. The finalizer Puts
// an entry into every configured queue before it marks the spool done; each queue's Drainer
// (drainer.h) hands entries to its consumer and removes them only once their effect is durable.
//
// Layout: <root>/<queue>/<bucket>/<call id>.json, where <bucket> is the first 8 hex digits of
// the call id (UUIDv7: its top 32 bits of milliseconds, ≈ 65.5 s of call starts per bucket).
// A queue for a peer that is offline for a day holds 10^5–10^6 entries: a drainer lists one
// bucket at a time, never the whole queue per round. Entries of the flat layout an earlier
// build wrote (<queue>/<call id>.json) are moved into their buckets when the queue is opened,
// and whenever a drainer finds one at the top (an operator moving a rejected entry back).
//
// Durability: Put returns OK only once the entry survives a crash (WriteFileDurably into a
// bucket directory whose name is durable too). Putting a call's entry again replaces it (the
// finalizer re-runs after a crash): a queue holds at most one entry per call.
//
// Called by: app/ (construction, OpenQueue at start), recording/ (the finalizer's Put),
// Drainer, consumers (Contains).
// Thread-safety: after every OpenQueue (one thread, before other threads use the outbox), all
// methods are thread-safe. Puts of different calls run in parallel; one call's entry in one
// queue must have one writer at a time (the finalizer's per-call claim guarantees it).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "outbox/entry.h"

namespace callvault::outbox {

inline constexpr char kRejectedDir[] = "rejected";
inline constexpr size_t kBucketChars = 8;

class Outbox {
 public:
  // `root` is <data>/outbox. REQUIRES: fs outlives the outbox; metrics may be null.
  Outbox(std::string root, Fs* fs, Registry* metrics);
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Creates the queue's directory (durably) and scans it once: counts the backlog, moves
  // flat-layout entries into their buckets, removes temp files a crashed Put left. The one
  // full scan of a queue; it happens at start-up only. Opening an open queue rescans it.
  // REQUIRES: no Put or drain on this queue runs meanwhile.
  [[nodiscard]] Status OpenQueue(const std::string& queue) EXCLUDES(mu_);

  // Registers a queue another process (the running server) owns, for Puts only: no scan, no
  // clean-up of that process's temp files; backlog() stays 0. For CLIs that queue work
  // (`callvault cluster backfill`): the owner's drainer finds the entries by polling.
  [[nodiscard]] Status AttachQueue(const std::string& queue) EXCLUDES(mu_);

  // Durably writes `entry` into `queue`. FailedPrecondition: the queue is not open;
  // InvalidArgument: the call id is not a UUID; Fs errors otherwise (nothing half-written
  // remains: the entry is either there in full or not at all).
  [[nodiscard]] Status Put(const std::string& queue, const Entry& entry);

  // Whether `queue` holds an entry for `call_id` (one stat).
  bool Contains(const std::string& queue, std::string_view call_id);

  // Entries waiting in `queue` (counted at OpenQueue, then kept up to date by Put and the
  // drainer); 0 for an unknown queue.
  int64_t backlog(const std::string& queue) const;

  bool IsOpen(const std::string& queue) const;
  Fs* fs() const { return fs_; }
  const std::string& root() const { return root_; }
  std::string QueueDir(const std::string& queue) const { return root_ + "/" + queue; }
  // <queue dir>/<bucket>/<call id>.json. REQUIRES: IsValidCallId(call_id).
  std::string EntryPath(const std::string& queue, std::string_view call_id) const;
  static std::string_view BucketOf(std::string_view call_id) {
    return call_id.substr(0, kBucketChars);
  }
  static bool IsBucketName(std::string_view name);

  // --- For the Drainer of a queue -------------------------------------------------------
  // `fn` is called after each successful Put into `queue` (on the Put's thread, no lock held).
  // One listener per queue; REQUIRES: set and cleared while no Put into it runs (the drainer
  // is made before the threads that Put start, and destroyed after they stopped). A listener
  // set before the queue is opened is attached when it is.
  void SetListener(const std::string& queue, std::function<void(std::string_view call_id)> fn);
  // The drainer removed or set aside `n` entries.
  void Removed(const std::string& queue, int64_t n);
  // Counts `queue`'s entries again (one listing of every bucket): entries another process put
  // (`callvault cluster backfill`) are not in the running count. The drainer calls it while
  // idle, at most once a minute.
  [[nodiscard]] Status Recount(const std::string& queue) EXCLUDES(mu_);
  // Creates <dir> (and missing parents) and makes each new name durable in its parent.
  [[nodiscard]] Status EnsureDir(const std::string& dir);
  // Moves a flat-layout entry <queue dir>/<name> into its bucket (durably). An entry already
  // in the bucket wins (it is the newer write); the flat one is removed.
  [[nodiscard]] Status AdoptFlatEntry(const std::string& queue, const std::string& name);

 private:
  struct Queue {
    std::string dir;
    std::atomic<int64_t> backlog{0};
    Gauge* backlog_gauge = nullptr;
    std::function<void(std::string_view)> listener;
  };
  Queue* Find(const std::string& queue) const EXCLUDES(mu_);
  void SetBacklog(Queue* q, int64_t value);

  const std::string root_;
  Fs* const fs_;
  Registry* const metrics_;
  mutable Mutex mu_;
  std::map<std::string, std::unique_ptr<Queue>, std::less<>> queues_ GUARDED_BY(mu_);
  std::map<std::string, std::function<void(std::string_view)>> early_listeners_ GUARDED_BY(mu_);
};

}  // namespace callvault::outbox

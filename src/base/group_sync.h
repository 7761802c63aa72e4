// GroupSync: group commit for small durable writes that someone waits on — the session log's
// decisions (a SIPREC call's `start` line before its 200 OK, re-INVITE/UPDATE changes, `end`).
// Callers append their bytes (handed to the kernel), then Submit() a request; one sync thread
// makes every request pending when a round starts durable together, so N concurrent decisions
// cost about one sync instead of N (issue 18: setup bursts).
//
// A round takes every pending request (all were written before the round started, so whatever
// the round syncs covers them) and:
//   - with at least `batch_min` requests: one Fs::SyncFilesystem (syncfs) per distinct `root`
//     (normally one: the spool root), which makes every file's data and every directory entry
//     on that filesystem durable. A root whose syncfs fails falls back to the per-request path
//     below for its requests (the kernel does not say which file failed; each file's own
//     fdatasync still reports its error, so the fallback blames exactly the failing ones);
//   - otherwise: each request's `sync` (fdatasync of its file), then each distinct directory of
//     the round's `dirs` once (a new call directory and the spool root holding it: one SyncDir
//     of the root covers every call directory created before it).
// Then each request's `done` gets its own outcome: OK only when its file and every directory it
// named were made durable by this round; the first error otherwise. A request is never released
// by a round that started before it was submitted, and a failure reaches only the requests the
// failed round covered.
//
// Who calls it: media::SessionLog (via recording::LocalBackend, which owns one per node).
// Thread-safety: thread-safe. `done` runs on the sync thread (or on the caller's thread, see
// Submit) and must not block: post the work elsewhere (the recorder posts to its worker).
// Start/Stop from one thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/fs.h"
#include "base/mutex.h"
#include "base/status.h"

namespace callvault {

struct GroupSyncOptions {
  // From this many requests in one round on, one Fs::SyncFilesystem per root replaces the
  // per-request syncs; 0 = never (always per request). Default: 8 (media.spool_batch_sync_min).
  size_t batch_min = 8;
};

class GroupSync {
 public:
  struct Request {
    // The filesystem to syncfs in a batched round (a directory on it: the spool root).
    std::string root;
    // Makes this request's own bytes durable (fdatasync of its file); may be empty (only
    // directories). Called on the sync thread, without GroupSync's lock.
    std::function<Status()> sync;
    // Directories whose entries must be durable too (a new file's directory and its parent).
    std::vector<std::string> dirs;
    // The outcome for this request, called exactly once. REQUIRES: set; must not block.
    std::function<void(Status)> done;
  };

  struct Stats {
    uint64_t rounds = 0;          // rounds run (on the thread or inline)
    uint64_t requests = 0;        // requests completed
    uint64_t batched_rounds = 0;  // rounds that used SyncFilesystem
    uint64_t failed = 0;          // requests completed with an error
  };

  // REQUIRES: `fs` outlives the GroupSync.
  explicit GroupSync(Fs* fs, GroupSyncOptions options = {});
  ~GroupSync();  // Stop()s
  GroupSync(const GroupSync&) = delete;
  GroupSync& operator=(const GroupSync&) = delete;

  // Starts the sync thread (named cv-group-sync).
  void Start() EXCLUDES(mu_);
  // Runs the requests still pending (a last round: none is dropped, none is failed for the
  // shutdown), joins the thread. Idempotent. Requests submitted later run inline.
  void Stop() EXCLUDES(mu_);

  // Queues `r` for the next round that starts. When the thread is not running (before Start,
  // after Stop), runs a round of just `r` on the caller's thread before returning.
  void Submit(Request r) EXCLUDES(mu_);
  // Submit() and wait for the outcome (r.done, if set, is called first).
  // REQUIRES: not called from a `done` (it would wait for a round its own thread must run).
  [[nodiscard]] Status Sync(Request r) EXCLUDES(mu_);

  Stats stats() const EXCLUDES(mu_);

 private:
  void Run() EXCLUDES(mu_);
  // One round over `batch`: the syncs, then every request's done.
  void RunRound(std::vector<Request>& batch) EXCLUDES(mu_);

  Fs* const fs_;
  const GroupSyncOptions options_;
  mutable Mutex mu_;
  std::condition_variable cv_;
  std::vector<Request> pending_ GUARDED_BY(mu_);
  bool running_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
  Stats stats_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace callvault

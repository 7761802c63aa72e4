// LocalBackend: siprec::RecordingBackend on one node — the call's spool directory and session
// log (media::SessionLog), its RTP streams (media::MediaEngine) and, when it ends, a hint to
// the FinalizeQueue. Once a call is acknowledged (its first SyncCall) the ActiveCallListener
// (app/ connects the catalog) is told it is active (a notice in memory, never waited on), and
// told again when its participants change; a call aborted after that is withdrawn. The `end`
// line carries the participants and metadata snapshots siprec/ parsed, so a restart before
// finalization loses nothing.
//
// Syncs go through one GroupSync (base/group_sync.h, thread cv-group-sync) owned by the
// backend: the session logs of concurrent calls are made durable together (group commit), so
// a burst of INVITEs costs about one sync per round instead of one per call. SyncCallAsync lets
// a recorder worker move on to the next INVITE while its call's decision is being synced.
//
// A full disk at the end of a call (issue 21): the `end` line the disk refused stays in the
// session log's memory (media::SessionLog keeps unwritten lines) and the log stays open here;
// SpoolPending(), which the FinalizeQueue asks before each attempt, retries it and also asks the
// media engine whether the call's spool records still wait for the disk. So a call that ended
// by BYE is finalized from a complete spool, as `completed`, once the disk takes writes again.
//
// Called by: siprec::Recorder workers; SpoolPending by FinalizeQueue workers. Thread-safety:
// thread-safe (calls are independent; the table of open session logs is guarded).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "base/clock.h"
#include "base/fs.h"
#include "base/group_sync.h"
#include "base/mutex.h"
#include "media/media_engine.h"
#include "media/session_log.h"
#include "recording/active_call.h"
#include "recording/finalize_queue.h"
#include "siprec/recording_backend.h"

namespace callvault::recording {

struct LocalBackendOptions {
  std::string spool_root;  // <data_dir>/spool
  std::string node_id;
  std::string advertise_ipv4;  // c= of answers to IPv4 offers ("" = none)
  std::string advertise_ipv6;  // c= of answers to IPv6 offers ("" = none)
  // Session-log syncs in one round from which one syncfs of the spool root replaces the
  // per-call fdatasyncs (GroupSyncOptions::batch_min; 0 = never). Default: 8.
  size_t sync_batch_min = 8;
};

class LocalBackend final : public siprec::RecordingBackend {
 public:
  // REQUIRES: every pointer outlives the backend; `listener` may be null (no catalog).
  // Starts the group-sync thread; the destructor completes what it still has and stops it.
  LocalBackend(LocalBackendOptions options, Fs* fs, const Clock* clock, media::MediaEngine* media,
               FinalizeQueue* finalizer, ActiveCallListener* listener = nullptr);
  ~LocalBackend() override;

  Status BeginCall(const siprec::CallStart& start) override EXCLUDES(mu_);
  Status LogEvent(const std::string& call_id, nlohmann::json event) override EXCLUDES(mu_);
  Status SyncCall(const std::string& call_id) override EXCLUDES(mu_);
  void SyncCallAsync(const std::string& call_id, std::function<void(Status)> done) override
      EXCLUDES(mu_);
  void AbortCall(const std::string& call_id) override EXCLUDES(mu_);
  Result<uint16_t> OpenStream(const siprec::StreamOpen& stream) override;
  Status SetPaused(const std::string& call_id, const std::string& stream_id, bool paused) override;
  Status UpdateSrtp(const std::string& call_id, const std::string& stream_id,
                    const std::string& suite, const std::string& key_base64) override;
  Status EndCall(const siprec::CallEnd& end) override EXCLUDES(mu_);
  size_t FreeStreams() const override;
  // True while the call's spool is not all on disk yet: its `end` line (retried now) or media
  // records (media::MediaEngine::SpoolPending). For FinalizeQueueOptions::spool_pending.
  bool SpoolPending(const std::string& call_id) EXCLUDES(mu_);
  GroupSync::Stats sync_stats() const { return group_.stats(); }
  std::string MediaAddressV4() const override { return options_.advertise_ipv4; }
  std::string MediaAddressV6() const override { return options_.advertise_ipv6; }

 private:
  std::string CallDir(const std::string& call_id) const;
  std::shared_ptr<media::SessionLog> Log(const std::string& call_id) EXCLUDES(mu_);
  std::shared_ptr<media::SessionLog> TakeLog(const std::string& call_id) EXCLUDES(mu_);
  // The call's first successful sync: the catalog may show it as active.
  void Announce(const std::string& call_id) EXCLUDES(mu_);

  // What the catalog is told about a call before its manifest exists.
  struct Announced {
    ActiveCallInfo call;
    bool sent = false;  // acknowledged and announced
  };

  const LocalBackendOptions options_;
  Fs* const fs_;
  const Clock* const clock_;
  media::MediaEngine* const media_;
  FinalizeQueue* const finalizer_;
  ActiveCallListener* const listener_;
  GroupSync group_;

  Mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<media::SessionLog>> logs_ GUARDED_BY(mu_);
  std::unordered_map<std::string, Announced> announced_ GUARDED_BY(mu_);
  // Ended calls whose `end` line the disk refused: kept open until it is written and synced.
  std::unordered_map<std::string, std::shared_ptr<media::SessionLog>> ending_ GUARDED_BY(mu_);
};

}  // namespace callvault::recording

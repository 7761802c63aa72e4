// Receiver: the receiving half of call replication, independent of the transport (peer_server.h
// maps HTTP onto it). A peer pushes a finished call as audio bytes, resumable at an offset, then
// its manifest; the receiver answers "stored" only once the call is as durable here as on a
// recording node:
//
//   1. audio → <recordings>/.incoming/<call id>.part (same filesystem as the recordings, so the
//      rename below is atomic), appended from the offset the peer asks for, fsync'd at the end
//      of each request (the offset a restart reports is never ahead of the disk); an upload
//      from offset 0 is hashed as it arrives;
//   2. commit: the manifest is read (recording::ParseManifest), the part's size and SHA-256 are
//      checked against it (a mismatch removes the part: DataLoss, the peer resends from 0);
//   3. the name: the manifest's `audio.file` when free here, else "_2", "_3"… (the finalizer's
//      rule, recording/claim.h): the part is renamed there only if nothing has that name
//      (Fs::RenameNoReplace), so a finalizer's claim or another call's audio is never replaced;
//   4. the manifest is written durably beside it (`audio.file` set to the name used here,
//      `node_id` stays the origin's); its directory sync also makes the audio's rename durable;
//   5. one outbox entry per configured queue (catalog ingest, relocation) and per relay peer;
//   6. the call goes into the `received` index (lazily: a lost note is found again from the
//      manifest): from now on Lookup says "have".
// Each step can run again after a crash: audio renamed but no manifest yet is recognised by its
// size and SHA-256 at the next commit; a commit of a call already received answers "have".
// Five fsyncs per call: the audio, the manifest and its directory, the outbox entry and its
// bucket.
// Shared bucket: a peer that moved the call to an S3 bucket this node uses too commits the
// manifest alone with the audio's location (Commit's `location`): steps 1–3 fall away.
// No database is involved: transfers work while the catalog is down on either side.
//
// Tombstones: a call deleted in the cluster is recorded in the `tombstones` index (by the change
// feed that applies deletions); its part is discarded, a commit of it answers "deleted", and
// Lookup says "deleted" so the sender drops its entry.
//
// Called by: PeerServer (one request per thread), ChangeFeed (tombstones), tests.
// Thread-safety: thread-safe. Requests for one call are serialized: a second upload or commit
// of a call that is being received gets Aborted ("busy").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "crypto/sha256.h"
#include "outbox/outbox.h"
#include "recording/manifest_reader.h"
#include "replication/call_index.h"
#include "replication/protocol.h"

namespace callvault::replication {

// The peers' queues a call received from `sender` (recorded on `origin`) is passed on to:
// peers with `relay`, never the origin or the sender.
using RelayQueuesFn =
    std::function<std::vector<std::string>(std::string_view origin, std::string_view sender)>;

struct ReceiverOptions {
  std::string node_id;         // this node. Required.
  std::string recordings_dir;  // Required.
  std::string state_dir;       // <data>/cluster: the `received` and `tombstones` indexes.
  // Outbox queues every received call is put into (REQUIRES: open): catalog ingest, and
  // relocation when this node moves audio to S3.
  std::vector<std::string> queues;
  RelayQueuesFn relay_queues;  // optional
  // Queues that need the audio on this node (relocation): a call committed without its audio
  // (in the shared bucket) skips them. Must also be listed in `queues`.
  std::vector<std::string> audio_queues;
  // "s3://<bucket>/": this node's S3 store (the location prefix its catalog records), "" when it
  // has none. A commit that names a location elsewhere is refused (not_shared_bucket).
  std::string shared_bucket;
  // An upload that would leave less than this free on the recordings' filesystem is refused
  // (ResourceExhausted → 507): the recorder's own spool needs the room. Default: 1 GiB.
  uint64_t min_free_bytes = uint64_t{1} << 30;
};

class Receiver {
 public:
  // REQUIRES: fs, outbox, clock outlive the receiver; metrics may be null.
  Receiver(ReceiverOptions options, Fs* fs, outbox::Outbox* outbox, const Clock* clock,
           Registry* metrics);
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // Creates the directories. Parts left by a crash stay: their senders resume them.
  [[nodiscard]] Status Open();

  // Where `call_id` stands here. `origin`: the node that recorded it; `audio_file`: its name
  // there. A call recorded here is "have" while its manifest is where the origin says (a node
  // restored from nothing gets its own calls back from its peers); a received call whose
  // manifest is there but which has no `received` note (a commit stopped between its manifest
  // and its outbox entries, or the lazy note lost) is "partial" at its full size, so that the
  // sender commits it again. InvalidArgument for a malformed call id.
  Result<CallStatus> Lookup(std::string_view call_id, std::string_view origin,
                            std::string_view audio_file = "") EXCLUDES(mu_);

  // An audio upload in progress; holds the call's lock until destroyed. Bytes are appended as
  // they come; Finish() makes them durable (also done, best effort, by the destructor: a cut
  // connection keeps what arrived).
  class Upload {
   public:
    ~Upload();
    [[nodiscard]] Status Append(std::string_view bytes);
    [[nodiscard]] Status Finish();
    uint64_t offset() const { return file_->size(); }

   private:
    friend class Receiver;
    Upload(Receiver* r, std::string call_id, std::unique_ptr<AppendableFile> file, bool hash)
        : receiver_(r), call_id_(std::move(call_id)), file_(std::move(file)) {
      if (hash) sha_ = std::make_unique<crypto::Sha256>();
    }
    Receiver* receiver_;
    std::string call_id_;
    std::unique_ptr<AppendableFile> file_;
    std::unique_ptr<crypto::Sha256> sha_;  // from offset 0 only
    bool finished_ = false;
  };

  // Starts appending at `offset` of a file of `total` bytes. FailedPrecondition (message
  // "offset_mismatch") when the part holds another number of bytes — Lookup says how many;
  // ResourceExhausted when the rest would not fit (min_free_bytes); Aborted when the call is
  // busy; FailedPrecondition "deleted" for a tombstoned call.
  Result<std::unique_ptr<Upload>> BeginUpload(std::string_view call_id, uint64_t offset,
                                              uint64_t total) EXCLUDES(mu_);

  struct CommitResult {
    Presence presence = Presence::kHave;  // kHave (stored now or before) | kDeleted (discarded)
    std::string audio_file;               // relative to the recordings directory ("" if deleted)
  };
  // Steps 2–6 above for the manifest `manifest_text` sent by peer `sender`. DataLoss when the
  // received audio does not match the manifest (the part is gone: resend from 0);
  // InvalidArgument for a manifest that is unusable or names another call; Aborted when busy.
  // `location` ("s3://bucket/key"): the call comes without its audio, which is in the bucket
  // this node shares with the sender — no part is needed, the manifest is written with
  // `audio.location` (the catalog records it on ingest) and `audio_queues` are skipped;
  // FailedPrecondition "not_shared_bucket" when the location is not in this node's bucket.
  Result<CommitResult> Commit(std::string_view call_id, std::string_view manifest_text,
                              std::string_view sender, std::string_view location = "")
      EXCLUDES(mu_);

  // The call was deleted in the cluster: tombstone it, discard a part. Idempotent.
  [[nodiscard]] Status ApplyTombstone(std::string_view call_id) EXCLUDES(mu_);
  bool IsDeleted(std::string_view call_id) const { return tombstones_.Contains(call_id); }

  const CallIndex& received() const { return received_; }
  const CallIndex& tombstones() const { return tombstones_; }
  std::string IncomingDir() const { return options_.recordings_dir + "/.incoming"; }
  const std::string& node_id() const { return options_.node_id; }

 private:
  // RAII claim of one call id (requests for one call are serialized).
  class CallLock {
   public:
    CallLock(Receiver* r, std::string call_id);
    ~CallLock();
    bool ok() const { return ok_; }

   private:
    Receiver* r_;
    std::string call_id_;
    bool ok_;
  };
  std::string PartPath(std::string_view call_id) const;
  Status DiscardPart(std::string_view call_id);
  // Step 3: the name the audio has here (renaming the part there when needed).
  struct Placed {
    std::string rel;
    bool manifest_there = false;  // a commit a crash interrupted after step 4
  };
  // `remote`: the audio is not coming (shared bucket): a free name is taken as it is.
  Result<Placed> Place(const std::string& id, const recording::Manifest& m, bool have_part,
                       bool remote);
  void RememberHash(const std::string& id, uint64_t size, std::string sha) EXCLUDES(mu_);
  // The remembered hash of `id`'s part (forgotten); false when there is none.
  bool TakeHash(const std::string& id, uint64_t* size, std::string* sha) EXCLUDES(mu_);
  Result<CommitResult> CommitLocked(const std::string& call_id, std::string_view manifest_text,
                                    std::string_view sender, std::string_view location);
  Status Release(const std::string& call_id) EXCLUDES(mu_);

  const ReceiverOptions options_;
  Fs* const fs_;
  outbox::Outbox* const outbox_;
  const Clock* const clock_;
  CallIndex received_, tombstones_;
  Counter* stored_total_ = nullptr;
  Counter* bytes_total_ = nullptr;
  Counter* mismatch_total_ = nullptr;
  Mutex mu_;
  std::set<std::string, std::less<>> busy_ GUARDED_BY(mu_);
  // SHA-256 of parts received whole (size, hex), so a commit need not read them again.
  std::map<std::string, std::pair<uint64_t, std::string>> hashed_ GUARDED_BY(mu_);
};

}  // namespace callvault::replication

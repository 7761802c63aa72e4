// Relocator: moves finished recordings from the node's recordings directory to the remote store
// (S3), as the consumer of the outbox queue `relocation` (docs/formats/outbox.md). The
// finalizer puts every finished call into the queue; a Drainer hands the entries here once
// `relocate_after_s` has passed since finalizing (DrainerOptions::delay). The recorder never
// waits on any of it (DESIGN.md rule 1).
//
// Per call, each step durable before the next (DESIGN.md rule 2):
//   1. read the manifest (`<recordings>/<entry.manifest>`); a call deleted meanwhile (catalog
//      tombstone) is skipped — the purger removes its bytes;
//   2. upload the audio (key = prefix + `audio.file`) and verify it (RelocationTarget:
//      size and SHA-256 of what was sent against the manifest, or a read-back);
//   3. record the location in the catalog (Catalog::RecordLocation);
//   3b. hand the call to `then_queues` with its location (peers sharing the bucket);
//   4. remove the local audio (LocalRecordingStore::RemoveAudio; the manifest stays);
//   5. the drainer removes the entry.
// A crash between steps repeats the call from step 1: uploading again overwrites the same key,
// a location already recorded is recorded again, an audio file already removed is OK. The
// local audio is removed only after its copy was verified and the catalog points at it.
//
// Failures: the target unreachable or refusing our credentials → the entry stays, the drainer
// backs off, and one `storage.upload_failed` line per round names the cause (e.g.
// SignatureDoesNotMatch). A verification failure (bytes changed in transit, or a local file
// that no longer matches its manifest) never removes anything: a transit error is retried; a
// local file whose own SHA-256 no longer matches its manifest is set aside (`rejected/`) for an
// operator, its file untouched.
//
// Metrics: callvault_storage_relocated_total, callvault_storage_upload_bytes_total,
// callvault_storage_upload_errors_total{reason} (auth, network, server, client, protocol,
// verify, not_found, other), callvault_storage_verify_failures_total; the queue's backlog and
// lag are the outbox gauges with queue="relocation".
//
// Who calls it: app/ (Start/Stop). Thread-safety: Start/Stop from one thread; ApplyBatch runs on
// the drainer's thread and fans a batch out to `workers` threads of its own.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/metrics.h"
#include "base/status.h"
#include "catalog/catalog.h"
#include "outbox/drainer.h"
#include "outbox/outbox.h"
#include "storage/local_recording_store.h"
#include "storage/recording_store.h"
#include "storage/relocation_target.h"

namespace callvault::storage {

struct RelocatorOptions {
  // The outbox queue (REQUIRES: open). Default: "relocation".
  std::string queue = "relocation";
  // Uploads at once. Default: 4.
  int workers = 4;
  // Entries are relocated this long after their call was finalized. Default: 0.
  std::chrono::milliseconds delay{0};
  // Entries per drainer batch (spread over the workers). Default: 16.
  int batch = 16;
  // Drainer backoff ceiling while the target is unreachable. Default: 30 s.
  std::chrono::milliseconds max_backoff{30000};
  // How often the queue is looked at without a Put (also how soon a deferred entry falls due).
  // Default: 1 s.
  std::chrono::milliseconds poll{1000};
  // Outbox queues that read the local audio (the replication peers'): while one of them still
  // holds a call, its relocation waits (the local copy is what the sender streams). Default:
  // none.
  std::vector<std::string> wait_for_queues;
  // Outbox queues the call is put into once its copy is verified and catalogued, the entry
  // carrying the location (replication peers that share the bucket: their sender commits the
  // manifest alone, the audio stays where it is). Default: none.
  std::vector<std::string> then_queues;
};

class Relocator {
 public:
  // REQUIRES: everything outlives the relocator; the queue is open; metrics may be null.
  // `fs` is the one `local` uses.
  Relocator(RelocatorOptions options, outbox::Outbox* outbox, Fs* fs, LocalRecordingStore* local,
            RelocationTarget* target, catalog::Catalog* catalog, const Clock* clock,
            Registry* metrics);
  ~Relocator();  // Stop()s

  void Start();
  void Stop();

  outbox::Drainer& drainer() { return *drainer_; }
  uint64_t relocated() const { return relocated_.load(); }
  uint64_t verify_failures() const { return verify_failures_.load(); }

  // One batch (the drainer's ApplyBatchFn). Public for tests and benchmarks.
  Status ApplyBatch(std::vector<outbox::Delivery>& batch);

 private:
  // Relocates one call; sets the delivery's outcome. Returns the error that should make the
  // drainer back off (target or catalog unreachable), else OK.
  Status RelocateOne(outbox::Delivery& d);
  // Step 3b: `d`'s entry, with `location`, into every `then_queues` queue.
  Status HandOn(outbox::Delivery& d, const std::string& location);
  void CountError(std::string_view reason);

  const RelocatorOptions options_;
  outbox::Outbox* const outbox_;
  Fs* const fs_;
  LocalRecordingStore* const local_;
  RelocationTarget* const target_;
  catalog::Catalog* const catalog_;
  const Clock* const clock_;
  std::unique_ptr<outbox::Drainer> drainer_;

  std::atomic<uint64_t> relocated_{0}, verify_failures_{0};
  Counter* relocated_total_ = nullptr;
  Counter* bytes_total_ = nullptr;
  Counter* verify_failures_total_ = nullptr;
  std::optional<Family<Counter>> errors_;
};

}  // namespace callvault::storage

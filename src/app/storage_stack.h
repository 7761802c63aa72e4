// StorageStack: everything after finalize that decides where a recording's bytes live, built
// from the config in one place for `serve` and for the admin CLI:
//   - the local store (given) and, with storage.backend = "s3", the S3 client and store;
//   - TieredRecordingStore over both: what http/ reads and deletes through;
//   - storage::Purger (removes deleted calls' bytes wherever they are);
//   - storage::Relocator on the outbox queue `relocation` (serve only, backend s3);
//   - retention::Retention with the configured policies.
// The S3 secret is read from `s3.secret_access_key_file` at Create() and again by
// ReloadCredentials() (SIGHUP), so a corrected secret applies without a restart.
//
// Who calls it: app/server.cc (serve), app/admin_cli.cc (retention run).
// Thread-safety: Create/Start/Stop/ReloadCredentials from one thread; the accessors' objects are
// thread-safe.
#pragma once

#include <memory>

#include "app/config.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/metrics.h"
#include "base/status.h"
#include "catalog/catalog.h"
#include "outbox/outbox.h"
#include "retention/retention.h"
#include "storage/local_recording_store.h"
#include "storage/purger.h"
#include "storage/recording_store.h"
#include "storage/relocator.h"
#include "storage/s3/client.h"
#include "storage/s3_recording_store.h"
#include "storage/tiered_recording_store.h"

namespace callvault::app {

struct StorageStackOptions {
  // Relocate (backend s3) from the outbox queue `relocation`, which must be open. False for
  // the CLI: it only reads, deletes and purges.
  bool relocate = true;
};

class StorageStack {
 public:
  // InvalidArgument naming what is wrong with the [s3] or [retention] settings, or an unreadable
  // secret file. REQUIRES: everything given outlives the stack; `outbox` may be null when
  // !options.relocate.
  static Result<std::unique_ptr<StorageStack>> Create(const Config& config, Fs* fs,
                                                      const Clock* clock, Registry* metrics,
                                                      outbox::Outbox* outbox,
                                                      storage::LocalRecordingStore* local,
                                                      catalog::Catalog* catalog,
                                                      StorageStackOptions options = {});
  ~StorageStack();  // Stop()s

  // Starts the purger, the relocator and the retention schedule.
  void Start();
  void Stop();

  // Re-reads `s3.access_key_id` and the secret file of `config` and hands them to the client.
  [[nodiscard]] Status ReloadCredentials(const Config& config);

  storage::RecordingStore* store() { return tiered_.get(); }
  storage::Purger* purger() { return purger_.get(); }
  retention::Retention* retention() { return retention_.get(); }
  storage::Relocator* relocator() { return relocator_.get(); }  // null unless relocating
  storage::S3RecordingStore* s3_store() { return s3_store_.get(); }  // null unless backend s3

 private:
  StorageStack() = default;

  Fs* fs_ = nullptr;
  std::unique_ptr<storage::s3::Client> s3_client_;
  std::unique_ptr<storage::S3RecordingStore> s3_store_;
  std::unique_ptr<storage::S3RelocationTarget> target_;
  std::unique_ptr<storage::TieredRecordingStore> tiered_;
  std::unique_ptr<storage::Purger> purger_;
  std::unique_ptr<storage::Relocator> relocator_;
  std::unique_ptr<retention::Retention> retention_;
  std::chrono::milliseconds retention_interval_{0};
  int retention_batch_ = 500;
  bool started_ = false;
};

// The S3 client options of the [s3] section, the secret read from its file.
Result<storage::s3::S3Options> S3OptionsFromConfig(const Config& config, Fs& fs);

}  // namespace callvault::app

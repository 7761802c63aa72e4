// DataDir: the layout of a node's data directory, named once (DESIGN.md §Data directory):
//
//   <data_dir>/spool/<call id>/        calls being recorded (docs/formats/spool.md)
//   <data_dir>/recordings/…            finished audio + manifests (recording.dir overrides it)
//   <data_dir>/outbox/<queue>/…        durable queues of finished calls (docs/formats/outbox.md):
//                                      `catalog`, and `relocation` when storage.backend = "s3"
//   <data_dir>/catalog.db              the catalog when it is SQLite (the default)
//
// Called by: app/ (server, admin CLI). Thread-safety: a plain value.
#pragma once

#include <string>
#include <vector>

#include "app/config.h"

namespace callvault::app {

// The outbox queue catalog ingest drains.
inline constexpr char kCatalogQueue[] = "catalog";
// The outbox queue relocation to S3 drains (storage.backend = "s3").
inline constexpr char kRelocationQueue[] = "relocation";

struct DataDir {
  std::string root;
  std::string recordings_override;  // recording.dir ("" = under root)
  bool relocate = false;            // storage.backend = "s3"

  std::string spool() const { return root + "/spool"; }
  std::string recordings() const {
    return recordings_override.empty() ? root + "/recordings" : recordings_override;
  }
  std::string outbox() const { return root + "/outbox"; }
  std::string catalog_db() const { return root + "/catalog.db"; }
  // The queues every finished call is handed to (the finalizer's step 4).
  std::vector<std::string> finished_call_queues() const {
    if (relocate) return {kCatalogQueue, kRelocationQueue};
    return {kCatalogQueue};
  }
};

inline DataDir DataDirOf(const Config& c) {
  return DataDir{c.node.data_dir, c.recording.dir, c.storage.backend == "s3"};
}

}  // namespace callvault::app

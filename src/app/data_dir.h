// DataDir: the layout of a node's data directory, named once (DESIGN.md §Data directory):
//
//   <data_dir>/spool/<call id>/        calls being recorded (docs/formats/spool.md)
//   <data_dir>/recordings/…            finished audio + manifests (recording.dir overrides it)
//   <data_dir>/outbox/<queue>/…        durable queues of finished calls (docs/formats/outbox.md):
//                                      `catalog`, and `relocation` when storage.backend = "s3"
//                                      and `peer.<id>` per replication peer
//   <data_dir>/cluster/                replication state: received/, tombstones/ (call indexes)
//   <data_dir>/instance-id             this data directory's identity (a copy is refused by peers)
//   <data_dir>/catalog.db              the catalog when it is SQLite (the default)
//
// Called by: app/ (server, admin CLI). Thread-safety: a plain value.
#pragma once

#include <string>
#include <vector>

#include "app/config.h"
#include "replication/protocol.h"

namespace callvault::app {

// The outbox queue catalog ingest drains.
inline constexpr char kCatalogQueue[] = "catalog";
// The outbox queue relocation to S3 drains (storage.backend = "s3").
inline constexpr char kRelocationQueue[] = "relocation";

struct DataDir {
  std::string root;
  std::string recordings_override;  // recording.dir ("" = under root)
  bool relocate = false;            // storage.backend = "s3"
  std::vector<std::string> peers;   // cluster.peers ids

  std::string spool() const { return root + "/spool"; }
  std::string recordings() const {
    return recordings_override.empty() ? root + "/recordings" : recordings_override;
  }
  std::string outbox() const { return root + "/outbox"; }
  std::string catalog_db() const { return root + "/catalog.db"; }
  std::string cluster() const { return root + "/cluster"; }
  std::string instance_id_file() const { return root + "/instance-id"; }
  // The queues a call received from a peer is handed to: this node's own consumers.
  std::vector<std::string> local_queues() const {
    if (relocate) return {kCatalogQueue, kRelocationQueue};
    return {kCatalogQueue};
  }
  std::vector<std::string> peer_queues() const {
    std::vector<std::string> out;
    for (const std::string& p : peers) out.push_back(replication::PeerQueueName(p));
    return out;
  }
  // The queues every finished call recorded here is handed to (the finalizer's step 4).
  std::vector<std::string> finished_call_queues() const {
    std::vector<std::string> out = local_queues();
    for (std::string& q : peer_queues()) out.push_back(std::move(q));
    return out;
  }
};

inline DataDir DataDirOf(const Config& c) {
  DataDir d{c.node.data_dir, c.recording.dir, c.storage.backend == "s3", {}};
  for (const PeerConfig& p : c.cluster.peers) d.peers.push_back(p.id);
  return d;
}

}  // namespace callvault::app

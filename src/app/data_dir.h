// DataDir: the layout of a node's data directory, named once (DESIGN.md §Data directory):
//
//   <data_dir>/spool/<call id>/        calls being recorded (docs/formats/spool.md)
//   <data_dir>/recordings/…            finished audio + manifests (recording.dir overrides it)
//   <data_dir>/outbox/<queue>/…        durable queues of finished calls (docs/formats/outbox.md):
//                                      `catalog`, and `relocation` when storage.backend = "s3"
//                                      and `peer.<id>` per replication peer (filled by
//                                      the finalizer, or by the relocator for a peer that
//                                      shares the S3 bucket)
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
  // The peers of `peers` that share this node's S3 bucket (shared_bucket, with relocation on):
  // they get a call from the relocator, once its audio is in the bucket, not from the finalizer.
  std::vector<std::string> shared_peers;

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
  bool SharesBucket(const std::string& peer) const {
    for (const std::string& p : shared_peers)
      if (p == peer) return true;
    return false;
  }
  // Every peer's queue.
  std::vector<std::string> peer_queues() const { return PeerQueues(false, false); }
  // The queues of peers that get the audio from this node (relocation waits for them).
  std::vector<std::string> audio_peer_queues() const { return PeerQueues(true, false); }
  // The queues of peers sharing the bucket (the relocator hands calls on to them).
  std::vector<std::string> shared_peer_queues() const { return PeerQueues(true, true); }
  // The queues every finished call recorded here is handed to (the finalizer's step 4), in
  // the order it puts them: relocation last, so that the relocator, which waits while a peer
  // queue holds the call, never sees the call before its peer entries exist.
  std::vector<std::string> finished_call_queues() const {
    std::vector<std::string> out = {kCatalogQueue};
    for (std::string& q : audio_peer_queues()) out.push_back(std::move(q));
    if (relocate) out.push_back(kRelocationQueue);
    return out;
  }
  // Every queue this node opens.
  std::vector<std::string> all_queues() const {
    std::vector<std::string> out = local_queues();
    for (std::string& q : peer_queues()) out.push_back(std::move(q));
    return out;
  }

 private:
  std::vector<std::string> PeerQueues(bool filter, bool shared) const {
    std::vector<std::string> out;
    for (const std::string& p : peers)
      if (!filter || SharesBucket(p) == shared) out.push_back(replication::PeerQueueName(p));
    return out;
  }
};

inline DataDir DataDirOf(const Config& c) {
  DataDir d{c.node.data_dir, c.recording.dir, c.storage.backend == "s3", {}, {}};
  for (const PeerConfig& p : c.cluster.peers) {
    d.peers.push_back(p.id);
    if (p.shared_bucket && d.relocate) d.shared_peers.push_back(p.id);
  }
  return d;
}

}  // namespace callvault::app

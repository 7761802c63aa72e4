// ClusterStack: the node's part of a multi-master cluster, built from [cluster] in one place:
//   - the instance id of the data directory (replication/identity.h);
//   - replication::Receiver + PeerServer on `cluster.listen` (calls pushed by peers land in
//     the recordings directory and this node's own queues: catalog, relocation);
//   - one replication::Sender per `[[cluster.peers]]` on the outbox queue `peer.<id>` the
//     finalizer fills;
//   - replication::ChangeFeed: configuration and deletions from each peer's change log (and
//     this node's log served to them), deletions waking the purger.
// Nothing is built when no peer is configured (cluster.listen alone still receives: a node
// that only takes copies, e.g. a DR site).
//
// Who calls it: app/server.cc. Thread-safety: Create/Start/Stop/Reload from one thread.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "app/config.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/metrics.h"
#include "base/status.h"
#include "catalog/catalog.h"
#include "outbox/outbox.h"
#include "replication/change_feed.h"
#include "replication/peer_server.h"
#include "replication/receiver.h"
#include "replication/sender.h"

namespace callvault::app {

class ClusterStack {
 public:
  // Null when the cluster is off (no listen, no peers). REQUIRES: the queues of
  // DataDirOf(config).finished_call_queues() are open in `outbox`; everything outlives the stack.
  // `on_deleted` runs when deletions were applied (the purger's Wake).
  static Result<std::unique_ptr<ClusterStack>> Create(const Config& config, Fs* fs,
                                                      const Clock* clock, Registry* metrics,
                                                      outbox::Outbox* outbox,
                                                      catalog::Catalog* catalog,
                                                      std::function<void()> on_deleted);
  ~ClusterStack();  // Stop()s

  [[nodiscard]] Status Start();
  void Stop();
  // SIGHUP: peers' url/schedule/relay/max_mbps; a peer added or removed is logged as needing a
  // restart.
  void Reload(const Config& config);

  replication::Receiver* receiver() { return receiver_.get(); }
  const std::string& instance_id() const { return instance_id_; }
  std::vector<replication::Sender*> senders();

 private:
  ClusterStack() = default;
  replication::PeerClientOptions ClientOptions(const Config& c, const PeerConfig& p) const;

  std::string node_id_;
  std::string instance_id_;
  std::vector<PeerConfig> peers_;
  std::unique_ptr<replication::Receiver> receiver_;
  std::unique_ptr<replication::PeerServer> server_;
  std::vector<std::unique_ptr<replication::Sender>> senders_;
  std::unique_ptr<replication::ChangeFeed> feed_;
  bool started_ = false;
};

}  // namespace callvault::app

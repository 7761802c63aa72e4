// ChangeFeed: configuration and deletions across the cluster. Every replicated change (users,
// tokens, roles, tenants, tags, settings, audit entries, call deletions, legal holds) is a row
// of the catalog's change log, written in the same transaction as the change and stamped with
// a hybrid logical clock and its origin (catalog.h Change). Each node pulls every peer's log
// after its cursor (GET /cluster/v1/changes) every `interval` and applies it
// (Catalog::ApplyChanges: last writer wins by (HLC, origin); a stamp too far ahead is refused
// and counted, and the cursor stays below it). Applied changes are appended to the local log
// too, so a peer that pulls only from this node (a chain) gets them. Schedules do not apply.
//
// Deletions also leave the catalog: the feed follows the local log (its own changes and applied
// ones) for call deletions and tombstones them in the replication receiver — a transfer of that
// call is refused and dropped from every peer queue — and `on_deleted` wakes the purger, which
// removes the files through the RecordingStore.
//
// Metrics, labelled peer: callvault_cluster_changes_applied_total,
// callvault_cluster_changes_refused_total (clock skew), callvault_cluster_change_conflicts_total,
// callvault_cluster_change_problems_total, callvault_cluster_sync_up,
// callvault_cluster_sync_age_seconds (since the last complete pull).
//
// Called by: app/ (Start/Stop/SetPeers), PeerServer (ChangesJson). Thread-safety: Start/Stop
// from one thread; Wake and SetPeers from any; the rounds run on the feed's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/status.h"
#include "catalog/catalog.h"
#include "replication/peer_client.h"
#include "replication/receiver.h"

namespace callvault::replication {

// The wire form of a batch of changes: {"changes":[{seq,hlc,origin,entity,key,op,body}…],
// "last_seq":N}. `body` is the change's JSON text, carried as a string.
nlohmann::json ChangesToJson(const std::vector<catalog::Change>& changes);
// InvalidArgument naming the first malformed element.
Result<std::vector<catalog::Change>> ChangesFromJson(const nlohmann::json& j);

// GET /cluster/v1/calls: one page of the finished calls `catalog` lists (started order, oldest
// first): {"calls":[{"call_id","node_id","state"}…],"next":"<cursor>"|""}. `after` is the
// previous page's `next` ("" = the first page).
Result<nlohmann::json> ListCallsJson(catalog::Catalog& catalog, const std::string& after,
                                     int limit);

struct ChangeFeedOptions {
  std::string node_id;
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds max_skew{60000};
  int batch = 500;  // changes per request
  // The cursor key of the local log's follower (tombstones); not a node id.
  std::string tombstone_cursor = ".tombstones";
};

class ChangeFeed {
 public:
  // REQUIRES: everything outlives the feed; `receiver` and `metrics` may be null.
  ChangeFeed(ChangeFeedOptions options, catalog::Catalog* catalog, Receiver* receiver,
             const Clock* clock, Registry* metrics, std::function<void()> on_deleted = nullptr);
  ~ChangeFeed();  // Stop()

  // The peers to pull from (their client options); replaces the previous set.
  void SetPeers(const std::vector<PeerClientOptions>& peers);
  void SetTiming(std::chrono::milliseconds interval, std::chrono::milliseconds max_skew);
  void Start();
  void Stop();
  // Run a round now (a local change was made).
  void Wake();
  // One round: the local follower, then every peer at once (a thread each, joined). The first
  // error (a peer down, the database down) is returned; the others still run.
  Status RunOnce();

 private:
  struct Peer {
    std::shared_ptr<PeerClient> client;
    Counter* applied = nullptr;
    Counter* refused = nullptr;
    Counter* conflicts = nullptr;
    Counter* problems = nullptr;
    Gauge* up = nullptr;
    Gauge* age = nullptr;
    std::chrono::steady_clock::time_point last_ok{};
  };
  Status FollowLocal();
  Status Pull(const std::string& id, Peer& peer);

  ChangeFeedOptions options_;
  catalog::Catalog* const catalog_;
  Receiver* const receiver_;
  const Clock* const clock_;
  Registry* const metrics_;
  const std::function<void()> on_deleted_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Peer> peers_;  // guarded by mu_ (copied out for a round)
  bool stop_ = false, wake_ = false;
  std::thread thread_;
};

}  // namespace callvault::replication

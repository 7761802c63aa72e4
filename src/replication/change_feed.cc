#include "replication/change_feed.h"

#include <fmt/format.h>

#include "base/log.h"
#include "base/thread_name.h"
#include "replication/protocol.h"

namespace callvault::replication {

nlohmann::json ChangesToJson(const std::vector<catalog::Change>& changes) {
  nlohmann::json list = nlohmann::json::array();
  int64_t last = 0;
  for (const catalog::Change& c : changes) {
    list.push_back({{"seq", c.seq},
                    {"hlc", c.hlc},
                    {"origin", c.origin},
                    {"entity", c.entity},
                    {"key", c.key},
                    {"op", c.op},
                    {"body", c.body}});
    last = std::max(last, c.seq);
  }
  return {{"changes", std::move(list)}, {"last_seq", last}};
}

Result<std::vector<catalog::Change>> ChangesFromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("changes") || !j["changes"].is_array())
    return InvalidArgumentError("changes: expected {\"changes\": [...]}");
  std::vector<catalog::Change> out;
  size_t i = 0;
  for (const nlohmann::json& e : j["changes"]) {
    auto str = [&](const char* k) -> const nlohmann::json* {
      auto it = e.find(k);
      return it != e.end() && it->is_string() ? &*it : nullptr;
    };
    if (!e.is_object() || !e.contains("seq") || !e["seq"].is_number_integer() || !str("hlc") ||
        !str("origin") || !str("entity") || !str("key") || !str("op") || !str("body"))
      return InvalidArgumentError(
          fmt::format("changes[{}]: needs seq, hlc, origin, entity, key, "
                      "op, body",
                      i));
    out.push_back(catalog::Change{.seq = e["seq"].get<int64_t>(),
                                  .hlc = e["hlc"].get<std::string>(),
                                  .origin = e["origin"].get<std::string>(),
                                  .entity = e["entity"].get<std::string>(),
                                  .key = e["key"].get<std::string>(),
                                  .op = e["op"].get<std::string>(),
                                  .body = e["body"].get<std::string>()});
    ++i;
  }
  return out;
}

Result<nlohmann::json> ListCallsJson(catalog::Catalog& catalog, const std::string& after,
                                     int limit) {
  catalog::CallFilter filter;
  filter.states = {CallState::kCompleted, CallState::kTimedOut, CallState::kPartial};
  catalog::PageRequest page;
  page.sort = catalog::SortKey::kStarted;
  page.descending = false;
  page.cursor = after;
  page.limit = std::clamp(limit, 1, 1000);
  CV_ASSIGN_OR_RETURN(catalog::CallPage p, catalog.ListCalls(filter, page));
  nlohmann::json calls = nlohmann::json::array();
  for (const catalog::CallSummary& c : p.calls)
    calls.push_back({{"call_id", c.call_id},
                     {"node_id", c.node_id},
                     {"state", std::string(CallStateName(c.state))}});
  return nlohmann::json{{"calls", std::move(calls)}, {"next", p.next_cursor}};
}

ChangeFeed::ChangeFeed(ChangeFeedOptions options, catalog::Catalog* catalog, Receiver* receiver,
                       const Clock* clock, Registry* metrics, std::function<void()> on_deleted)
    : options_(std::move(options)),
      catalog_(catalog),
      receiver_(receiver),
      clock_(clock),
      metrics_(metrics),
      on_deleted_(std::move(on_deleted)) {}

ChangeFeed::~ChangeFeed() { Stop(); }

void ChangeFeed::SetPeers(const std::vector<PeerClientOptions>& peers) {
  std::map<std::string, Peer> next;
  for (const PeerClientOptions& o : peers) {
    Peer p;
    p.client = std::make_shared<PeerClient>(o);
    if (metrics_) {
      const MetricLabels l = {{"peer", o.peer_id}};
      auto counter = [&](std::string_view name, std::string_view help) -> Counter* {
        Result<Counter*> c = metrics_->AddCounter(name, help, l);
        return c.ok() ? *c : nullptr;
      };
      auto gauge = [&](std::string_view name, std::string_view help) -> Gauge* {
        Result<Gauge*> g = metrics_->AddGauge(name, help, l);
        return g.ok() ? *g : nullptr;
      };
      p.applied = counter("callvault_cluster_changes_applied_total",
                          "Configuration changes from a peer applied here.");
      p.refused = counter("callvault_cluster_changes_refused_total",
                          "Changes refused: stamped too far ahead of this node's clock.");
      p.conflicts = counter("callvault_cluster_change_conflicts_total",
                            "Changes that could not apply here (e.g. a deletion of a held call).");
      p.problems = counter("callvault_cluster_change_problems_total",
                           "Malformed or unknown changes skipped.");
      p.up = gauge("callvault_cluster_sync_up", "1 when the last pull from the peer succeeded.");
      p.age = gauge("callvault_cluster_sync_age_seconds",
                    "Seconds since the last complete pull of the peer's change log.");
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = peers_.find(o.peer_id); it != peers_.end()) p.last_ok = it->second.last_ok;
    next.emplace(o.peer_id, std::move(p));
  }
  std::lock_guard<std::mutex> lock(mu_);
  peers_ = std::move(next);
}

void ChangeFeed::SetTiming(std::chrono::milliseconds interval, std::chrono::milliseconds skew) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.interval = interval;
  options_.max_skew = skew;
}

void ChangeFeed::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    SetCurrentThreadName("cv-change-feed");
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      wake_ = false;
      lock.unlock();
      Status s = RunOnce();
      if (!s.ok()) CV_LOG_DEBUG("cluster.sync_round_failed", "error=\"{}\"", s.ToString());
      lock.lock();
      cv_.wait_for(lock, options_.interval, [this] { return stop_ || wake_; });
    }
  });
}

void ChangeFeed::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ChangeFeed::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

Status ChangeFeed::RunOnce() {
  Status first = FollowLocal();
  std::map<std::string, Peer> peers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    peers = peers_;
  }
  // Peers in parallel: one that is cut off (its requests time out) does not delay the others.
  std::vector<std::pair<std::string, Status>> results(peers.size());
  std::vector<std::thread> pulls;
  size_t i = 0;
  for (auto& [id, peer] : peers) {
    results[i].first = id;
    pulls.emplace_back([this, &id = id, &peer = peer, &out = results[i].second] {
      out = Pull(id, peer);
      if (out.ok()) peer.last_ok = std::chrono::steady_clock::now();
      if (peer.up) peer.up->Set(out.ok() ? 1 : 0);
      if (peer.age && peer.last_ok.time_since_epoch().count() != 0)
        peer.age->Set(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - peer.last_ok).count());
    });
    ++i;
  }
  for (std::thread& t : pulls) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, s] : results) {
    if (!s.ok() && first.ok()) first = s;
    if (auto it = peers_.find(id); it != peers_.end()) it->second.last_ok = peers[id].last_ok;
  }
  return first;
}

Status ChangeFeed::FollowLocal() {
  if (receiver_ == nullptr) return Status::Ok();
  CV_ASSIGN_OR_RETURN(int64_t cursor, catalog_->GetCursor(options_.tombstone_cursor));
  bool deleted = false;
  for (int page = 0; page < 100; ++page) {
    CV_ASSIGN_OR_RETURN(std::vector<catalog::Change> changes,
                        catalog_->ChangesAfter(cursor, options_.batch));
    if (changes.empty()) break;
    for (const catalog::Change& c : changes) {
      if (c.entity == "call" && c.op == "delete") {
        CV_RETURN_IF_ERROR(receiver_->ApplyTombstone(c.key).Annotate("tombstoning " + c.key));
        deleted = true;
      }
      cursor = std::max(cursor, c.seq);
    }
    CV_RETURN_IF_ERROR(catalog_->SetCursor(options_.tombstone_cursor, cursor));
    if (static_cast<int>(changes.size()) < options_.batch) break;
  }
  if (deleted && on_deleted_) on_deleted_();
  return Status::Ok();
}

Status ChangeFeed::Pull(const std::string& id, Peer& peer) {
  CV_ASSIGN_OR_RETURN(int64_t cursor, catalog_->GetCursor(id));
  for (int page = 0; page < 100; ++page) {
    CV_ASSIGN_OR_RETURN(nlohmann::json j,
                        peer.client->GetJson(fmt::format("{}/changes?after={}&limit={}",
                                                         kPathPrefix, cursor, options_.batch)));
    CV_ASSIGN_OR_RETURN(std::vector<catalog::Change> changes, ChangesFromJson(j));
    if (changes.empty()) return Status::Ok();
    int64_t last = cursor;
    // Our own changes come back too (a peer relays its log): stale here, unless this node was
    // rebuilt from an empty database, which then gets its own configuration back.
    for (const catalog::Change& c : changes) last = std::max(last, c.seq);
    std::vector<catalog::Change>& foreign = changes;
    std::chrono::milliseconds skew;
    {
      std::lock_guard<std::mutex> lock(mu_);
      skew = options_.max_skew;
    }
    catalog::ApplyResult r;
    if (!foreign.empty()) {
      CV_ASSIGN_OR_RETURN(r, catalog_->ApplyChanges(foreign, skew));
    }
    if (peer.applied) peer.applied->Add(static_cast<uint64_t>(r.applied));
    if (peer.refused) peer.refused->Add(static_cast<uint64_t>(r.refused_skew));
    if (peer.conflicts) peer.conflicts->Add(static_cast<uint64_t>(r.conflicts));
    if (peer.problems) peer.problems->Add(r.problems.size());
    for (const std::string& p : r.problems)
      CV_LOG_WARN("cluster.change_problem", "peer={} problem=\"{}\"", id, p);
    if (r.refused_skew > 0)
      CV_LOG_WARN("cluster.change_refused",
                  "peer={} refused={} reason=\"stamped more than {} "
                  "ms ahead of this node's clock: check NTP on both\"",
                  id, r.refused_skew, skew.count());
    if (r.applied > 0) {
      CV_LOG_INFO("cluster.changes_applied", "peer={} applied={} stale={} conflicts={}", id,
                  r.applied, r.stale, r.conflicts);
      FollowLocal().IgnoreError();  // deletions take effect now, not next round
    }
    const int64_t next = r.first_refused_seq > 0 ? r.first_refused_seq - 1 : last;
    CV_RETURN_IF_ERROR(catalog_->SetCursor(id, next));
    if (r.first_refused_seq > 0) return Status::Ok();  // again next round
    cursor = next;
    if (static_cast<int>(changes.size()) < options_.batch) return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace callvault::replication

#include "app/cluster_cli.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "app/data_dir.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/time_format.h"
#include "outbox/entry.h"
#include "outbox/outbox.h"
#include "recording/manifest_reader.h"
#include "replication/change_feed.h"
#include "replication/identity.h"
#include "replication/peer_client.h"
#include "replication/schedule.h"

namespace callvault::app {
namespace {

struct QueueInfo {
  int64_t entries = 0;
  std::string oldest_finalized;  // "" when empty
};

// Counts a queue's entries (every bucket) and finds the oldest one's finalized time.
QueueInfo Inspect(Fs& fs, const std::string& qdir) {
  QueueInfo info;
  Result<std::vector<std::string>> buckets = fs.ListDir(qdir);
  if (!buckets.ok()) return info;
  for (const std::string& b : *buckets) {
    if (!outbox::Outbox::IsBucketName(b)) continue;
    Result<std::vector<std::string>> names = fs.ListDir(qdir + "/" + b);
    if (!names.ok()) continue;
    for (const std::string& n : *names) {
      if (outbox::CallIdOfEntryName(n).empty()) continue;
      if (info.entries++ == 0) {
        Result<std::string> text = fs.ReadFile(qdir + "/" + b + "/" + n);
        if (text.ok())
          if (Result<outbox::Entry> e = outbox::ParseEntry(*text); e.ok())
            info.oldest_finalized = e->finalized;
      }
    }
  }
  return info;
}

// Every manifest under `dir` (recursively; hidden directories such as .incoming skipped).
void FindManifests(Fs& fs, const std::string& root, const std::string& rel,
                   std::vector<std::string>* out) {
  Result<std::vector<std::string>> names = fs.ListDir(rel.empty() ? root : root + "/" + rel);
  if (!names.ok()) return;
  for (const std::string& n : *names) {
    if (n.empty() || n[0] == '.') continue;
    const std::string child = rel.empty() ? n : rel + "/" + n;
    if (n.ends_with(".json")) {
      out->push_back(child);
    } else if (n.find('.') == std::string::npos) {
      FindManifests(fs, root, child, out);  // a directory of the name template
    }
  }
}

Result<Config> Load(const AdminArgs& args) {
  Result<Config> c = LoadConfig(args.config_path, args.overrides);
  if (!c.ok()) std::fprintf(stderr, "callvault: %s\n", c.status().ToString().c_str());
  return c;
}

}  // namespace

int ClusterStatus(const AdminArgs& args) {
  Result<Config> c = Load(args);
  if (!c.ok()) return 1;
  Fs& fs = *DefaultFs();
  const DataDir dirs = DataDirOf(*c);
  Result<std::string> instance = fs.ReadFile(dirs.instance_id_file());
  std::printf("node %s  instance %s  listen %s\n", c->node.id.c_str(),
              instance.ok() ? instance->substr(0, instance->find('\n')).c_str() : "(none yet)",
              c->cluster.listen.empty() ? "(none)" : c->cluster.listen.c_str());
  if (c->cluster.peers.empty()) {
    std::printf("no peers configured ([[cluster.peers]])\n");
    return 0;
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             RealClock()->WallNow().time_since_epoch())
                             .count();
  for (const PeerConfig& p : c->cluster.peers) {
    const QueueInfo q = Inspect(fs, dirs.outbox() + "/" + replication::PeerQueueName(p.id));
    std::string lag = "0";
    if (std::optional<int64_t> t = ParseRfc3339Ms(q.oldest_finalized))
      lag = fmt::format("{:.0f}", std::max<double>(0, double(now_ms - *t) / 1000));
    Result<replication::Schedule> sched = replication::Schedule::Parse(p.schedule);
    const bool open = sched.ok() && sched->IsOpen(std::chrono::system_clock::now());
    replication::PeerClientOptions o{
        .peer_id = p.id,
        .url = p.url,
        .tls = {c->cluster.cert_file, c->cluster.key_file, c->cluster.ca_file},
        .node_id = c->node.id,
        .instance_id = instance.ok() ? instance->substr(0, 36) : ""};
    o.request_timeout = std::chrono::seconds(5);
    replication::PeerClient client(o);
    Result<nlohmann::json> hello = client.Hello();
    std::printf("peer %s  %s  schedule %s (%s)  backlog %lld  lag_s %s  %s\n", p.id.c_str(),
                p.url.c_str(), p.schedule.c_str(), open ? "open" : "closed",
                static_cast<long long>(q.entries), lag.c_str(),
                hello.ok() ? "up" : ("DOWN: " + std::string(hello.status().message())).c_str());
  }
  return 0;
}

int ClusterBackfill(const AdminArgs& args, const std::string& peer) {
  Result<Config> c = Load(args);
  if (!c.ok()) return 1;
  bool known = false;
  for (const PeerConfig& p : c->cluster.peers) known = known || p.id == peer;
  if (!known) {
    std::fprintf(stderr, "callvault: %s is not one of [[cluster.peers]]\n", peer.c_str());
    return 1;
  }
  Fs& fs = *DefaultFs();
  const DataDir dirs = DataDirOf(*c);
  outbox::Outbox box(dirs.outbox(), &fs, nullptr);
  const std::string queue = replication::PeerQueueName(peer);
  if (Status s = box.AttachQueue(queue); !s.ok()) {
    std::fprintf(stderr, "callvault: %s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<std::string> manifests;
  FindManifests(fs, dirs.recordings(), "", &manifests);
  size_t queued = 0, already = 0, skipped = 0;
  std::unique_ptr<catalog::Catalog> catalog;  // opened when a location is needed
  for (const std::string& rel : manifests) {
    Result<std::string> text = fs.ReadFile(dirs.recordings() + "/" + rel);
    Result<recording::Manifest> m =
        text.ok() ? recording::ParseManifest(*text) : Result<recording::Manifest>(text.status());
    if (!m.ok()) {
      ++skipped;  // not a manifest (or unreadable): said below
      continue;
    }
    if (box.Contains(queue, m->call_id)) {
      ++already;
      continue;
    }
    outbox::Entry e{.call_id = m->call_id,
                    .manifest = rel,
                    .state = std::string(CallStateName(m->state)),
                    .finalized = m->times.finalized,
                    .location = m->audio.location};
    // A peer sharing the bucket gets a moved call's manifest with the location the catalog
    // recorded (the audio is no longer here).
    if (e.location.empty() && dirs.SharesBucket(peer) &&
        !fs.Exists(dirs.recordings() + "/" + m->audio.file)) {
      if (!catalog) {
        Result<std::unique_ptr<catalog::Catalog>> cat = OpenAdminCatalog(args);
        if (!cat.ok()) {
          std::fprintf(stderr, "callvault: catalog (for the locations of moved audio): %s\n",
                       cat.status().ToString().c_str());
          return 1;
        }
        catalog = std::move(cat).value();
      }
      Result<std::optional<catalog::RecordingLocation>> loc = catalog->GetLocation(m->call_id);
      if (!loc.ok()) {
        std::fprintf(stderr, "callvault: location of %s: %s\n", m->call_id.c_str(),
                     loc.status().ToString().c_str());
        return 1;
      }
      if (*loc && !(*loc)->location.empty() && !(*loc)->purge_pending_ms && !(*loc)->purged_ms)
        e.location = (*loc)->location;
    }
    if (Status s = box.Put(queue, e); !s.ok()) {
      std::fprintf(stderr, "callvault: queuing %s: %s\n", m->call_id.c_str(), s.ToString().c_str());
      return 1;
    }
    ++queued;
  }
  std::printf("queued %zu recordings for %s (%zu already queued, %zu files not manifests)\n",
              queued, peer.c_str(), already, skipped);
  return 0;
}

int ClusterVerify(const AdminArgs& args, const std::string& peer) {
  Result<Config> c = Load(args);
  if (!c.ok()) return 1;
  const PeerConfig* p = nullptr;
  for (const PeerConfig& q : c->cluster.peers)
    if (q.id == peer) p = &q;
  if (p == nullptr) {
    std::fprintf(stderr, "callvault: %s is not one of [[cluster.peers]]\n", peer.c_str());
    return 1;
  }
  Result<std::unique_ptr<catalog::Catalog>> cat = OpenAdminCatalog(args);
  if (!cat.ok()) {
    std::fprintf(stderr, "callvault: catalog: %s\n", cat.status().ToString().c_str());
    return 1;
  }
  Fs& fs = *DefaultFs();
  const DataDir dirs = DataDirOf(*c);
  Result<std::string> instance = fs.ReadFile(dirs.instance_id_file());
  replication::PeerClientOptions o{
      .peer_id = p->id,
      .url = p->url,
      .tls = {c->cluster.cert_file, c->cluster.key_file, c->cluster.ca_file},
      .node_id = c->node.id,
      .instance_id = instance.ok() ? instance->substr(0, 36) : ""};
  replication::PeerClient client(o);
  // Both listings, page by page (call ids only: ~100 MB per million calls).
  std::set<std::string> here, there;
  std::string cursor;
  for (;;) {
    Result<nlohmann::json> page = replication::ListCallsJson(**cat, cursor, 1000);
    if (!page.ok()) {
      std::fprintf(stderr, "callvault: listing here: %s\n", page.status().ToString().c_str());
      return 1;
    }
    for (const auto& call : (*page)["calls"]) here.insert(call.value("call_id", ""));
    cursor = page->value("next", "");
    if (cursor.empty()) break;
  }
  cursor.clear();
  for (;;) {
    char* esc = curl_easy_escape(nullptr, cursor.data(), static_cast<int>(cursor.size()));
    Result<nlohmann::json> page =
        client.GetJson(fmt::format("/cluster/v1/calls?limit=1000&after={}", esc ? esc : ""));
    curl_free(esc);
    if (!page.ok()) {
      std::fprintf(stderr, "callvault: listing on %s: %s\n", peer.c_str(),
                   page.status().ToString().c_str());
      return 1;
    }
    for (const auto& call : (*page)["calls"]) there.insert(call.value("call_id", ""));
    cursor = page->value("next", "");
    if (cursor.empty()) break;
  }
  outbox::Outbox box(dirs.outbox(), &fs, nullptr);
  const std::string queue = replication::PeerQueueName(peer);
  size_t missing_there = 0, queued = 0, missing_here = 0;
  std::vector<std::string> examples;
  for (const std::string& id : here) {
    if (there.count(id)) continue;
    ++missing_there;
    if (box.Contains(queue, id)) {
      ++queued;
    } else if (examples.size() < 20) {
      examples.push_back(id);
    }
  }
  for (const std::string& id : there) missing_here += here.count(id) ? 0 : 1;
  std::printf(
      "here %zu calls, on %s %zu; missing on %s: %zu (%zu queued for it); missing here: "
      "%zu\n",
      here.size(), peer.c_str(), there.size(), peer.c_str(), missing_there, queued, missing_here);
  for (const std::string& id : examples)
    std::printf("  not on %s, not queued: %s\n", peer.c_str(), id.c_str());
  if (missing_there > queued) {
    std::printf("run `callvault cluster backfill %s` to queue what is missing\n", peer.c_str());
    return 1;
  }
  return 0;
}

}  // namespace callvault::app

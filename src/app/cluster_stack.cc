#include "app/cluster_stack.h"

#include <fmt/format.h>

#include <set>

#include "app/data_dir.h"
#include "base/log.h"
#include "replication/identity.h"
#include "replication/protocol.h"
#include "storage/s3/url.h"

namespace callvault::app {
namespace {

// "host:port" / "[v6]:port" → host, port.
Result<std::pair<std::string, int>> SplitHostPort(const std::string& s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("cluster.listen: no port");
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::make_pair(host, std::stoi(s.substr(colon + 1)));
}

replication::TlsFiles TlsOf(const Config& c) {
  return {c.cluster.cert_file, c.cluster.key_file, c.cluster.ca_file};
}

}  // namespace

ClusterStack::~ClusterStack() { Stop(); }

replication::PeerClientOptions ClusterStack::ClientOptions(const Config& c,
                                                           const PeerConfig& p) const {
  replication::PeerClientOptions o;
  o.peer_id = p.id;
  o.url = p.url;
  o.tls = TlsOf(c);
  o.node_id = c.node.id;
  o.instance_id = instance_id_;
  o.max_bytes_per_s = int64_t{p.max_mbps} * 1000 * 1000 / 8;
  return o;
}

Result<std::unique_ptr<ClusterStack>> ClusterStack::Create(const Config& config, Fs* fs,
                                                           const Clock* clock, Registry* metrics,
                                                           outbox::Outbox* outbox,
                                                           catalog::Catalog* catalog,
                                                           std::function<void()> on_deleted) {
  if (config.cluster.listen.empty() && config.cluster.peers.empty())
    return std::unique_ptr<ClusterStack>();
  std::unique_ptr<ClusterStack> s(new ClusterStack());
  const DataDir dirs = DataDirOf(config);
  s->node_id_ = config.node.id;
  s->peers_ = config.cluster.peers;
  CV_ASSIGN_OR_RETURN(s->instance_id_,
                      replication::LoadOrCreateInstanceId(*fs, dirs.instance_id_file(), *clock));

  std::set<std::string> relay_peers, peer_ids;
  for (const PeerConfig& p : config.cluster.peers) {
    peer_ids.insert(p.id);
    if (p.relay) relay_peers.insert(p.id);
  }
  replication::ReceiverOptions ro;
  ro.node_id = config.node.id;
  ro.recordings_dir = dirs.recordings();
  ro.state_dir = dirs.cluster();
  ro.queues = dirs.local_queues();
  if (dirs.relocate) {
    ro.audio_queues = {kRelocationQueue};
    ro.shared_bucket = storage::s3::S3Url(config.s3.bucket, "");
  }
  ro.min_free_bytes = uint64_t(config.cluster.min_free_disk_mb) << 20;
  ro.relay_queues = [relay_peers](std::string_view origin, std::string_view sender) {
    std::vector<std::string> out;
    for (const std::string& p : relay_peers)
      if (p != origin && p != sender) out.push_back(replication::PeerQueueName(p));
    return out;
  };
  s->receiver_ = std::make_unique<replication::Receiver>(ro, fs, outbox, clock, metrics);

  if (!config.cluster.listen.empty()) {
    CV_ASSIGN_OR_RETURN(auto hp, SplitHostPort(config.cluster.listen));
    replication::PeerServerOptions so;
    so.host = hp.first;
    so.port = hp.second;
    so.tls = TlsOf(config);
    so.node_id = config.node.id;
    so.instance_id = s->instance_id_;
    so.peers = peer_ids;
    so.threads = config.cluster.threads;
    replication::ChangesFn changes = [catalog](int64_t after, int limit) -> Result<nlohmann::json> {
      CV_ASSIGN_OR_RETURN(std::vector<catalog::Change> c, catalog->ChangesAfter(after, limit));
      return replication::ChangesToJson(c);
    };
    replication::ListCallsFn list = [catalog](const std::string& after, int limit) {
      return replication::ListCallsJson(*catalog, after, limit);
    };
    s->server_ = std::make_unique<replication::PeerServer>(so, s->receiver_.get(), metrics,
                                                           std::move(changes), std::move(list));
  }
  replication::ChangeFeedOptions fo;
  fo.node_id = config.node.id;
  fo.interval = std::chrono::milliseconds(config.cluster.sync_interval_ms);
  fo.max_skew = std::chrono::seconds(config.cluster.max_clock_skew_s);
  s->feed_ = std::make_unique<replication::ChangeFeed>(fo, catalog, s->receiver_.get(), clock,
                                                       metrics, std::move(on_deleted));
  std::vector<replication::PeerClientOptions> feed_peers;
  for (const PeerConfig& p : config.cluster.peers) {
    replication::PeerClientOptions o = s->ClientOptions(config, p);
    o.max_bytes_per_s = 0;                        // changes are small and ignore the transfer cap
    o.request_timeout = std::chrono::seconds(5);  // a silent peer: given up quickly
    feed_peers.push_back(std::move(o));
  }
  s->feed_->SetPeers(feed_peers);
  for (const PeerConfig& p : config.cluster.peers) {
    replication::SenderOptions so;
    so.recordings_dir = dirs.recordings();
    CV_ASSIGN_OR_RETURN(so.schedule, replication::Schedule::Parse(p.schedule));
    so.parallel = config.cluster.transfers_per_peer;
    so.batch = std::max(4, 4 * config.cluster.transfers_per_peer);
    so.shared_bucket = dirs.SharesBucket(p.id);
    s->senders_.push_back(std::make_unique<replication::Sender>(
        so, s->ClientOptions(config, p), outbox, fs, clock, &s->receiver_->tombstones(), metrics));
  }
  return s;
}

Status ClusterStack::Start() {
  CV_RETURN_IF_ERROR(receiver_->Open());
  if (server_) CV_RETURN_IF_ERROR(server_->Start());
  for (auto& sender : senders_) sender->Start();
  feed_->Start();
  started_ = true;
  CV_LOG_INFO("cluster.started", "node={} instance={} peers={} listening={}", node_id_,
              instance_id_, peers_.size(), server_ ? server_->port() : 0);
  return Status::Ok();
}

void ClusterStack::Stop() {
  if (!started_) return;
  // Transfers in flight finish (or are cut and resumed after the restart); entries stay queued.
  feed_->Stop();
  for (auto& sender : senders_) sender->Stop();
  if (server_) server_->Stop();
  started_ = false;
}

void ClusterStack::Reload(const Config& config) {
  std::set<std::string> before, after;
  for (const PeerConfig& p : peers_) before.insert(p.id);
  for (const PeerConfig& p : config.cluster.peers) after.insert(p.id);
  if (before != after) {
    CV_LOG_WARN("config.restart_needed",
                "keys=cluster.peers reason=\"peers added or removed: the running peers stay "
                "until a restart\"");
  }
  for (const PeerConfig& p : config.cluster.peers) {
    for (auto& sender : senders_) {
      if (sender->peer_id() != p.id) continue;
      Result<replication::Schedule> sched = replication::Schedule::Parse(p.schedule);
      if (sched.ok()) sender->SetSchedule(*sched);
      sender->SetPeer(ClientOptions(config, p));
      sender->RetryNow();
    }
  }
  if (server_) server_->SetPeers(after);
  std::vector<replication::PeerClientOptions> feed_peers;
  for (const PeerConfig& p : config.cluster.peers) {
    if (!before.count(p.id)) continue;  // new peers start with the restart
    replication::PeerClientOptions o = ClientOptions(config, p);
    o.max_bytes_per_s = 0;
    o.request_timeout = std::chrono::seconds(5);
    feed_peers.push_back(std::move(o));
  }
  feed_->SetPeers(feed_peers);
  feed_->SetTiming(std::chrono::milliseconds(config.cluster.sync_interval_ms),
                   std::chrono::seconds(config.cluster.max_clock_skew_s));
  peers_ = config.cluster.peers;
}

std::vector<replication::Sender*> ClusterStack::senders() {
  std::vector<replication::Sender*> out;
  for (auto& s : senders_) out.push_back(s.get());
  return out;
}

}  // namespace callvault::app

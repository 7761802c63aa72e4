// PeerServer: the cluster endpoint (`cluster.listen`): the peer protocol (protocol.h) over
// HTTP/1.1 and mutual TLS on cpp-httplib's SSLServer, apart from the REST API — its own port,
// worker threads, timeouts and body limits. A request is served only when the client
// certificate (verified against the cluster CA) names a configured peer; a request carrying an
// API token (Authorization) is refused: peers do not use tokens, users do not use this port.
// A peer presenting this node's own instance id (a cloned data directory) is refused too.
//
// Audio uploads are streamed into the Receiver as they arrive (bounded memory, whatever the
// file's size); JSON bodies are read up to `max_json_bytes`. Errors are JSON
// {"error":{"code","message"}} with the codes protocol.h names.
//
// Called by: app/ (Start/Stop, SetPeers on SIGHUP), tests. Thread-safety: Start/Stop from one
// thread; SetPeers from any thread; requests run on the server's pool.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "replication/receiver.h"
#include "replication/tls.h"

namespace httplib {
class Server;
}

namespace callvault::replication {

// GET /cluster/v1/changes: {"changes":[…],"last_seq":N} after `after_seq` (the catalog's change
// log; app/ wires it). Unavailable while the database is down (answered 503).
using ChangesFn = std::function<Result<nlohmann::json>(int64_t after_seq, int limit)>;
// GET /cluster/v1/calls: {"calls":[{"call_id","node_id","state"}…],"next":"<cursor>"|""}: the
// finished calls this node lists, page by page after `after` ("" = from the start).
using ListCallsFn = std::function<Result<nlohmann::json>(const std::string& after, int limit)>;

struct PeerServerOptions {
  std::string host = "0.0.0.0";
  int port = 0;  // 0 = any free port (tests)
  TlsFiles tls;
  std::string node_id;          // answered by /hello
  std::string instance_id;      // this data directory's (identity.h)
  std::set<std::string> peers;  // node ids a client certificate must name one of
  int threads = 8;
  int read_timeout_s = 60, write_timeout_s = 60, keep_alive_timeout_s = 30;
  size_t max_json_bytes = 32 << 20;              // manifests, change batches
  uint64_t max_audio_bytes = uint64_t{1} << 40;  // one upload
};

class PeerServer {
 public:
  // REQUIRES: receiver and metrics outlive the server; `changes`/`list_calls` may be empty
  // (answered 503 unavailable).
  PeerServer(PeerServerOptions options, Receiver* receiver, Registry* metrics,
             ChangesFn changes = nullptr, ListCallsFn list_calls = nullptr);
  ~PeerServer();  // Stop()
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  // Loads the TLS files, binds and serves on a thread. InvalidArgument for TLS problems,
  // Unavailable when the address cannot be bound.
  [[nodiscard]] Status Start();
  void Stop();
  int port() const { return port_.load(); }
  // The configured peers changed (SIGHUP).
  void SetPeers(std::set<std::string> peers) EXCLUDES(mu_);

 private:
  void Install();
  // The peer a request comes from (a configured node id named by its certificate), or "" after
  // answering 403.
  std::string Authorize(const void* req, void* res) EXCLUDES(mu_);

  const PeerServerOptions options_;
  Receiver* const receiver_;
  const ChangesFn changes_;
  const ListCallsFn list_calls_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<int> port_{0};
  std::atomic<bool> listen_returned_{false};
  std::optional<Family<Counter>> requests_;
  mutable Mutex mu_;
  std::set<std::string> peers_ GUARDED_BY(mu_);
};

}  // namespace callvault::replication

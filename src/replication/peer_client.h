// PeerClient: the sending side of the peer protocol (protocol.h) to one peer, over libcurl with
// mutual TLS (our certificate and key, the cluster CA). Audio is streamed from the file in
// bounded buffers (curl's read callback over RandomAccessFile::Read), never loaded whole; a
// transfer that moves fewer than `stall_bytes_per_s` for `stall_time` is cut (a stalled link
// must not hold a sender for ever); `max_bytes_per_s` caps each transfer (peer's max_mbps).
// Easy handles are pooled, so connections to the peer are kept alive and reused.
//
// Errors, by the peer's answer: 409 offset_mismatch → FailedPrecondition (offset in
// `*peer_offset`); 422 → DataLoss (resend from 0); 507 → ResourceExhausted; 403 →
// PermissionDenied; 400/413 → InvalidArgument; 503/5xx, refused or cut connections, TLS
// failures → Unavailable; a stall → DeadlineExceeded. Messages name the peer and the reason.
//
// Called by: Sender, ChangeFeed, the `callvault cluster` CLI. Thread-safety: thread-safe (one
// easy handle per request in flight).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/mutex.h"
#include "base/status.h"
#include "replication/protocol.h"
#include "replication/tls.h"

namespace callvault::replication {

struct PeerClientOptions {
  std::string peer_id;  // for messages and the expected /hello answer
  std::string url;      // "https://host:port" (the peer's cluster.listen)
  TlsFiles tls;
  std::string node_id;      // sent as X-Callvault-Node
  std::string instance_id;  // sent as X-Callvault-Instance
  std::chrono::seconds connect_timeout{5};
  // JSON requests (hello, status, changes) must complete within this: a peer cut off by a
  // silent network (packets dropped, the kept-alive connection looks open) must not hold a
  // sender or the change feed for long. Default: 15 s.
  std::chrono::seconds request_timeout{15};
  // A commit may hash the whole file on the peer (a resumed transfer: ~1–5 s per GiB).
  // Default: 120 s.
  std::chrono::seconds commit_timeout{120};
  int64_t max_bytes_per_s = 0;  // per transfer; 0 = no cap
  int64_t stall_bytes_per_s = 1024;
  std::chrono::seconds stall_time{30};
};

class PeerClient {
 public:
  explicit PeerClient(PeerClientOptions options);
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // GET /hello: the peer's node id (checked against peer_id: FailedPrecondition when another
  // node answers) and instance id.
  Result<nlohmann::json> Hello();
  Result<CallStatus> Lookup(const std::string& call_id, const std::string& origin,
                            const std::string& audio_file = "");
  // Sends `file` bytes [offset, total) to the peer. `*sent`: bytes that left this node (also on
  // error). On 409 offset_mismatch, `*peer_offset` is where the peer is.
  Status PutAudio(const std::string& call_id, const RandomAccessFile& file, uint64_t offset,
                  uint64_t total, uint64_t* sent, uint64_t* peer_offset);
  struct Committed {
    Presence presence = Presence::kHave;
    std::string audio_file;
  };
  // `location` (non-empty): the call goes without its audio, which is there, in a bucket the
  // peer shares (no PutAudio before).
  Result<Committed> Commit(const std::string& call_id, const std::string& manifest_text,
                           const std::string& location = "");
  // GET of any protocol path (with query), answered JSON.
  Result<nlohmann::json> GetJson(const std::string& path_and_query);

  const PeerClientOptions& options() const { return options_; }

 private:
  struct Request;
  struct Response {
    long status = 0;
    std::string body;
  };
  Result<Response> Perform(Request& req);
  void* TakeHandle() EXCLUDES(mu_);
  void ReturnHandle(void* h) EXCLUDES(mu_);
  Status FromResponse(const Response& r, std::string_view what, uint64_t* peer_offset = nullptr);

  const PeerClientOptions options_;
  Mutex mu_;
  std::vector<void*> idle_ GUARDED_BY(mu_);  // CURL*
};

}  // namespace callvault::replication

// The peer protocol of a callvault cluster (docs/cluster-protocol.md): HTTP/1.1 over mutual TLS
// on `cluster.listen`, JSON bodies, paths under /cluster/v1. Names and shapes shared by the
// sender (peer_client.h) and the receiver (peer_server.h), and the names of things on disk.
//
//   GET  /cluster/v1/hello                        → {"node_id","instance_id","protocol","version"}
//   GET  /cluster/v1/calls/{id}?origin=<node>     → {"call_id","presence","offset"}
//   PUT  /cluster/v1/calls/{id}/audio?offset=<n>  body: the audio bytes from n → {"offset"}
//                                                 409 offset_mismatch {"offset": where to go on}
//   POST /cluster/v1/calls/{id}/commit            body: the manifest → {"presence","audio_file"}
//                                                 422 size_mismatch | sha256_mismatch: resend
//                                                 from 0; 507 insufficient_storage
//   GET  /cluster/v1/changes?after=<seq>&limit=<n> → {"changes":[…],"last_seq"}  (config and
//                                                 deletions: the catalog's change log)
//   GET  /cluster/v1/calls?after=<cursor>&limit=<n> → {"calls":[{"call_id","node_id","state"}…],
//                                                 "next"}  (callvault cluster verify)
//
// Called by: replication/. Thread-safety: constants and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault::replication {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::string_view kPathPrefix = "/cluster/v1";

// Where a call stands on a node, as the peer protocol says it.
enum class Presence : uint8_t {
  kAbsent = 0,   // never seen
  kPartial = 1,  // audio bytes received up to `offset`, not committed
  kHave = 2,     // committed (durable with its manifest and catalog entry), or recorded there
  kDeleted = 3,  // a tombstone: never send it again
};
std::string_view PresenceName(Presence p);
Result<Presence> ParsePresence(std::string_view name);

struct CallStatus {
  Presence presence = Presence::kAbsent;
  uint64_t offset = 0;  // kPartial: audio bytes held
};

// The outbox queue of a peer: "peer.<id>".
std::string PeerQueueName(std::string_view peer_id);

// Node ids are names in paths, queues, certificates and metric labels: 1–63 characters of
// [a-z0-9._-], starting with a letter or digit. InvalidArgument naming the rule otherwise.
Status ValidateNodeId(std::string_view id);

}  // namespace callvault::replication

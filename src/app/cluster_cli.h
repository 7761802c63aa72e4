// `callvault cluster …`: the operator's view of replication, without a server.
//   status [-c FILE]           per peer: url, schedule (open now?), backlog and lag of its
//                              outbox queue, and whether it answers (mutual TLS /hello)
//   verify PEER [-c FILE]      compares the finished calls this node's catalog lists with the
//                              peer's (GET /cluster/v1/calls): calls missing there (queued or
//                              not), calls missing here; exit 1 when calls are missing and not
//                              queued (run backfill)
//   backfill PEER [-c FILE]    queues every recording in this node's recordings directory for
//                              PEER (a new master, a peer restored from nothing); the running
//                              server's sender picks the entries up; the peer skips what it has
// Reads the data directory and the config only; the outbox entries it writes are durable and
// idempotent (one entry per call and queue).
//
// Called by: app/main.cc. Thread-safety: single-threaded, one call per process.
#pragma once

#include <string>

#include "app/admin_cli.h"

namespace callvault::app {

int ClusterStatus(const AdminArgs& args);
int ClusterBackfill(const AdminArgs& args, const std::string& peer);
int ClusterVerify(const AdminArgs& args, const std::string& peer);

}  // namespace callvault::app

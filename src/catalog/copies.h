// Copies: which recording of a call to keep when a passive hot spare (passive/, issue 19) and
// the primary both recorded it. The spare records every session the primary answers, from
// mirrored traffic; both copies reach every node's catalog (each node replicates what it
// recorded), where they share the SRC's SIP Call-ID. One is kept:
//   1. a copy that ended (completed or timed_out) over one cut short by a crash (partial);
//   2. between two that ended: the primary's (it answered the SRC; the spare only listened);
//   3. between two partial ones: the one that reaches further (later end, then longer);
//   then the active copy, then the smaller call id, so every node decides the same.
// The other copies are deleted as any call is (Catalog::DeleteCall: tombstone, audit entry
// `call.delete` by actor `reconcile`, purge of the bytes, replicated), so the cluster shows
// one recording per call. Until both copies are in a catalog, each node keeps what it has.
// Only copies that can be the same call are compared: passive ones with the active copies of
// their primary (any node when the spare does not name it), started within kSameCallWindowMs.
//
// Called by: catalog::Ingester (after each batch and in its periodic sweep), tests.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace callvault::catalog {

// Copies whose starts are further apart are different calls that reused a Call-ID.
inline constexpr int64_t kSameCallWindowMs = 5 * 60 * 1000;

struct CopyDecision {
  std::string keep;
  std::vector<std::string> drop;  // in call id order
  std::string reason;             // why `keep` won, for the log and the audit entry
};

// The decision for the copies of one SIP Call-ID (Catalog::FindCopies), or nullopt when there
// is nothing to reconcile (no passive copy, or no other copy of the same call).
std::optional<CopyDecision> ChooseCopy(const std::vector<RecordingCopy>& copies);

}  // namespace callvault::catalog

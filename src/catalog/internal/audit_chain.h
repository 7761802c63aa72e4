// The audit log's hash chains (docs/formats/catalog-schema.md §Audit chains): the canonical
// serialization of an entry, its hash, the names of the chains, and the text rules that make
// an entry hash the same on every node (valid UTF-8, no NUL, the detail as compact JSON).
//
// Every entry belongs to the chain of its `origin` and has a `seq` there (1, 2, …):
//   hash = lowercase hex SHA-256( prev_hash (64 ASCII hex digits) || Canonical(entry) )
// with prev_hash of the first entry kGenesisHash. The origin computes it when it appends; a
// peer recomputes it before storing a replicated entry; `callvault audit verify` walks it.
//
// Called by: SqlCatalog (append, apply, migration 5), catalog/audit_verify.cc. Thread-safety:
// pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "catalog/internal/text.h"  // CleanText: what the chain hashes

namespace callvault::catalog::internal {

// prev_hash of every chain's first entry.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";
// The first line of the canonical serialization: its version (persistent: a change of the
// serialization is a new tag, never an edit of this one).
inline constexpr std::string_view kCanonicalTag = "callvault-audit-v1";
// The suffix of the chains a node keeps for entries that carry no chain of their origin: the
// rows that existed before schema version 5 (chained by the migration) and entries applied
// from peers running an older version. They exist only in that node's catalog.
inline constexpr std::string_view kLocalChainSuffix = "/local";

// "<node>/local".
std::string LocalChain(std::string_view node);
// Whether `origin` names a local chain (node ids never contain '/').
bool IsLocalChain(std::string_view origin);

// The `detail` column's text: compact JSON, keys sorted, UTF-8 (nlohmann::json::dump with
// invalid UTF-8 replaced); a non-object is stored as "{}".
std::string DetailText(const nlohmann::json& detail);

// The canonical serialization of `entry` (its origin, seq, uid, at_ms, actor, action, target,
// tenant, detail text and remote — not its id, prev_hash or hash): kCanonicalTag "\n", then per
// field its byte length in decimal, ':', the bytes, '\n'.
std::string Canonical(const AuditEntry& entry, std::string_view detail_text);
// hash of `entry` after `prev_hash` (lowercase hex).
std::string ChainHash(std::string_view prev_hash, const AuditEntry& entry,
                      std::string_view detail_text);

}  // namespace callvault::catalog::internal

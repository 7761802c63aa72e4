// `callvault audit verify [-c FILE] [--anchor ORIGIN:SEQ:HASH]…`: checks the audit log's hash
// chains (docs/formats/catalog-schema.md §Audit chains) in the configured catalog — SQLite or
// PostgreSQL, opened read-only (no migration, no write) — and names, per chain, the first
// entry that was changed, removed or reordered. Prints each chain's entries and head on
// stdout (what to anchor elsewhere), the problems and, on long logs, progress on stderr.
//
// Exit codes: 0 every chain intact (and every anchor matches); 1 a chain is broken;
// 2 could not verify (bad anchor, catalog unreadable, schema older than version 5).
//
// Called by: app/main.cc. Thread-safety: single-threaded, one call per process.
#pragma once

#include <string>
#include <vector>

#include "app/admin_cli.h"

namespace callvault::app {

inline constexpr int kExitAuditBroken = 1;
inline constexpr int kExitAuditNotVerified = 2;

int AuditVerify(const AdminArgs& args, const std::vector<std::string>& anchors);

}  // namespace callvault::app

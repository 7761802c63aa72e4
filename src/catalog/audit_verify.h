// Verification of the audit log's hash chains (docs/formats/catalog-schema.md §Audit chains):
// every origin's chain is walked in seq order; the first entry that was changed (its content
// no longer matches its hash, or its hash no longer matches what the next entry links to),
// removed (a seq missing, in the middle or at the end — the chain's head row knows the last),
// or reordered (row order disagreeing with the chain's order) is named by id, uid, origin and
// seq. Rows outside any chain, and anchors (a seq and hash recorded elsewhere — from /metrics
// or the hourly `catalog.audit_head` log line) that do not match, are problems too.
//
// Called by: app/ (`callvault audit verify`), tests. Thread-safety: a pure function over the
// catalog it is given (read-only: it uses AuditHeads and ScanAuditChains only).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"

namespace callvault::catalog {

// An entry an operator recorded outside the catalog: the chain must hold `hash` at `seq`.
struct AuditAnchor {
  std::string origin;
  int64_t seq = 0;
  std::string hash;
};

// "ORIGIN:SEQ:HASH" (the origin may contain ':'; the last two fields are split off).
Result<AuditAnchor> ParseAuditAnchor(std::string_view text);

struct AuditVerifyOptions {
  std::vector<AuditAnchor> anchors;
  // Called after every page of rows with the entries checked so far and the number expected
  // (the heads' seqs summed). May be empty.
  std::function<void(int64_t checked, int64_t expected)> progress;
  int page = 5000;  // rows per ScanAuditChains call (1…10000)
};

struct AuditChainReport {
  std::string origin;
  int64_t entries = 0;   // rows of the chain
  int64_t last_seq = 0;  // the newest entry's seq (0 = none)
  std::string last_hash;
  AuditHead head;       // the head row (head.origin "" when there is none)
  std::string problem;  // "" = intact; else the first problem found, naming the entry
};

struct AuditVerifyReport {
  std::vector<AuditChainReport> chains;  // by origin, as the database orders them
  // Problems outside the chains: rows in no chain, anchors of unknown origins.
  std::vector<std::string> problems;
  int64_t entries = 0;
  bool ok() const;
};

// Walks every chain of `catalog`. Errors only when the catalog cannot be read.
Result<AuditVerifyReport> VerifyAuditLog(Catalog& catalog, const AuditVerifyOptions& options = {});

}  // namespace callvault::catalog

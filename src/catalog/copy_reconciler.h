// CopyReconciler: applies catalog/copies.h — when the catalog holds two recordings of one call
// (a passive hot spare's and the primary's), the one not kept is deleted as a user's deletion
// would be (Catalog::DeleteCall: tombstone, audit entry `call.delete` by actor `reconcile`,
// purge of its bytes — the purger's next round, within 30 s —, replicated to every peer).
// A call under legal hold is never deleted: both copies stay, and a log line says so.
//
// Called by: catalog::Ingester on its drainer thread — after each batch with the batch's SIP
// Call-IDs, and in its periodic sweep (FindUnreconciledCopies) which also catches what a failed
// attempt or a restart left. Thread-safety: one thread at a time (the ingester's).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/status.h"
#include "catalog/catalog.h"

namespace callvault::catalog {

struct CopyReconcilerOptions {
  // The sweep looks at passive copies started this long ago at most. Default: 7 days.
  std::chrono::milliseconds sweep_window{7LL * 24 * 3600 * 1000};
  // SIP Call-IDs per sweep query. Default: 500.
  int sweep_batch = 500;
};

class CopyReconciler {
 public:
  // REQUIRES: catalog and clock outlive this; metrics may be null.
  CopyReconciler(CopyReconcilerOptions options, Catalog* catalog, const Clock* clock,
                 Registry* metrics);

  // Reconciles the copies of each SIP Call-ID (empty ones are skipped). Stops at the first
  // database error and returns it (what is done stays done; the rest waits for the sweep).
  Status Reconcile(const std::vector<std::string>& sip_call_ids);
  // Every passive copy within the sweep window that still shares its Call-ID.
  Status Sweep();

  uint64_t dropped() const { return dropped_; }

 private:
  Status ReconcileOne(const std::string& sip_call_id);

  const CopyReconcilerOptions options_;
  Catalog* const catalog_;
  const Clock* const clock_;
  Counter* dropped_total_ = nullptr;
  uint64_t dropped_ = 0;
};

}  // namespace callvault::catalog

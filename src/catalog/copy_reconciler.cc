#include "catalog/copy_reconciler.h"

#include <chrono>

#include "base/log.h"
#include "catalog/copies.h"

namespace callvault::catalog {

CopyReconciler::CopyReconciler(CopyReconcilerOptions options, Catalog* catalog, const Clock* clock,
                               Registry* metrics)
    : options_(std::move(options)), catalog_(catalog), clock_(clock) {
  if (metrics) {
    dropped_total_ = metrics
                         ->AddCounter("callvault_catalog_copies_dropped_total",
                                      "Duplicate recordings of a call (a passive spare's and the "
                                      "primary's) deleted because the other copy was kept.")
                         .value();
  }
}

Status CopyReconciler::Reconcile(const std::vector<std::string>& sip_call_ids) {
  for (const std::string& id : sip_call_ids) {
    if (!id.empty()) CV_RETURN_IF_ERROR(ReconcileOne(id));
  }
  return Status::Ok();
}

Status CopyReconciler::Sweep() {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->WallNow().time_since_epoch())
          .count();
  const int64_t since = now_ms - options_.sweep_window.count();
  CV_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                      catalog_->FindUnreconciledCopies(since, options_.sweep_batch));
  return Reconcile(ids);
}

Status CopyReconciler::ReconcileOne(const std::string& sip_call_id) {
  CV_ASSIGN_OR_RETURN(std::vector<RecordingCopy> copies, catalog_->FindCopies(sip_call_id));
  std::optional<CopyDecision> d = ChooseCopy(copies);
  if (!d) return Status::Ok();
  for (const std::string& drop : d->drop) {
    AuditEntry audit;
    audit.actor = "reconcile";
    audit.action = "call.delete";
    audit.detail = {{"reason", "duplicate copy of a call"},
                    {"kept", d->keep},
                    {"why", d->reason},
                    {"sip_call_id", sip_call_id}};
    Status s = catalog_->DeleteCall(drop, audit);
    if (s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kNotFound) {
      CV_LOG_WARN("catalog.copy_kept", "call={} kept={} sip_call_id=\"{}\" error=\"{}\"", drop,
                  d->keep, sip_call_id, s.message());
      continue;
    }
    CV_RETURN_IF_ERROR(s);
    ++dropped_;
    if (dropped_total_) dropped_total_->Add(1);
    CV_LOG_INFO("catalog.copy_dropped", "call={} kept={} sip_call_id=\"{}\" reason=\"{}\"", drop,
                d->keep, sip_call_id, d->reason);
  }
  return Status::Ok();
}

}  // namespace callvault::catalog

#include "catalog/audit_head_logger.h"

#include "base/log.h"
#include "base/thread_name.h"

namespace callvault::catalog {

Status LogAuditHeads(Catalog& catalog) {
  CV_ASSIGN_OR_RETURN(std::vector<AuditHead> heads, catalog.AuditHeads());
  for (const AuditHead& h : heads) {
    CV_LOG_INFO("catalog.audit_head", "origin={} seq={} hash={}", h.origin, h.seq, h.hash);
  }
  return Status::Ok();
}

AuditHeadLogger::AuditHeadLogger(Catalog* catalog, std::chrono::milliseconds interval,
                                 std::chrono::milliseconds retry)
    : catalog_(catalog), interval_(interval), retry_(retry) {}

AuditHeadLogger::~AuditHeadLogger() { Stop(); }

void AuditHeadLogger::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] {
    SetCurrentThreadName("cv-audit-head");
    Run();
  });
}

void AuditHeadLogger::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AuditHeadLogger::Run() {
  std::chrono::milliseconds wait{0};
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, wait, [this] { return stop_; })) return;
    }
    const Status logged = LogAuditHeads(*catalog_);
    if (!logged.ok()) {
      CV_LOG_DEBUG("catalog.audit_head_unavailable", "status=\"{}\"", logged.ToString());
    }
    wait = logged.ok() ? interval_ : retry_;
  }
}

}  // namespace callvault::catalog

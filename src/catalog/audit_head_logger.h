// AuditHeadLogger: writes the head of every audit hash chain the catalog holds as one log line
// each — `event=catalog.audit_head origin=rec-1 seq=1234 hash=…` — when the node starts (once
// the catalog answers) and then every hour, so that the log archive anchors the chains outside
// the database (docs/formats/catalog-schema.md §Audit chains; `callvault audit verify --anchor
// ORIGIN:SEQ:HASH` checks a chain against such a line).
//
//   AuditHeadLogger heads(&catalog);
//   heads.Start();   // its own thread; Stop() or the destructor ends it
//
// Called by: app/ (serve). Thread-safety: Start/Stop from one thread; the logging runs on the
// object's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "catalog/catalog.h"

namespace callvault::catalog {

// Logs one `catalog.audit_head` line per chain of `catalog`; the catalog's error otherwise.
[[nodiscard]] Status LogAuditHeads(Catalog& catalog);

class AuditHeadLogger {
 public:
  // `retry`: the wait after the catalog did not answer. REQUIRES: `catalog` outlives this.
  explicit AuditHeadLogger(Catalog* catalog,
                           std::chrono::milliseconds interval = std::chrono::hours(1),
                           std::chrono::milliseconds retry = std::chrono::minutes(1));
  ~AuditHeadLogger();  // Stop()
  AuditHeadLogger(const AuditHeadLogger&) = delete;
  AuditHeadLogger& operator=(const AuditHeadLogger&) = delete;

  void Start();
  void Stop();

 private:
  void Run();

  Catalog* const catalog_;
  const std::chrono::milliseconds interval_, retry_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace callvault::catalog

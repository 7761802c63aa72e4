#include "storage/purger.h"

#include "base/log.h"
#include "base/thread_name.h"

namespace callvault::storage {

Purger::Purger(PurgerOptions options, catalog::Catalog* catalog, RecordingStore* store,
               const Clock* clock, Registry* metrics)
    : options_(options), catalog_(catalog), store_(store), clock_(clock) {
  if (metrics != nullptr) {
    Result<Counter*> purged = metrics->AddCounter("callvault_storage_purged_total",
                                                  "Deleted recordings whose bytes were removed.");
    if (purged.ok()) purged_total_ = *purged;
    Result<Counter*> errors = metrics->AddCounter(
        "callvault_storage_purge_errors_total",
        "Attempts to remove a deleted recording's bytes that failed (retried).");
    if (errors.ok()) errors_total_ = *errors;
    Result<Gauge*> pending = metrics->AddGauge(
        "callvault_storage_purge_pending",
        "Deleted recordings whose bytes wait to be removed (as of the last purge round).");
    if (pending.ok()) pending_gauge_ = *pending;
  }
}

Purger::~Purger() { Stop(); }

void Purger::Start() {
  thread_ = std::thread([this] {
    SetCurrentThreadName("cv-purger");
    Run();
  });
}

void Purger::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Purger::Wake() {
  {
    MutexLock lock(&mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

Result<int> Purger::RunOnce() {
  CV_ASSIGN_OR_RETURN(std::vector<catalog::RecordingLocation> pending,
                      catalog_->PendingPurges(options_.batch));
  if (pending_gauge_ != nullptr) pending_gauge_->Set(static_cast<double>(pending.size()));
  Status first_error;
  int purged = 0;
  for (const catalog::RecordingLocation& loc : pending) {
    if (Status s = Purge(loc); !s.ok()) {
      if (first_error.ok()) first_error = s;
    } else {
      ++purged;
    }
  }
  if (!first_error.ok()) return first_error;
  return purged;
}

Status Purger::Purge(const catalog::RecordingLocation& loc) {
  const RecordingRef ref{.call_id = loc.call_id,
                         .audio_file = loc.audio_file,
                         .sha256 = loc.stored_sha256,
                         .location = loc.location};
  Status s = ref.audio_file.empty() ? Status::Ok() : store_->Delete(ref);
  // The manifest at that path names another call: this recording is long gone and a later one
  // reuses its name (RecordingStore::Delete removed nothing).
  if (s.code() == StatusCode::kFailedPrecondition) {
    CV_LOG_INFO("storage.purge_name_reused", "call={} file=\"{}\" detail=\"{}\"", loc.call_id,
                loc.audio_file, s.ToString());
    s = Status::Ok();
  }
  // A path the store refuses (it would leave its directory): nothing of this call can lie
  // there, so there is nothing to remove — say so once instead of retrying forever.
  if (s.code() == StatusCode::kInvalidArgument) {
    CV_LOG_WARN("storage.purge_refused", "call={} file=\"{}\" detail=\"{}\"", loc.call_id,
                loc.audio_file, s.ToString());
    s = Status::Ok();
  }
  if (s.ok()) {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_->WallNow().time_since_epoch())
            .count();
    s = catalog_->MarkPurged(loc.call_id, now);
  }
  if (!s.ok()) {
    errors_.fetch_add(1);
    if (errors_total_ != nullptr) errors_total_->Inc();
    CV_LOG_WARN("storage.purge_failed", "call={} location=\"{}\" file=\"{}\" error=\"{}\"",
                loc.call_id, loc.location, loc.audio_file, s.ToString());
    return s;
  }
  purged_.fetch_add(1);
  if (purged_total_ != nullptr) purged_total_->Inc();
  CV_LOG_INFO("storage.purged", "call={} location=\"{}\" file=\"{}\"", loc.call_id,
              loc.location.empty() ? "local" : loc.location, loc.audio_file);
  return Status::Ok();
}

Status Purger::PurgeCall(const std::string& call_id) {
  CV_ASSIGN_OR_RETURN(std::optional<catalog::RecordingLocation> loc,
                      catalog_->GetLocation(call_id));
  if (!loc || !loc->purge_pending_ms) return Status::Ok();
  return Purge(*loc);
}

void Purger::Run() {
  auto backoff = std::chrono::milliseconds(250);
  for (;;) {
    Result<int> r = RunOnce();
    MutexLock lock(&mu_);
    if (stop_) return;
    std::chrono::milliseconds wait = options_.poll;
    if (!r.ok()) {
      wait = std::min(backoff, options_.poll);
      backoff = std::min(backoff * 2, options_.poll);
    } else {
      backoff = std::chrono::milliseconds(250);
      if (*r >= options_.batch) wait = std::chrono::milliseconds(0);  // more waiting
    }
    const auto until = std::chrono::steady_clock::now() + wait;
    while (!stop_ && !wake_ && mu_.WaitUntil(cv_, until) != std::cv_status::timeout) {
    }
    if (stop_) return;
    wake_ = false;
  }
}

}  // namespace callvault::storage

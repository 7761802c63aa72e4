#include "catalog/ingester.h"

#include <algorithm>
#include <unordered_set>

#include "base/log.h"
#include "base/time_format.h"
#include "recording/manifest_reader.h"

namespace callvault::catalog {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kFirstBackoff{250};
constexpr std::string_view kEntrySuffix = ".json";
constexpr char kRejectedDir[] = "rejected";
constexpr size_t kMaxNoticesPerRound = 1000;

bool IsEntry(const std::string& name) {
  return name.size() > kEntrySuffix.size() &&
         name.compare(name.size() - kEntrySuffix.size(), kEntrySuffix.size(), kEntrySuffix) == 0;
}

std::string CallIdOf(const std::string& entry_name) {
  return entry_name.substr(0, entry_name.size() - kEntrySuffix.size());
}

}  // namespace

Ingester::Ingester(IngesterOptions options, Fs* fs, const Clock* clock, Catalog* catalog,
                   Registry* metrics)
    : options_(std::move(options)), fs_(fs), clock_(clock), catalog_(catalog) {
  if (metrics) {
    ingested_total_ = metrics
                          ->AddCounter("callvault_ingest_calls_total",
                                       "Finished calls applied to the catalog.")
                          .value();
    rejected_total_ = metrics
                          ->AddCounter("callvault_ingest_rejected_total",
                                       "Outbox entries moved aside as unusable.")
                          .value();
    errors_total_ = metrics
                        ->AddCounter("callvault_ingest_errors_total",
                                     "Ingest rounds that failed on a database error.")
                        .value();
    backlog_gauge_ =
        metrics->AddGauge("callvault_ingest_backlog", "Finished calls waiting for the catalog.")
            .value();
    lag_gauge_ = metrics
                     ->AddGauge("callvault_ingest_lag_seconds",
                                "Age of the oldest finished call not yet in the catalog.")
                     .value();
  }
}

Ingester::~Ingester() { Stop(); }

void Ingester::Start() { thread_ = std::thread([this] { Run(); }); }

void Ingester::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Ingester::Notify() {
  {
    MutexLock lock(&mu_);
    wake_ = true;
    idle_ = false;
  }
  cv_.notify_all();
}

void Ingester::CallActive(ActiveCall call) {
  {
    MutexLock lock(&mu_);
    notices_.emplace_back(std::move(call));
    if (notices_.size() > options_.max_notices) notices_.pop_front();
    wake_ = true;
    idle_ = false;
  }
  cv_.notify_all();
}

void Ingester::CallAborted(std::string call_id) {
  {
    MutexLock lock(&mu_);
    notices_.emplace_back(Remove{std::move(call_id)});
    if (notices_.size() > options_.max_notices) notices_.pop_front();
    wake_ = true;
    idle_ = false;
  }
  cv_.notify_all();
}

bool Ingester::WaitIdle(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (!idle_) {
    if (mu_.WaitUntil(cv_, deadline) == std::cv_status::timeout) return idle_;
  }
  return true;
}

std::string Ingester::last_error() const {
  MutexLock lock(&mu_);
  return last_error_;
}

void Ingester::Run() {
  milliseconds backoff = kFirstBackoff;
  bool was_failing = false;
  for (;;) {
    bool more = false;
    Status s = Round(&more);
    bool reconcile = false;
    if (s.ok()) {
      MutexLock lock(&mu_);
      reconcile = reconcile_due_ || clock_->Now() >= next_reconcile_;
    }
    if (s.ok() && reconcile) {
      s = Reconcile();
      if (s.ok()) {
        MutexLock lock(&mu_);
        reconcile_due_ = false;
        next_reconcile_ = clock_->Now() + options_.reconcile_every;
      }
    }
    MutexLock lock(&mu_);
    if (stop_) return;
    if (!s.ok()) {
      if (errors_total_) errors_total_->Inc();
      if (!was_failing || s.ToString() != last_error_) {
        CV_LOG_WARN("catalog.ingest_waiting", "backlog={} retry_in_ms={} error=\"{}\"",
                    backlog_.load(), backoff.count(), s.ToString());
      }
      last_error_ = s.ToString();
      was_failing = true;
      reconcile_due_ = true;
      idle_ = false;
      const auto until = std::chrono::steady_clock::now() + backoff;
      while (!stop_ && mu_.WaitUntil(cv_, until) != std::cv_status::timeout) {
      }
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    if (was_failing) {
      CV_LOG_INFO("catalog.ingest_resumed", "backlog={}", backlog_.load());
      was_failing = false;
    }
    last_error_.clear();
    backoff = kFirstBackoff;
    if (more || !notices_.empty()) continue;
    if (!wake_) idle_ = true;
    cv_.notify_all();  // WaitIdle
    const auto until = std::chrono::steady_clock::now() + options_.poll;
    while (!stop_ && !wake_ && mu_.WaitUntil(cv_, until) != std::cv_status::timeout) {
    }
    if (stop_) return;
    wake_ = false;
  }
}

Status Ingester::Round(bool* more) {
  CV_RETURN_IF_ERROR(ApplyNotices());
  return ApplyOutboxBatch(more);
}

Status Ingester::ApplyNotices() {
  std::deque<Notice> taken;
  {
    MutexLock lock(&mu_);
    const size_t n = std::min(notices_.size(), kMaxNoticesPerRound);
    taken.assign(std::make_move_iterator(notices_.begin()),
                 std::make_move_iterator(notices_.begin() + static_cast<ptrdiff_t>(n)));
    notices_.erase(notices_.begin(), notices_.begin() + static_cast<ptrdiff_t>(n));
  }
  Status s;
  while (!taken.empty()) {
    if (auto* remove = std::get_if<Remove>(&taken.front())) {
      s = catalog_->RemoveActive(remove->call_id);
      if (!s.ok()) break;
      taken.pop_front();
      continue;
    }
    std::vector<ActiveCall> group;  // consecutive upserts go in one statement batch
    for (const Notice& n : taken) {
      if (!std::holds_alternative<ActiveCall>(n)) break;
      group.push_back(std::get<ActiveCall>(n));
    }
    s = catalog_->UpsertActive(group);
    if (!s.ok()) break;
    taken.erase(taken.begin(), taken.begin() + static_cast<ptrdiff_t>(group.size()));
  }
  if (!taken.empty()) {  // back to the front, in order, within the bound
    MutexLock lock(&mu_);
    notices_.insert(notices_.begin(), std::make_move_iterator(taken.begin()),
                    std::make_move_iterator(taken.end()));
    while (notices_.size() > options_.max_notices) notices_.pop_front();
  }
  return s;
}

void Ingester::UpdateGauges(const std::vector<std::string>& entries) {
  backlog_.store(entries.size());
  double lag = 0;
  if (!entries.empty()) {
    Result<std::string> text = fs_->ReadFile(options_.outbox_dir + "/" + entries.front());
    if (text.ok()) {
      const nlohmann::json e = nlohmann::json::parse(*text, nullptr, false);
      const std::string finalized = e.is_object() ? e.value("finalized", "") : "";
      if (std::optional<int64_t> ns = ParseRfc3339Ns(finalized)) {
        const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                clock_->WallNow().time_since_epoch())
                                .count();
        lag = std::max<double>(0, static_cast<double>(now - *ns) / 1e9);
      }
    }
  }
  lag_seconds_.store(lag);
  if (backlog_gauge_) backlog_gauge_->Set(static_cast<double>(entries.size()));
  if (lag_gauge_) lag_gauge_->Set(lag);
}

void Ingester::Reject(const std::string& name, const std::string& why) {
  const std::string dir = options_.outbox_dir + "/" + kRejectedDir;
  Status s = fs_->CreateDirs(dir);
  if (s.ok()) s = fs_->Rename(options_.outbox_dir + "/" + name, dir + "/" + name);
  if (s.ok()) s = fs_->SyncDir(options_.outbox_dir);
  CV_LOG_ERROR("catalog.ingest_rejected", "call={} entry=\"{}\" reason=\"{}\" moved={}",
               CallIdOf(name), name, why, s.ok());
  rejected_.fetch_add(1);
  if (rejected_total_) rejected_total_->Inc();
}

Status Ingester::ApplyOutboxBatch(bool* more) {
  *more = false;
  std::vector<std::string> entries;
  if (fs_->Exists(options_.outbox_dir)) {
    CV_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(options_.outbox_dir));
    for (std::string& n : names)
      if (IsEntry(n)) entries.push_back(std::move(n));
  }
  std::sort(entries.begin(), entries.end());  // UUIDv7: oldest first
  UpdateGauges(entries);
  if (entries.empty()) return Status::Ok();
  const size_t n = std::min(entries.size(), static_cast<size_t>(std::max(1, options_.batch)));
  *more = entries.size() > n;

  std::vector<std::string> names;
  std::vector<recording::Manifest> manifests;
  for (size_t i = 0; i < n; ++i) {
    const std::string& name = entries[i];
    Result<std::string> text = fs_->ReadFile(options_.outbox_dir + "/" + name);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) continue;  // removed meanwhile
      return text.status();  // the disk, not the entry: retry
    }
    const nlohmann::json entry = nlohmann::json::parse(*text, nullptr, false);
    if (!entry.is_object() || entry.value("format", "") != "callvault-outbox" ||
        !entry.contains("version") || !entry["version"].is_number_integer() ||
        entry["version"].get<int>() != 1 || !entry.contains("manifest") ||
        !entry["manifest"].is_string()) {
      Reject(name, "not a version-1 callvault-outbox entry");
      continue;
    }
    const std::string rel = entry["manifest"].get<std::string>();
    if (rel.empty() || rel.front() == '/' || rel.find("..") != std::string::npos) {
      Reject(name, "manifest path \"" + rel + "\" is not inside the recordings directory");
      continue;
    }
    Result<std::string> mtext = fs_->ReadFile(options_.recordings_dir + "/" + rel);
    if (!mtext.ok()) {
      if (mtext.status().code() != StatusCode::kNotFound) return mtext.status();
      Reject(name, "manifest " + rel + " does not exist");
      continue;
    }
    Result<recording::Manifest> manifest = recording::ParseManifest(*mtext);
    if (!manifest.ok()) {
      Reject(name, "manifest " + rel + ": " + std::string(manifest.status().message()));
      continue;
    }
    if (manifest->call_id != CallIdOf(name)) {
      Reject(name, "manifest " + rel + " is not JSON naming call " + CallIdOf(name));
      continue;
    }
    names.push_back(name);
    manifests.push_back(std::move(manifest).value());
  }
  if (manifests.empty()) return Status::Ok();

  Status s = catalog_->IngestManifests(manifests);
  std::vector<std::string> done;
  if (s.ok()) {
    done = names;
  } else if (s.code() == StatusCode::kInvalidArgument) {
    // One bad manifest fails the batch: apply one by one, set the bad ones aside.
    for (size_t i = 0; i < manifests.size(); ++i) {
      Status one = catalog_->IngestManifests({manifests[i]});
      if (one.ok()) {
        done.push_back(names[i]);
      } else if (one.code() == StatusCode::kInvalidArgument) {
        Reject(names[i], std::string(one.message()));
      } else {
        s = one;
        break;
      }
      s = Status::Ok();
    }
  }
  for (const std::string& name : done) {
    Status r = fs_->Remove(options_.outbox_dir + "/" + name);
    if (!r.ok() && r.code() != StatusCode::kNotFound)
      CV_LOG_WARN("catalog.outbox_remove_failed", "entry=\"{}\" error=\"{}\"", name, r.ToString());
  }
  if (!done.empty()) {
    backlog_.store(entries.size() - done.size());
    if (backlog_gauge_) backlog_gauge_->Set(static_cast<double>(backlog_.load()));
    ingested_.fetch_add(done.size());
    if (ingested_total_) ingested_total_->Add(done.size());
    CV_LOG_DEBUG("catalog.ingested", "calls={} backlog={}", done.size(),
                 entries.size() - done.size());
  }
  return s;
}

Status Ingester::Reconcile() {
  CV_ASSIGN_OR_RETURN(std::vector<std::string> active, catalog_->ActiveCallIds(options_.node_id));
  if (active.empty()) return Status::Ok();
  // Listed after the query: a call that ended meanwhile has its outbox entry before its spool
  // directory goes (finalizer step 4 before 6), and only this thread removes entries.
  std::unordered_set<std::string> alive;
  if (fs_->Exists(options_.spool_dir)) {
    CV_ASSIGN_OR_RETURN(std::vector<std::string> dirs, fs_->ListDir(options_.spool_dir));
    alive.insert(dirs.begin(), dirs.end());
  }
  if (fs_->Exists(options_.outbox_dir)) {
    CV_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(options_.outbox_dir));
    for (const std::string& n : names)
      if (IsEntry(n)) alive.insert(CallIdOf(n));
  }
  for (const std::string& id : active) {
    if (alive.count(id)) continue;
    CV_RETURN_IF_ERROR(catalog_->RemoveActive(id));
    CV_LOG_INFO("catalog.active_reconciled", "call={} reason=\"no spool and no outbox entry\"",
                id);
  }
  return Status::Ok();
}

}  // namespace callvault::catalog

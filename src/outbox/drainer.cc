#include "outbox/drainer.h"

#include <algorithm>
#include <set>

#include "base/fs.h"
#include "base/log.h"
#include "base/thread_name.h"
#include "base/time_format.h"

namespace callvault::outbox {
namespace {

using std::chrono::milliseconds;

}  // namespace

Drainer::Drainer(DrainerOptions options, Outbox* outbox, const Clock* clock, ApplyBatchFn apply,
                 Registry* metrics, RoundHookFn before_round)
    : options_(std::move(options)),
      outbox_(outbox),
      fs_(outbox->fs()),
      clock_(clock),
      apply_(std::move(apply)),
      before_round_(std::move(before_round)),
      queue_dir_(outbox->QueueDir(options_.queue)) {
  if (metrics) {
    const MetricLabels labels = {{"queue", options_.queue}};
    auto counter = [&](const char* name, const char* help) {
      Result<Counter*> c = metrics->AddCounter(name, help, labels);
      return c.ok() ? *c : nullptr;
    };
    applied_total_ = counter("callvault_outbox_applied_total",
                             "Outbox entries their consumer applied and the drainer removed.");
    dropped_total_ = counter("callvault_outbox_dropped_total",
                             "Outbox entries dropped because their call was deleted meanwhile.");
    rejected_total_ = counter("callvault_outbox_rejected_total",
                              "Outbox entries set aside in rejected/ as unusable.");
    errors_total_ = counter("callvault_outbox_errors_total",
                            "Drain rounds that failed (consumer's target or disk unavailable).");
    Result<Gauge*> lag = metrics->AddGauge(
        "callvault_outbox_lag_seconds",
        "Age of the oldest entry waiting in an outbox queue, since its call was finalized.",
        labels);
    if (lag.ok()) lag_gauge_ = *lag;
  }
  outbox_->SetListener(options_.queue, [this](std::string_view id) { OnPut(id); });
}

Drainer::~Drainer() {
  Stop();
  outbox_->SetListener(options_.queue, nullptr);
}

void Drainer::Start() {
  thread_ = std::thread([this] {
    SetCurrentThreadName("cv-drain");
    Run();
  });
}

void Drainer::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Drainer::Wake() {
  {
    MutexLock lock(&mu_);
    wake_ = true;
    idle_ = false;
  }
  cv_.notify_all();
}

void Drainer::RetryNow() {
  {
    MutexLock lock(&mu_);
    retry_now_ = true;
    wake_ = true;
    idle_ = false;
  }
  cv_.notify_all();
}

void Drainer::OnPut(std::string_view call_id) {
  {
    MutexLock lock(&mu_);
    const std::string bucket(Outbox::BucketOf(call_id));
    if (!rewind_ || bucket < *rewind_) rewind_ = bucket;
    wake_ = true;
    idle_ = false;
  }
  cv_.notify_all();
}

bool Drainer::WaitIdle(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (!idle_) {
    if (mu_.WaitUntil(cv_, deadline) == std::cv_status::timeout) return idle_;
  }
  return true;
}

std::string Drainer::last_error() const {
  MutexLock lock(&mu_);
  return last_error_;
}

Status Drainer::RunOnce(bool* more) {
  Status s = Round(more);
  MutexLock lock(&mu_);
  last_error_ = s.ok() ? "" : s.ToString();
  idle_ = s.ok() && !*more;
  return s;
}

void Drainer::Run() {
  milliseconds backoff = options_.first_backoff;
  bool was_failing = false;
  for (;;) {
    bool more = false;
    const Status s = Round(&more);
    MutexLock lock(&mu_);
    if (stop_) return;
    if (!s.ok()) {
      if (errors_total_) errors_total_->Inc();
      if (!was_failing || s.ToString() != last_error_) {
        CV_LOG_WARN("outbox.drain_waiting",
                    "queue={} consumer={} backlog={} retry_in_ms={} error=\"{}\"", options_.queue,
                    options_.consumer, outbox_->backlog(options_.queue), backoff.count(),
                    s.ToString());
      }
      last_error_ = s.ToString();
      was_failing = true;
      idle_ = false;
      const auto until = std::chrono::steady_clock::now() + backoff;
      while (!stop_ && !retry_now_ && mu_.WaitUntil(cv_, until) != std::cv_status::timeout) {
      }
      if (stop_) return;
      retry_now_ = false;
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    if (was_failing) {
      CV_LOG_INFO("outbox.drain_resumed", "queue={} consumer={} backlog={}", options_.queue,
                  options_.consumer, outbox_->backlog(options_.queue));
      was_failing = false;
    }
    last_error_.clear();
    backoff = options_.first_backoff;
    if (more) {
      wake_ = false;
      continue;
    }
    if (!wake_) {
      idle_ = true;
      cv_.notify_all();  // WaitIdle
      const auto until = std::chrono::steady_clock::now() + options_.poll;
      while (!stop_ && !wake_ && mu_.WaitUntil(cv_, until) != std::cv_status::timeout) {
      }
      if (stop_) return;
      if (!wake_) rescan_ = true;  // the poll: look at the whole queue again
    }
    // Woken while idle or during the round: a burst (a mass hang-up, a setup burst's active
    // calls) gathers for `linger` so that one round takes many, not one round each.
    if (wake_ && options_.linger.count() > 0 &&
        outbox_->backlog(options_.queue) < options_.batch) {  // let a burst gather
      const auto gather = std::chrono::steady_clock::now() + options_.linger;
      while (!stop_ && mu_.WaitUntil(cv_, gather) != std::cv_status::timeout) {
      }
      if (stop_) return;
    }
    wake_ = false;
  }
}

Status Drainer::Round(bool* more) {
  *more = false;
  if (before_round_) CV_RETURN_IF_ERROR(before_round_(more));
  if (options_.gate && !options_.gate()) {
    // Closed: nothing is delivered, but the lag of the oldest waiting entry still grows.
    Result<std::vector<std::string>> next = NextIds(1);
    if (next.ok() && !next->empty()) {
      const std::string id = next->front();
      cached_.push_front(id);
      Result<std::string> text = fs_->ReadFile(outbox_->EntryPath(options_.queue, id));
      Result<Entry> entry = text.ok() ? ParseEntry(*text) : Result<Entry>(text.status());
      if (entry.ok()) {
        std::vector<Delivery> oldest = {Delivery{.entry = std::move(entry).value()}};
        SetLag(oldest);
      }
    }
    return Status::Ok();  // the poll looks again
  }
  bool batch_more = false;
  Status s = DrainBatch(&batch_more);
  *more = *more || batch_more;
  return s;
}

Result<std::vector<std::string>> Drainer::ListBuckets() {
  CV_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(queue_dir_));
  std::vector<std::string> buckets;
  bool adopted = false;
  for (const std::string& name : names) {
    if (Outbox::IsBucketName(name)) {
      buckets.push_back(name);
    } else if (name.ends_with(kEntrySuffix) && CallIdOfEntryName(name).empty()) {
      // An entry-like file without a call id for a name (copied in by hand): set aside.
      if (!Reject(name.substr(0, name.size() - kEntrySuffix.size()),
                  "the file name is not <call id>.json", queue_dir_))
        return IoError("setting aside " + queue_dir_ + "/" + name, EIO);
    } else if (const std::string id(CallIdOfEntryName(name)); !id.empty()) {
      // A flat entry (moved back from rejected/ by an operator): into its bucket.
      CV_RETURN_IF_ERROR(outbox_->AdoptFlatEntry(options_.queue, name));
      CV_LOG_INFO("outbox.entry_adopted", "queue={} call={}", options_.queue, id);
      OnPut(id);
      adopted = true;
    }
  }
  if (adopted) return ListBuckets();
  return buckets;  // ListDir sorts
}

Result<std::vector<std::string>> Drainer::NextIds(size_t n) {
  for (;;) {
    bool recount = false;
    {
      MutexLock lock(&mu_);
      if (rescan_) {
        rescan_ = false;
        bucket_.clear();
        cached_.clear();
        ahead_.clear();
        listed_ = false;
        if (std::chrono::steady_clock::now() - last_recount_ > std::chrono::minutes(1)) {
          last_recount_ = std::chrono::steady_clock::now();
          recount = true;
        }
      }
      if (rewind_) {
        // Behind the cursor: go back. In the cursor's bucket: the re-listing once the cached
        // names are handed out takes it.
        if (bucket_.empty() || *rewind_ < bucket_) {
          if (!bucket_.empty()) ahead_.push_front(bucket_);
          bucket_ = *rewind_;
          cached_.clear();
          listed_ = false;
        }
        rewind_.reset();
      }
    }
    if (recount) {  // outside the lock: a listing of every bucket
      if (Status s = outbox_->Recount(options_.queue); !s.ok())
        CV_LOG_DEBUG("outbox.recount_failed", "queue={} error=\"{}\"", options_.queue,
                     s.ToString());
    }
    if (bucket_.empty()) {
      CV_ASSIGN_OR_RETURN(std::vector<std::string> buckets, ListBuckets());
      if (buckets.empty()) return std::vector<std::string>{};
      bucket_ = buckets.front();
      ahead_.assign(buckets.begin() + 1, buckets.end());
      listed_ = false;
    }
    if (cached_.empty()) {
      // First listing of this bucket, or a re-listing once its entries were handed out (to take
      // entries put into it since).
      const std::string dir = queue_dir_ + "/" + bucket_;
      std::vector<std::string> names;
      if (fs_->Exists(dir)) {
        CV_ASSIGN_OR_RETURN(names, fs_->ListDir(dir));
      }
      for (const std::string& name : names) {
        if (!name.ends_with(kEntrySuffix)) continue;  // a Put's temp file
        if (std::string id(CallIdOfEntryName(name)); !id.empty()) {
          if (deferred_.count(id)) continue;  // not due yet: TakeDue delivers it
          cached_.push_back(std::move(id));
        } else {
          if (Reject(name.substr(0, name.size() - kEntrySuffix.size()),
                     "the file name is not <call id>.json"))
            outbox_->Removed(options_.queue, 1);
        }
      }
      listed_ = true;
      if (cached_.empty()) {
        while (!ahead_.empty() && ahead_.front() <= bucket_) ahead_.pop_front();
        if (ahead_.empty()) {
          CV_ASSIGN_OR_RETURN(std::vector<std::string> buckets, ListBuckets());
          for (auto it = std::upper_bound(buckets.begin(), buckets.end(), bucket_);
               it != buckets.end(); ++it)
            ahead_.push_back(std::move(*it));
        }
        if (ahead_.empty()) {  // drained to the newest, unless a Put came behind us
          MutexLock lock(&mu_);
          if (rewind_) continue;
          return std::vector<std::string>{};
        }
        // Empty and not the newest: remove it. A Put racing this finds its directory gone and
        // makes it again (Outbox::Put), or keeps it non-empty (then it stays, and the Put's
        // notice rewinds the cursor).
        Status r = fs_->Remove(dir);
        if (!r.ok() && r.code() != StatusCode::kNotFound)
          CV_LOG_DEBUG("outbox.bucket_kept", "queue={} bucket={} reason=\"{}\"", options_.queue,
                       bucket_, r.ToString());
        bucket_ = std::move(ahead_.front());
        ahead_.pop_front();
        listed_ = false;
        continue;
      }
    }
    std::vector<std::string> ids;
    while (!cached_.empty() && ids.size() < n) {
      ids.push_back(std::move(cached_.front()));
      cached_.pop_front();
    }
    return ids;
  }
}

void Drainer::SetLag(const std::vector<Delivery>& batch) {
  double lag = 0;
  if (!batch.empty()) {
    if (std::optional<int64_t> ns = ParseRfc3339Ns(batch.front().entry.finalized)) {
      const int64_t now =
          std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->WallNow().time_since_epoch())
              .count();
      const double delay_s = static_cast<double>(options_.delay.count()) / 1e3;
      lag = std::max<double>(0, static_cast<double>(now - *ns) / 1e9 - delay_s);
    }
  }
  lag_seconds_.store(lag);
  if (lag_gauge_) lag_gauge_->Set(lag);
}

bool Drainer::Reject(const std::string& call_id, const std::string& reason, std::string dir_in) {
  const std::string from = (dir_in.empty() ? queue_dir_ + "/" + bucket_ : dir_in) + "/" + call_id +
                           std::string(kEntrySuffix);
  const std::string dir = queue_dir_ + "/" + kRejectedDir;
  Status s = outbox_->EnsureDir(dir);
  if (s.ok()) s = WriteFileDurably(*fs_, dir + "/" + call_id + ".reason", reason + "\n");
  if (s.ok()) s = fs_->Rename(from, dir + "/" + call_id + std::string(kEntrySuffix));
  if (s.ok()) s = fs_->SyncDir(dir);
  if (s.ok()) s = fs_->SyncDir(DirName(from));
  CV_LOG_ERROR("outbox.rejected", "queue={} consumer={} call={} reason=\"{}\" moved={}{}",
               options_.queue, options_.consumer, call_id, reason, s.ok(),
               s.ok() ? "" : " error=\"" + s.ToString() + "\"");
  rejected_.fetch_add(1);
  if (rejected_total_) rejected_total_->Inc();
  return s.ok();
}

std::optional<std::chrono::system_clock::time_point> Drainer::DueTime(const Entry& entry) const {
  if (options_.delay.count() <= 0) return std::nullopt;
  std::optional<int64_t> ns = ParseRfc3339Ns(entry.finalized);
  if (!ns) return std::nullopt;
  const auto due = std::chrono::system_clock::time_point(
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(
                           std::chrono::nanoseconds(*ns))) +
                   options_.delay;
  if (due <= clock_->WallNow()) return std::nullopt;
  return due;
}

std::vector<std::string> Drainer::TakeDue(size_t n) {
  std::vector<std::string> ids;
  if (deferred_.empty()) return ids;
  const auto now = clock_->WallNow();
  for (auto it = deferred_.begin(); it != deferred_.end() && ids.size() < n;) {
    if (it->second <= now) {
      ids.push_back(it->first);
      it = deferred_.erase(it);
    } else {
      ++it;
    }
  }
  deferred_count_.store(deferred_.size());
  return ids;
}

Status Drainer::DrainBatch(bool* more) {
  *more = false;
  const size_t limit = static_cast<size_t>(std::max(1, options_.batch));
  // Deferred entries that fell due first (they are the oldest), then the cursor's.
  std::vector<std::string> ids = TakeDue(limit);
  const size_t due_count = ids.size();
  if (ids.size() < limit) {
    Result<std::vector<std::string>> next = NextIds(limit - ids.size());
    if (!next.ok()) {
      for (const std::string& id : ids) deferred_.emplace(id, clock_->WallNow());
      deferred_count_.store(deferred_.size());
      return next.status();
    }
    for (std::string& id : *next) {  // a re-listing of the bucket may name a due one again
      if (std::find(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(due_count), id) ==
          ids.begin() + static_cast<ptrdiff_t>(due_count))
        ids.push_back(std::move(id));
    }
  }
  if (ids.empty()) {
    SetLag({});
    return Status::Ok();
  }
  *more = true;  // the next round says whether there is more
  std::vector<Delivery> batch;
  batch.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string path = outbox_->EntryPath(options_.queue, ids[i]);
    Result<std::string> text = fs_->ReadFile(path);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) continue;  // removed meanwhile
      for (size_t j = i; j < ids.size(); ++j) {
        if (j < due_count) {
          deferred_.emplace(ids[j], clock_->WallNow());
        } else {
          cached_.push_back(ids[j]);
        }
      }
      deferred_count_.store(deferred_.size());
      return text.status().Annotate("reading outbox queue " + options_.queue);
    }
    Result<Entry> entry = ParseEntry(*text);
    std::string unusable;
    if (!entry.ok()) {
      unusable = std::string(entry.status().message());
    } else if (entry->call_id != ids[i]) {
      unusable = "the entry names call " + entry->call_id;
    }
    if (!unusable.empty()) {
      if (!Reject(ids[i], unusable, DirName(path)))  // would come back at once: back off
        return IoError("setting aside outbox entry " + ids[i] + " of queue " + options_.queue, EIO);
      outbox_->Removed(options_.queue, 1);
      continue;
    }
    if (std::optional<std::chrono::system_clock::time_point> due = DueTime(*entry)) {
      if (deferred_.size() >= options_.max_deferred) {
        // Too many passed over to remember: wait for this one (and those after it) in order.
        for (size_t j = ids.size(); j-- > std::max(i, due_count);) cached_.push_front(ids[j]);
        if (i < due_count) {
          for (size_t j = i; j < due_count; ++j) deferred_.emplace(ids[j], *due);
        }
        if (batch.empty()) *more = false;  // nothing due: the poll comes back to it
        break;
      }
      deferred_.emplace(ids[i], *due);
      continue;
    }
    batch.push_back(Delivery{.entry = std::move(entry).value()});
  }
  deferred_count_.store(deferred_.size());
  if (batch.empty()) return Status::Ok();
  SetLag(batch);

  Status s = apply_(batch);
  int64_t removed = 0;
  uint64_t applied = 0, dropped = 0;
  std::vector<std::string> keep;
  std::set<std::string> dirs;  // of removed entries, synced once each
  for (const Delivery& d : batch) {
    const std::string path = outbox_->EntryPath(options_.queue, d.entry.call_id);
    switch (d.outcome) {
      case Outcome::kDone:
      case Outcome::kDropped: {
        Status r = fs_->Remove(path);
        if (!r.ok() && r.code() != StatusCode::kNotFound) {
          CV_LOG_WARN("outbox.remove_failed", "queue={} call={} error=\"{}\"", options_.queue,
                      d.entry.call_id, r.ToString());
          continue;  // applied again later: idempotent
        }
        ++removed;
        dirs.insert(DirName(path));
        if (d.outcome == Outcome::kDone) {
          ++applied;
        } else {
          ++dropped;
          CV_LOG_INFO("outbox.dropped", "queue={} consumer={} call={} reason=\"{}\"",
                      options_.queue, options_.consumer, d.entry.call_id, d.reason);
        }
        break;
      }
      case Outcome::kRejected:
        if (Reject(d.entry.call_id,
                   d.reason.empty() ? "rejected by " + options_.consumer : d.reason, DirName(path)))
          outbox_->Removed(options_.queue, 1);
        break;
      case Outcome::kRetry:
        keep.push_back(d.entry.call_id);
        break;
    }
  }
  if (removed > 0) {
    // Durable removal: after a crash, at most the batch in flight is delivered again.
    for (const std::string& dir : dirs) {
      if (Status r = fs_->SyncDir(dir); !r.ok())
        CV_LOG_WARN("outbox.sync_failed", "queue={} error=\"{}\"", options_.queue, r.ToString());
    }
    outbox_->Removed(options_.queue, removed);
  }
  applied_.fetch_add(applied);
  dropped_.fetch_add(dropped);
  if (applied_total_) applied_total_->Add(applied);
  if (dropped_total_) dropped_total_->Add(dropped);
  if (!keep.empty()) {
    cached_.insert(cached_.begin(), keep.begin(), keep.end());
    if (s.ok() && !(options_.gate && !options_.gate()))
      s = UnavailableError(options_.consumer + " left " + std::to_string(keep.size()) +
                           " entries for later");
  }
  return s;
}

}  // namespace callvault::outbox

#include "outbox/outbox.h"

#include "base/log.h"

namespace callvault::outbox {
namespace {

constexpr int kPutAttempts = 3;
constexpr std::string_view kTempSuffix = ".tmp";

bool IsHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

Outbox::Outbox(std::string root, Fs* fs, Registry* metrics)
    : root_(std::move(root)), fs_(fs), metrics_(metrics) {}

bool Outbox::IsBucketName(std::string_view name) {
  return name.size() == kBucketChars && IsHex(name);
}

std::string Outbox::EntryPath(const std::string& queue, std::string_view call_id) const {
  std::string path = QueueDir(queue);
  path += '/';
  path += BucketOf(call_id);
  path += '/';
  path += call_id;
  path += kEntrySuffix;
  return path;
}

Outbox::Queue* Outbox::Find(const std::string& queue) const {
  MutexLock lock(&mu_);
  auto it = queues_.find(queue);
  return it == queues_.end() ? nullptr : it->second.get();
}

bool Outbox::IsOpen(const std::string& queue) const { return Find(queue) != nullptr; }

int64_t Outbox::backlog(const std::string& queue) const {
  Queue* q = Find(queue);
  return q ? std::max<int64_t>(0, q->backlog.load()) : 0;
}

void Outbox::SetBacklog(Queue* q, int64_t value) {
  q->backlog.store(value);
  if (q->backlog_gauge) q->backlog_gauge->Set(static_cast<double>(std::max<int64_t>(0, value)));
}

void Outbox::Removed(const std::string& queue, int64_t n) {
  Queue* q = Find(queue);
  if (!q || n == 0) return;
  int64_t now = q->backlog.fetch_sub(n) - n;
  if (now < 0) {  // entries put by another process, not counted yet (Recount)
    q->backlog.compare_exchange_strong(now, 0);
    now = 0;
  }
  if (q->backlog_gauge) q->backlog_gauge->Set(static_cast<double>(now));
}

Status Outbox::Recount(const std::string& queue) {
  Queue* q = Find(queue);
  if (!q) return FailedPreconditionError("outbox: queue " + queue + " is not open");
  CV_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(q->dir));
  int64_t count = 0;
  for (const std::string& name : names) {
    if (!IsBucketName(name)) continue;
    Result<std::vector<std::string>> entries = fs_->ListDir(q->dir + "/" + name);
    if (!entries.ok()) continue;  // removed meanwhile (an emptied bucket)
    for (const std::string& e : *entries) count += CallIdOfEntryName(e).empty() ? 0 : 1;
  }
  SetBacklog(q, count);
  return Status::Ok();
}

void Outbox::SetListener(const std::string& queue,
                         std::function<void(std::string_view call_id)> fn) {
  if (Queue* q = Find(queue)) {
    q->listener = std::move(fn);
    return;
  }
  // Not open yet (a drainer made before the start-up opens its queue): kept for OpenQueue.
  MutexLock lock(&mu_);
  early_listeners_[queue] = std::move(fn);
}

Status Outbox::EnsureDir(const std::string& dir) {
  if (fs_->Exists(dir)) return Status::Ok();
  const std::string parent = DirName(dir);
  if (!fs_->Exists(parent)) CV_RETURN_IF_ERROR(EnsureDir(parent));
  CV_RETURN_IF_ERROR(fs_->CreateDirs(dir));
  return fs_->SyncDir(parent);
}

Status Outbox::AdoptFlatEntry(const std::string& queue, const std::string& name) {
  const std::string qdir = QueueDir(queue);
  const std::string_view id = CallIdOfEntryName(name);
  if (id.empty()) return InvalidArgumentError("outbox: " + name + " is not an entry name");
  const std::string bucket = qdir + "/" + std::string(BucketOf(id));
  CV_RETURN_IF_ERROR(EnsureDir(bucket));
  const std::string target = bucket + "/" + name;
  if (fs_->Exists(target)) {
    CV_RETURN_IF_ERROR(fs_->Remove(qdir + "/" + name));
    return fs_->SyncDir(qdir);
  }
  CV_RETURN_IF_ERROR(fs_->Rename(qdir + "/" + name, target));
  CV_RETURN_IF_ERROR(fs_->SyncDir(bucket));  // the new name first: never neither
  return fs_->SyncDir(qdir);
}

Status Outbox::AttachQueue(const std::string& queue) {
  if (queue.empty() || queue.find('/') != std::string::npos || queue == "." || queue == "..")
    return InvalidArgumentError("outbox: bad queue name \"" + queue + "\"");
  const std::string qdir = QueueDir(queue);
  CV_RETURN_IF_ERROR(EnsureDir(qdir).Annotate("attaching outbox queue " + queue));
  if (Find(queue)) return Status::Ok();
  auto fresh = std::make_unique<Queue>();
  fresh->dir = qdir;
  MutexLock lock(&mu_);
  queues_.emplace(queue, std::move(fresh));
  return Status::Ok();
}

Status Outbox::OpenQueue(const std::string& queue) {
  if (queue.empty() || queue.find('/') != std::string::npos || queue == "." || queue == "..")
    return InvalidArgumentError("outbox: bad queue name \"" + queue + "\"");
  const std::string qdir = QueueDir(queue);
  CV_RETURN_IF_ERROR(EnsureDir(qdir).Annotate("opening outbox queue " + queue));
  Queue* q = Find(queue);
  if (!q) {
    auto fresh = std::make_unique<Queue>();
    fresh->dir = qdir;
    if (metrics_) {
      Result<Gauge*> g = metrics_->AddGauge(
          "callvault_outbox_backlog", "Entries waiting in an outbox queue.", {{"queue", queue}});
      if (g.ok()) fresh->backlog_gauge = *g;
    }
    q = fresh.get();
    MutexLock lock(&mu_);
    if (auto it = early_listeners_.find(queue); it != early_listeners_.end()) {
      fresh->listener = std::move(it->second);
      early_listeners_.erase(it);
    }
    queues_.emplace(queue, std::move(fresh));
  }
  CV_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(qdir));
  int64_t count = 0, adopted = 0, temps = 0;
  for (const std::string& name : names) {
    if (!CallIdOfEntryName(name).empty()) {  // the flat layout of an earlier build
      CV_RETURN_IF_ERROR(AdoptFlatEntry(queue, name));
      ++adopted;
    } else if (name.ends_with(kTempSuffix)) {
      CV_RETURN_IF_ERROR(fs_->Remove(qdir + "/" + name));
      ++temps;
    }
  }
  if (adopted > 0) {
    CV_ASSIGN_OR_RETURN(names, fs_->ListDir(qdir));
  }
  for (const std::string& name : names) {
    if (!IsBucketName(name)) continue;  // rejected/, an operator's notes…
    const std::string bucket = qdir + "/" + name;
    CV_ASSIGN_OR_RETURN(std::vector<std::string> entries, fs_->ListDir(bucket));
    for (const std::string& e : entries) {
      if (e.ends_with(kTempSuffix)) {  // a Put that crashed before its rename
        CV_RETURN_IF_ERROR(fs_->Remove(bucket + "/" + e));
        ++temps;
      } else if (e.ends_with(kEntrySuffix)) {
        ++count;
      }
    }
  }
  SetBacklog(q, count);
  CV_LOG_INFO("outbox.opened", "queue={} backlog={} adopted_flat={} temp_removed={}", queue, count,
              adopted, temps);
  return Status::Ok();
}

Status Outbox::Put(const std::string& queue, const Entry& entry) {
  Queue* q = Find(queue);
  if (!q) return FailedPreconditionError("outbox: queue \"" + queue + "\" is not open");
  if (!IsValidCallId(entry.call_id))
    return InvalidArgumentError("outbox: call id \"" + entry.call_id + "\" is not a UUID");
  const std::string bucket = q->dir + "/" + std::string(BucketOf(entry.call_id));
  const std::string path = bucket + "/" + entry.call_id + std::string(kEntrySuffix);
  const std::string text = SerializeEntry(entry);
  Status s;
  // A drainer removes empty buckets: a Put racing that removal finds its directory gone
  // (NotFound) and makes it again.
  for (int attempt = 0; attempt < kPutAttempts; ++attempt) {
    s = EnsureDir(bucket);
    if (!s.ok() && s.code() != StatusCode::kNotFound) break;
    const bool existed = fs_->Exists(path);
    if (s.ok()) s = WriteFileDurably(*fs_, path, text);
    if (s.ok()) {
      if (!existed) {
        const int64_t now = q->backlog.fetch_add(1) + 1;
        if (q->backlog_gauge) q->backlog_gauge->Set(static_cast<double>(std::max<int64_t>(0, now)));
      }
      if (q->listener) q->listener(entry.call_id);
      return Status::Ok();
    }
    if (s.code() != StatusCode::kNotFound) break;
  }
  return s.Annotate("writing the outbox entry of call " + entry.call_id + " in queue " + queue);
}

bool Outbox::Contains(const std::string& queue, std::string_view call_id) {
  if (!IsValidCallId(call_id)) return false;
  return fs_->Exists(EntryPath(queue, call_id));
}

}  // namespace callvault::outbox

#include "base/group_sync.h"

#include <algorithm>
#include <future>
#include <map>
#include <utility>

#include "base/log.h"
#include "base/thread_name.h"

namespace callvault {

GroupSync::GroupSync(Fs* fs, GroupSyncOptions options) : fs_(fs), options_(options) {}

GroupSync::~GroupSync() { Stop(); }

void GroupSync::Start() {
  MutexLock lock(&mu_);
  if (running_ || thread_.joinable()) return;
  running_ = true;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void GroupSync::Stop() {
  {
    MutexLock lock(&mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  MutexLock lock(&mu_);
  thread_ = std::thread();
}

void GroupSync::Submit(Request r) {
  {
    MutexLock lock(&mu_);
    if (running_) {
      pending_.push_back(std::move(r));
      // Only one thread waits on cv_; notify under the lock so it cannot miss the request.
      cv_.notify_one();
      return;
    }
  }
  std::vector<Request> one;
  one.push_back(std::move(r));
  RunRound(one);
}

Status GroupSync::Sync(Request r) {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> outcome = promise->get_future();
  r.done = [promise, done = std::move(r.done)](Status s) {
    if (done) done(s);
    promise->set_value(std::move(s));
  };
  Submit(std::move(r));
  return outcome.get();
}

GroupSync::Stats GroupSync::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

void GroupSync::Run() {
  SetCurrentThreadName("cv-group-sync");
  std::vector<Request> batch;
  for (;;) {
    {
      MutexLock lock(&mu_);
      while (pending_.empty() && !stop_) mu_.Wait(cv_);
      if (pending_.empty()) {  // stopping, nothing left: later requests run inline
        running_ = false;
        return;
      }
      batch.swap(pending_);  // the round starts: everything in it was written before
    }
    RunRound(batch);
    batch.clear();
  }
}

void GroupSync::RunRound(std::vector<Request>& batch) {
  const size_t n = batch.size();
  std::vector<Status> out(n);
  std::vector<bool> per_request(n, true);
  bool batched = false;
  if (options_.batch_min > 0 && n >= options_.batch_min) {
    batched = true;
    std::map<std::string, Status> roots;  // root → its syncfs outcome
    for (const Request& r : batch) roots.emplace(r.root, Status::Ok());
    for (auto& [root, status] : roots) {
      status = fs_->SyncFilesystem(root);
      if (!status.ok()) {
        CV_LOG_WARN("fs.group_sync_batch_failed",
                    "root={} requests={} error=\"{}\" (syncing each file instead)", root, n,
                    status.ToString());
      }
    }
    for (size_t i = 0; i < n; ++i) per_request[i] = !roots[batch[i].root].ok();
  }
  // Per request: its file, then the round's distinct directories once each.
  std::map<std::string, Status> dirs;
  for (size_t i = 0; i < n; ++i) {
    if (!per_request[i]) continue;
    if (batch[i].sync) out[i] = batch[i].sync();
    for (const std::string& d : batch[i].dirs) dirs.emplace(d, Status::Ok());
  }
  // Deeper directories first: a call directory before the spool root that names it.
  std::vector<std::string> order;
  for (const auto& [d, unused] : dirs) order.push_back(d);
  std::stable_sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  for (const std::string& d : order) dirs[d] = fs_->SyncDir(d);
  uint64_t failed = 0;
  for (size_t i = 0; i < n; ++i) {
    if (per_request[i] && out[i].ok()) {
      for (const std::string& d : batch[i].dirs) {
        if (!dirs[d].ok()) {
          out[i] = dirs[d];
          break;
        }
      }
    }
    if (!out[i].ok()) ++failed;
  }
  {
    MutexLock lock(&mu_);
    ++stats_.rounds;
    stats_.requests += n;
    stats_.failed += failed;
    if (batched) ++stats_.batched_rounds;
  }
  for (size_t i = 0; i < n; ++i) batch[i].done(std::move(out[i]));
}

}  // namespace callvault

#include "recording/finalize_queue.h"

#include <algorithm>
#include <unordered_set>

#include "base/log.h"
#include "base/thread_name.h"
#include "media/spool_format.h"

namespace callvault::recording {
namespace {

using std::chrono::milliseconds;

// How often idle workers look at delayed retries (their time comes from the Clock).
constexpr milliseconds kRetryTick{100};

}  // namespace

int DefaultFinalizeWorkers() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::clamp(4 * cores, 4, 16);
}

FinalizeQueue::FinalizeQueue(Fs* fs, const Clock* clock, FinalizeOptions options,
                             FinalizeQueueOptions queue_options)
    : fs_(fs),
      clock_(clock),
      options_(std::move(options)),
      queue_options_(queue_options),
      workers_(queue_options.workers > 0 ? queue_options.workers : DefaultFinalizeWorkers()) {}

FinalizeQueue::~FinalizeQueue() { Stop(); }

void FinalizeQueue::Start() {
  for (int i = 0; i < workers_; ++i)
    threads_.emplace_back([this, i] {
      SetCurrentThreadName("cv-finalize-" + std::to_string(i));
      Run();
    });
}

void FinalizeQueue::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  MutexLock lock(&mu_);
  if (!queue_.empty()) {
    CV_LOG_INFO("finalize.left_for_next_start", "pending={}", queue_.size());
  }
}

void FinalizeQueue::Enqueue(FinalizeRequest request) {
  Item item;
  item.call_id = BaseName(request.spool_dir);
  item.request = std::move(request);
  {
    MutexLock lock(&mu_);
    queue_.push_back(std::move(item));
  }
  cv_.notify_one();
}

void FinalizeQueue::Wake() { cv_.notify_all(); }

size_t FinalizeQueue::pending() const {
  MutexLock lock(&mu_);
  return queue_.size() + busy_.size();
}

std::deque<FinalizeQueue::Item>::iterator FinalizeQueue::NextLocked() {
  const auto now = clock_->Now();
  std::unordered_set<std::string> waiting;  // calls with an earlier request still queued
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (busy_.count(it->call_id) || waiting.count(it->call_id)) continue;
    if (it->not_before <= now) return it;
    waiting.insert(it->call_id);
  }
  return queue_.end();
}

void FinalizeQueue::Run() {
  for (;;) {
    Item item;
    {
      MutexLock lock(&mu_);
      for (;;) {
        if (stop_) return;
        auto it = NextLocked();
        if (it != queue_.end()) {
          item = std::move(*it);
          queue_.erase(it);
          busy_.insert(item.call_id);
          break;
        }
        if (queue_.empty()) {
          mu_.Wait(cv_);
        } else {  // only delayed retries or calls in progress: look again soon
          mu_.WaitUntil(cv_, std::chrono::steady_clock::now() + kRetryTick);
        }
      }
    }
    if (queue_options_.spool_pending && queue_options_.spool_pending(item.call_id)) {
      if (!item.waiting_logged) {
        item.waiting_logged = true;
        CV_LOG_INFO("finalize.waiting_for_spool",
                    "call={} reason=\"the disk has not taken all of the call's spool yet\"",
                    item.call_id);
      }
      MutexLock lock(&mu_);
      busy_.erase(item.call_id);
      item.not_before = clock_->Now() + queue_options_.pending_poll;
      if (!stop_) queue_.push_front(std::move(item));
      cv_.notify_all();
      continue;
    }
    const bool done = Attempt(item);
    {
      MutexLock lock(&mu_);
      busy_.erase(item.call_id);
      if (!done && !stop_) {  // when stopping, it stays in the spool for the next start
        item.backoff = item.backoff.count() == 0
                           ? queue_options_.first_backoff
                           : std::min(item.backoff * 2, queue_options_.max_backoff);
        item.not_before = clock_->Now() + item.backoff;
        CV_LOG_INFO("finalize.retry_scheduled", "call={} retry_in_ms={}", item.call_id,
                    item.backoff.count());
        queue_.push_front(std::move(item));  // ahead of later requests for the same call
      }
    }
    cv_.notify_all();
  }
}

bool FinalizeQueue::Attempt(const Item& item) {
  const auto started = std::chrono::steady_clock::now();
  Result<FinalizeResult> r = FinalizeCall(*fs_, *clock_, options_, item.request);
  if (r.ok()) {
    finalized_.fetch_add(1);
    if (!r->already_finalized)
      bytes_written_.fetch_add(
          r->manifest.value(nlohmann::json::json_pointer("/audio/bytes"), uint64_t{0}));
    CV_LOG_INFO("finalize.done", "call={} state={} audio=\"{}\" duration_ms={} took_ms={}{}",
                item.call_id, r->manifest.value("state", ""), r->audio_path, r->duration_ms,
                std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started)
                    .count(),
                r->already_finalized ? " already=true" : "");
    if (on_finalized_ && !r->already_finalized) on_finalized_(*r);
    return true;
  }
  failures_.fetch_add(1);
  const Status& s = r.status();
  if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kAborted) {
    CV_LOG_WARN("finalize.skipped", "spool=\"{}\" reason=\"{}\"", item.request.spool_dir,
                s.message());
    return true;  // gone (finalized before) or being finalized by another caller
  }
  CV_LOG_ERROR("finalize.failed", "spool=\"{}\" reason=\"{}\"", item.request.spool_dir,
               s.message());
  return false;
}

Result<size_t> FinalizeQueue::RecoverAtStartup(
    const std::string& spool_root, std::vector<std::pair<std::string, std::string>>* recovered) {
  if (!fs_->Exists(spool_root)) return size_t{0};
  CV_ASSIGN_OR_RETURN(SpoolDirs spools, ListSpools(*fs_, spool_root));
  const std::vector<std::string>& dirs = spools.unfinished;
  size_t n = 0;
  for (const std::string& dir : dirs) {
    if (recovered) {
      Result<std::string> text =
          fs_->ReadFile(dir + "/" + std::string(media::spool::kSessionLogName));
      if (text.ok() && text->find("\"t\":\"end\"") == std::string::npos) {
        const nlohmann::json start =
            nlohmann::json::parse(text->substr(0, text->find('\n')), nullptr, false);
        if (start.is_object() && start.value("t", "") == "start")
          recovered->emplace_back(start.value("sip_call_id", ""), start.value("call_id", ""));
      }
    }
    FinalizeRequest r;
    r.spool_dir = dir;  // the finalizer reads state, participants… from the `end` line
    Enqueue(std::move(r));
    if (++n % 100 == 0) CV_LOG_INFO("finalize.recovery_queued", "queued={} of={}", n, dirs.size());
  }
  // Finished before the crash but not removed yet (killed inside step 6): the finalizer
  // only removes those.
  for (const std::string& dir : spools.finished) {
    FinalizeRequest r;
    r.spool_dir = dir;
    Enqueue(std::move(r));
  }
  CV_LOG_INFO("finalize.recovery", "spool=\"{}\" unfinished={} finished_not_removed={}", spool_root,
              n, spools.finished.size());
  return n;
}

}  // namespace callvault::recording

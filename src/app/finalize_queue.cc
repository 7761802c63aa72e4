#include "app/finalize_queue.h"

#include <algorithm>

#include "base/log.h"
#include "media/spool_format.h"

namespace callvault::app {
namespace {

constexpr std::chrono::seconds kMaxBackoff{60};

}  // namespace

FinalizeQueue::FinalizeQueue(Fs* fs, const Clock* clock, recording::FinalizeOptions options,
                             int workers)
    : fs_(fs), clock_(clock), options_(std::move(options)), workers_(std::max(1, workers)) {}

FinalizeQueue::~FinalizeQueue() { Stop(); }

void FinalizeQueue::Start(int extra_until_idle) {
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { Run(false); });
  for (int i = 0; i < extra_until_idle; ++i) threads_.emplace_back([this] { Run(true); });
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

void FinalizeQueue::Enqueue(recording::FinalizeRequest request) {
  {
    MutexLock lock(&mu_);
    queue_.push_back(std::move(request));
  }
  cv_.notify_one();
}

size_t FinalizeQueue::pending() const {
  MutexLock lock(&mu_);
  return queue_.size() + busy_;
}

Result<size_t> FinalizeQueue::RecoverAtStartup(
    const std::string& spool_root, std::vector<std::pair<std::string, std::string>>* recovered) {
  if (!fs_->Exists(spool_root)) return size_t{0};
  CV_ASSIGN_OR_RETURN(recording::SpoolDirs spools, recording::ListSpools(*fs_, spool_root));
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
    recording::FinalizeRequest r;
    r.spool_dir = dir;  // the finalizer reads state, participants… from the `end` line
    Enqueue(std::move(r));
    if (++n % 100 == 0) CV_LOG_INFO("finalize.recovery_queued", "queued={} of={}", n, dirs.size());
  }
  // Finished before the crash but not removed yet (killed inside step 6): the finalizer
  // only removes those.
  for (const std::string& dir : spools.finished) {
    recording::FinalizeRequest r;
    r.spool_dir = dir;
    Enqueue(std::move(r));
  }
  CV_LOG_INFO("finalize.recovery", "spool=\"{}\" unfinished={} finished_not_removed={}",
              spool_root, n, spools.finished.size());
  return n;
}

void FinalizeQueue::Run(bool until_idle) {
  for (;;) {
    recording::FinalizeRequest r;
    {
      MutexLock lock(&mu_);
      if (until_idle && queue_.empty()) return;
      while (queue_.empty() && !stop_) mu_.Wait(cv_);
      if (stop_) return;
      r = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    Process(r);
    MutexLock lock(&mu_);
    --busy_;
  }
}

bool FinalizeQueue::Process(const recording::FinalizeRequest& request) {
  std::chrono::seconds backoff{1};
  for (;;) {
    auto started = std::chrono::steady_clock::now();
    Result<recording::FinalizeResult> r = recording::FinalizeCall(*fs_, *clock_, options_, request);
    if (r.ok()) {
      finalized_.fetch_add(1);
      CV_LOG_INFO("finalize.done", "call={} state={} audio=\"{}\" duration_ms={} took_ms={}{}",
                  r->manifest.value("call_id", ""), r->manifest.value("state", ""), r->audio_path,
                  r->duration_ms,
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count(),
                  r->already_finalized ? " already=true" : "");
      if (on_finalized_ && !r->already_finalized) on_finalized_(r->manifest.value("state", ""));
      return true;
    }
    failures_.fetch_add(1);
    const Status& s = r.status();
    if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kAborted) {
      CV_LOG_WARN("finalize.skipped", "spool=\"{}\" reason=\"{}\"", request.spool_dir, s.message());
      return true;  // gone (finalized elsewhere) or being finalized by another worker
    }
    CV_LOG_ERROR("finalize.failed", "spool=\"{}\" retry_in_s={} reason=\"{}\"", request.spool_dir,
                 backoff.count(), s.message());
    MutexLock lock(&mu_);
    auto deadline = std::chrono::steady_clock::now() + backoff;
    while (!stop_ && mu_.WaitUntil(cv_, deadline) != std::cv_status::timeout) {
    }
    if (stop_) return false;  // stays in the spool: finalized at the next start
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

}  // namespace callvault::app

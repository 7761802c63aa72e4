#include "siprec/recorder.h"

#include "base/log.h"
#include "base/uuid.h"

namespace callvault::siprec {

// One recorder thread: a FIFO of tasks and the calls it owns.
class Recorder::Worker {
 public:
  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  void Post(std::function<void()> fn) EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      queue_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }

  // Runs what is queued, then `last` on the worker thread, then stops.
  void Stop(std::function<void()> last) EXCLUDES(mu_) {
    if (!thread_.joinable()) return;
    {
      MutexLock lock(&mu_);
      queue_.push_back(std::move(last));
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  // Worker thread only.
  std::unordered_map<std::string, std::unique_ptr<CallSession>> calls;

 private:
  void Run() EXCLUDES(mu_) {
    std::deque<std::function<void()>> batch;
    for (;;) {
      bool stop;
      {
        MutexLock lock(&mu_);
        while (queue_.empty() && !stop_) mu_.Wait(cv_);
        batch.swap(queue_);
        stop = stop_;
      }
      for (auto& fn : batch) fn();
      batch.clear();
      if (stop) {
        MutexLock lock(&mu_);
        if (queue_.empty()) return;
      }
    }
  }

  Mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

Recorder::Recorder(RecorderOptions options, RecordingBackend* backend, const Clock* clock,
                   TerminateFn terminate)
    : options_(std::move(options)),
      backend_(backend),
      clock_(clock),
      terminate_(std::move(terminate)) {
  const int n = options_.workers > 0 ? options_.workers : 1;
  for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>());
}

Recorder::~Recorder() { Stop(); }

void Recorder::Start() {
  for (auto& w : workers_) w->Start();
}

void Recorder::Stop() {
  for (auto& w : workers_) {
    Worker* wp = w.get();
    wp->Stop([this, wp] {
      for (auto& [key, session] : wp->calls) {
        session->Ended(CallState::kCompleted, "shutdown");
        active_.fetch_sub(1, std::memory_order_relaxed);
      }
      wp->calls.clear();
    });
  }
  MutexLock lock(&mu_);
  by_call_id_.clear();
}

Recorder::Worker& Recorder::WorkerFor(const std::string& sip_call_id) {
  return *workers_[std::hash<std::string>{}(sip_call_id) % workers_.size()];
}

void Recorder::Forget(Worker& w, const std::string& dialog_key, const std::string& call_id) {
  w.calls.erase(dialog_key);
  active_.fetch_sub(1, std::memory_order_relaxed);
  MutexLock lock(&mu_);
  by_call_id_.erase(call_id);
}

void Recorder::OnInvite(const sip::IncomingRequest& request, sip::Responder responder) {
  RequestInfo info = RequestInfo::From(request);
  sip::DialogId dialog = request.dialog;
  std::string call_id = NewUuidV7(*clock_);
  Worker& w = WorkerFor(info.sip_call_id);
  w.Post([this, &w, info = std::move(info), dialog, call_id, responder]() mutable {
    const std::string key = DialogKey(dialog);
    if (w.calls.count(key) != 0) {  // cannot happen: the core creates a new dialog per INVITE
      responder.Respond(sip::Response::Error(500, "dialog already recording"));
      return;
    }
    auto session = std::make_unique<CallSession>(call_id, dialog, backend_, clock_, &options_);
    sip::Response r = session->Start(info);
    if (session->started()) {
      {
        MutexLock lock(&mu_);
        by_call_id_[call_id] = Where{&w, key};
      }
      active_.fetch_add(1, std::memory_order_relaxed);
      w.calls[key] = std::move(session);
    }
    responder.Respond(std::move(r));
  });
}

void Recorder::AddRecoveredCalls(const std::vector<std::pair<std::string, std::string>>& calls) {
  MutexLock lock(&mu_);
  for (const auto& [sip_call_id, call_id] : calls) {
    if (sip_call_id.empty() || !recovered_.emplace(sip_call_id, call_id).second) continue;
    recovered_order_.push_back(sip_call_id);
    if (recovered_order_.size() > kMaxRecovered) {
      recovered_.erase(recovered_order_.front());
      recovered_order_.pop_front();
    }
  }
}

bool Recorder::AdoptDialog(const sip::Message& request) {
  if (request.method != sip::Method::kBye) return false;
  MutexLock lock(&mu_);
  return recovered_.count(std::string(request.call_id)) != 0;
}

void Recorder::OnDialogRequest(const sip::IncomingRequest& request, sip::Responder responder) {
  RequestInfo info = RequestInfo::From(request);
  const std::string key = DialogKey(request.dialog);
  Worker& w = WorkerFor(info.sip_call_id);
  w.Post([this, &w, info = std::move(info), key, responder]() {
    auto it = w.calls.find(key);
    if (it == w.calls.end()) {
      std::string recovered;
      if (info.method == "BYE") {
        MutexLock lock(&mu_);
        if (auto r = recovered_.find(info.sip_call_id); r != recovered_.end()) {
          recovered = r->second;
          recovered_.erase(r);  // its order entry is dropped lazily
        }
      }
      if (!recovered.empty()) {
        CV_LOG_INFO("siprec.recovered_call_bye", "call={} sip_call={} state=partial", recovered,
                    info.sip_call_id);
        responder.Respond(sip::Response::WithCode(200));
        return;
      }
      responder.Respond(sip::Response::Error(481, "no recording session for this dialog"));
      return;
    }
    CallSession& s = *it->second;
    if (info.method == "BYE") {
      sip::Response r = s.Bye(info);
      std::string call_id = s.call_id();
      Forget(w, key, call_id);
      responder.Respond(std::move(r));
      return;
    }
    responder.Respond(s.Update(info));
  });
}

void Recorder::OnAck(const sip::IncomingRequest& request) {
  if (request.message.body.empty()) return;
  RequestInfo info = RequestInfo::From(request);
  const std::string key = DialogKey(request.dialog);
  Worker& w = WorkerFor(info.sip_call_id);
  w.Post([&w, info = std::move(info), key]() {
    auto it = w.calls.find(key);
    if (it != w.calls.end()) it->second->Ack(info);
  });
}

void Recorder::OnDialogEnded(const sip::DialogId& dialog, sip::EndReason reason) {
  const std::string key = DialogKey(dialog);
  Worker& w = WorkerFor(dialog.call_id);
  w.Post([this, &w, key, reason]() {
    auto it = w.calls.find(key);
    if (it == w.calls.end()) return;  // refused or cancelled before it started
    CallSession& s = *it->second;
    switch (reason) {
      case sip::EndReason::kCancelled:
      case sip::EndReason::kNotAnswered:
      case sip::EndReason::kRejected:
        s.Abort();  // the SRC never got our 2xx
        break;
      case sip::EndReason::kAckTimeout:
        s.Ended(CallState::kTimedOut, "ack_timeout");
        break;
      case sip::EndReason::kSessionExpired:
        s.Ended(CallState::kTimedOut, "session_expired");
        break;
      case sip::EndReason::kRefreshFailed:
        s.Ended(CallState::kTimedOut, "refresh_failed");
        break;
      case sip::EndReason::kTerminatedLocally:
        s.Ended(CallState::kCompleted, "terminated");
        break;
    }
    std::string call_id = s.call_id();
    Forget(w, key, call_id);
  });
}

void Recorder::OnRtpTimeout(const std::string& call_id) {
  Where where;
  {
    MutexLock lock(&mu_);
    auto it = by_call_id_.find(call_id);
    if (it == by_call_id_.end()) return;
    where = it->second;
  }
  Worker* w = where.worker;
  w->Post([this, w, key = where.dialog_key]() {
    auto it = w->calls.find(key);
    if (it == w->calls.end()) return;
    CallSession& s = *it->second;
    CV_LOG_INFO("siprec.rtp_timeout", "call={} sip_call={}", s.call_id(), s.dialog().call_id);
    s.SetPendingEnd(CallState::kTimedOut, "rtp_timeout");
    // The core sends the BYE and reports kTerminatedLocally, which ends the session.
    terminate_(s.dialog(), 408, "no RTP received");
  });
}

}  // namespace callvault::siprec

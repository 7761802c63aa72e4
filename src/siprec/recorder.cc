#include "siprec/recorder.h"

#include "base/log.h"
#include "base/thread_name.h"
#include "base/uuid.h"

namespace callvault::siprec {

// One recorder thread: a FIFO of tasks and the calls it owns.
class Recorder::Worker {
 public:
  void Start(int index) {
    thread_ = std::thread([this, index] {
      SetCurrentThreadName("cv-recorder-" + std::to_string(index));
      Run();
    });
  }

  void Post(std::function<void()> fn) EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      queue_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }

  // An INVITE's sync was started (worker thread) / its completion task ran (worker thread):
  // Stop() waits until none is in flight, so every completion is posted and run first.
  void BeginSync() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    ++syncs_in_flight_;
  }
  void EndSync() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    --syncs_in_flight_;
  }

  // Runs what is queued and every sync completion still to come, then `last` on the worker
  // thread, then stops.
  void Stop(std::function<void()> last) EXCLUDES(mu_) {
    if (!thread_.joinable()) return;
    {
      MutexLock lock(&mu_);
      last_ = std::move(last);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  // Runs `fn` for the dialog `key` now, or after the dialog's INVITE is committed when its
  // sync is still in flight (so its ACK, BYE, CANCEL... run in arrival order after the
  // decision). Worker thread only.
  void RunFor(const std::string& key, std::function<void()> fn) {
    if (auto it = waiting.find(key); it != waiting.end()) {
      it->second.push_back(std::move(fn));
      return;
    }
    fn();
  }

  // Worker thread only. Dialog key → its session (a BiB session is there under both legs);
  // call id → session, for every session not yet ended.
  std::unordered_map<std::string, std::shared_ptr<CallSession>> calls;
  std::unordered_map<std::string, std::shared_ptr<CallSession>> sessions;
  // Dialogs whose INVITE is being synced → their requests that arrived meanwhile.
  std::unordered_map<std::string, std::vector<std::function<void()>>> waiting;

 private:
  void Run() EXCLUDES(mu_) {
    std::deque<std::function<void()>> batch;
    for (;;) {
      {
        MutexLock lock(&mu_);
        while (queue_.empty() && !(stop_ && syncs_in_flight_ == 0)) mu_.Wait(cv_);
        if (queue_.empty()) {  // stopping, nothing queued or in flight
          if (!last_) return;
          batch.push_back(std::move(last_));
          last_ = nullptr;
        } else {
          batch.swap(queue_);
        }
      }
      for (auto& fn : batch) fn();
      batch.clear();
    }
  }

  Mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  int syncs_in_flight_ GUARDED_BY(mu_) = 0;
  std::function<void()> last_ GUARDED_BY(mu_);
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
  for (size_t i = 0; i < workers_.size(); ++i) workers_[i]->Start(static_cast<int>(i));
}

void Recorder::Stop() {
  for (auto& w : workers_) {
    Worker* wp = w.get();
    wp->Stop([this, wp] {
      for (auto& [call_id, session] : wp->sessions) {
        session->Ended(CallState::kCompleted, "shutdown");
        active_.fetch_sub(1, std::memory_order_relaxed);
      }
      wp->sessions.clear();
      wp->calls.clear();
    });
  }
  MutexLock lock(&mu_);
  by_call_id_.clear();
  routes_.clear();
  routes_count_.store(0, std::memory_order_relaxed);
}

Recorder::Worker& Recorder::WorkerFor(const std::string& sip_call_id) {
  if (routes_count_.load(std::memory_order_relaxed) != 0) {
    MutexLock lock(&mu_);
    if (auto it = routes_.find(sip_call_id); it != routes_.end()) return *it->second;
  }
  return *workers_[std::hash<std::string>{}(sip_call_id) % workers_.size()];
}

void Recorder::Forget(Worker& w, const std::string& key) {
  auto it = w.calls.find(key);
  if (it == w.calls.end()) return;
  std::shared_ptr<CallSession> s = std::move(it->second);
  w.calls.erase(it);
  {
    MutexLock lock(&mu_);
    if (routes_.erase(key.substr(0, key.find('\n'))) != 0)
      routes_count_.store(routes_.size(), std::memory_order_relaxed);
  }
  if (!s->ended()) return;  // a BiB call whose other leg still records
  for (auto c = w.calls.begin(); c != w.calls.end();) {  // legs that never got their 200
    c = c->second == s ? w.calls.erase(c) : std::next(c);
  }
  w.sessions.erase(s->call_id());
  active_.fetch_sub(1, std::memory_order_relaxed);
  MutexLock lock(&mu_);
  by_call_id_.erase(s->call_id());
}

std::pair<Recorder::Worker*, std::string> Recorder::PairBibLeg(const BibLeg& leg,
                                                               const std::string& sip_call_id,
                                                               const std::string& call_id) {
  const auto now = std::chrono::steady_clock::now();
  const auto window = std::chrono::seconds(options_.bib_pair_window_s);
  Worker* own = &WorkerFor(sip_call_id);
  MutexLock lock(&mu_);
  auto& waiting = bib_pending_[leg.PairKey()];
  while (!waiting.empty() && now - waiting.front().at > window) {  // too old to pair
    waiting.pop_front();
    --bib_pending_count_;
  }
  for (auto it = waiting.begin(); it != waiting.end(); ++it) {
    if (it->side == leg.side) continue;
    std::pair<Worker*, std::string> out{it->worker, it->call_id};
    waiting.erase(it);
    --bib_pending_count_;
    if (waiting.empty()) bib_pending_.erase(leg.PairKey());
    routes_[sip_call_id] = out.first;
    routes_count_.store(routes_.size(), std::memory_order_relaxed);
    return out;
  }
  if (bib_pending_count_ >= kMaxBibPending) {  // a flood of unpaired legs: forget the oldest
    for (auto it = bib_pending_.begin(); it != bib_pending_.end();) {
      while (!it->second.empty() && now - it->second.front().at > window) {
        it->second.pop_front();
        --bib_pending_count_;
      }
      it = it->second.empty() ? bib_pending_.erase(it) : std::next(it);
    }
  }
  if (bib_pending_count_ < kMaxBibPending) {
    waiting.push_back(BibPending{own, call_id, leg.side, now});
    ++bib_pending_count_;
  } else if (waiting.empty()) {
    bib_pending_.erase(leg.PairKey());
  }
  return {own, ""};
}

void Recorder::OnInvite(const sip::IncomingRequest& request, sip::Responder responder) {
  RequestInfo info = RequestInfo::From(request);
  sip::DialogId dialog = request.dialog;
  std::string call_id = NewUuidV7(*clock_);
  std::optional<BibLeg> bib;
  if (info.from.find("x-refci") != std::string::npos) bib = ParseBibFrom(info.from);
  if (bib) {
    auto [worker, join] = PairBibLeg(*bib, info.sip_call_id, call_id);
    Worker& w = *worker;
    w.Post([this, &w, info = std::move(info), dialog, call_id, join, responder]() {
      if (join.empty()) {
        StartCall(w, info, dialog, call_id, responder);
      } else {
        JoinCall(w, info, dialog, join, responder);
      }
    });
    return;
  }
  Worker& w = WorkerFor(info.sip_call_id);
  w.Post([this, &w, info = std::move(info), dialog, call_id, responder]() {
    StartCall(w, info, dialog, call_id, responder);
  });
}

void Recorder::StartCall(Worker& w, const RequestInfo& info, const sip::DialogId& dialog,
                         const std::string& call_id, const sip::Responder& responder) {
  const std::string key = DialogKey(dialog);
  if (w.calls.count(key) != 0) {  // cannot happen: the core creates a new dialog per INVITE
    responder.Respond(sip::Response::Error(500, "dialog already recording"));
    return;
  }
  auto session = std::make_shared<CallSession>(call_id, dialog, backend_, clock_, &options_);
  sip::Response r = session->Start(info);
  if (!session->accepted()) {
    responder.Respond(std::move(r));
    return;
  }
  // The decision is logged; the group sync makes it durable together with the other calls'
  // (docs/threading.md). The worker moves on; this dialog's later requests wait in `waiting`.
  w.calls[key] = session;
  w.sessions[call_id] = std::move(session);
  w.waiting[key];
  w.BeginSync();
  backend_->SyncCallAsync(
      call_id, [this, &w, key, call_id, responder, r = std::move(r)](Status synced) mutable {
        // Sync thread: the 200 goes out as soon as its decision is durable, never before.
        // The call counts as active (and can be found for an RTP timeout) from then on; its
        // session is committed on the worker, ahead of the dialog's later requests.
        if (synced.ok()) {
          {
            MutexLock lock(&mu_);
            by_call_id_[call_id] = &w;
          }
          active_.fetch_add(1, std::memory_order_relaxed);
          responder.Respond(std::move(r));
        }
        w.Post([this, &w, key, responder, synced = std::move(synced)]() {
          Committed(w, key, synced, responder);
          w.EndSync();
        });
      });
}

void Recorder::JoinCall(Worker& w, const RequestInfo& info, const sip::DialogId& dialog,
                        const std::string& call_id, const sip::Responder& responder) {
  auto it = w.sessions.find(call_id);
  if (it == w.sessions.end()) {  // its partner was refused or has ended: a call of its own
    StartCall(w, info, dialog, NewUuidV7(*clock_), responder);
    return;
  }
  std::shared_ptr<CallSession> session = it->second;
  // After the partner's INVITE is committed (its requests run in order behind it).
  w.RunFor(DialogKey(session->dialog()), [this, &w, info, dialog, session, responder]() {
    std::optional<BibLeg> bib = ParseBibFrom(info.from);
    if (!session->started() || session->ended() || !bib ||
        session->MissingBibSide() != bib->side) {
      StartCall(w, info, dialog, NewUuidV7(*clock_), responder);
      return;
    }
    const std::string key = DialogKey(dialog);
    sip::Response r = session->JoinLeg(info, dialog);
    if (r.code != 200) {
      responder.Respond(std::move(r));
      return;
    }
    w.calls[key] = session;
    w.waiting[key];
    w.BeginSync();
    backend_->SyncCallAsync(session->call_id(), [this, &w, key, responder,
                                                 r = std::move(r)](Status synced) mutable {
      if (synced.ok()) responder.Respond(std::move(r));
      w.Post([this, &w, key, responder, synced = std::move(synced)]() {
        Committed(w, key, synced, responder);
        w.EndSync();
      });
    });
  });
}

void Recorder::Committed(Worker& w, const std::string& key, const Status& synced,
                         const sip::Responder& responder) {
  std::vector<std::function<void()>> deferred;
  if (auto it = w.waiting.find(key); it != w.waiting.end()) {
    deferred = std::move(it->second);
    w.waiting.erase(it);
  }
  auto it = w.calls.find(key);
  CV_CHECK_MSG(it != w.calls.end(), "a committed INVITE's session is gone");
  CallSession& s = *it->second;
  if (DialogKey(s.dialog()) == key) {
    std::optional<sip::Response> refusal = s.Committed(synced);
    // Nothing else touched the session while it waited.
    CV_CHECK(s.started() == synced.ok());
    if (!s.started()) {
      w.sessions.erase(s.call_id());
      w.calls.erase(it);
      if (refusal) responder.Respond(std::move(*refusal));
    }
  } else if (std::optional<sip::Response> refusal = s.LegCommitted(key, synced)) {
    w.calls.erase(it);  // a BiB leg whose decision could not be made durable
    responder.Respond(std::move(*refusal));
  }
  for (auto& fn : deferred) w.RunFor(key, std::move(fn));
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
    w.RunFor(key, [this, &w, info, key, responder]() { DialogRequest(w, key, info, responder); });
  });
}

void Recorder::DialogRequest(Worker& w, const std::string& key, const RequestInfo& info,
                             const sip::Responder& responder) {
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
    sip::Response r = s.Bye(info, key);
    Forget(w, key);
    responder.Respond(std::move(r));
    return;
  }
  responder.Respond(s.Update(info, key));
}

void Recorder::OnAck(const sip::IncomingRequest& request) {
  if (request.message.body.empty()) return;
  RequestInfo info = RequestInfo::From(request);
  const std::string key = DialogKey(request.dialog);
  Worker& w = WorkerFor(info.sip_call_id);
  w.Post([&w, info = std::move(info), key]() {
    w.RunFor(key, [&w, info, key]() {
      auto it = w.calls.find(key);
      if (it != w.calls.end()) it->second->Ack(info, key);
    });
  });
}

void Recorder::OnDialogEnded(const sip::DialogId& dialog, sip::EndReason reason) {
  const std::string key = DialogKey(dialog);
  Worker& w = WorkerFor(dialog.call_id);
  w.Post([this, &w, key, reason]() {
    w.RunFor(key, [this, &w, key, reason]() {
      auto it = w.calls.find(key);
      if (it == w.calls.end()) return;  // refused or cancelled before it started
      CallSession& s = *it->second;
      switch (reason) {
        case sip::EndReason::kCancelled:
        case sip::EndReason::kNotAnswered:
        case sip::EndReason::kRejected:
          // The SRC never got our 2xx for this dialog: nothing of it is kept, unless it is one
          // leg of a BiB call whose other leg records.
          if (s.LiveDialogs().size() > 1) {
            s.LegEnded(key, CallState::kCompleted, "cancelled");
          } else {
            s.Abort();
          }
          break;
        case sip::EndReason::kAckTimeout:
          s.LegEnded(key, CallState::kTimedOut, "ack_timeout");
          break;
        case sip::EndReason::kSessionExpired:
          s.LegEnded(key, CallState::kTimedOut, "session_expired");
          break;
        case sip::EndReason::kRefreshFailed:
          s.LegEnded(key, CallState::kTimedOut, "refresh_failed");
          break;
        case sip::EndReason::kTerminatedLocally:
          s.LegEnded(key, CallState::kCompleted, "terminated");
          break;
      }
      Forget(w, key);
    });
  });
}

void Recorder::OnRtpTimeout(const std::string& call_id) {
  Worker* w = nullptr;
  {
    MutexLock lock(&mu_);
    auto it = by_call_id_.find(call_id);
    if (it == by_call_id_.end()) return;
    w = it->second;
  }
  w->Post([this, w, call_id]() {
    auto it = w->sessions.find(call_id);
    if (it == w->sessions.end()) return;
    std::shared_ptr<CallSession> s = it->second;
    w->RunFor(DialogKey(s->dialog()), [this, s]() {
      if (s->ended()) return;
      CV_LOG_INFO("siprec.rtp_timeout", "call={} sip_call={}", s->call_id(), s->dialog().call_id);
      s->SetPendingEnd(CallState::kTimedOut, "rtp_timeout");
      // The core sends the BYEs and reports kTerminatedLocally, which ends the session.
      for (const sip::DialogId& d : s->LiveDialogs()) terminate_(d, 408, "no RTP received");
    });
  });
}

}  // namespace callvault::siprec

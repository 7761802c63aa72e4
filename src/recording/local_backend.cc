#include "recording/local_backend.h"

#include <chrono>
#include <optional>

#include "base/log.h"
#include "base/time_format.h"

namespace callvault::recording {

LocalBackend::LocalBackend(LocalBackendOptions options, Fs* fs, const Clock* clock,
                           media::MediaEngine* media, FinalizeQueue* finalizer,
                           ActiveCallListener* listener)
    : options_(std::move(options)),
      fs_(fs),
      clock_(clock),
      media_(media),
      finalizer_(finalizer),
      listener_(listener),
      group_(fs, GroupSyncOptions{.batch_min = options_.sync_batch_min}) {
  group_.Start();
}

LocalBackend::~LocalBackend() {
  group_.Stop();
  const GroupSync::Stats st = group_.stats();
  CV_LOG_INFO("spool.group_sync_stats", "rounds={} requests={} batched_rounds={} failed={}",
              st.rounds, st.requests, st.batched_rounds, st.failed);
}

std::string LocalBackend::CallDir(const std::string& call_id) const {
  return options_.spool_root + "/" + call_id;
}

std::shared_ptr<media::SessionLog> LocalBackend::Log(const std::string& call_id) {
  MutexLock lock(&mu_);
  auto it = logs_.find(call_id);
  return it == logs_.end() ? nullptr : it->second;
}

std::shared_ptr<media::SessionLog> LocalBackend::TakeLog(const std::string& call_id) {
  MutexLock lock(&mu_);
  auto it = logs_.find(call_id);
  if (it == logs_.end()) return nullptr;
  auto log = std::move(it->second);
  logs_.erase(it);
  return log;
}

Status LocalBackend::BeginCall(const siprec::CallStart& s) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<media::SessionLog> log,
                      media::SessionLog::Open(fs_, clock_, CallDir(s.call_id), &group_));
  nlohmann::json start = {{"call_id", s.call_id},
                          {"node_id", options_.node_id},
                          {"sip_call_id", s.sip_call_id},
                          {"from", s.from},
                          {"to", s.to},
                          {"src", s.src},
                          {"transport", s.transport},
                          {"user_agent", s.user_agent},
                          {"request_uri", s.request_uri},
                          {"headers", s.headers}};
  if (!s.tenant.empty()) start["tenant"] = s.tenant;
  if (s.capture != "active") start["capture"] = s.capture;
  if (!s.primary_node_id.empty()) start["primary_node_id"] = s.primary_node_id;
  if (s.at_ms > 0) start["at"] = FormatRfc3339Ms(s.at_ms);
  CV_RETURN_IF_ERROR(log->Append("start", start));
  MutexLock lock(&mu_);
  logs_[s.call_id] = std::move(log);
  if (listener_) {
    ActiveCallInfo a;
    a.call_id = s.call_id;
    a.node_id = options_.node_id;
    a.tenant = s.tenant;
    a.sip_call_id = s.sip_call_id;
    a.started_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_->WallNow().time_since_epoch())
            .count();
    a.src_address = s.src;
    a.from = s.from;
    a.to = s.to;
    announced_[s.call_id] = Announced{std::move(a), false};
  }
  return Status::Ok();
}

Status LocalBackend::LogEvent(const std::string& call_id, nlohmann::json event) {
  auto log = Log(call_id);
  if (!log) return NotFoundError("no session log for call " + call_id);
  std::string type = event.value("t", "event");
  event.erase("t");
  if (listener_ && type == "participants") {
    std::optional<ActiveCallInfo> changed;
    {
      MutexLock lock(&mu_);
      if (auto it = announced_.find(call_id); it != announced_.end()) {
        it->second.call.participants = event.value("participants", nlohmann::json::array());
        it->second.call.siprec_session_id = event.value("siprec_session_id", "");
        if (it->second.sent) changed = it->second.call;  // else announced at the first sync
      }
    }
    if (changed) listener_->CallActive(*changed);
  }
  return log->Append(type, event);
}

Status LocalBackend::SyncCall(const std::string& call_id) {
  auto log = Log(call_id);
  if (!log) return NotFoundError("no session log for call " + call_id);
  CV_RETURN_IF_ERROR(log->Sync());
  Announce(call_id);
  return Status::Ok();
}

void LocalBackend::SyncCallAsync(const std::string& call_id, std::function<void(Status)> done) {
  auto log = Log(call_id);
  if (!log) {
    done(NotFoundError("no session log for call " + call_id));
    return;
  }
  log->SyncAsync([this, call_id, done = std::move(done)](Status s) {
    if (s.ok()) Announce(call_id);  // a notice in memory: never blocks the sync thread
    done(std::move(s));
  });
}

void LocalBackend::Announce(const std::string& call_id) {
  if (!listener_) return;
  // Durable now: the 2xx follows; the catalog may show the call as active.
  std::optional<ActiveCallInfo> first;
  {
    MutexLock lock(&mu_);
    if (auto it = announced_.find(call_id); it != announced_.end() && !it->second.sent) {
      it->second.sent = true;
      first = it->second.call;
    }
  }
  if (first) listener_->CallActive(*first);
}

void LocalBackend::AbortCall(const std::string& call_id) {
  bool withdraw = false;
  {
    MutexLock lock(&mu_);
    if (auto it = announced_.find(call_id); it != announced_.end()) {
      withdraw = it->second.sent;
      announced_.erase(it);
    }
  }
  if (withdraw) listener_->CallAborted(call_id);
  media_->CloseCall(call_id);
  if (auto log = TakeLog(call_id)) log->Close().IgnoreError();  // removed just below
  Status s = fs_->RemoveAll(CallDir(call_id));
  if (!s.ok()) {
    CV_LOG_WARN("spool.abort_cleanup_failed", "call={} reason=\"{}\"", call_id, s.message());
  }
}

Result<uint16_t> LocalBackend::OpenStream(const siprec::StreamOpen& s) {
  media::StreamConfig c;
  c.call_id = s.call_id;
  c.stream_id = s.stream_id;
  c.spool_dir = CallDir(s.call_id);
  c.ipv6 = s.ipv6;
  c.clock_rate = s.clock_rate;
  c.passive = s.passive;
  if (!s.srtp_suite.empty()) c.srtp = media::SrtpParams{s.srtp_suite, s.srtp_key_base64};
  return media_->OpenStream(c);
}

Status LocalBackend::SetPaused(const std::string& call_id, const std::string& stream_id,
                               bool paused) {
  return media_->SetPaused(call_id, stream_id, paused);
}

Status LocalBackend::UpdateSrtp(const std::string& call_id, const std::string& stream_id,
                                const std::string& suite, const std::string& key_base64) {
  std::optional<media::SrtpParams> p;
  if (!suite.empty()) p = media::SrtpParams{suite, key_base64};
  return media_->UpdateSrtp(call_id, stream_id, p);
}

Status LocalBackend::EndCall(const siprec::CallEnd& end) {
  // Streams first: what is still queued on the sockets is spooled and synced.
  std::vector<media::StreamStats> stats = media_->CloseCall(end.call_id);
  {
    MutexLock lock(&mu_);
    announced_.erase(end.call_id);  // the manifest replaces the active row
  }
  auto log = TakeLog(end.call_id);
  if (!log) return NotFoundError("no session log for call " + end.call_id);
  nlohmann::json fields = {{"reason", end.reason},
                           {"state", std::string(CallStateName(end.state))},
                           {"siprec_session_id", end.siprec_session_id},
                           {"participants", end.participants},
                           {"metadata", end.metadata},
                           {"stream_channels", end.stream_channels},
                           {"warnings", end.warnings}};
  if (end.at_ms > 0) fields["at"] = FormatRfc3339Ms(end.at_ms);
  Status appended = log->Append("end", fields);
  Status synced = appended.ok() ? log->Sync() : appended;
  if (synced.ok()) {
    log->Close().IgnoreError();  // synced above
  } else {
    // The disk refused the line: it stays in the log's memory, retried by SpoolPending()
    // before the finalizer may take the call.
    CV_LOG_WARN("spool.end_line_waiting", "call={} error=\"{}\"", end.call_id, synced.ToString());
    MutexLock lock(&mu_);
    ending_[end.call_id] = log;
  }
  uint64_t packets = 0;
  for (const auto& st : stats) packets += st.rtp.packets;
  CV_LOG_INFO("spool.call_ended", "call={} state={} reason={} streams={} packets={}", end.call_id,
              CallStateName(end.state), end.reason, stats.size(), packets);
  FinalizeRequest r;
  r.spool_dir = CallDir(end.call_id);  // the finalizer reads the `end` line itself
  if (!synced.ok()) {
    // No durable end line yet: what it says comes from memory (the call ended by BYE or a
    // timeout: its state is the end's, not `partial`; only a crash before the line is written
    // makes recovery call it partial).
    r.state = end.state;
    r.end_reason = end.reason;
    r.siprec_session_id = end.siprec_session_id;
    r.participants = end.participants;
    r.metadata_snapshots = end.metadata;
    r.stream_channels = end.stream_channels;
  }
  finalizer_->Enqueue(std::move(r));
  return synced;
}

size_t LocalBackend::FreeStreams() const { return media_->free_ports(); }

bool LocalBackend::SpoolPending(const std::string& call_id) {
  std::shared_ptr<media::SessionLog> log;
  {
    MutexLock lock(&mu_);
    if (auto it = ending_.find(call_id); it != ending_.end()) log = it->second;
  }
  if (log) {
    if (!log->Sync().ok()) return true;  // writes what the disk refused first; next poll
    log->Close().IgnoreError();
    CV_LOG_INFO("spool.end_line_written", "call={}", call_id);
    MutexLock lock(&mu_);
    ending_.erase(call_id);
  }
  return media_->SpoolPending(call_id);
}

}  // namespace callvault::recording

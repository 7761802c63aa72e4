// sip::Shard — the timer heap and what each RFC 3261 / RFC 4028 timer does when it fires.
// Timers are cancelled lazily: an object remembers the id of its armed timer per kind, and a
// firing timer whose id no longer matches (or whose object is gone) does nothing.
#include "sip/internal/shard_state.h"
#include "sip/internal/sip_log.h"

namespace callvault::sip {

std::string_view EndReasonName(EndReason r) {
  switch (r) {
    case EndReason::kCancelled:
      return "cancelled";
    case EndReason::kAckTimeout:
      return "ack_timeout";
    case EndReason::kSessionExpired:
      return "session_expired";
    case EndReason::kRefreshFailed:
      return "refresh_failed";
    case EndReason::kTerminatedLocally:
      return "terminated_locally";
    case EndReason::kNotAnswered:
      return "not_answered";
    case EndReason::kRejected:
      return "rejected";
  }
  return "unknown";
}

uint64_t Shard::Arm(TimerKind kind, const std::string& key, TimePoint when) {
  uint64_t id = next_timer_id_++;
  timers_.push(Timer{when, id, kind, key});
  return id;
}

std::optional<TimePoint> Shard::NextDeadline() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.top().when;
}

void Shard::OnTimers(TimePoint now) {
  while (!timers_.empty() && timers_.top().when <= now) {
    Timer t = timers_.top();
    timers_.pop();
    Fire(t, now);
  }
}

void Shard::Fire(const Timer& t, TimePoint now) {
  switch (t.kind) {
    case TimerKind::kRetransmit:
    case TimerKind::kTimeout:
    case TimerKind::kTuTimeout: {
      auto it = server_txns_.find(t.key);
      if (it == server_txns_.end()) return;
      ServerTxn& txn = *it->second;
      uint64_t armed = t.kind == TimerKind::kRetransmit ? txn.retransmit_timer
                       : t.kind == TimerKind::kTimeout  ? txn.timeout_timer
                                                        : txn.tu_timer;
      if (armed == t.id) OnServerTxnTimer(txn, t.kind, now);
      return;
    }
    case TimerKind::kClientRetransmit:
    case TimerKind::kClientTimeout: {
      auto it = client_txns_.find(t.key);
      if (it == client_txns_.end()) return;
      ClientTxn& txn = *it->second;
      uint64_t armed =
          t.kind == TimerKind::kClientRetransmit ? txn.retransmit_timer : txn.timeout_timer;
      if (armed == t.id) OnClientTxnTimer(txn, t.kind, now);
      return;
    }
    case TimerKind::k2xxRetransmit:
    case TimerKind::kAckTimeout:
    case TimerKind::kSession: {
      auto it = dialogs_.find(t.key);
      if (it == dialogs_.end()) return;
      Dialog& d = *it->second;
      uint64_t armed = t.kind == TimerKind::k2xxRetransmit ? d.retransmit_timer
                       : t.kind == TimerKind::kAckTimeout  ? d.ack_timer
                                                           : d.session_timer;
      if (armed == t.id) OnDialogTimer(d, t.kind, now);
      return;
    }
  }
}

void Shard::OnServerTxnTimer(ServerTxn& txn, TimerKind kind, TimePoint now) {
  switch (kind) {
    case TimerKind::kRetransmit:  // Timer G
      if (txn.state != ServerTxn::State::kCompleted) return;
      counters_.retransmissions_sent++;
      SendOnFlow(txn.flow, txn.last_response, nullptr);
      txn.interval = std::min(txn.interval * 2, options_.timers.t2);
      txn.retransmit_timer = Arm(TimerKind::kRetransmit, txn.key, now + txn.interval);
      return;
    case TimerKind::kTimeout:  // Timers H, I, J, L: the transaction is over
      if (txn.invite && txn.state == ServerTxn::State::kCompleted) {
        SIP_LOG_INFO("sip.ack_missing", "call={} code={}", txn.request->message.call_id,
                     txn.last_code);
      }
      server_txns_.erase(std::string(txn.key));  // copy: the key lives in the erased node
      return;
    case TimerKind::kTuTimeout: {
      if (txn.last_code >= 200) return;
      SIP_LOG_WARN("sip.not_answered", "call={} method={}", txn.request->message.call_id,
                   txn.request->message.method_text);
      std::optional<DialogId> ended;
      if (txn.creates_dialog) {
        auto d = dialogs_.find(txn.dialog_key);
        if (d != dialogs_.end()) ended = d->second->id;
      }
      std::string key = txn.key;  // Respond may erase the transaction
      Respond(key, Response::Error(500, "the application did not answer in time"), now);
      if (ended) app_->OnDialogEnded(*ended, EndReason::kNotAnswered);
      return;
    }
    default:
      return;
  }
}

void Shard::OnClientTxnTimer(ClientTxn& txn, TimerKind kind, TimePoint now) {
  if (kind == TimerKind::kClientRetransmit) {  // Timer E
    if (txn.state != ClientTxn::State::kTrying) return;
    counters_.retransmissions_sent++;
    Result<Flow> used = sender_->Send(txn.flow, txn.request);
    if (used.ok()) txn.flow = *used;
    txn.interval = std::min(txn.interval * 2, options_.timers.t2);
    txn.retransmit_timer = Arm(TimerKind::kClientRetransmit, txn.key, now + txn.interval);
    return;
  }
  // Timer F (no final answer) or K (done absorbing retransmitted answers).
  bool timed_out = txn.state == ClientTxn::State::kTrying;
  std::string method = txn.method, dialog_key = txn.dialog_key;
  client_txns_.erase(std::string(txn.key));
  if (!timed_out) return;
  auto it = dialogs_.find(dialog_key);
  SIP_LOG_INFO("sip.request_timeout", "method={} dialog_alive={}", method, it != dialogs_.end());
  if (method == "UPDATE" && it != dialogs_.end()) {  // our session refresh got no answer
    SendBye(*it->second, 408, "session refresh timed out", now);
    EndDialog(dialog_key, EndReason::kRefreshFailed);
  }
}

void Shard::OnDialogTimer(Dialog& d, TimerKind kind, TimePoint now) {
  switch (kind) {
    case TimerKind::k2xxRetransmit:
      if (d.pending_2xx.empty()) return;
      counters_.retransmissions_sent++;
      SendOnFlow(d.flow, d.pending_2xx, &d);
      d.retransmit_interval = std::min(d.retransmit_interval * 2, options_.timers.t2);
      d.retransmit_timer = Arm(TimerKind::k2xxRetransmit, d.key, now + d.retransmit_interval);
      return;
    case TimerKind::kAckTimeout: {
      if (d.pending_2xx.empty()) return;
      counters_.ack_timeouts++;
      SIP_LOG_INFO("sip.ack_timeout", "call={}", d.id.call_id);
      d.pending_2xx.clear();
      d.retransmit_timer = 0;
      SendBye(d, 408, "no ACK received", now);
      EndDialog(d.key, EndReason::kAckTimeout);
      return;
    }
    case TimerKind::kSession:
      OnSessionTimer(d, now);
      return;
    default:
      return;
  }
}

std::string Shard::RandomToken(size_t n) {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s(n, '0');
  for (char& c : s) c = kAlphabet[rng_() % 36];
  return s;
}

}  // namespace callvault::sip

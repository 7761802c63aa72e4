// sip::Shard — answering server transactions: building responses (RFC 3261 §8.2.6, §13.3.1,
// RFC 4028 §9), sending them, and the transaction state that follows (§17.2).
#include <algorithm>

#include "sip/builder.h"
#include "sip/internal/shard_state.h"
#include "sip/internal/sip_log.h"
#include "sip/session_timer.h"

namespace callvault::sip {
namespace {

bool Is2xx(int code) { return code >= 200 && code < 300; }

// A Warning text must be a quoted-string on one line (RFC 3261 §20.43).
std::string WarningText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\'';
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      out += ' ';
    else
      out += c;
  }
  return out;
}

}  // namespace

void Responder::Respond(Response response) const {
  if (shard_ == nullptr) return;
  Executor* ex = shard_->executor();
  if (ex->IsCurrent()) {
    shard_->Respond(transaction_key_, std::move(response), ex->Now());
    return;
  }
  Shard* shard = shard_;
  ex->Post([shard, ex, key = transaction_key_, r = std::move(response)]() mutable {
    shard->Respond(key, std::move(r), ex->Now());
  });
}

std::string Shard::ContactFor(const Flow& flow, std::string_view request_uri_host) const {
  std::string host;
  if (!options_.public_host.empty()) {
    host = options_.public_host;
  } else if (!flow.local.IsAny()) {
    host = flow.local.ip();
  } else if (!request_uri_host.empty()) {
    host = std::string(request_uri_host);
  } else {
    host = flow.local.is_v6() ? "::1" : "127.0.0.1";
  }
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  std::string uri = "sip:" + host + ":" + std::to_string(flow.local.port());
  if (flow.transport == Transport::kTcp) uri += ";transport=tcp";
  if (flow.transport == Transport::kTls) uri += ";transport=tls";
  return uri;
}

std::string Shard::BuildResponse(const ServerTxn& txn, const Response& r, const Dialog* dialog) {
  const Message& req = txn.request->message;
  std::string tag;
  if (r.code > 100) {  // §8.2.6.2: a tag on every response but 100
    tag = dialog ? dialog->id.local_tag : RandomToken(10);
  }
  MessageBuilder b = ResponseTo(req, r.code, r.reason, tag);
  std::string_view ruri_host;
  auto ruri = ParseUri(req.request_uri);
  if (ruri.ok()) ruri_host = ruri->host;
  const bool ok = Is2xx(r.code);
  const bool dialog_method = req.method == Method::kInvite || req.method == Method::kUpdate;
  if (ok && dialog_method) b.Header("Contact", "<" + ContactFor(txn.flow, ruri_host) + ">");
  if (r.code >= 200 || r.code == 100) b.Header("Server", options_.user_agent);
  if ((ok && (req.method == Method::kInvite || req.method == Method::kOptions)) || r.code == 405 ||
      r.code == 501) {
    b.Header("Allow", kAllowedMethods);
  }
  if (ok && (req.method == Method::kInvite || req.method == Method::kOptions ||
             req.method == Method::kUpdate)) {
    b.Header("Supported", internal::JoinList(options_.supported));
  }
  if (req.method == Method::kOptions || r.code == 415)
    b.Header("Accept", internal::JoinList(options_.accept));
  if (ok && dialog_method) {
    SessionTimerDecision st =
        NegotiateSessionTimer(req, options_.session_expires_s, options_.min_se_s);
    if (st.active) {
      b.Header("Session-Expires", st.HeaderValue());
      if (st.require_timer) b.Header("Require", "timer");
    }
  }
  if (!r.warning.empty()) {
    std::string host = ContactFor(txn.flow, ruri_host).substr(4);  // host:port after "sip:"
    host = host.substr(0, host.find(';'));
    b.Header("Warning", "399 " + host + " \"" + WarningText(r.warning) + "\"");
  }
  if (r.retry_after_s > 0) b.Header("Retry-After", std::to_string(r.retry_after_s));
  for (const auto& [name, value] : r.headers) b.Header(name, value);
  if (!r.body.empty() || !r.content_type.empty()) b.Body(r.content_type, r.body);
  return b.Build();
}

void Shard::SendOnFlow(const Flow& flow, std::string data, Dialog* dialog) {
  Result<Flow> used = sender_->Send(flow, std::move(data));
  if (!used.ok()) {
    SIP_LOG_WARN("sip.send_failed", "peer={} transport={} reason=\"{}\"", flow.remote.ToString(),
                 TransportName(flow.transport), used.status().message());
    return;
  }
  if (dialog != nullptr) dialog->flow.connection_id = used->connection_id;
}

void Shard::Respond(const std::string& key, Response r, TimePoint now) {
  auto it = server_txns_.find(key);
  if (it == server_txns_.end()) {
    SIP_LOG_DEBUG("sip.late_response", "txn={} code={}", key, r.code);
    return;
  }
  ServerTxn& t = *it->second;
  if (t.last_code >= 200) {
    SIP_LOG_DEBUG("sip.late_response", "txn={} code={} first={}", key, r.code, t.last_code);
    return;
  }
  Dialog* d = nullptr;
  if (!t.dialog_key.empty()) {
    auto dit = dialogs_.find(t.dialog_key);
    if (dit == dialogs_.end()) {  // the dialog ended while the application was deciding
      if (r.code >= 200 && r.code < 300) r = Response::Error(481, "dialog ended");
    } else {
      d = dit->second.get();
    }
  }
  if (r.code < 100 || r.code > 699) r = Response::Error(500, "invalid status code");
  std::string data = BuildResponse(t, r, d);
  SendTxnResponse(t, r.code, std::move(data), now);
  if (r.code < 200) return;
  const Message& req = t.request->message;
  if (t.invite) {
    OnInviteFinal(t, r.code, d, now);
  } else if (d != nullptr && Is2xx(r.code)) {
    if (req.method == Method::kBye) {
      // §15.1.2: a BYE ends the dialog; an INVITE of theirs still pending gets 487.
      if (!d->invite_txn_key.empty()) Respond(d->invite_txn_key, Response::WithCode(487), now);
      EndDialog(t.dialog_key, std::nullopt);
    } else if (req.method == Method::kUpdate) {
      ApplySessionTimer(*d, req, now);
    }
  }
}

void Shard::SendTxnResponse(ServerTxn& t, int code, std::string data, TimePoint now) {
  counters_.responses_out++;
  t.last_code = code;
  t.last_response = data;
  Dialog* d = nullptr;
  if (!t.dialog_key.empty()) {
    auto dit = dialogs_.find(t.dialog_key);
    if (dit != dialogs_.end()) d = dit->second.get();
  }
  SendOnFlow(t.flow, std::move(data), d);
  if (code < 200) return;
  t.tu_timer = 0;
  if (t.invite && Is2xx(code)) {  // RFC 6026 Accepted: absorb retransmissions for Timer L
    t.state = ServerTxn::State::kAccepted;
    t.timeout_timer = Arm(TimerKind::kTimeout, t.key, now + 64 * options_.timers.t1);
  } else if (t.invite) {  // Completed: Timer G retransmits (UDP), Timer H waits for the ACK
    t.state = ServerTxn::State::kCompleted;
    if (!t.reliable) {
      t.interval = options_.timers.t1;
      t.retransmit_timer = Arm(TimerKind::kRetransmit, t.key, now + t.interval);
    }
    t.timeout_timer = Arm(TimerKind::kTimeout, t.key, now + 64 * options_.timers.t1);
  } else {  // non-INVITE Completed: Timer J (64*T1 on UDP, 0 on reliable transports)
    t.state = ServerTxn::State::kCompleted;
    t.timeout_timer =
        Arm(TimerKind::kTimeout, t.key, now + (t.reliable ? Millis(0) : 64 * options_.timers.t1));
  }
}

void Shard::OnInviteFinal(ServerTxn& t, int code, Dialog* d, TimePoint now) {
  if (d == nullptr) return;
  if (d->invite_txn_key == t.key) d->invite_txn_key.clear();
  if (Is2xx(code)) {
    if (t.creates_dialog) {
      d->state = Dialog::State::kWaitAck;
      counters_.dialogs_created++;
    }
    // §13.3.1.4: the UAS core retransmits the 2xx until the ACK arrives.
    d->pending_2xx = t.last_response;
    d->pending_2xx_cseq = t.request->message.cseq.number;
    if (!t.reliable) {
      d->retransmit_interval = options_.timers.t1;
      d->retransmit_timer = Arm(TimerKind::k2xxRetransmit, d->key, now + d->retransmit_interval);
    }
    d->ack_timer = Arm(TimerKind::kAckTimeout, d->key, now + 64 * options_.timers.t1);
    ApplySessionTimer(*d, t.request->message, now);
  } else if (t.creates_dialog) {
    EndDialog(d->key, std::nullopt);  // rejected (or cancelled: the canceller notifies)
  }
}

}  // namespace callvault::sip

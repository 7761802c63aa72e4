// sip::Shard — inbound requests: retransmission absorption, new INVITEs, CANCEL, ACK and
// in-dialog routing (RFC 3261 §8.2, §9.2, §12.2.2, §13.3, §14.2, §17.2).
#include <algorithm>

#include "base/strings.h"
#include "sip/builder.h"
#include "sip/internal/shard_state.h"
#include "sip/internal/sip_log.h"
#include "sip/session_timer.h"

namespace callvault::sip {

Shard::Shard(const CoreOptions& options, Sender* sender, Application* app, Executor* executor,
             uint32_t seed)
    : options_(options), sender_(sender), app_(app), executor_(executor), rng_(seed) {}

Shard::~Shard() = default;

std::string Shard::TransactionKey(const Message& m, bool for_invite) {
  std::string_view method = m.method_text;
  if (for_invite && (m.method == Method::kAck || m.method == Method::kCancel)) method = "INVITE";
  std::string key;
  const Via& via = m.top_via;
  if (via.branch.size() > 7 && via.branch.substr(0, 7) == "z9hG4bK") {
    key.reserve(via.branch.size() + via.host.size() + method.size() + 10);
    key.append(via.branch).append("|").append(via.host).append(":");
    key.append(std::to_string(via.port)).append("|").append(method);
  } else {  // RFC 2543 peer: §17.2.3 fallback on the request's identifying fields
    key.append("2543|").append(m.call_id).append("|").append(std::to_string(m.cseq.number));
    key.append("|").append(m.from.tag).append("|").append(via.text).append("|").append(method);
  }
  return key;
}

void Shard::OnMessage(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now) {
  if (in->message.is_request) {
    counters_.requests_in++;
    OnRequest(std::move(in), flow, now);
  } else {
    counters_.responses_in++;
    OnResponse(std::move(in), flow, now);
  }
}

void Shard::OnRequest(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now) {
  const Message& m = in->message;
  if (m.method == Method::kAck) return OnAck(std::move(in), flow, now);
  if (m.method == Method::kCancel) return OnCancel(std::move(in), flow, now);

  // A retransmission of a request we already have a transaction for (§17.2.1, §17.2.2).
  auto it = server_txns_.find(TransactionKey(m, false));
  if (it != server_txns_.end()) {
    ServerTxn& t = *it->second;
    counters_.retransmissions_absorbed++;
    if (!t.last_response.empty()) {
      counters_.retransmissions_sent++;
      SendOnFlow(flow, t.last_response, nullptr);
    }
    return;
  }

  if (!m.to.tag.empty()) return OnInDialogRequest(std::move(in), flow, now);
  if (m.method == Method::kBye && FindDialogForTaglessBye(m) != nullptr) {
    SIP_LOG_INFO("sip.bye_without_to_tag", "call={}", m.call_id);
    return OnInDialogRequest(std::move(in), flow, now);
  }

  switch (m.method) {
    case Method::kInvite:
      return OnNewInvite(std::move(in), flow, now);
    case Method::kOptions: {
      Response r;
      if (!availability_.accept_calls) {
        r.code = 503;
        r.retry_after_s = availability_.retry_after_s;
        r.warning = availability_.reason;
      }
      return AnswerNow(std::move(in), flow, std::move(r), now);
    }
    case Method::kBye:
    case Method::kUpdate:
    case Method::kInfo:
    case Method::kPrack:
      return AnswerNow(std::move(in), flow, Response::Error(481, "no such dialog"), now);
    case Method::kUnknown:
      return AnswerNow(std::move(in), flow, Response::Error(501, "method not implemented"), now);
    default:
      return AnswerNow(std::move(in), flow,
                       Response::Error(405, "method not allowed outside a dialog"), now);
  }
}

bool Shard::CheckExtensions(const Message& m, Response* reject) const {
  std::string unsupported;
  m.ForEachValue(HeaderId::kRequire, [&](std::string_view tag) {
    bool known = std::any_of(options_.supported.begin(), options_.supported.end(),
                             [&](const std::string& s) { return EqualsIgnoreCase(s, tag); });
    if (!known) {
      if (!unsupported.empty()) unsupported += ", ";
      unsupported.append(tag);
    }
  });
  if (!unsupported.empty()) {  // RFC 3261 §8.2.2.3
    *reject = Response::Error(420, "unsupported extension required: " + unsupported);
    reject->headers.emplace_back("Unsupported", unsupported);
    return false;
  }
  if (m.method == Method::kInvite || m.method == Method::kUpdate) {
    if (auto v = m.Find(HeaderId::kSessionExpires); v && !ParseSessionExpires(*v)) {
      *reject = Response::Error(400, "bad Session-Expires header");
      return false;
    }
    if (auto v = m.Find(HeaderId::kMinSe); v && !ParseSessionExpires(*v)) {
      *reject = Response::Error(400, "bad Min-SE header");
      return false;
    }
    SessionTimerDecision st =
        NegotiateSessionTimer(m, options_.session_expires_s, options_.min_se_s);
    if (st.reject) {  // RFC 4028 §9
      *reject = Response::Error(422, "Session-Expires below our Min-SE");
      reject->headers.emplace_back("Min-SE", std::to_string(st.min_se));
      return false;
    }
  }
  return true;
}

Shard::ServerTxn* Shard::NewServerTxn(std::unique_ptr<InboundMessage> in, const Flow& flow,
                                      const std::string& key, TimePoint now) {
  auto t = std::make_unique<ServerTxn>();
  t->key = key;
  t->invite = in->message.method == Method::kInvite;
  t->flow = flow;
  t->reliable = flow.transport != Transport::kUdp;
  t->request = std::move(in);
  t->tu_timer = Arm(TimerKind::kTuTimeout, key, now + 64 * options_.timers.t1);
  ServerTxn* raw = t.get();
  server_txns_[key] = std::move(t);
  return raw;
}

void Shard::AnswerNow(std::unique_ptr<InboundMessage> in, const Flow& flow, Response r,
                      TimePoint now) {
  std::string key = TransactionKey(in->message, false);
  NewServerTxn(std::move(in), flow, key, now);
  Respond(key, std::move(r), now);
}

void Shard::OnNewInvite(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now) {
  const Message& m = in->message;
  if (!availability_.accept_calls) {
    return AnswerNow(
        std::move(in), flow,
        Response::Error(503,
                        availability_.reason.empty() ? "not accepting calls" : availability_.reason,
                        availability_.retry_after_s),
        now);
  }
  Response reject;
  if (!CheckExtensions(m, &reject)) return AnswerNow(std::move(in), flow, std::move(reject), now);

  Dialog* d = CreateDialog(m, flow, now);
  std::string key = TransactionKey(m, false);
  ServerTxn* t = NewServerTxn(std::move(in), flow, key, now);
  t->dialog_key = d->key;
  t->creates_dialog = true;
  d->invite_txn_key = key;
  Respond(key, Response::WithCode(100), now);  // §17.2.1: stop INVITE retransmissions early
  DialogId id = d->id;  // the application may end the dialog from inside the callback
  app_->OnInvite(IncomingRequest{t->request->message, t->flow, id}, Responder(this, key));
}

void Shard::OnInDialogRequest(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now) {
  const Message& m = in->message;
  Dialog* d = m.to.tag.empty() ? FindDialogForTaglessBye(m) : FindDialog(m);
  if (d == nullptr && !m.to.tag.empty() && app_->AdoptDialog(m)) {
    d = CreateDialog(m, flow, now);
    d->state = Dialog::State::kConfirmed;
    d->remote_cseq = m.cseq.number - 1;
    SIP_LOG_INFO("sip.dialog_adopted", "call={} method={}", m.call_id, m.method_text);
  }
  if (d == nullptr) {
    return AnswerNow(std::move(in), flow, Response::Error(481, "no such dialog"), now);
  }
  // §12.2.2: a lower CSeq than the last one is out of order.
  if (m.cseq.number < d->remote_cseq) {
    return AnswerNow(std::move(in), flow, Response::Error(500, "CSeq out of order", 1), now);
  }
  if (m.method == Method::kOptions) {
    d->remote_cseq = m.cseq.number;
    return AnswerNow(std::move(in), flow, Response(), now);
  }
  if (m.method == Method::kUnknown) {
    return AnswerNow(std::move(in), flow, Response::Error(501, "method not implemented"), now);
  }
  if (m.method == Method::kPrack) {
    return AnswerNow(std::move(in), flow, Response::Error(481, "no reliable provisional response"),
                     now);
  }
  if (m.method != Method::kInvite && m.method != Method::kUpdate && m.method != Method::kBye &&
      m.method != Method::kInfo) {
    return AnswerNow(std::move(in), flow, Response::Error(405, "method not allowed in this dialog"),
                     now);
  }
  if (m.method == Method::kInvite && (!d->invite_txn_key.empty() || !d->pending_2xx.empty())) {
    // §14.2: an INVITE of theirs is still unanswered or unacknowledged.
    return AnswerNow(std::move(in), flow,
                     Response::Error(500, "previous INVITE still in progress",
                                     1 + static_cast<int>(rng_() % 10)),
                     now);
  }
  Response reject;
  if (m.method != Method::kBye && !CheckExtensions(m, &reject)) {
    return AnswerNow(std::move(in), flow, std::move(reject), now);
  }
  d->remote_cseq = m.cseq.number;
  d->flow.connection_id = flow.connection_id;  // follow the peer's current connection
  std::string key = TransactionKey(m, false);
  ServerTxn* t = NewServerTxn(std::move(in), flow, key, now);
  t->dialog_key = d->key;
  if (t->invite) {
    d->invite_txn_key = key;
    Respond(key, Response::WithCode(100), now);
  }
  DialogId id = d->id;
  app_->OnDialogRequest(IncomingRequest{t->request->message, t->flow, id}, Responder(this, key));
}

void Shard::OnAck(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now) {
  const Message& m = in->message;
  // ACK of a non-2xx final: part of the INVITE server transaction (§17.2.1).
  auto it = server_txns_.find(TransactionKey(m, true));
  if (it != server_txns_.end() && it->second->invite &&
      it->second->state != ServerTxn::State::kAccepted) {
    ServerTxn& t = *it->second;
    if (t.state == ServerTxn::State::kCompleted) {
      t.state = ServerTxn::State::kConfirmed;
      t.retransmit_timer = 0;
      t.timeout_timer =
          Arm(TimerKind::kTimeout, t.key, now + (t.reliable ? Millis(0) : options_.timers.t4));
    } else {
      counters_.retransmissions_absorbed++;
    }
    return;
  }
  // ACK of a 2xx: a transaction of its own, matched to the dialog (§13.3.1.4).
  Dialog* d = FindDialog(m);
  if (d == nullptr) {
    SIP_LOG_DEBUG("sip.ack_ignored", "call={} reason=\"no matching dialog\"", m.call_id);
    return;
  }
  if (d->pending_2xx.empty()) {
    counters_.retransmissions_absorbed++;  // a retransmitted ACK
    return;
  }
  if (m.cseq.number != d->pending_2xx_cseq || m.cseq_method_mismatch) {
    // §13.2.2.4 wants the INVITE's CSeq number; with exactly one 2xx outstanding the ACK can
    // only be for it (some SRC replays number their ACKs on their own), so take it and log.
    SIP_LOG_INFO("sip.ack_cseq_mismatch", "call={} ack_cseq={} invite_cseq={}", m.call_id,
                 m.cseq.number, d->pending_2xx_cseq);
  }
  d->pending_2xx.clear();
  d->retransmit_timer = 0;
  d->ack_timer = 0;
  d->state = Dialog::State::kConfirmed;
  DialogId id = d->id;
  app_->OnAck(IncomingRequest{m, flow, id});
}

void Shard::OnCancel(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now) {
  const Message& m = in->message;
  auto own = server_txns_.find(TransactionKey(m, false));
  if (own != server_txns_.end()) {  // retransmitted CANCEL
    counters_.retransmissions_absorbed++;
    if (!own->second->last_response.empty()) SendOnFlow(flow, own->second->last_response, nullptr);
    return;
  }
  auto it = server_txns_.find(TransactionKey(m, true));
  if (it == server_txns_.end() || !it->second->invite) {
    return AnswerNow(std::move(in), flow, Response::Error(481, "no transaction to cancel"), now);
  }
  std::string invite_key = it->second->key;
  bool pending = it->second->last_code < 200;
  std::string dialog_key = it->second->dialog_key;
  AnswerNow(std::move(in), flow, Response(), now);  // §9.2: 200 to the CANCEL itself
  if (!pending) return;  // final response already sent: CANCEL has no effect
  std::optional<DialogId> ended;
  if (auto d = dialogs_.find(dialog_key); d != dialogs_.end() && it->second->creates_dialog) {
    ended = d->second->id;
  }
  Respond(invite_key, Response::WithCode(487), now);
  if (ended) app_->OnDialogEnded(*ended, EndReason::kCancelled);
}

}  // namespace callvault::sip

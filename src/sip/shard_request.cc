// sip::Shard — inbound requests: retransmission absorption, new INVITEs, CANCEL, ACK and
// in-dialog routing (RFC 3261 §8.2, §9.2, §12.2.2, §13.3, §14.2, §17.2).
#include <algorithm>

#include "base/strings.h"
#include "sip/builder.h"
#include "sip/internal/shard_state.h"
#include "sip/internal/sip_log.h"
#include "sip/internal/text.h"
#include "sip/session_timer.h"

namespace callvault::sip {
namespace {

// Methods the core answers with more than 501/405 somewhere (kAllowedMethods, and PRACK,
// which gets 481): their requests go through CheckRequest.
bool IsServedMethod(Method m) {
  switch (m) {
    case Method::kInvite:
    case Method::kOptions:
    case Method::kBye:
    case Method::kUpdate:
    case Method::kInfo:
    case Method::kPrack:
      return true;
    default:
      return false;
  }
}

// Accept media types that do not stop a SIPREC SRC from taking our SDP answer: Intrado VIPER
// lists only these on its INVITEs (../shared/siprec-samples, intrado-viper-asterisk-invite.sip)
// and takes the SDP 200 that any SRS sends to an SDP offer (RFC 7866, RFC 3264).
bool IsSiprecMetadataType(std::string_view type) {
  constexpr std::string_view kPrefix = "application/rs-metadata";
  return type.size() >= kPrefix.size() && EqualsIgnoreCase(type.substr(0, kPrefix.size()), kPrefix);
}

// True when a media-range of Accept (RFC 3261 §20.1: type/subtype, "type/*" or "*/*", with
// parameters) covers `type`; a range with q=0 allows nothing.
bool RangeAllows(std::string_view range, std::string_view type) {
  std::string_view params;
  if (size_t semi = range.find(';'); semi != std::string_view::npos) {
    params = range.substr(semi);
    range = internal::TrimLws(range.substr(0, semi));
  }
  if (auto q = internal::FindParam(params, "q")) {
    std::string_view v = *q;
    if (!v.empty() && v.find_first_not_of("0.") == std::string_view::npos) return false;
  }
  size_t slash = range.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view rtype = internal::TrimLws(range.substr(0, slash));
  std::string_view rsub = internal::TrimLws(range.substr(slash + 1));
  size_t tslash = type.find('/');
  if (rtype == "*") return rsub == "*";
  if (!EqualsIgnoreCase(rtype, type.substr(0, tslash))) return false;
  return rsub == "*" || EqualsIgnoreCase(rsub, type.substr(tslash + 1));
}

// RFC 3261 §20.1: no Accept means application/sdp; an empty one means nothing is acceptable.
bool AcceptsAnswer(const Message& m, const std::vector<std::string>& answer_types) {
  if (!m.Find(HeaderId::kAccept)) return true;
  bool allowed = false;
  m.ForEachValue(HeaderId::kAccept, [&](std::string_view range) {
    if (IsSiprecMetadataType(range)) allowed = true;
    for (const std::string& type : answer_types) {
      if (RangeAllows(range, type)) allowed = true;
    }
  });
  return allowed;
}

}  // namespace

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

  // §8.2.1 method inspection comes first (501/405 below and in the dialog), then §8.2.2's
  // header inspection for every request of a method we serve, in or out of a dialog.
  if (IsServedMethod(m.method)) {
    Response reject;
    if (!CheckRequest(m, &reject)) return AnswerNow(std::move(in), flow, std::move(reject), now);
  }

  if (!m.to.tag.empty()) return OnInDialogRequest(std::move(in), flow, now);
  if (m.method == Method::kBye && FindDialogWithoutToTag(m) != nullptr) {
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

bool Shard::CheckRequest(const Message& m, Response* reject) const {
  // §8.2.2.1: a Request-URI scheme we do not understand (the parser made sure there is one).
  std::string_view scheme = m.request_uri.substr(0, m.request_uri.find(':'));
  if (!EqualsIgnoreCase(scheme, "sip") && !EqualsIgnoreCase(scheme, "sips") &&
      !EqualsIgnoreCase(scheme, "tel")) {
    *reject = Response::Error(416, "Request-URI scheme '" + std::string(scheme.substr(0, 32)) +
                                       "' is not supported (sip, sips, tel)");
    return false;
  }
  // §8.2.2.3: every option tag in Require must be one we support (ACK and CANCEL never come
  // here: a UAS ignores Require on them).
  std::string unsupported;
  m.ForEachValue(HeaderId::kRequire, [&](std::string_view tag) {
    bool known = std::any_of(options_.supported.begin(), options_.supported.end(),
                             [&](const std::string& s) { return EqualsIgnoreCase(s, tag); });
    if (!known) {
      if (!unsupported.empty()) unsupported += ", ";
      unsupported.append(tag);
    }
  });
  if (!unsupported.empty()) {
    *reject = Response::Error(420, "unsupported extension required: " + unsupported);
    reject->headers.emplace_back("Unsupported", unsupported);
    return false;
  }
  return true;
}

bool Shard::CheckSession(const Message& m, Response* reject) const {
  if (m.method == Method::kInvite && !AcceptsAnswer(m, options_.answer_types)) {
    *reject = Response::Error(406, "Accept allows none of the answer's types (" +
                                       internal::JoinList(options_.answer_types) + ")");
    return false;
  }
  if (auto v = m.Find(HeaderId::kSessionExpires); v && !ParseSessionExpires(*v)) {
    *reject = Response::Error(400, "bad Session-Expires header");
    return false;
  }
  if (auto v = m.Find(HeaderId::kMinSe); v && !ParseSessionExpires(*v)) {
    *reject = Response::Error(400, "bad Min-SE header");
    return false;
  }
  SessionTimerDecision st = NegotiateSessionTimer(m, options_.session_expires_s, options_.min_se_s);
  if (st.reject) {  // RFC 4028 §9
    *reject = Response::Error(422, "Session-Expires below our Min-SE");
    reject->headers.emplace_back("Min-SE", std::to_string(st.min_se));
    return false;
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
  if (!CheckSession(m, &reject)) return AnswerNow(std::move(in), flow, std::move(reject), now);

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
  Dialog* d = m.to.tag.empty() ? FindDialogWithoutToTag(m) : FindDialog(m);
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
  if ((m.method == Method::kInvite || m.method == Method::kUpdate) && !CheckSession(m, &reject)) {
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
  Dialog* d = m.to.tag.empty() ? FindDialogWithoutToTag(m) : FindDialog(m);
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

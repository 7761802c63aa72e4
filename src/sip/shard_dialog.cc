// sip::Shard — UAS dialogs (RFC 3261 §12, §15), requests we send inside them (BYE, RFC 4028
// refresh UPDATE) through non-INVITE client transactions (§17.1.2), and session timers.
#include "sip/builder.h"
#include "sip/internal/shard_state.h"
#include "sip/internal/sip_log.h"
#include "sip/session_timer.h"

namespace callvault::sip {
namespace {

std::string DialogKey(std::string_view call_id, std::string_view local_tag) {
  std::string k(call_id);
  k += '\n';
  k.append(local_tag);
  return k;
}

// Where a request inside the dialog goes (§12.2.1.1, §8.1.2): the first Route when there is a
// route set, else the remote target; an IP literal is used as is, a name falls back to the
// address the dialog's requests come from (no DNS on the signalling thread).
Flow Destination(const Flow& base, const std::vector<std::string>& route_set,
                 const std::string& remote_target) {
  Flow f = base;
  std::string_view target = remote_target;
  std::string first_route;
  if (!route_set.empty()) {
    auto na = ParseNameAddr(route_set.front());
    if (na.ok()) first_route = std::string(na->uri.text);
    target = first_route;
  }
  auto uri = ParseUri(target);
  if (!uri.ok()) return f;
  uint16_t port = uri->port ? uri->port : (base.transport == Transport::kTls ? 5061 : 5060);
  auto addr = SocketAddress::FromIpPort(std::string(uri->host), port);
  if (addr.ok()) f.remote = *addr;
  return f;
}

}  // namespace

Shard::Dialog* Shard::FindDialog(const Message& m) {
  auto it = dialogs_.find(DialogKey(m.call_id, m.to.tag));
  return it == dialogs_.end() ? nullptr : it->second.get();
}

Shard::Dialog* Shard::FindDialogWithoutToTag(const Message& m) {
  auto [begin, end] = dialogs_by_call_id_.equal_range(std::string(m.call_id));
  Dialog* found = nullptr;
  for (auto it = begin; it != end; ++it) {
    auto d = dialogs_.find(it->second);
    if (d == dialogs_.end() || d->second->id.remote_tag != m.from.tag) continue;
    if (found != nullptr) return nullptr;  // ambiguous: leave it to 481
    found = d->second.get();
  }
  return found;
}

Shard::Dialog* Shard::CreateDialog(const Message& m, const Flow& flow, TimePoint now) {
  (void)now;
  auto d = std::make_unique<Dialog>();
  d->id.call_id = std::string(m.call_id);
  d->id.local_tag = m.to.tag.empty() ? RandomToken(12) : std::string(m.to.tag);
  d->id.remote_tag = std::string(m.from.tag);
  d->key = DialogKey(d->id.call_id, d->id.local_tag);
  d->remote_party = std::string(m.Find(HeaderId::kFrom).value_or(""));
  d->local_party = std::string(m.Find(HeaderId::kTo).value_or(""));
  if (m.to.tag.empty()) d->local_party += ";tag=" + d->id.local_tag;
  m.ForEachValue(HeaderId::kContact, [&](std::string_view v) {
    if (!d->remote_target.empty()) return;
    auto na = ParseNameAddr(v);
    if (na.ok()) d->remote_target = std::string(na->uri.text);
  });
  m.ForEachValue(HeaderId::kRecordRoute, [&](std::string_view v) { d->route_set.emplace_back(v); });
  if (m.Find(HeaderId::kAllow)) d->peer_allows_update = m.HasOptionTag(HeaderId::kAllow, "UPDATE");
  d->remote_cseq = m.cseq.number;
  d->local_cseq = 1 + static_cast<uint32_t>(rng_() % 100000);
  d->flow = flow;
  auto ruri = ParseUri(m.request_uri);
  if (ruri.ok()) d->request_uri_host = std::string(ruri->host);
  Dialog* raw = d.get();
  dialogs_by_call_id_.emplace(d->id.call_id, d->key);
  dialogs_[d->key] = std::move(d);
  return raw;
}

void Shard::EndDialog(const std::string& key_ref, std::optional<EndReason> notify) {
  const std::string key = key_ref;  // callers may pass a reference into the erased node
  auto it = dialogs_.find(key);
  if (it == dialogs_.end()) return;
  std::unique_ptr<Dialog> d = std::move(it->second);
  dialogs_.erase(it);  // armed timers find nothing and lapse
  auto [begin, end] = dialogs_by_call_id_.equal_range(d->id.call_id);
  for (auto i = begin; i != end; ++i) {
    if (i->second == key) {
      dialogs_by_call_id_.erase(i);
      break;
    }
  }
  counters_.dialogs_ended++;
  if (notify) {
    SIP_LOG_INFO("sip.dialog_ended", "call={} reason={}", d->id.call_id, EndReasonName(*notify));
    app_->OnDialogEnded(d->id, *notify);
  }
}

void Shard::SendInDialogRequest(Dialog& d, std::string_view method, std::vector<std::string> extra,
                                TimePoint now) {
  auto t = std::make_unique<ClientTxn>();
  t->key = "z9hG4bK" + RandomToken(16);
  t->method = std::string(method);
  t->dialog_key = d.key;
  t->flow = Destination(d.flow, d.route_set, d.remote_target);
  // On TCP/TLS the peer's live connection is reused while it lasts (RFC 5923 spirit); the
  // transport connects to the remote target only when it is gone.
  t->reliable = t->flow.transport != Transport::kUdp;
  std::string contact = ContactFor(d.flow, d.request_uri_host);
  std::string sent_by = contact.substr(
      4, contact.find(';') == std::string::npos ? std::string::npos : contact.find(';') - 4);
  MessageBuilder b = MessageBuilder::Request(
      method, d.remote_target.empty() ? "sip:" + d.flow.remote.ToString() : d.remote_target);
  b.Header("Via", "SIP/2.0/" + std::string(TransportName(t->flow.transport)) + " " + sent_by +
                      ";branch=" + t->key + ";rport");
  b.Header("Max-Forwards", "70");
  b.Header("From", d.local_party);
  b.Header("To", d.remote_party);
  b.Header("Call-ID", d.id.call_id);
  b.Header("CSeq", std::to_string(++d.local_cseq) + " " + t->method);
  for (const std::string& r : d.route_set) b.Header("Route", r);
  if (method != "BYE") b.Header("Contact", "<" + contact + ">");
  b.Header("User-Agent", options_.user_agent);
  for (const std::string& line : extra) b.RawHeaderLine(line);
  t->request = b.Build();
  if (!t->reliable) {
    t->interval = options_.timers.t1;
    t->retransmit_timer = Arm(TimerKind::kClientRetransmit, t->key, now + t->interval);
  }
  t->timeout_timer = Arm(TimerKind::kClientTimeout, t->key, now + 64 * options_.timers.t1);
  Result<Flow> used = sender_->Send(t->flow, t->request);
  if (used.ok()) {
    t->flow = *used;
  } else {
    SIP_LOG_WARN("sip.send_failed", "call={} method={} peer={} reason=\"{}\"", d.id.call_id, method,
                 t->flow.remote.ToString(), used.status().message());
  }
  client_txns_[t->key] = std::move(t);
}

void Shard::SendBye(Dialog& d, int cause, const std::string& text, TimePoint now) {
  counters_.byes_sent++;
  std::string reason = "Reason: SIP;cause=" + std::to_string(cause) + ";text=\"" + text + "\"";
  SendInDialogRequest(d, "BYE", {reason}, now);
}

void Shard::TerminateDialog(const DialogId& id, int cause, const std::string& text, TimePoint now) {
  auto it = dialogs_.find(DialogKey(id.call_id, id.local_tag));
  if (it == dialogs_.end()) return;
  Dialog& d = *it->second;
  if (!d.invite_txn_key.empty()) {  // still unanswered: refuse it instead of a BYE
    std::string key = d.invite_txn_key;
    Respond(key, Response::Error(480, text), now);
  } else {
    SendBye(d, cause, text, now);
  }
  EndDialog(it->first, EndReason::kTerminatedLocally);
}

void Shard::TerminateAll(const std::string& text, TimePoint now) {
  std::vector<DialogId> ids;
  for (const auto& [key, d] : dialogs_) ids.push_back(d->id);
  for (const DialogId& id : ids) TerminateDialog(id, 200, text, now);
}

void Shard::ApplySessionTimer(Dialog& d, const Message& request, TimePoint now) {
  SessionTimerDecision st =
      NegotiateSessionTimer(request, options_.session_expires_s, options_.min_se_s);
  d.session_timer = 0;
  if (!st.active) return;
  d.session_interval_s = st.interval_s;
  d.we_refresh = !st.refresher_is_uac;
  ArmSessionTimer(d, now);
}

void Shard::ArmSessionTimer(Dialog& d, TimePoint now) {
  using std::chrono::seconds;
  const uint32_t interval = d.session_interval_s;
  // §10: the refresher refreshes at half the interval; the other side gives up at
  // interval - min(32, interval/3).
  seconds after = d.we_refresh ? seconds(interval / 2)
                               : seconds(interval - std::min<uint32_t>(32, interval / 3));
  d.session_timer = Arm(TimerKind::kSession, d.key, now + after);
}

void Shard::OnSessionTimer(Dialog& d, TimePoint now) {
  if (d.we_refresh) {
    // Refresh with an UPDATE without body (§7.4); the answer re-arms the timer.
    SendInDialogRequest(
        d, "UPDATE",
        {"Session-Expires: " + std::to_string(d.session_interval_s) + ";refresher=uac",
         "Supported: timer"},
        now);
    d.session_timer = 0;  // the answer re-arms it; Timer F or 408/481 end the dialog
    return;
  }
  counters_.session_expirations++;
  SIP_LOG_INFO("sip.session_expired", "call={} interval={}", d.id.call_id, d.session_interval_s);
  SendBye(d, 408, "session timer expired", now);
  EndDialog(d.key, EndReason::kSessionExpired);
}

void Shard::OnResponse(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now) {
  (void)flow;
  const Message& m = in->message;
  auto it = client_txns_.find(std::string(m.top_via.branch));
  if (it == client_txns_.end() || m.cseq.method_text != it->second->method) {
    SIP_LOG_DEBUG("sip.stray_response", "call={} code={}", m.call_id, m.status_code);
    return;
  }
  ClientTxn& t = *it->second;
  if (m.status_code < 200 || t.state == ClientTxn::State::kCompleted) return;
  t.state = ClientTxn::State::kCompleted;  // §17.1.2.2: Timer K then terminate
  t.retransmit_timer = 0;
  t.timeout_timer =
      Arm(TimerKind::kClientTimeout, t.key, now + (t.reliable ? Millis(0) : options_.timers.t4));
  if (t.method != "UPDATE") return;
  auto dit = dialogs_.find(t.dialog_key);
  if (dit == dialogs_.end()) return;
  Dialog& d = *dit->second;
  if (m.status_code >= 200 && m.status_code < 300) {
    SessionTimerDecision st = SessionTimerFromResponse(m);
    d.session_timer = 0;
    if (!st.active) return;
    d.session_interval_s = st.interval_s;
    d.we_refresh = st.refresher_is_uac;
    ArmSessionTimer(d, now);
  } else if (m.status_code == 408 || m.status_code == 481) {  // §12.2.1.2: the dialog is gone
    SendBye(d, 408, "session refresh failed", now);
    EndDialog(d.key, EndReason::kRefreshFailed);
  } else {
    // The peer cannot take our refresh (405, 501…): stop the timer rather than drop a call
    // that is still recording.
    SIP_LOG_INFO("sip.refresh_refused", "call={} code={}", d.id.call_id, m.status_code);
    d.session_timer = 0;
  }
}

}  // namespace callvault::sip

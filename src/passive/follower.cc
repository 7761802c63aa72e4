// The passive recorder's SIP follower (passive/follower.h).
#include "passive/follower.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

#include "base/log.h"
#include "base/time_format.h"
#include "base/uuid.h"
#include "sip/message.h"
#include "siprec/cisco.h"
#include "siprec/offer_body.h"
#include "siprec/sdp.h"

namespace callvault::passive {
namespace {

sip::SocketAddress ToSocketAddress(const capture::Endpoint& e) {
  sockaddr_storage ss{};
  const socklen_t len = e.ToSockaddr(&ss);
  auto a = sip::SocketAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
  return a.ok() ? *a : sip::SocketAddress{};
}

// The primary's media endpoint of each m-line of its SDP (port 0 = none).
std::vector<capture::Endpoint> MediaEndpoints(std::string_view sdp) {
  std::vector<capture::Endpoint> out;
  auto parsed = siprec::ParseSdp(sdp);
  if (!parsed.ok()) return out;
  for (const siprec::MediaDescription& m : parsed->media) {
    capture::Endpoint e;
    const std::string& address = m.connection.address;
    uint8_t bytes[16];
    if (m.port != 0 && inet_pton(AF_INET, address.c_str(), bytes) == 1) {
      e.ip = capture::IpAddress::V4(bytes);
      e.port = m.port;
    } else if (m.port != 0 && inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
      e.ip = capture::IpAddress::V6(bytes);
      e.port = m.port;
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace

Follower::Follower(FollowerOptions options, siprec::RecordingBackend* backend, const Clock* clock,
                   BindFn bind)
    : options_(std::move(options)),
      backend_(backend),
      clock_(clock),
      bind_(std::move(bind)),
      recorder_options_(options_.recorder) {
  recorder_options_.accept_without_metadata = true;
  recorder_options_.min_free_streams = 0;
  recorder_options_.admit_call = nullptr;  // the primary admitted it
}

Follower::~Follower() { Stop(); }

sip::DialogId Follower::Observed(std::string_view call_id, std::string_view src_tag) {
  // Our "local tag" for a dialog we only watch: derived from the SRC's From tag, so that every
  // captured message of the dialog (which carries it) finds the same key.
  return sip::DialogId{std::string(call_id), "passive-" + std::string(src_tag),
                       std::string(src_tag)};
}

std::string Follower::Key(std::string_view call_id, std::string_view tag) {
  return siprec::DialogKey(Observed(call_id, tag));
}

Follower::Dialog* Follower::Find(std::string_view call_id, std::string_view tag) {
  auto it = dialogs_.find(Key(call_id, tag));
  return it == dialogs_.end() ? nullptr : &it->second;
}

bool Follower::IsPrimary(const capture::Endpoint& e) const {
  return std::find(options_.primary.begin(), options_.primary.end(), e) != options_.primary.end();
}

siprec::RequestInfo Follower::Info(const sip::Message& m, const capture::SipDatagram& raw,
                                   const sip::DialogId& dialog) const {
  sip::Flow flow;
  flow.transport = raw.transport == capture::Transport::kTcp ? sip::Transport::kTcp
                                                             : sip::Transport::kUdp;
  flow.local = ToSocketAddress(raw.dst);
  flow.remote = ToSocketAddress(raw.src);
  return siprec::RequestInfo::From(sip::IncomingRequest{m, flow, dialog});
}

void Follower::OnSipMessage(const capture::SipDatagram& raw) {
  ++counters_.sip_messages;
  if (raw.ts_ns > 0) capture_ns_.store(raw.ts_ns, std::memory_order_relaxed);
  sip::ParseResult p = sip::Parse(raw.bytes);
  if (!p.status.ok() || !p.message.has_cseq || p.message.call_id.empty()) {
    ++counters_.unparsable;
    CV_LOG_DEBUG("passive.sip_unparsable", "src={} reason=\"{}\"", raw.src.ToString(),
                 p.status.ok() ? "no Call-ID or CSeq" : p.status.message());
    return;
  }
  if (p.message.is_request) {
    OnRequest(p.message, raw);
  } else {
    OnResponse(p.message, raw);
  }
}

void Follower::OnRequest(const sip::Message& m, const capture::SipDatagram& raw) {
  if (m.method == sip::Method::kInvite && m.to.tag.empty()) return OnInitialInvite(m, raw);
  if (m.method == sip::Method::kOptions || m.method == sip::Method::kRegister) return;
  // From the SRC (its From tag names the dialog) or from the primary (its To tag does).
  Dialog* d = Find(m.call_id, m.from.tag);
  if (d == nullptr && !m.to.tag.empty()) d = Find(m.call_id, m.to.tag);
  if (d == nullptr) {
    // A CANCEL carries no To tag and names the INVITE's dialog by its From tag (found above).
    ++counters_.unknown_dialog;
    return;
  }
  const std::string method(m.method_text);
  const bool from_src = !(raw.src == d->primary);
  if (!d->seen.emplace(m.cseq.number, (from_src ? "src " : "primary ") + method).second) {
    ++counters_.retransmissions;
    return;
  }
  siprec::CallSession& s = *d->session;
  const std::string key = d->key;
  const sip::DialogId dialog = s.dialog();
  switch (m.method) {
    case sip::Method::kAck:
      if (from_src && !m.body.empty()) s.Ack(Info(m, raw, dialog), key);
      return;
    case sip::Method::kCancel:
      if (!d->answered) {
        if (s.LiveDialogs().size() > 1) {
          s.LegEnded(key, CallState::kCompleted, "cancelled");
        } else {
          s.Abort();
        }
        ++counters_.sessions_aborted;
        Forget(key);
      }
      return;
    case sip::Method::kBye:
      if (d->answered) {
        s.Bye(Info(m, raw, dialog), key);
        if (s.ended()) ++counters_.sessions_ended;
      } else {
        s.Abort();
        ++counters_.sessions_aborted;
      }
      Forget(key);
      return;
    case sip::Method::kInvite:
    case sip::Method::kUpdate:
    case sip::Method::kInfo:
      if (from_src && d->answered) s.Update(Info(m, raw, dialog), key);
      return;
    default:
      return;
  }
}

void Follower::OnInitialInvite(const sip::Message& m, const capture::SipDatagram& raw) {
  const sip::DialogId dialog = Observed(m.call_id, m.from.tag);
  const std::string key = siprec::DialogKey(dialog);  // the session's key of this leg too
  if (dialogs_.count(key) != 0) {
    ++counters_.retransmissions;
    return;
  }
  if (!options_.primary.empty() && !IsPrimary(raw.dst)) return;  // not to the primary
  if (dialogs_.size() >= options_.max_dialogs) {
    ++counters_.dialogs_over_limit;
    CV_LOG_WARN("passive.dialogs_over_limit", "sip_call={} limit={}", m.call_id,
                options_.max_dialogs);
    return;
  }
  siprec::RequestInfo info = Info(m, raw, dialog);
  Dialog d;
  d.key = key;
  d.sip_call_id = m.call_id;
  d.primary = raw.dst;
  d.invite_ns = raw.ts_ns;
  d.invite_cseq = m.cseq.number;
  d.seen.emplace(m.cseq.number, "src INVITE");

  // A Cisco BiB leg joins the session its other direction started.
  std::optional<siprec::BibLeg> bib = siprec::ParseBibFrom(info.from);
  if (bib) {
    auto& waiting = bib_pending_[bib->PairKey()];
    const int64_t window_ns = int64_t{recorder_options_.bib_pair_window_s} * 1'000'000'000;
    for (auto it = waiting.begin(); it != waiting.end(); ++it) {
      auto& [call_id, side, at] = *it;
      if (side == bib->side || raw.ts_ns - at > window_ns) continue;
      auto s = sessions_.find(call_id);
      waiting.erase(it);
      if (s == sessions_.end() || s->second->ended() ||
          s->second->MissingBibSide() != bib->side)
        break;
      sip::Response r = s->second->JoinLeg(info, dialog);
      if (r.code != 200) break;
      s->second->LegCommitted(d.key, Status::Ok());
      d.session = s->second;
      dialogs_.emplace(key, std::move(d));
      return;
    }
  }

  auto session = std::make_shared<siprec::CallSession>(NewUuidV7(*clock_), dialog, backend_,
                                                        clock_, &recorder_options_);
  sip::Response r = session->Start(info);
  if (!session->accepted()) {
    ++counters_.sessions_refused;
    CV_LOG_WARN("passive.session_refused", "sip_call={} code={} reason=\"{}\"", m.call_id, r.code,
                r.reason);
    return;
  }
  // Nothing to acknowledge: the decision is synced now, on this worker.
  session->Committed(backend_->SyncCall(session->call_id()));
  if (!session->started()) {
    ++counters_.sessions_refused;
    return;
  }
  ++counters_.sessions_started;
  if (bib) {
    auto& waiting = bib_pending_[bib->PairKey()];
    waiting.emplace_back(session->call_id(), bib->side, raw.ts_ns);
  }
  sessions_[session->call_id()] = session;
  d.session = std::move(session);
  CV_LOG_INFO("passive.session_started", "call={} sip_call={} primary={}",
              d.session->call_id(), m.call_id, d.primary.ToString());
  dialogs_.emplace(key, std::move(d));
}

void Follower::OnResponse(const sip::Message& m, const capture::SipDatagram& raw) {
  if (m.status_code < 200) return;
  Dialog* d = Find(m.call_id, m.from.tag);
  if (d == nullptr || !(raw.src == d->primary)) return;  // not the primary answering the SRC
  const bool invite = m.cseq.method == sip::Method::kInvite;
  const bool initial = invite && m.cseq.number == d->invite_cseq;
  if (!d->seen.emplace(m.cseq.number, "response " + std::to_string(m.status_code) + " " +
                                          std::string(m.cseq.method_text))
           .second) {
    ++counters_.retransmissions;
    return;
  }
  if (initial && m.status_code >= 300) {  // the primary refused: nothing is recorded
    CV_LOG_INFO("passive.primary_refused", "call={} sip_call={} code={}", d->session->call_id(),
                m.call_id, m.status_code);
    siprec::CallSession& s = *d->session;
    if (s.LiveDialogs().size() > 1) {
      s.LegEnded(d->key, CallState::kCompleted, "refused");
    } else {
      s.Abort();
    }
    ++counters_.sessions_aborted;
    Forget(d->key);
    return;
  }
  if (m.status_code >= 300) return;
  if (initial) d->answered = true;
  if (invite || m.cseq.method == sip::Method::kUpdate) {
    auto body = siprec::ExtractOfferBody(
        std::string(m.Find(sip::HeaderId::kContentType).value_or("")), std::string(m.body));
    if (body.ok() && body->sdp) Bind(*d, *body->sdp);
  }
}

void Follower::Bind(Dialog& d, std::string_view sdp) {
  const std::vector<capture::Endpoint> ends = MediaEndpoints(sdp);
  for (size_t i = 0; i < ends.size(); ++i) {
    const std::string stream = d.session->StreamIdFor(d.key, i);
    if (stream.empty()) continue;
    auto it = d.bound.find(stream);
    if (it != d.bound.end() && it->second == ends[i]) continue;
    if (it != d.bound.end()) {
      bind_(MediaBinding{it->second, d.session->call_id(), stream, false});
      d.bound.erase(it);
    }
    if (ends[i].port == 0) continue;
    d.bound[stream] = ends[i];
    bind_(MediaBinding{ends[i], d.session->call_id(), stream, true, d.sip_call_id});
  }
}

void Follower::Forget(const std::string& key) {
  auto it = dialogs_.find(key);
  if (it == dialogs_.end()) return;
  Dialog d = std::move(it->second);
  dialogs_.erase(it);
  for (const auto& [stream, e] : d.bound)
    bind_(MediaBinding{e, d.session->call_id(), stream, false});
  if (d.session->ended()) sessions_.erase(d.session->call_id());
}

void Follower::Tick(int64_t now_ns,
                    const std::function<int64_t(const std::string&)>& last_rtp_ns) {
  if (now_ns > 0) capture_ns_.store(now_ns, std::memory_order_relaxed);
  const int64_t answer_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.answer_timeout).count();
  const int64_t rtp_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.rtp_timeout).count();
  std::vector<std::string> unanswered;
  std::map<std::string, std::vector<std::string>> silent;  // call id → its dialog keys
  for (auto& [k, d] : dialogs_) {
    if (!d.answered) {
      if (now_ns - d.invite_ns > answer_ns) unanswered.push_back(d.key);
      continue;
    }
    const int64_t last = std::max(last_rtp_ns(d.session->call_id()), d.invite_ns);
    if (now_ns - last > rtp_ns) silent[d.session->call_id()].push_back(d.key);
  }
  for (const std::string& key : unanswered) {
    siprec::CallSession& s = *dialogs_.at(key).session;
    CV_LOG_INFO("passive.no_answer", "call={} sip_call={}", s.call_id(), s.dialog().call_id);
    if (s.LiveDialogs().size() > 1) {
      s.LegEnded(key, CallState::kCompleted, "no_answer");
    } else {
      s.Abort();
    }
    ++counters_.sessions_aborted;
    Forget(key);
  }
  for (const auto& [call_id, keys] : silent) {
    auto s = sessions_.find(call_id);
    if (s == sessions_.end()) continue;
    std::shared_ptr<siprec::CallSession> session = s->second;
    CV_LOG_INFO("passive.rtp_timeout", "call={} sip_call={}", call_id, session->dialog().call_id);
    session->SetPendingEnd(CallState::kTimedOut, "rtp_timeout");
    for (const std::string& key : keys) {
      session->LegEnded(key, CallState::kTimedOut, "rtp_timeout");
      Forget(key);
    }
    if (session->ended()) ++counters_.sessions_ended;
  }
  // BiB legs whose pairing window passed.
  const int64_t window_ns = int64_t{recorder_options_.bib_pair_window_s} * 1'000'000'000;
  for (auto it = bib_pending_.begin(); it != bib_pending_.end();) {
    auto& v = it->second;
    v.erase(std::remove_if(v.begin(), v.end(),
                           [&](const auto& e) { return now_ns - std::get<2>(e) > window_ns; }),
            v.end());
    it = v.empty() ? bib_pending_.erase(it) : std::next(it);
  }
}

void Follower::NoteCaptureDrops(uint64_t dropped, int64_t now_ns) {
  if (dropped == 0 || sessions_.empty()) return;
  const std::string at = FormatRfc3339Ms(now_ns / 1'000'000);
  CV_LOG_WARN("passive.capture_drops", "dropped={} sessions={} at={}", dropped, sessions_.size(),
              at);
  for (auto& [call_id, s] : sessions_) {
    backend_->LogEvent(call_id, {{"t", "capture_drops"}, {"dropped", dropped}, {"capture_at", at}})
        .IgnoreError();
    s->AddWarning("passive capture: the kernel dropped " + std::to_string(dropped) +
                  " captured packets (all calls together) around " + at +
                  "; this call's RTP loss figures include what it lost");
  }
}

void Follower::Stop() {
  for (auto& [call_id, s] : sessions_) s->Ended(CallState::kCompleted, "shutdown");
  for (auto& [k, d] : dialogs_) {
    for (const auto& [stream, e] : d.bound)
      bind_(MediaBinding{e, d.session->call_id(), stream, false});
  }
  dialogs_.clear();
  sessions_.clear();
}

}  // namespace callvault::passive

// CallSession: one recording session (RFC 7866 §6) from the SRC's INVITE to its end — SDP
// offer/answer for every m-line, the streams opened through the RecordingBackend, metadata
// snapshots merged into the current participants, pause/resume through a=inactive, and the end
// handed to finalization with the participants mapped to channels.
//
// Every decision that changes what is recorded is written to the session log and synced before
// the SIP answer acknowledges it (DESIGN.md rule 2): the caller sends the returned Response only
// after the method returns — for the initial INVITE only after the sync the caller starts
// (Start, then Committed: so a recorder worker need not wait for the disk).
//
// Called by: siprec::Recorder, always on the worker thread that owns the call.
// Thread-safety: none; owned by one Recorder worker for its life.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "sip/application.h"
#include "siprec/cisco.h"
#include "siprec/metadata.h"
#include "siprec/offer_body.h"
#include "siprec/recording_backend.h"
#include "siprec/sdp.h"
#include "siprec/sdp_answer.h"
#include "siprec/sdp_offer.h"
#include "siprec/tenant_rules.h"

namespace callvault::siprec {

struct RecorderOptions {
  // Recorder worker threads (calls are spread over them by SIP Call-ID). Default: 2.
  int workers = 2;
  // New calls are refused with 503 + Retry-After when fewer RTP streams than this are free.
  // Default: 4.
  size_t min_free_streams = 4;
  // Record an INVITE whose body has SDP but no rs-metadata part (some SRCs omit it). When false,
  // such an INVITE gets 488 "not a SIPREC session". Default: false.
  bool accept_without_metadata = false;
  // Whether this build decodes a codec (app/ passes codec::CanDecode). REQUIRES: set.
  std::function<bool(const codec::CodecSpec&)> can_decode;
  // Retry-After of the 503s this layer sends. Default: 5 s.
  int retry_after_s = 5;
  // Which tenant a new call belongs to (app/ passes its TenantAssigner; must be thread-safe and
  // must not block). Empty: calls have no tenant.
  std::function<TenantDecision(const CallFacts&)> assign_tenant;
  // Whether one more call fits (app/ passes its file-descriptor budget), asked for every new
  // INVITE before anything of the call is opened; non-OK → 503 + Retry-After with the message
  // as the Warning. Must be thread-safe and cheap (no I/O). Empty: every call fits.
  std::function<Status()> admit_call;
  // Cisco UCM BiB: the second leg of a call (same x-refci, other side) joins the first one's
  // recording when it arrives within this many seconds of it; later, it is recorded on its own.
  // Default: 10 s.
  int bib_pair_window_s = 10;
};

// The key of a dialog (one SIP dialog = one leg of a recording session).
inline std::string DialogKey(const sip::DialogId& d) { return d.call_id + '\n' + d.local_tag; }

// A copy of what the session needs from a SIP request (the sip::Message is only valid during
// the Application callback).
struct RequestInfo {
  std::string method;  // "INVITE", "UPDATE", "INFO", "BYE", "ACK"
  std::string content_type, body;
  std::string sip_call_id, from, to, request_uri, user_agent, src, transport;
  nlohmann::json headers = nlohmann::json::object();  // headers worth keeping (CallStart)
  // Every header of an INVITE (name canonical when SIP knows it), for the tenant rules and the
  // Cisco NBR participant headers; empty for other requests.
  std::vector<std::pair<std::string, std::string>> all_headers;

  static RequestInfo From(const sip::IncomingRequest& request);
};

class CallSession {
 public:
  // REQUIRES: backend, clock and options outlive the session.
  CallSession(std::string call_id, sip::DialogId dialog, RecordingBackend* backend,
              const Clock* clock, const RecorderOptions* options);

  // The initial INVITE, up to its durable decision. Returns the refusal (the call is then not
  // recorded and nothing stays on disk), or 200 + SDP answer with the call accepted(): its
  // decision is logged but not yet synced. The caller then syncs the log
  // (RecordingBackend::SyncCallAsync), sends the 200 only once that succeeded, and calls
  // Committed() with the outcome before anything else touches the session.
  sip::Response Start(const RequestInfo& invite);
  // The accepted INVITE's sync outcome. OK: the call is started() (nullopt: send the 200 Start
  // returned, if not sent yet). Failed: the call is aborted (nothing stays on disk) and the 503
  // to send instead is returned.
  std::optional<sip::Response> Committed(const Status& synced);
  // Requests of one dialog of the session, named by `leg` (its DialogKey): a SIPREC or NBR
  // session has one, a Cisco BiB session one per direction.
  // re-INVITE, UPDATE (SDP and/or metadata) and INFO.
  sip::Response Update(const RequestInfo& request, const std::string& leg);
  // An ACK with a body: the answer to the offer we made in a 200 (a re-INVITE without SDP, or
  // a BiB leg's delayed offer).
  void Ack(const RequestInfo& ack, const std::string& leg);
  // BYE (it may carry a last metadata snapshot): the call ends `completed` once its last leg
  // has ended.
  sip::Response Bye(const RequestInfo& bye, const std::string& leg);
  // The dialog `leg` ended without a BYE; the call ends when it was its last leg (or, before
  // the call was accepted, is aborted).
  void LegEnded(const std::string& leg, CallState state, std::string reason);
  // The whole call ends without a BYE (shutdown) or before it was accepted (aborted).
  void Ended(CallState state, std::string reason);

  // Cisco UCM Built-in-Bridge (siprec/cisco.h): the first leg's INVITE goes through Start();
  // the other direction's, paired by the Recorder (same x-refci), through JoinLeg, which
  // returns the 200 with our offer (or a refusal); the caller syncs the log as for Start and
  // calls LegCommitted with the outcome before anything else touches that leg.
  sip::Response JoinLeg(const RequestInfo& invite, const sip::DialogId& dialog);
  std::optional<sip::Response> LegCommitted(const std::string& leg, const Status& synced);
  // The BiB side this session still lacks, nullopt when it is not BiB or has both.
  std::optional<BibLeg::Side> MissingBibSide() const;
  // A warning for the manifest, from outside the SIP exchange (passive capture drops).
  void AddWarning(std::string warning) { warnings_.push_back(std::move(warning)); }
  // The dialogs still up (an RTP timeout BYEs each).
  std::vector<sip::DialogId> LiveDialogs() const;
  // The stream that m-line `mline` of an SDP exchanged on dialog `leg` describes ("s<index>"),
  // "" when that stream is not open. A BiB leg's SDP has one m-line: its side's stream.
  // Passive recording uses it to route what it captures.
  std::string StreamIdFor(const std::string& leg, size_t mline) const;
  // The INVITE was cancelled or never acknowledged (the SRC got no 2xx): nothing is kept.
  void Abort();
  // Why we are about to end the dialog ourselves (RTP timeout): used by the next Ended().
  void SetPendingEnd(CallState state, std::string reason);

  const std::string& call_id() const { return call_id_; }
  const std::string& tenant() const { return tenant_; }
  const sip::DialogId& dialog() const { return dialog_; }
  bool accepted() const { return accepted_; }
  bool started() const { return started_; }
  bool ended() const { return ended_; }

 private:
  // One dialog of the session (BiB: one per direction).
  struct Leg {
    std::string key;  // DialogKey
    sip::DialogId dialog;
    size_t index = 0;  // its m-line / stream index in the session
    std::string sip_call_id;
    std::string last_offer;  // our SDP offer awaiting the SRC's answer in the ACK
    uint64_t sdp_version = 0;
    bool committed = false;  // its INVITE's decision is durable (200 sent)
    bool ended = false;
  };

  struct Stream {
    bool open = false;
    std::string id;  // "s<m-line index>": spool file stem
    uint16_t local_port = 0;
    bool paused = false;
    std::string srtp_key;  // base64 of the SRC's key in use
    std::string label;
  };

  // Answers `sdp`; opens, pauses, resumes and rekeys streams. `initial`: any failure refuses
  // the call; later, a stream that cannot be opened is rejected in the answer.
  sip::Response ApplyOffer(const std::string& sdp, const std::string& source, bool initial);
  // Logs and merges metadata parts; `parsed` (ParseMetadata of each part) when already done.
  void ApplyMetadata(const std::vector<MetadataPart>& parts, const std::string& source,
                     std::vector<RecordingMetadata> parsed = {});
  // The initial INVITE's tenant (RecorderOptions::assign_tenant).
  TenantDecision DecideTenant(const RequestInfo& invite,
                              const std::vector<RecordingMetadata>& metadata) const;
  // Admission, tenant and the spool's `start` line for a new call; a refusal, or nullopt
  // with the call begun (tenant_, src_ and warnings_ set).
  std::optional<sip::Response> BeginRecording(const RequestInfo& invite,
                                              const std::vector<RecordingMetadata>& metadata);
  // The first value of header `name` (case-insensitive) among an INVITE's, bounded; "".
  static std::string HeaderValue(const RequestInfo& request, std::string_view name);
  // Cisco BiB (call_session_bib.cc).
  sip::Response StartBib(const RequestInfo& invite, const BibLeg& bib);
  // Opens the leg's stream and answers its INVITE: our offer (no SDP) or our answer.
  sip::Response AddLeg(const RequestInfo& invite, const sip::DialogId& dialog, BibLeg::Side side);
  // Our offer for the leg's stream, with the leg's next SDP version.
  Result<SdpOffer> LegOffer(Leg& leg);
  // An SDP offer on a leg (early-offer INVITE, re-INVITE): answers it for the leg's stream.
  sip::Response AnswerLegOffer(Leg& leg, const std::string& sdp, const std::string& source);
  sip::Response UpdateLeg(Leg& leg, const RequestInfo& request);
  void AckLeg(Leg& leg, const std::string& sdp);
  Leg* FindLeg(const std::string& key);
  bool AnyLiveLeg() const;
  // Cisco NBR: the participants the INVITE's X-Cisco-Recording-Participant headers name.
  void ApplyNbrParticipants(const std::vector<NbrParticipant>& participants,
                            const std::string& source);
  // The `stream` session-log line's payload_types for a stream answered with `m`.
  static nlohmann::json PayloadTypesJson(const AnsweredMedia& m);
  void SetStreamPaused(Stream& st, bool paused);
  sip::Response Refuse(int code, std::string why) const;
  // 415 + Accept for a media type we cannot use, else 400 naming what is wrong with the body.
  sip::Response RefuseBody(const Status& why) const;
  void End(CallState state, const std::string& reason);
  // Which participant sends on which m-line (metadata labels against the SDP's); empty without
  // metadata.
  std::vector<ParticipantChannel> MapParticipants() const;
  // Stream id → channel: the first two participants that send get left and right.
  std::map<std::string, int> StreamChannels(const std::vector<ParticipantChannel>& mapping) const;
  nlohmann::json ParticipantsJson(const std::vector<ParticipantChannel>& mapping,
                                  const std::map<std::string, int>& stream_channels) const;
  std::string Now() const;
  void Log(nlohmann::json event);
  // Logs a `participants` line (participants, stream channels, siprec session id) when they
  // changed since the last one: a call that crashes keeps who was on it (spool.md).
  void LogParticipants();

  const std::string call_id_;
  const sip::DialogId dialog_;
  RecordingBackend* const backend_;
  const Clock* const clock_;
  const RecorderOptions* const options_;

  std::vector<Stream> streams_;  // by m-line index (BiB: 0 near end, 1 far end)
  std::vector<Leg> legs_;        // BiB only; a SIPREC/NBR session's one dialog is dialog_
  std::optional<BibLeg> bib_;    // a Cisco BiB session
  bool nbr_ = false;             // a Cisco CUBE NBR session
  std::optional<RecordingMetadata> metadata_;
  nlohmann::json snapshots_ = nlohmann::json::array();
  std::string sdp_session_id_;
  uint64_t sdp_version_ = 0;
  std::string last_answer_;
  std::optional<std::pair<CallState, std::string>> pending_end_;
  std::vector<std::string> warnings_;
  nlohmann::json logged_participants_;  // the last `participants` line's content
  std::string tenant_;
  std::string src_, tenant_by_;  // for the call_started line (Committed)
  bool accepted_ = false;        // Start() returned 200: awaiting Committed()
  bool started_ = false;
  bool ended_ = false;
};

}  // namespace callvault::siprec

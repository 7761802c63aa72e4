// Follower: passive recording's view of SIP. It watches the messages an SRC and the primary
// recorder exchange (captured from mirrored traffic, never answered) and records every
// recording session the primary accepts, the way the primary does: one siprec::CallSession per
// session — SIPREC, Cisco CUBE NBR, Cisco UCM BiB (the two legs paired by x-refci) — fed the
// SRC's requests, its streams opened through the RecordingBackend (app/ gives passive streams:
// no socket, RTP injected). So a passive recording is the same kind of recording, with the same
// session log, metadata, participants and channels.
//
// Where RTP goes is what the primary's 2xx says (its answer, or for BiB its offer): for each
// m-line, the primary's media address and port. The follower reports these as MediaBindings
// (bind, and unbind when a re-INVITE moves a stream or the session ends) so the capture thread
// routes what it captures to (call, stream). A session ends on BYE (either side: `completed`),
// is aborted when the primary refuses the INVITE, the SRC cancels it or no final answer comes
// within answer_timeout, and ends `timed_out` when its RTP stops for rtp_timeout.
//
// Retransmissions (same CSeq and method, same direction) are ignored; requests from the primary
// (its BYE) are matched by their To tag.
//
// Called by: passive::PassiveRecorder, on its one worker thread.
// Thread-safety: none (one owner thread). The BindFn is called on that thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "capture/endpoint.h"
#include "capture/sink.h"
#include "siprec/call_session.h"
#include "siprec/recording_backend.h"

namespace callvault::passive {

struct FollowerOptions {
  // Codecs, tenant rules, BiB pairing window. accept_without_metadata is forced on: the
  // primary decided what to record, the spare follows it.
  siprec::RecorderOptions recorder;
  // The primary's SIP addresses ("ip:port"); a message to one of them is from an SRC. Empty:
  // whoever receives a dialog's INVITE is its primary.
  std::vector<capture::Endpoint> primary;
  // A session with no final answer to its INVITE after this long is dropped (64*T1).
  std::chrono::milliseconds answer_timeout{32000};
  // A session whose RTP stopped this long ago ends `timed_out`.
  std::chrono::milliseconds rtp_timeout{60000};
  // Dialogs followed at once; INVITEs beyond are not recorded (counted).
  size_t max_dialogs = 50000;
};

// Where the SRC sends one stream's RTP.
struct MediaBinding {
  capture::Endpoint to;  // the primary's media address and port
  std::string call_id, stream_id;
  bool bind = true;  // false: this endpoint no longer carries that stream
  // The SIP Call-ID of the dialog (BiB: the leg) whose SDP made the binding: a BYE of that
  // dialog ends the route on the capture thread at once (MediaRouter::EndDialog).
  std::string sip_call_id;
};

struct FollowerCounters {
  uint64_t sip_messages = 0, unparsable = 0, retransmissions = 0, unknown_dialog = 0;
  uint64_t sessions_started = 0, sessions_refused = 0, sessions_aborted = 0,
           sessions_ended = 0, dialogs_over_limit = 0;
};

class Follower {
 public:
  using BindFn = std::function<void(const MediaBinding&)>;

  // REQUIRES: backend and clock outlive the follower; options.recorder.can_decode set.
  Follower(FollowerOptions options, siprec::RecordingBackend* backend, const Clock* clock,
           BindFn bind);
  ~Follower();  // Stop()

  // One captured SIP message (copied as needed).
  void OnSipMessage(const capture::SipDatagram& message);
  // Timeouts at capture time `now_ns`. `last_rtp_ns(call_id)` is the capture time of the
  // call's last RTP packet, 0 when none yet.
  void Tick(int64_t now_ns, const std::function<int64_t(const std::string&)>& last_rtp_ns);
  // The kernel dropped `dropped` captured packets (pcap_stats) since the last call, around
  // capture time `now_ns`: every session recording now may miss some of them, so each gets a
  // `capture_drops` session-log line and a warning (loss is never silent).
  void NoteCaptureDrops(uint64_t dropped, int64_t now_ns);
  // Ends every session still recording (`completed`, reason `shutdown`). Idempotent.
  void Stop();

  // The capture time (ns since the Unix epoch) of the message or tick being processed, or of
  // the last one: when what the backend is told now happened on the wire (app/ stamps the
  // session's log lines with it, so a spare's times are the wire's, not its processing lag's).
  // 0 before the first. Read from any thread.
  int64_t capture_ns() const { return capture_ns_.load(std::memory_order_relaxed); }

  size_t dialogs() const { return dialogs_.size(); }
  size_t sessions() const { return sessions_.size(); }
  const FollowerCounters& counters() const { return counters_; }

 private:
  // One observed dialog (a SIPREC/NBR session, or one BiB leg).
  struct Dialog {
    std::shared_ptr<siprec::CallSession> session;
    std::string key;  // siprec::DialogKey of the session's leg
    std::string sip_call_id;
    capture::Endpoint primary;
    bool answered = false;
    int64_t invite_ns = 0;
    uint32_t invite_cseq = 0;
    std::set<std::pair<uint32_t, std::string>> seen;  // (CSeq, method) of requests handled
    std::map<std::string, capture::Endpoint> bound;   // stream id → endpoint
  };

  void OnRequest(const sip::Message& m, const capture::SipDatagram& raw);
  void OnResponse(const sip::Message& m, const capture::SipDatagram& raw);
  void OnInitialInvite(const sip::Message& m, const capture::SipDatagram& raw);
  // Binds the streams the primary's SDP `sdp` describes for the dialog.
  void Bind(Dialog& d, std::string_view sdp);
  // Unbinds and forgets the dialog; the session is dropped once none of its dialogs remain.
  void Forget(const std::string& key);
  bool IsPrimary(const capture::Endpoint& e) const;
  Dialog* Find(std::string_view call_id, std::string_view tag);
  // The DialogId a watched dialog gets, and its key (siprec::DialogKey: the map's key and the
  // session's key of that leg), from its Call-ID and the SRC's From tag.
  static sip::DialogId Observed(std::string_view call_id, std::string_view src_tag);
  static std::string Key(std::string_view call_id, std::string_view tag);
  siprec::RequestInfo Info(const sip::Message& m, const capture::SipDatagram& raw,
                           const sip::DialogId& dialog) const;

  const FollowerOptions options_;
  siprec::RecordingBackend* const backend_;
  const Clock* const clock_;
  const BindFn bind_;
  siprec::RecorderOptions recorder_options_;
  std::unordered_map<std::string, Dialog> dialogs_;  // Key(call id, SRC's From tag)
  std::unordered_map<std::string, std::shared_ptr<siprec::CallSession>> sessions_;  // call id
  // BiB legs waiting for the other direction: PairKey → (call id, side, capture time).
  std::map<std::string, std::vector<std::tuple<std::string, siprec::BibLeg::Side, int64_t>>>
      bib_pending_;
  FollowerCounters counters_;
  std::atomic<int64_t> capture_ns_{0};
};

}  // namespace callvault::passive

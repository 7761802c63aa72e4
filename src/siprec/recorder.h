// Recorder: the SIPREC recording server (SRS, RFC 7866) as a sip::Application. It turns an
// SRC's INVITE into a CallSession (SDP answer, streams, metadata), routes re-INVITE / UPDATE /
// INFO / BYE / ACK to it, and ends it on BYE, on a dialog timeout or when its RTP stops.
//
// Threads: SIP callbacks arrive on the shard threads and must not block, so each callback
// copies what it needs and posts it to one of `workers` recorder threads chosen by SIP
// Call-ID: a call is always handled by the same worker, in arrival order, and its CallSession
// is owned by that thread (no lock). A Cisco UCM BiB call has two dialogs (one per direction,
// paired by x-refci within RecorderOptions::bib_pair_window_s): the second leg is routed to
// its partner's worker and joins its session, so the two directions become one recording. The workers do the disk work (spool creation) and answer
// through the thread-safe sip::Responder. An accepted INVITE's decision is synced without
// blocking the worker (RecordingBackend::SyncCallAsync: group commit across calls); its 200 is
// sent by the sync's completion, never before the sync, and the dialog's later requests (ACK,
// CANCEL's end, BYE, re-INVITE) wait on the worker until the call is committed.
//
// Called by: sip::Stack shards (Application callbacks), media/ via app/ (OnRtpTimeout, from an
// I/O thread), app/ (Start/Stop, active_calls).
// Thread-safety: every public method is thread-safe; Start/Stop from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "sip/application.h"
#include "siprec/call_session.h"
#include "siprec/recording_backend.h"

namespace callvault::siprec {

class Recorder final : public sip::Application {
 public:
  // Ends a dialog with a BYE carrying `Reason: SIP;cause=<cause>;text="<text>"` (app/ passes
  // sip::Stack::TerminateDialog).
  using TerminateFn = std::function<void(const sip::DialogId&, int cause, std::string text)>;

  // REQUIRES: backend and clock outlive the recorder; options.can_decode set.
  Recorder(RecorderOptions options, RecordingBackend* backend, const Clock* clock,
           TerminateFn terminate);
  ~Recorder() override;  // Stop()s
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  void Start();
  // Runs what is queued, then ends every call still recording (`completed`, reason
  // `shutdown`: app/ BYEs them first when it drains) and joins the workers. Idempotent.
  void Stop();

  // sip::Application (shard threads).
  void OnInvite(const sip::IncomingRequest& request, sip::Responder responder) override;
  void OnDialogRequest(const sip::IncomingRequest& request, sip::Responder responder) override;
  void OnAck(const sip::IncomingRequest& request) override;
  void OnDialogEnded(const sip::DialogId& dialog, sip::EndReason reason) override;

  // media/ saw no RTP on a call for its timeout: the call is BYE'd and ends `timed_out`.
  void OnRtpTimeout(const std::string& call_id);

  // Calls recovered from the spool at start-up (SIP Call-ID → call id), finalized as
  // `partial`. A BYE for one of them is adopted and answered 200 (the SRC ends the session
  // cleanly; the log names the recovered call); a re-INVITE/UPDATE gets the core's 481, as
  // RFC 3261 §12.2.2 wants for a dialog that no longer exists, and the SRC starts a new
  // recording session. Kept until their BYE, at most kMaxRecovered (oldest dropped).
  void AddRecoveredCalls(const std::vector<std::pair<std::string, std::string>>& calls)
      EXCLUDES(mu_);
  bool AdoptDialog(const sip::Message& request) override EXCLUDES(mu_);
  static constexpr size_t kMaxRecovered = 100000;

  size_t active_calls() const { return active_.load(std::memory_order_relaxed); }

 private:
  class Worker;
  Worker& WorkerFor(const std::string& sip_call_id) EXCLUDES(mu_);
  // The dialog `key` is over: drops it, and its session once that has ended.
  void Forget(Worker& w, const std::string& key) EXCLUDES(mu_);
  // On the worker: a new call's INVITE (Start, then its sync and 200).
  void StartCall(Worker& w, const RequestInfo& info, const sip::DialogId& dialog,
                 const std::string& call_id, const sip::Responder& responder);
  // On the worker: a BiB leg joining the session `call_id` (or starting its own when that is
  // gone or already has this side).
  void JoinCall(Worker& w, const RequestInfo& info, const sip::DialogId& dialog,
                const std::string& call_id, const sip::Responder& responder);
  // Which worker a new BiB leg goes to, and the call it joins ("" = none: a new call).
  std::pair<Worker*, std::string> PairBibLeg(const BibLeg& leg, const std::string& sip_call_id,
                                             const std::string& call_id) EXCLUDES(mu_);
  // On the worker, after the INVITE's sync: start or abort the call, run what waited for it.
  void Committed(Worker& w, const std::string& key, const Status& synced,
                 const sip::Responder& responder);
  void DialogRequest(Worker& w, const std::string& key, const RequestInfo& info,
                     const sip::Responder& responder);

  const RecorderOptions options_;
  RecordingBackend* const backend_;
  const Clock* const clock_;
  const TerminateFn terminate_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<size_t> active_{0};

  // A BiB leg waiting for the other direction's INVITE.
  struct BibPending {
    Worker* worker = nullptr;
    std::string call_id;
    BibLeg::Side side = BibLeg::Side::kNearEnd;
    std::chrono::steady_clock::time_point at;
  };
  static constexpr size_t kMaxBibPending = 100000;

  Mutex mu_;
  std::unordered_map<std::string, Worker*> by_call_id_ GUARDED_BY(mu_);  // UUID → its worker
  // BiB pairing: PairKey → legs waiting, oldest first; SIP Call-ID → worker of joined legs.
  std::unordered_map<std::string, std::deque<BibPending>> bib_pending_ GUARDED_BY(mu_);
  size_t bib_pending_count_ GUARDED_BY(mu_) = 0;
  std::unordered_map<std::string, Worker*> routes_ GUARDED_BY(mu_);
  std::atomic<size_t> routes_count_{0};
  std::unordered_map<std::string, std::string> recovered_ GUARDED_BY(mu_);  // SIP Call-ID → id
  std::deque<std::string> recovered_order_ GUARDED_BY(mu_);
};

}  // namespace callvault::siprec

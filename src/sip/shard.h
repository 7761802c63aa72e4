// One shard of the SIP core: the server/client transactions (RFC 3261 §17, RFC 6026) and UAS
// dialogs (§12, §13.3, §14, RFC 4028 session timers) of the calls whose Call-ID hashes to it.
//
// A Shard is a deterministic state machine: it never reads a clock and owns no thread. Its
// driver (sip::Stack's worker thread, or a test) feeds it messages and the current time, fires
// its timers, and runs work posted to it through its Executor. Everything here runs on that
// one thread except Post()/IsCurrent(), so no member needs a lock.
//
// Called by: sip::Stack workers; sip::Responder (via Executor); shard tests.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "sip/application.h"
#include "sip/core_options.h"
#include "sip/message.h"
#include "sip/transport.h"

namespace callvault::sip {

// Sends bytes to a flow (TransportLayer in production, a recorder in tests). Thread-safe.
class Sender {
 public:
  virtual ~Sender() = default;
  // Returns the flow actually used (a new TCP/TLS connection when the old one is gone).
  virtual Result<Flow> Send(const Flow& flow, std::string data) = 0;
};

// Runs closures on the shard's thread.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void Post(std::function<void()> fn) = 0;  // thread-safe
  virtual bool IsCurrent() const = 0;               // true on the shard's thread
  virtual TimePoint Now() const = 0;                // the driver's notion of now
};

// Node-wide admission state (draining, disk nearly full, overloaded), set by app/.
struct Availability {
  bool accept_calls = true;
  int retry_after_s = 0;  // Retry-After of the 503
  std::string reason;     // Warning text of the 503, e.g. "node is draining"
};

struct ShardCounters {
  uint64_t requests_in = 0, responses_in = 0, responses_out = 0, retransmissions_absorbed = 0,
           retransmissions_sent = 0, stateless_answers = 0, dialogs_created = 0, dialogs_ended = 0,
           ack_timeouts = 0, session_expirations = 0, byes_sent = 0;
};

class Shard {
 public:
  // `sender`, `app` and `executor` must outlive the shard.
  Shard(const CoreOptions& options, Sender* sender, Application* app, Executor* executor,
        uint32_t seed);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // One inbound message that parsed and whose Call-ID hashes here.
  void OnMessage(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now);
  // Fires every timer due at `now`.
  void OnTimers(TimePoint now);
  // Earliest armed timer, if any.
  std::optional<TimePoint> NextDeadline() const;

  // Answers a server transaction (see Responder). Must run on the shard's thread.
  void Respond(const std::string& transaction_key, Response response, TimePoint now);
  // Ends a dialog we are in: BYE with `Reason: SIP;cause=<cause>;text="<text>"`, then
  // OnDialogEnded(kTerminatedLocally). Unknown dialogs are ignored. Shard thread only.
  void TerminateDialog(const DialogId& id, int cause, const std::string& text, TimePoint now);
  // Ends every dialog (drain deadline reached). Shard thread only.
  void TerminateAll(const std::string& text, TimePoint now);

  void SetAvailability(const Availability& a) { availability_ = a; }
  size_t dialog_count() const { return dialogs_.size(); }
  size_t transaction_count() const { return server_txns_.size() + client_txns_.size(); }
  const ShardCounters& counters() const { return counters_; }
  Executor* executor() const { return executor_; }

  // Transaction key of a request (RFC 3261 §17.2.3): branch + sent-by + method, with ACK and
  // CANCEL folded onto INVITE when `for_invite`; RFC 2543 peers (no magic cookie) by
  // Call-ID + CSeq number + From tag + top Via.
  static std::string TransactionKey(const Message& m, bool for_invite);

 private:
  struct ServerTxn;
  struct ClientTxn;
  struct Dialog;
  enum class TimerKind : uint8_t;
  struct Timer {
    TimePoint when;
    uint64_t id;
    TimerKind kind;
    std::string key;
    bool operator>(const Timer& o) const { return when > o.when || (when == o.when && id > o.id); }
  };

  // shard_request.cc
  void OnRequest(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now);
  void OnNewInvite(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now);
  void OnInDialogRequest(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now);
  void OnAck(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now);
  void OnCancel(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now);
  ServerTxn* NewServerTxn(std::unique_ptr<InboundMessage> in, const Flow& flow,
                          const std::string& key, TimePoint now);
  // Answers at once through a new server transaction (absorbs retransmissions).
  void AnswerNow(std::unique_ptr<InboundMessage> in, const Flow& flow, Response r, TimePoint now);
  // RFC 3261 §8.2.2 header inspection of a request of a method we serve (not ACK/CANCEL):
  // Request-URI scheme sip/sips/tel (416), Require within options_.supported (420 +
  // Unsupported). False with `reject` filled when the request must be refused.
  bool CheckRequest(const Message& m, Response* reject) const;
  // INVITE/UPDATE before the application sees it: an INVITE's Accept must allow one of
  // options_.answer_types (406), RFC 4028 Session-Expires/Min-SE must parse (400) and not be
  // below our Min-SE (422 + Min-SE).
  bool CheckSession(const Message& m, Response* reject) const;

  // shard_response.cc
  std::string BuildResponse(const ServerTxn& txn, const Response& r, const Dialog* dialog);
  void SendOnFlow(const Flow& flow, std::string data, Dialog* dialog);
  void SendTxnResponse(ServerTxn& txn, int code, std::string data, TimePoint now);
  void OnInviteFinal(ServerTxn& txn, int code, Dialog* dialog, TimePoint now);
  std::string ContactFor(const Flow& flow, std::string_view request_uri_host) const;

  // shard_dialog.cc
  Dialog* FindDialog(const Message& m);
  // A BYE or a 2xx's ACK without To tag (broken SRC replays, MiaRec's CUBE NBR scenarios): the
  // one dialog with its Call-ID and From tag.
  Dialog* FindDialogWithoutToTag(const Message& m);
  Dialog* CreateDialog(const Message& invite, const Flow& flow, TimePoint now);
  void EndDialog(const std::string& key, std::optional<EndReason> notify);
  void SendBye(Dialog& d, int cause, const std::string& text, TimePoint now);
  void SendInDialogRequest(Dialog& d, std::string_view method, std::vector<std::string> extra,
                           TimePoint now);
  void ApplySessionTimer(Dialog& d, const Message& request, TimePoint now);
  void ArmSessionTimer(Dialog& d, TimePoint now);
  void OnSessionTimer(Dialog& d, TimePoint now);
  void OnResponse(std::unique_ptr<InboundMessage> in, const Flow& flow, TimePoint now);

  // shard_timers.cc
  uint64_t Arm(TimerKind kind, const std::string& key, TimePoint when);
  void Fire(const Timer& t, TimePoint now);
  void OnServerTxnTimer(ServerTxn& txn, TimerKind kind, TimePoint now);
  void OnClientTxnTimer(ClientTxn& txn, TimerKind kind, TimePoint now);
  void OnDialogTimer(Dialog& d, TimerKind kind, TimePoint now);
  std::string RandomToken(size_t n);

  CoreOptions options_;
  Sender* sender_;
  Application* app_;
  Executor* executor_;
  Availability availability_;
  std::mt19937_64 rng_;
  uint64_t next_timer_id_ = 1;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::unordered_map<std::string, std::unique_ptr<ServerTxn>> server_txns_;
  std::unordered_map<std::string, std::unique_ptr<ClientTxn>> client_txns_;
  std::unordered_map<std::string, std::unique_ptr<Dialog>> dialogs_;  // call_id + '\n' + local tag
  std::unordered_multimap<std::string, std::string> dialogs_by_call_id_;  // call_id → dialogs_ key
  ShardCounters counters_;
};

}  // namespace callvault::sip

// The interface between the SIP core and the layer that records (siprec/, later issues).
//
// The core owns transactions and dialogs; the application sees requests that need a decision
// (new INVITE, re-INVITE, UPDATE, INFO, BYE, ACK) and answers them through a Responder. All
// callbacks for one Call-ID run on the same shard thread, in arrival order, so per-call state
// needs no lock; different calls run concurrently on different shards, so state shared across
// calls must be thread-safe. Callbacks must not block (no disk sync, no database, no network).
//
// Called by: sip::Shard (on its worker thread). Implemented by: siprec::Recorder; tests.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sip/message.h"
#include "sip/transport.h"

namespace callvault::sip {

// Identifies a dialog in which we are the UAS (RFC 3261 §12): Call-ID + our tag + theirs.
struct DialogId {
  std::string call_id;
  std::string local_tag;   // our To tag
  std::string remote_tag;  // their From tag

  friend bool operator==(const DialogId&, const DialogId&) = default;
};

// A final or provisional answer built by the application. The core adds Via/From/To/Call-ID/
// CSeq, Contact (2xx to INVITE/UPDATE), Server, Allow/Supported, session-timer headers and
// Content-Length.
struct Response {
  int code = 200;
  std::string reason;   // empty = standard phrase
  std::string warning;  // non-empty → `Warning: 399 <host> "<warning>"` (RFC 3261 §20.43)
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, in order
  std::string content_type;
  std::string body;
  int retry_after_s = 0;  // > 0 → Retry-After header (503, 480, 486…)

  // Shorthands (designated initializers that omit fields trip g++'s -Wextra).
  static Response WithCode(int code) {
    Response r;
    r.code = code;
    return r;
  }
  // An error answer with `Warning: 399 <host> "<warning>"` and optionally Retry-After.
  static Response Error(int code, std::string warning, int retry_after_s = 0) {
    Response r;
    r.code = code;
    r.warning = std::move(warning);
    r.retry_after_s = retry_after_s;
    return r;
  }
  static Response WithBody(int code, std::string content_type, std::string body) {
    Response r;
    r.code = code;
    r.content_type = std::move(content_type);
    r.body = std::move(body);
    return r;
  }
};

class Shard;

// Answers one server transaction. Copyable; thread-safe: Respond() may be called from any
// thread, any time (it posts to the shard when not called on it). Only the first final
// response counts; later ones are ignored with a log line. An INVITE that the application
// leaves unanswered for 64*T1 gets 500 from the core.
class Responder {
 public:
  Responder() = default;
  Responder(Shard* shard, std::string transaction_key)
      : shard_(shard), transaction_key_(std::move(transaction_key)) {}
  void Respond(Response response) const;
  const std::string& transaction_key() const { return transaction_key_; }

 private:
  Shard* shard_ = nullptr;
  std::string transaction_key_;
};

// What the application is given for a request. `message` is valid only during the callback;
// copy what must outlive it.
struct IncomingRequest {
  const Message& message;
  const Flow& flow;
  const DialogId& dialog;  // for an initial INVITE: the dialog the 2xx will create
};

// Why a dialog ended without the application having answered a BYE.
// Persistent in logs and recordings' end reason: do not renumber.
enum class EndReason : uint8_t {
  kCancelled = 1,          // CANCEL before the final response (RFC 3261 §9.2)
  kAckTimeout = 2,         // 2xx never acknowledged (RFC 3261 §13.3.1.4): BYE sent
  kSessionExpired = 3,     // RFC 4028 session timer not refreshed: BYE sent
  kRefreshFailed = 4,      // our RFC 4028 refresh got 408/481 or timed out: BYE sent
  kTerminatedLocally = 5,  // TerminateDialog() (application decision, drain): BYE sent
  kNotAnswered = 6,        // the application did not answer the INVITE in time: 500 sent
  kRejected = 7,           // the application answered the INVITE with a non-2xx final
};
std::string_view EndReasonName(EndReason r);

class Application {
 public:
  virtual ~Application() = default;

  // A new INVITE outside any dialog (100 Trying already sent; Require, session-timer and
  // availability checks already passed). Answer with responder.Respond().
  virtual void OnInvite(const IncomingRequest& request, Responder responder) = 0;

  // An in-dialog request: re-INVITE, UPDATE, INFO or BYE. A 2xx to BYE ends the dialog
  // (no OnDialogEnded follows). Answer with responder.Respond().
  virtual void OnDialogRequest(const IncomingRequest& request, Responder responder) = 0;

  // The ACK for a 2xx (it may carry a body: RFC 3264 offer in INVITE without SDP).
  virtual void OnAck(const IncomingRequest& request) = 0;

  // The core ended the dialog (see EndReason). Not called after a BYE the application answered.
  virtual void OnDialogEnded(const DialogId& dialog, EndReason reason) = 0;

  // An in-dialog request (To tag set) for a dialog the core does not know, e.g. after a
  // restart. Return true to adopt it: the core rebuilds the dialog from the request and then
  // delivers the request through OnDialogRequest. Default: false → 481.
  virtual bool AdoptDialog(const Message& request) {
    (void)request;
    return false;
  }
};

}  // namespace callvault::sip

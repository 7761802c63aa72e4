// sip::Stack — the SIP signalling core of a node: transports, parsing at the edge, stateless
// error answers, and N shard worker threads that own transactions and dialogs.
//
// Inbound path: transport I/O thread → Parse() → (malformed: 400/505/513 + Warning sent
// statelessly, or dropped with a log line) → shard chosen by hash(Call-ID) → the shard's
// bounded queue → its worker thread. The transport never blocks on the application: when a
// shard's queue is full, INVITEs get 503 + Retry-After at once and other requests are dropped
// (their senders retransmit).
//
// Called by: app/ (construction, Start/Stop, availability, drain). Thread-safety: all public
// methods are thread-safe after construction. Application callbacks run on worker threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "sip/application.h"
#include "sip/core_options.h"
#include "sip/shard.h"
#include "sip/transport.h"

namespace callvault::sip {

struct StackOptions {
  CoreOptions core;
  TransportOptions transport;
  // Addresses to listen on. Default: none (app/ fills it from sip.listen).
  std::vector<std::pair<Transport, SocketAddress>> listen;
  // Shard worker threads. Default: 0 = one per CPU core.
  int workers = 0;
};

struct StackStats {
  uint64_t requests_in = 0, responses_in = 0, responses_out = 0, retransmissions_absorbed = 0,
           retransmissions_sent = 0, dialogs_created = 0, dialogs_ended = 0, ack_timeouts = 0,
           session_expirations = 0, byes_sent = 0;
  uint64_t malformed = 0;           // messages that failed to parse
  uint64_t answered_stateless = 0;  // 400/505/513/503 sent without a transaction
  uint64_t overload_drops = 0;      // requests dropped or refused because a shard queue was full
  uint64_t active_dialogs = 0;
};

class Stack {
 public:
  // `app` must outlive the stack.
  Stack(StackOptions options, Application* app);
  ~Stack();  // Stop()s
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  Status Start();  // binds every listener (fails if one cannot be bound), starts threads
  void Stop();     // stops transports and workers; dialogs are dropped without BYE

  // Actual bound addresses (port 0 resolved), valid after Start().
  std::vector<std::pair<Transport, SocketAddress>> Listeners() const;

  // Whether new calls are accepted; OPTIONS and INVITE get 503 + Retry-After when not.
  void SetAvailability(const Availability& a);
  // Ends one dialog with a BYE (see Shard::TerminateDialog).
  void TerminateDialog(const DialogId& id, int cause, std::string text);
  // Ends every dialog with a BYE (drain deadline).
  void TerminateAll(std::string text);

  StackStats stats() const;
  uint64_t active_dialogs() const;

 private:
  class Worker;
  void OnInbound(const Flow& flow, std::string data);
  void AnswerStateless(const Flow& flow, const Message& m, int code, std::string_view warning);
  Worker& WorkerFor(std::string_view call_id);

  StackOptions options_;
  Application* app_;
  std::unique_ptr<TransportLayer> transport_;
  std::unique_ptr<Sender> sender_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<uint64_t> malformed_{0}, answered_stateless_{0}, overload_drops_{0};
  bool started_ = false;
};

}  // namespace callvault::sip

// The sip::Application of a node that cannot record yet (no siprec/ layer wired): every new
// INVITE gets `503 Service Unavailable` with a Warning saying why, never a fake 200.
// In-dialog requests cannot arrive (no dialog is ever created) and get 481 from the core.
//
// Called by: sip::Stack shards. Thread-safety: stateless, safe from any thread.
#pragma once

#include <string>

#include "sip/application.h"

namespace callvault::app {

class RefusingApplication final : public sip::Application {
 public:
  explicit RefusingApplication(std::string why) : why_(std::move(why)) {}

  void OnInvite(const sip::IncomingRequest&, sip::Responder responder) override {
    responder.Respond(sip::Response::Error(503, why_, 300));
  }
  void OnDialogRequest(const sip::IncomingRequest&, sip::Responder responder) override {
    responder.Respond(sip::Response::Error(481, "no such dialog"));
  }
  void OnAck(const sip::IncomingRequest&) override {}
  void OnDialogEnded(const sip::DialogId&, sip::EndReason) override {}

 private:
  std::string why_;
};

}  // namespace callvault::app

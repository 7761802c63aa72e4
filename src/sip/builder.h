// Building outbound SIP messages (RFC 3261 §7, §8.2.6 responses).
//
// MessageBuilder writes a start line, headers in the order added and a body; Build() appends
// Content-Length (always, also for 0) so stream transports can frame it.
// ResponseTo() copies what RFC 3261 §8.2.6.2 requires from a request: every Via, From, To
// (adding the local tag when To has none), Call-ID and CSeq.
//
// Called by: the SIP core (responses, BYE, keep-alive answers), tests.
// Thread-safety: a builder is a value used by one thread.
#pragma once

#include <string>
#include <string_view>

#include "sip/message.h"

namespace callvault::sip {

// Standard reason phrase ("OK", "Request Terminated"…); "Unknown" for codes we do not know.
std::string_view DefaultReason(int status_code);

class MessageBuilder {
 public:
  static MessageBuilder Request(std::string_view method, std::string_view request_uri);
  static MessageBuilder Response(int status_code, std::string_view reason = {});

  // Appends "name: value\r\n". REQUIRES: name and value contain no CR/LF.
  MessageBuilder& Header(std::string_view name, std::string_view value);
  // Appends an already formatted "Name: value" line without its CRLF.
  MessageBuilder& RawHeaderLine(std::string_view line);
  // Sets the body and its Content-Type (empty type = no Content-Type header).
  MessageBuilder& Body(std::string_view content_type, std::string_view body);

  // The wire form: headers, "Content-Length: N", blank line, body.
  std::string Build() const;

 private:
  std::string head_;
  std::string body_;
};

// A response to `request` (REQUIRES: request.is_request). When `to_tag` is not empty and the
// request's To has no tag, ";tag=<to_tag>" is appended to To.
MessageBuilder ResponseTo(const Message& request, int status_code, std::string_view reason = {},
                          std::string_view to_tag = {});

}  // namespace callvault::sip

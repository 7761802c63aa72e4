// Options of the SIP core (transactions, dialogs, session timers). Filled by app/ from the
// [sip] section of the config (docs/configuration.md); validated there.
// Thread-safety: a value, copied into each shard at construction.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace callvault::sip {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;

// RFC 3261 §17.1.1.1 and Table 4.
struct TimerOptions {
  Millis t1{500};   // RTT estimate. Default: 500 ms.
  Millis t2{4000};  // max retransmit interval for non-INVITE and INVITE responses. Default: 4 s.
  Millis t4{5000};  // max time a message stays in the network. Default: 5 s.
};

struct CoreOptions {
  TimerOptions timers;
  // RFC 4028: the interval we offer when the UAC supports timers but asked for none.
  // Default: 1800 s.
  uint32_t session_expires_s = 1800;
  // RFC 4028 Min-SE: smaller Session-Expires get 422. RFC minimum is 90. Default: 90 s.
  uint32_t min_se_s = 90;
  // Host used in Contact and Warning headers. Default (empty): the address the request was
  // received on, or the Request-URI host when listening on a wildcard address.
  std::string public_host;
  // Server/User-Agent header value. Default: "callvault/<version>".
  std::string user_agent = "callvault";
  // Option tags we support (Supported header; a Require outside this set gets 420).
  std::vector<std::string> supported = {"timer", "siprec"};
  // Body types we accept (Accept header of OPTIONS/415 answers).
  std::vector<std::string> accept = {"application/sdp", "multipart/mixed",
                                     "application/rs-metadata+xml", "application/rs-metadata"};
  // Body types the application's answer to an INVITE may take: an INVITE whose Accept allows
  // none of them gets 406 (RFC 3261 §21.4.7; no Accept means application/sdp, §20.1). The
  // recorder answers with SDP; multipart/mixed is taken as allowing an SDP part. An Accept
  // listing a SIPREC metadata type (application/rs-metadata*) is taken as allowing it too:
  // Intrado VIPER sends only those and takes the SDP answer.
  std::vector<std::string> answer_types = {"application/sdp", "multipart/mixed"};
  // Max inbound messages queued per shard before new requests are refused. Default: 20000.
  size_t max_queue = 20000;
};

// Methods we answer (Allow header).
inline constexpr const char* kAllowedMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO";

}  // namespace callvault::sip

// RFC 4028 session timers, UAS side: negotiating Session-Expires / Min-SE / refresher for a
// request (INVITE, re-INVITE, UPDATE) or for the answer to our own refresh.
//
// Called by: sip::Shard. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/message.h"

namespace callvault::sip {

// Session-Expires header value (RFC 4028 §4): delta-seconds *(;se-params).
struct SessionExpires {
  uint32_t seconds = 0;
  std::string_view refresher;  // "uac", "uas" or empty
};
std::optional<SessionExpires> ParseSessionExpires(std::string_view value);

struct SessionTimerDecision {
  bool reject = false;      // answer 422 with Min-SE: min_se
  uint32_t min_se = 0;      // for the 422
  bool active = false;      // the 2xx carries Session-Expires and the timer runs
  uint32_t interval_s = 0;  // negotiated session interval
  bool refresher_is_uac = true;
  bool require_timer = false;  // the 2xx carries Require: timer (refresher=uac)

  // "1800;refresher=uac" — the value for the 2xx.
  std::string HeaderValue() const;
};

// REQUIRES: request.is_request. `default_s` is offered when the UAC supports timers but sent no
// Session-Expires; smaller intervals than max(our_min_se_s, its Min-SE) are rejected (§9).
SessionTimerDecision NegotiateSessionTimer(const Message& request, uint32_t default_s,
                                           uint32_t our_min_se_s);

// The peer's 2xx to a refresh we sent (§7.2): refresher_is_uac means we keep refreshing.
SessionTimerDecision SessionTimerFromResponse(const Message& response);

}  // namespace callvault::sip

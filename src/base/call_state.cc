#include "base/call_state.h"

namespace callvault {

std::string_view CallStateName(CallState state) {
  switch (state) {
    case CallState::kActive:
      return "active";
    case CallState::kCompleted:
      return "completed";
    case CallState::kTimedOut:
      return "timed_out";
    case CallState::kPartial:
      return "partial";
  }
  return "partial";  // not reached: every enumerator is handled above
}

std::optional<CallState> ParseCallState(std::string_view name) {
  for (CallState s :
       {CallState::kActive, CallState::kCompleted, CallState::kTimedOut, CallState::kPartial}) {
    if (CallStateName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace callvault

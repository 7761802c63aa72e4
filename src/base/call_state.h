// CallState: the one vocabulary for where a call is in its life, shared by every module that
// names it — siprec/ (how a session ended), recording/ (manifest `state`), catalog/ (column
// `calls.state`), http/ (the `state` filter and field). docs/formats/manifest.md §state and
// docs/formats/catalog-schema.md define the names.
//
// Both the numbers and the names are persistent: the catalog stores the names as TEXT, the
// manifest and the spool's `end` line write them, and the numbers must stay as they are so that
// anything that ever stores a state as a number reads the same. Never renumber, never rename.
//
// Called by: siprec/, recording/, catalog/, http/, app/. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace callvault {

// never renumber: stored
enum class CallState : uint8_t {
  kActive = 0,     // recording; no manifest yet (catalog only, never in a manifest)
  kCompleted = 1,  // ended by BYE (or by us: shutdown, dialog terminated)
  kTimedOut = 2,   // RTP inactivity, session timer, missing ACK, refresh failed
  kPartial = 3,    // finalized by crash recovery: audio up to the crash
};

// "active" | "completed" | "timed_out" | "partial" (do not rename: stored).
std::string_view CallStateName(CallState state);

// The state named exactly (case-sensitive) by `name`; nullopt for anything else.
std::optional<CallState> ParseCallState(std::string_view name);

// True for the states a finished call is written with (everything but kActive).
constexpr bool IsFinalState(CallState state) { return state != CallState::kActive; }

}  // namespace callvault

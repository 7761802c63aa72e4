// RecordingBackend: what a recording session needs from the stages downstream of siprec/ —
// the call's spool (session log, DESIGN.md §Data directory), its RTP streams (media/) and its
// finalization (recording/). siprec/ may not include those modules (STYLE.md §1: a module
// includes only modules upstream of it), so it states its needs here and app/ implements them
// over media::MediaEngine, media::SessionLog and recording::Finalizer. Tests use a fake.
//
// Called by: siprec::Recorder, on its worker threads (one call is always handled by the same
// worker, in order). Implementations must be thread-safe across calls; none of the methods may
// wait on a database, storage or the network (DESIGN.md rule 1). SyncCall and EndCall do wait
// for the local disk (fdatasync): that is why they run on the recorder's workers, never on a
// SIP shard thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/call_state.h"
#include "base/status.h"

namespace callvault::siprec {

// What the `start` line of the session log holds (docs/formats/spool.md).
struct CallStart {
  std::string call_id;  // UUIDv7
  std::string sip_call_id, from, to, request_uri, user_agent;
  std::string src;                                    // "ip:port"
  std::string transport;                              // "UDP", "TCP", "TLS"
  nlohmann::json headers = nlohmann::json::object();  // SIP headers worth keeping
  std::string tenant;  // decided by the tenant rules before the 200 OK; "" = none
  // How the call was recorded: "active" (we answered the SRC) or "passive" (from captured
  // traffic the primary answered; passive/), and the primary's node id when known.
  std::string capture = "active";
  std::string primary_node_id;
  // When the call started, ms since the Unix epoch; 0 = now. A passive copy gives the capture
  // time of the INVITE, so its times are the wire's.
  int64_t at_ms = 0;
};

struct StreamOpen {
  std::string call_id, stream_id;
  bool ipv6 = false;
  uint32_t clock_rate = 8000;
  std::string srtp_suite;       // empty = plain RTP
  std::string srtp_key_base64;  // the SRC's master key || salt (we decrypt)
  bool passive = false;         // no socket: the captured datagrams are injected (passive/)
};

struct CallEnd {
  std::string call_id;
  CallState state = CallState::kCompleted;  // a final state (IsFinalState)
  std::string reason;             // spool `end` reason: bye, rtp_timeout, session_expired, ...
  std::string siprec_session_id;  // the metadata's session id (manifest), "" when none
  // Participants mapped to channels, metadata snapshots (parsed), for the manifest.
  nlohmann::json participants = nlohmann::json::array();
  nlohmann::json metadata = nlohmann::json::array();
  // Stream id → audio channel (0 left, 1 right, -1 both = mixed) from the metadata: one
  // participant per channel. Empty: the finalizer's default (by m-line order).
  std::map<std::string, int> stream_channels;
  std::vector<std::string> warnings;
  // When the call ended, ms since the Unix epoch; 0 = now (a passive copy: capture time).
  int64_t at_ms = 0;
};

class RecordingBackend {
 public:
  virtual ~RecordingBackend() = default;

  // Creates the call's spool directory and writes the `start` line (not yet synced).
  [[nodiscard]] virtual Status BeginCall(const CallStart& start) = 0;
  // Appends one session-log line (a JSON object with "t"; "v" and "at" are added).
  [[nodiscard]] virtual Status LogEvent(const std::string& call_id, nlohmann::json event) = 0;
  // Makes every line logged so far durable (before a 2xx acknowledges the call or a change).
  [[nodiscard]] virtual Status SyncCall(const std::string& call_id) = 0;
  // SyncCall without waiting for it: `done` gets the outcome exactly once, possibly on another
  // thread (a group-commit thread) and possibly before this returns; it must not block. Only
  // lines logged before the call are covered. Default: done(SyncCall(call_id)), inline.
  virtual void SyncCallAsync(const std::string& call_id, std::function<void(Status)> done) {
    done(SyncCall(call_id));
  }
  // Forgets a call that was never acknowledged (its INVITE was refused or cancelled): closes
  // its streams and removes its spool directory.
  virtual void AbortCall(const std::string& call_id) = 0;

  // Opens one RTP stream (its spool file, its port pair); returns the local RTP port.
  virtual Result<uint16_t> OpenStream(const StreamOpen& stream) = 0;
  [[nodiscard]] virtual Status SetPaused(const std::string& call_id, const std::string& stream_id,
                                         bool paused) = 0;
  [[nodiscard]] virtual Status UpdateSrtp(const std::string& call_id, const std::string& stream_id,
                                          const std::string& suite,
                                          const std::string& key_base64) = 0;

  // Ends the call: writes the `end` line durably, closes its streams (their spool files are
  // synced), and hands the call to finalization (asynchronous; the spool is the durable queue).
  [[nodiscard]] virtual Status EndCall(const CallEnd& end) = 0;

  // RTP port pairs still free (admission: refuse new calls with 503 before running out).
  virtual size_t FreeStreams() const = 0;
  // Local media addresses written in SDP answers.
  virtual std::string MediaAddressV4() const = 0;
  virtual std::string MediaAddressV6() const = 0;
};

}  // namespace callvault::siprec

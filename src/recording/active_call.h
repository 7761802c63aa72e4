// A call while it records, as the catalog shows it before its manifest exists, and the
// interface through which the recorder announces such calls (LocalBackend → catalog ingest,
// wired by app/). Header only: catalog/ uses the struct as its ActiveCall without linking the
// recording pipeline.
//
// Called by: recording/LocalBackend (announces), catalog/Ingester (implements the listener).
// Thread-safety: ActiveCallInfo is a plain value; listener implementations must be thread-safe
// and must not block (they queue).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace callvault::recording {

// A call being recorded, as the catalog shows it before its manifest exists.
struct ActiveCallInfo {
  std::string call_id;  // UUIDv7
  std::string node_id;
  std::string tenant;  // "" = none
  std::string sip_call_id, siprec_session_id;
  int64_t started_ms = 0;  // Unix epoch milliseconds
  std::string src_address, from, to;
  // Manifest-shaped participants ({id, name, aor, channel, …}); may be empty.
  nlohmann::json participants = nlohmann::json::array();
};

// Told about calls while they record. Implementations must not block (they queue).
class ActiveCallListener {
 public:
  virtual ~ActiveCallListener() = default;
  virtual void CallActive(const ActiveCallInfo& call) = 0;
  virtual void CallAborted(const std::string& call_id) = 0;
};

}  // namespace callvault::recording

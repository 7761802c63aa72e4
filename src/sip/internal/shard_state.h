// Private state of sip::Shard: transactions, dialogs, timer kinds. Included by shard*.cc only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sip/shard.h"

namespace callvault::sip {
namespace internal {

// "a, b, c": option tags and media types in Supported, Accept and Warning texts.
inline std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

}  // namespace internal

enum class Shard::TimerKind : uint8_t {
  kRetransmit,        // server INVITE txn: Timer G (non-2xx final)
  kTimeout,           // server txn: Timer H, I, J, L → terminate
  kTuTimeout,         // server txn: the application did not answer in 64*T1
  k2xxRetransmit,     // dialog: 2xx retransmission until ACK (RFC 3261 §13.3.1.4)
  kAckTimeout,        // dialog: no ACK within 64*T1
  kSession,           // dialog: RFC 4028 refresh (we refresh) or expiry (they refresh)
  kClientRetransmit,  // client non-INVITE txn: Timer E
  kClientTimeout,     // client non-INVITE txn: Timer F (Trying) / K (Completed)
};

struct Shard::ServerTxn {
  enum class State : uint8_t { kProceeding, kCompleted, kConfirmed, kAccepted };
  std::string key;
  bool invite = false;
  State state = State::kProceeding;
  std::unique_ptr<InboundMessage> request;
  Flow flow;
  bool reliable = false;
  std::string dialog_key;  // the dialog it belongs to or creates; empty outside dialogs
  bool creates_dialog = false;
  std::string last_response;  // bytes of the last response, for retransmissions
  int last_code = 0;
  Millis interval{0};
  uint64_t retransmit_timer = 0, timeout_timer = 0, tu_timer = 0;
};

struct Shard::ClientTxn {
  enum class State : uint8_t { kTrying, kCompleted };
  std::string key;  // branch
  std::string method;
  std::string dialog_key;
  std::string request;
  Flow flow;
  bool reliable = false;
  State state = State::kTrying;
  Millis interval{0};
  uint64_t retransmit_timer = 0, timeout_timer = 0;
};

struct Shard::Dialog {
  enum class State : uint8_t { kEarly, kWaitAck, kConfirmed };
  std::string key;
  DialogId id;
  State state = State::kEarly;
  std::string local_party;             // our To value with our tag: From of requests we send
  std::string remote_party;            // their From value: To of requests we send
  std::string remote_target;           // their Contact URI (RFC 3261 §12.1.1)
  std::vector<std::string> route_set;  // Record-Route values, in order
  uint32_t remote_cseq = 0;
  uint32_t local_cseq = 0;
  Flow flow;  // where their requests arrive; where ours go first
  std::string request_uri_host;
  std::string invite_txn_key;  // a received INVITE still without final response
  // The last 2xx to an INVITE, retransmitted until its ACK (§13.3.1.4).
  std::string pending_2xx;
  uint32_t pending_2xx_cseq = 0;
  Millis retransmit_interval{0};
  uint64_t retransmit_timer = 0, ack_timer = 0;
  // RFC 4028.
  uint32_t session_interval_s = 0;
  bool we_refresh = false;
  bool peer_allows_update = true;
  uint64_t session_timer = 0;
};

}  // namespace callvault::sip

// The SDP offer a recorder makes when the SRC's INVITE has none (delayed offer, RFC 3264 §5 and
// RFC 3261 §13.2.1): Cisco UCM Built-in-Bridge legs. One audio m= line, recvonly (the SRC
// answers sendonly), every codec this build decodes among the ones phones send — PCMU, PCMA,
// G.722, G.729 — and telephone-event/8000 on 101. The SRC's answer arrives in the ACK.
//
// Called by: siprec::CallSession (worker threads), tests.
// Thread-safety: pure functions (can_decode is called on the caller's thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "codec/codec.h"
#include "siprec/sdp.h"

namespace callvault::siprec {

struct OfferOptions {
  // The local media address written in o= and c=: IPv4 unless only IPv6 is set.
  std::string local_ipv4, local_ipv6;
  std::string session_id;  // digits; o= session id, kept for the dialog
  uint64_t session_version = 0;
  uint16_t port = 0;  // local RTP port (RTCP on port+1)
  // Whether this build decodes a codec. REQUIRES: set.
  std::function<bool(const codec::CodecSpec&)> can_decode;
};

struct SdpOffer {
  std::string text;                    // CRLF line ends
  std::vector<PayloadFormat> payloads;  // what the m= line offers, in order (telephone-event last)
};

// InvalidArgument for a port of 0, no local address or a non-digit session id; else the offer.
Result<SdpOffer> BuildRecorderOffer(const OfferOptions& options);

}  // namespace callvault::siprec

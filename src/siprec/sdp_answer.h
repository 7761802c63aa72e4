// The SDP answer a SIPREC recorder (SRS) gives to an SRC's offer (RFC 3264 §6, RFC 7866 §8).
//
// One answer m= line per offered m= line, in order, with the same media type and proto
// (RFC 3264 §6). Per accepted stream: direction recvonly (offer sendonly/sendrecv/none) or
// inactive (offer inactive/recvonly: the SRC does not send); a=label echoed; codecs in the
// offer's order, reduced to the first audio codec we can decode plus telephone-event and CN
// when offered (static payload types answered with our own a=rtpmap); the offer's fmtp echoed;
// a=rtcp-mux echoed when offered; for RTP/SAVP(F) the first a=crypto whose suite libsrtp2
// handles, answered with the same tag and a fresh key. A stream is rejected (port 0 with the
// offered formats, RFC 3264 §6) when the offer disabled it, the caller gave port 0, it is not
// audio or not RTP, nothing in it is decodable, it is SRTP without a usable crypto line, or it is
// DTLS-SRTP (not supported).
//
// Besides the text, the builder returns what media/ needs to open each stream (AnsweredMedia).
//
// Called by: siprec/ (INVITE, re-INVITE, UPDATE, and the ACK of a delayed offer), tests,
// fuzz/sdp_fuzzer.
// Thread-safety: pure functions (the callbacks in AnswerOptions are called on the caller's
// thread); safe to call from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "codec/codec.h"
#include "siprec/sdp.h"

namespace callvault::siprec {

struct AnswerOptions {
  // Local media addresses (literals). The answer's o= and c= use the one of the offer's family
  // (IP6 when the offer's first c= is IP6, else IP4), or the other when that one is empty.
  // REQUIRES: at least one is a valid literal of its family.
  std::string local_ipv4;
  std::string local_ipv6;
  // o=callvault <session_id> <session_version> ...: keep session_id for the dialog and
  // increment session_version with each answer (RFC 3264 §8). REQUIRES: session_id is digits.
  std::string session_id;
  uint64_t session_version = 0;
  // The local RTP port for each offered m= line, in order (RTCP on port+1 unless rtcp-mux);
  // 0 rejects that stream. REQUIRES: ports.size() == offer.media.size().
  std::vector<uint16_t> ports;
  // Whether this build can decode a codec (codec::CanDecode in production). REQUIRES: set.
  // telephone-event is always accepted (recorded as DTMF events) and not asked about.
  std::function<bool(const codec::CodecSpec&)> can_decode;
  // A fresh base64 master key||salt for an SRTP suite; unset = GenerateSdesKey (sdp_crypto.h).
  // Tests set it to get deterministic answers.
  std::function<Result<std::string>(std::string_view suite)> make_sdes_key;
};

// What was answered for one offered m= line.
struct AnsweredMedia {
  size_t index = 0;  // position in the offer and the answer
  bool accepted = false;
  std::string reject_reason;  // when !accepted: "offer disabled the stream (port 0)", ...
  std::string media;          // "audio"
  std::string proto;          // as offered
  uint16_t local_port = 0;    // 0 when rejected
  // Where the SRC sends from/to (for logs and RTP source checks); address empty when the offer
  // has no c= (OpenSIPS).
  std::string remote_address;
  uint16_t remote_port = 0;
  uint16_t remote_rtcp_port = 0;  // a=rtcp, else port+1, else remote_port with rtcp-mux
  bool rtcp_mux = false;          // offered and answered: RTCP arrives on the RTP port
  int payload_type = -1;          // the audio codec we answered
  codec::CodecSpec codec;
  int telephone_event_pt = -1;  // -1 when not answered
  int comfort_noise_pt = -1;    // -1 when not answered
  Direction offer_direction = Direction::kSendRecv;
  Direction answer_direction = Direction::kInactive;
  std::optional<std::string> label;  // the offer's a=label, for metadata stream association
  // SDES-SRTP (empty suite = plain RTP). Keys are binary master key || master salt.
  std::string srtp_suite;
  uint32_t crypto_tag = 0;
  std::string remote_master_key;  // the offer's key: decrypts what the SRC sends us
  std::string local_master_key;   // our answer key: for what we would send (RTCP)
};

struct SdpAnswer {
  std::string text;  // the answer SDP, CRLF line ends
  std::vector<AnsweredMedia> media;
  std::string local_address;      // the address written in o= and c=
  size_t accepted_count() const;  // streams answered with a non-zero port
};

// Builds the recorder's answer to `offer`. Errors (InvalidArgument "sdp answer: ...") only for
// broken options (wrong number of ports, no usable local address, no can_decode) and key
// generation failures; an offer with nothing recordable still gets an answer whose streams are
// all rejected (the caller decides between 200 and 488 with accepted_count()).
Result<SdpAnswer> BuildRecorderAnswer(const SessionDescription& offer,
                                      const AnswerOptions& options);

}  // namespace callvault::siprec

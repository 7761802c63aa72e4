// SDP session descriptions (RFC 8866, formerly RFC 4566) as a SIPREC recorder receives them: the
// SDP part of an INVITE, re-INVITE, UPDATE or (Cisco BiB delayed offer) ACK.
//
// ParseSdp() is strict where meaning changes (v=, o=, m= ports/protos/payload types, rtpmap,
// crypto keys) and liberal with what real SRCs send (../shared/siprec-samples/SOURCES.md):
// LF-only lines, no c= at all (OpenSIPS), no t= (OpenSIPS), media-level c= only (Sonus),
// lower-case encoding names and garbage after the clock rate (`pcmu/8000a`, Oracle 2023),
// static payload types without rtpmap (Oracle, Metaswitch), `a=direction:both` (SEMS),
// `a=label` anywhere in the section. Every tolerated quirk is reported in
// SessionDescription::warnings. Errors name the line: "sdp: line 7: m= port is not a number".
// Work and memory are bounded (kMaxSdpSize, kMaxSdpLines, kMaxMediaLines) for any input.
//
// The answer a recorder gives to such an offer is built by siprec/sdp_answer.h.
//
// Called by: siprec/ (recording session setup and re-INVITE/UPDATE), tests, fuzz/sdp_fuzzer.
// Thread-safety: plain values and pure functions; safe to use from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "codec/codec.h"

namespace callvault::siprec {

// Bounds on hostile input; exceeding one is an error.
inline constexpr size_t kMaxSdpSize = 64 * 1024;  // bytes
inline constexpr size_t kMaxSdpLines = 1024;
inline constexpr size_t kMaxMediaLines = 16;  // SIPREC sends 1-4 (Oracle/Genesys: 4)
inline constexpr size_t kMaxFormatsPerMedia = 64;
inline constexpr size_t kMaxSdpWarnings = 32;  // further warnings are counted, not kept

// RFC 3264 §5.1 / RFC 8866 §6.7 media direction.
enum class Direction : uint8_t { kSendRecv, kSendOnly, kRecvOnly, kInactive };
std::string_view DirectionName(Direction d);  // "sendrecv", "sendonly", "recvonly", "inactive"

// o= (RFC 8866 §5.2). sess-id/sess-version are kept as written (digit strings, may exceed 64 bits).
struct Origin {
  std::string username;  // "-" when the SRC has none
  std::string session_id;
  std::string session_version;
  std::string net_type;   // "IN"
  std::string addr_type;  // "IP4" or "IP6"
  std::string address;
};

// c= (RFC 8866 §5.7). A multicast "/ttl[/count]" suffix is removed from `address`.
struct Connection {
  std::string net_type;   // "IN"
  std::string addr_type;  // "IP4" or "IP6"
  std::string address;    // empty when the SDP has no c= for this media (OpenSIPS)
};

// b=<bwtype>:<bandwidth> (RFC 8866 §5.8), e.g. AS:80 (kbit/s) or TIAS:64000 (bit/s).
struct Bandwidth {
  std::string type;
  uint64_t value = 0;
};

// An attribute kept raw: `a=<name>` (property, has_value false) or `a=<name>:<value>`.
struct Attribute {
  std::string name;
  std::string value;
  bool has_value = false;
};

// a=crypto (RFC 4568 §9.1, SDES) with its first key parameter decoded:
// `a=crypto:<tag> <suite> inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>][;...]
// [<session params>]`.
struct Crypto {
  uint32_t tag = 0;
  std::string suite;           // e.g. "AES_CM_128_HMAC_SHA1_80", as written
  std::string key_base64;      // the inline key as written (a secret: never log it)
  std::string master_key;      // decoded master key || master salt (binary)
  std::string lifetime;        // "" when absent, else e.g. "2^20" or "1048576"
  std::string mki;             // "" when absent, else "<value>:<length>"
  std::string session_params;  // the rest of the line after the key parameters, "" when none
  size_t key_param_count = 1;  // more than one key parameter (";"-separated) is legal but rare
};

// One payload type of an RTP m= line, resolved from a=rtpmap/a=fmtp or the RFC 3551 static
// table. codec.name is canonical for known codecs ("pcmu" → "PCMU") and empty for a dynamic
// payload type without rtpmap (it cannot be used); codec.ptime_ms is the section's a=ptime.
struct PayloadFormat {
  int payload_type = 0;  // 0-127
  codec::CodecSpec codec;
  bool has_rtpmap = false;  // false: static payload type resolved from RFC 3551 (or unknown)
  std::string encoding_name_as_written;  // rtpmap name as the SRC wrote it, "" without rtpmap
};

// m= section (RFC 8866 §5.14) with its attributes.
struct MediaDescription {
  size_t line = 0;                      // 1-based line number of the m= line (for logs)
  std::string media;                    // "audio", "video", ... as written
  uint16_t port = 0;                    // 0 = the offerer disabled this stream
  uint16_t port_count = 1;              // "<port>/<count>"
  std::string proto;                    // "RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVP", ... as written
  std::vector<std::string> formats;     // fmt tokens in offer order, as written
  std::vector<PayloadFormat> payloads;  // RTP protos only: one per format, same order
  Connection connection;                // media-level c=, else the session c=, else empty
  bool connection_is_media_level = false;
  std::vector<Bandwidth> bandwidths;
  Direction direction = Direction::kSendRecv;  // media-level, else session-level, else sendrecv
  bool direction_explicit = false;             // a direction attribute applied (media/session)
  std::optional<std::string> label;            // a=label (RFC 4574), any string
  std::optional<uint16_t> rtcp_port;           // a=rtcp (RFC 3605)
  std::string rtcp_address;                    // a=rtcp address, "" when absent
  bool rtcp_mux = false;                       // a=rtcp-mux (RFC 5761)
  std::optional<int> ptime;                    // ms
  std::optional<int> maxptime;                 // ms
  std::vector<Crypto> crypto;                  // in offer order
  std::vector<Attribute> attributes;           // every other a= line, raw, in order

  bool IsRtp() const;       // proto contains "RTP/AVP" or "RTP/SAVP" (AVPF, SAVPF, UDP/TLS/... too)
  bool IsSrtp() const;      // proto contains "SAVP"
  bool IsDtlsSrtp() const;  // proto starts with "UDP/TLS/" or "TCP/TLS/" (RFC 5764)
  // The format for `pt`, nullptr when it is not on the m= line.
  const PayloadFormat* FindPayload(int pt) const;
};

struct SessionDescription {
  Origin origin;
  std::string session_name;              // s=; "" when missing (tolerated)
  std::optional<Connection> connection;  // session-level c=
  std::optional<std::string> timing;     // t= value as written ("0 0"); nullopt when missing
  std::vector<Bandwidth> bandwidths;
  std::optional<Direction> direction;   // session-level direction attribute
  std::vector<Attribute> attributes;    // other session-level a= lines, raw, in order
  std::vector<MediaDescription> media;  // in order, at most kMaxMediaLines
  std::vector<std::string> warnings;    // quirks tolerated, "line 7: ..."; at most kMaxSdpWarnings
  size_t warnings_dropped = 0;          // warnings beyond kMaxSdpWarnings
};

// Parses one SDP session description. Errors are InvalidArgument with a message
// "sdp: line <n>: <what>" or "sdp: <what>" (empty, too large, too many lines, missing o=).
// An SDP without m= lines is valid (RFC 3264 §5); the caller decides what to do with it.
// The result owns its strings (no views into `text`).
Result<SessionDescription> ParseSdp(std::string_view text);

// The RFC 3551 §6 static payload type `pt` (e.g. 0 → PCMU/8000, 9 → G722/8000, 18 → G729/8000),
// nullopt for dynamic or unassigned numbers.
std::optional<codec::CodecSpec> StaticPayloadCodec(int pt);

// The canonical spelling of an encoding name for comparisons ("pcmu" → "PCMU",
// "TELEPHONE-EVENT" → "telephone-event", "OPUS" → "opus"); unknown names are returned as written.
std::string CanonicalEncodingName(std::string_view name);

// True when `name` names the same encoding as `canonical`, ignoring case.
bool EncodingIs(std::string_view name, std::string_view canonical);

}  // namespace callvault::siprec

// SDP attributes and payload types (siprec/sdp.h): a=rtpmap/fmtp (RFC 8866 §6.6, §6.15),
// RFC 3551 static payload types, directions (RFC 3264), a=label (RFC 4574), a=rtcp (RFC 3605),
// a=rtcp-mux (RFC 5761), a=ptime/maxptime, a=crypto (RFC 4568).
#include <algorithm>
#include <array>
#include <string>

#include "siprec/internal/sdp_parser.h"
#include "siprec/internal/sdp_text.h"
#include "siprec/sdp.h"
#include "siprec/sdp_crypto.h"

namespace callvault::siprec {

namespace {

struct StaticPayload {
  int pt;
  std::string_view name;
  int clock_rate;
  int channels;
};

// RFC 3551 §6 Tables 4 and 5 (assigned numbers only).
constexpr std::array<StaticPayload, 24> kStaticPayloads = {{
    {0, "PCMU", 8000, 1},   {3, "GSM", 8000, 1},    {4, "G723", 8000, 1},   {5, "DVI4", 8000, 1},
    {6, "DVI4", 16000, 1},  {7, "LPC", 8000, 1},    {8, "PCMA", 8000, 1},   {9, "G722", 8000, 1},
    {10, "L16", 44100, 2},  {11, "L16", 44100, 1},  {12, "QCELP", 8000, 1}, {13, "CN", 8000, 1},
    {14, "MPA", 90000, 1},  {15, "G728", 8000, 1},  {16, "DVI4", 11025, 1}, {17, "DVI4", 22050, 1},
    {18, "G729", 8000, 1},  {25, "CelB", 90000, 1}, {26, "JPEG", 90000, 1}, {28, "nv", 90000, 1},
    {31, "H261", 90000, 1}, {32, "MPV", 90000, 1},  {33, "MP2T", 90000, 1}, {34, "H263", 90000, 1},
}};

// Canonical spellings (RFC 3551, RFC 4733, RFC 7587 and the IANA media type names).
constexpr std::array<std::string_view, 30> kCanonicalNames = {
    "PCMU",  "PCMA",    "G722",  "G729",  "G729D",
    "G729E", "GSM",     "G723",  "G728",  "DVI4",
    "LPC",   "L8",      "L16",   "QCELP", "CN",
    "MPA",   "G726-32", "G7221", "iLBC",  "speex",
    "AMR",   "AMR-WB",  "EVS",   "opus",  "telephone-event",
    "red",   "H264",    "VP8",   "H263",  "H261",
};

}  // namespace

std::optional<codec::CodecSpec> StaticPayloadCodec(int pt) {
  for (const StaticPayload& s : kStaticPayloads) {
    if (s.pt == pt) return codec::CodecSpec{std::string(s.name), s.clock_rate, s.channels, ""};
  }
  return std::nullopt;
}

std::string CanonicalEncodingName(std::string_view name) {
  for (std::string_view c : kCanonicalNames) {
    if (EqualsIgnoreCase(c, name)) return std::string(c);
  }
  return std::string(name);
}

bool EncodingIs(std::string_view name, std::string_view canonical) {
  return EqualsIgnoreCase(name, canonical);
}

namespace internal {

std::optional<Direction> ParseDirectionName(std::string_view name) {
  if (name == "sendrecv") return Direction::kSendRecv;
  if (name == "sendonly") return Direction::kSendOnly;
  if (name == "recvonly") return Direction::kRecvOnly;
  if (name == "inactive") return Direction::kInactive;
  return std::nullopt;
}

namespace {

// "name:value" or "name" (RFC 8866 §5.13).
Attribute SplitAttribute(std::string_view value) {
  const size_t colon = value.find(':');
  if (colon == std::string_view::npos) return Attribute{std::string(value), "", false};
  return Attribute{std::string(value.substr(0, colon)), std::string(value.substr(colon + 1)), true};
}

}  // namespace

Status SdpParser::ParseSessionAttribute(std::string_view value) {
  Attribute a = SplitAttribute(value);
  if (a.name.empty()) {
    Warn("a= without attribute name ignored");
    return Status::Ok();
  }
  if (const auto d = ParseDirectionName(a.name); d && !a.has_value) {
    if (sd_.direction) {
      Warn("second session-level direction '" + a.name + "' ignored");
    } else {
      sd_.direction = *d;
    }
    return Status::Ok();
  }
  sd_.attributes.push_back(std::move(a));
  return Status::Ok();
}

Status SdpParser::ParseMediaAttribute(std::string_view value) {
  MediaDescription& m = sd_.media.back();
  Attribute a = SplitAttribute(value);
  const std::string_view v = TrimSpace(a.value);
  if (a.name.empty()) {
    Warn("a= without attribute name ignored");
    return Status::Ok();
  }
  if (const auto d = ParseDirectionName(a.name); d && !a.has_value) {
    if (section_.direction_seen) {
      Warn("second direction attribute '" + a.name + "' ignored");
    } else {
      section_.direction_seen = true;
      m.direction = *d;
      m.direction_explicit = true;
    }
    return Status::Ok();
  }
  if (a.name == "rtpmap") return ParseRtpmap(v);
  if (a.name == "fmtp") return ParseFmtp(v);
  if (a.name == "crypto") return ParseCrypto(v, &m);
  if (a.name == "label") {
    if (m.label) {
      Warn("second a=label ignored");
    } else if (a.value.empty()) {
      Warn("empty a=label ignored");
    } else {
      m.label = a.value;
    }
    return Status::Ok();
  }
  if (a.name == "rtcp-mux") {
    m.rtcp_mux = true;
    return Status::Ok();
  }
  if (a.name == "rtcp") {
    ParseRtcp(v, &m);
    return Status::Ok();
  }
  if (a.name == "ptime") {
    ParsePtime("ptime", v, &m.ptime);
    return Status::Ok();
  }
  if (a.name == "maxptime") {
    ParsePtime("maxptime", v, &m.maxptime);
    return Status::Ok();
  }
  if (a.name == "direction") {
    // RFC 4145 a=direction (active/passive/both) is for connection-oriented media; SEMS sends
    // `a=direction:both` next to a real direction attribute.
    Warn("a=direction:" + a.value + " is not a media direction (RFC 4145); ignored");
  }
  m.attributes.push_back(std::move(a));
  return Status::Ok();
}

// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
Status SdpParser::ParseRtpmap(std::string_view value) {
  const std::vector<std::string_view> f = SplitFields(value, 2);
  if (f.empty()) return Error("a=rtpmap has no payload type");
  if (!AllDigits(f[0]))
    return Error("a=rtpmap payload type '" + std::string(f[0]) + "' is not a number");
  const auto pt = ParseDecimal(f[0], 127);
  if (!pt) return Error("a=rtpmap payload type " + std::string(f[0]) + " is out of range 0-127");
  const std::string prefix = "a=rtpmap:" + std::string(f[0]);
  const std::string_view spec = f.size() > 1 ? f[1] : std::string_view();
  const size_t slash = spec.find('/');
  const std::string_view name = spec.substr(0, slash);
  if (name.empty()) return Error(prefix + " has no encoding name");
  if (slash == std::string_view::npos) return Error(prefix + " has no clock rate");
  std::string_view rest = spec.substr(slash + 1);
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  const auto rate = ParseDecimal(rest.substr(0, digits), 10'000'000);
  if (!rate || *rate == 0) return Error(prefix + " clock rate is not a number");
  rest.remove_prefix(digits);
  int channels = 1;
  if (!rest.empty() && rest.front() == '/') {
    const auto ch = ParseDecimal(rest.substr(1), 255);
    if (ch && *ch > 0) {
      channels = static_cast<int>(*ch);
    } else {
      Warn(prefix + " encoding parameters '" + std::string(rest.substr(1)) +
           "' are not a channel count; 1 channel assumed");
    }
  } else if (!rest.empty()) {
    // Oracle SBC 2023: `a=rtpmap:0 pcmu/8000a`.
    Warn(prefix + " garbage '" + std::string(rest) + "' after the clock rate ignored");
  }
  section_.rtpmaps.push_back(PendingRtpmap{line_no_, static_cast<int>(*pt), std::string(name),
                                           static_cast<int>(*rate), channels});
  return Status::Ok();
}

// a=fmtp:<format> <format specific parameters>
Status SdpParser::ParseFmtp(std::string_view value) {
  const std::vector<std::string_view> f = SplitFields(value, 2);
  if (f.empty()) {
    Warn("a=fmtp without a format ignored");
    return Status::Ok();
  }
  section_.fmtps.push_back(
      PendingFmtp{line_no_, std::string(f[0]), f.size() > 1 ? std::string(f[1]) : ""});
  return Status::Ok();
}

Status SdpParser::ParseCrypto(std::string_view value, MediaDescription* m) {
  Result<Crypto> c = ParseCryptoAttribute(value);
  if (!c.ok()) {
    if (c.status().code() == StatusCode::kUnimplemented) {
      Warn(std::string(c.status().message()) + "; line ignored");
      return Status::Ok();
    }
    return Error(c.status().message());
  }
  for (const Crypto& other : m->crypto) {
    if (other.tag == c->tag) return Error("a=crypto tag " + std::to_string(c->tag) + " repeated");
  }
  if (c->key_param_count > 1) Warn("a=crypto with several keys: only the first is used");
  m->crypto.push_back(std::move(c).value());
  return Status::Ok();
}

// a=rtcp:<port> [<nettype> <addrtype> <connection-address>]
void SdpParser::ParseRtcp(std::string_view value, MediaDescription* m) {
  const std::vector<std::string_view> f = SplitFields(value, 5);
  const auto port = f.empty() ? std::nullopt : ParseDecimal(f[0], 65535);
  if (!port || (f.size() != 1 && f.size() != 4)) {
    Warn("a=rtcp:" + std::string(value) + " is not <port> [IN IP4|IP6 <address>]; ignored");
    return;
  }
  m->rtcp_port = static_cast<uint16_t>(*port);
  if (f.size() == 4) m->rtcp_address = std::string(f[3]);
}

void SdpParser::ParsePtime(std::string_view name, std::string_view value, std::optional<int>* out) {
  // Some SRCs write "20.0": the integer part is what matters.
  const std::string_view integer = value.substr(0, value.find('.'));
  const auto ms = ParseDecimal(integer, 10000);
  if (!ms) {
    Warn("a=" + std::string(name) + ":" + std::string(value) + " is not a number; ignored");
    return;
  }
  *out = static_cast<int>(*ms);
}

Status SdpParser::FinishMedia() {
  MediaDescription& m = sd_.media.back();
  for (const PendingRtpmap& r : section_.rtpmaps) {
    auto it = std::find_if(m.payloads.begin(), m.payloads.end(), [&](const PayloadFormat& p) {
      return p.payload_type == r.payload_type;
    });
    const std::string prefix = "a=rtpmap:" + std::to_string(r.payload_type);
    if (it == m.payloads.end()) {
      WarnAt(r.line, prefix + " for a payload type not on the m= line ignored");
      continue;
    }
    if (it->has_rtpmap) {
      WarnAt(r.line, "second " + prefix + " ignored");
      continue;
    }
    it->has_rtpmap = true;
    it->encoding_name_as_written = r.name;
    it->codec.name = CanonicalEncodingName(r.name);
    it->codec.clock_rate = r.clock_rate;
    it->codec.channels = r.channels;
    if (const auto s = StaticPayloadCodec(r.payload_type); s && !EncodingIs(r.name, s->name)) {
      WarnAt(r.line, prefix + " maps static payload type " + std::to_string(r.payload_type) + " (" +
                         s->name + ") to " + r.name);
    }
  }
  for (PayloadFormat& p : m.payloads) {
    if (p.has_rtpmap) continue;
    if (auto s = StaticPayloadCodec(p.payload_type)) {
      p.codec = std::move(*s);
    } else if (m.port != 0) {  // a disabled stream's formats do not matter (RFC 3264 §6)
      WarnAt(m.line, "payload type " + std::to_string(p.payload_type) +
                         " has no a=rtpmap and is not static; it cannot be used");
    }
  }
  for (const PendingFmtp& f : section_.fmtps) {
    const auto pt = ParseDecimal(f.format, 127);
    auto it = std::find_if(m.payloads.begin(), m.payloads.end(), [&](const PayloadFormat& p) {
      return pt && p.payload_type == static_cast<int>(*pt);
    });
    if (it == m.payloads.end()) {
      if (m.IsRtp())
        WarnAt(f.line, "a=fmtp:" + f.format + " for a format not on the m= line ignored");
      if (!m.IsRtp()) m.attributes.push_back(Attribute{"fmtp", f.format + " " + f.params, true});
      continue;
    }
    if (!it->codec.fmtp.empty()) {
      WarnAt(f.line, "second a=fmtp:" + f.format + " ignored");
      continue;
    }
    it->codec.fmtp = f.params;
  }
  for (PayloadFormat& p : m.payloads) p.codec.ptime_ms = m.ptime.value_or(0);
  if (!m.connection_is_media_level) {
    if (sd_.connection) {
      m.connection = *sd_.connection;
    } else {
      WarnAt(m.line, "no c= line for this media (session or media level); address left empty");
    }
  }
  if (!m.direction_explicit && sd_.direction) {
    m.direction = *sd_.direction;
    m.direction_explicit = true;
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace callvault::siprec

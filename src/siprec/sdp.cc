// The SDP parser of siprec/sdp.h (RFC 8866). One forward pass over the lines: session-level
// lines until the first m=, then one MediaDescription per m=. Attributes are parsed by
// sdp_media.cc; payload types are resolved once a section is complete (rtpmap may follow fmtp
// or come before the direction, in any order).
#include "siprec/sdp.h"

#include <arpa/inet.h>

#include <string>

#include "siprec/internal/sdp_parser.h"
#include "siprec/internal/sdp_text.h"

namespace callvault::siprec {

namespace internal {

Status SdpParser::Error(std::string_view what) const {
  return InvalidArgumentError("sdp: line " + std::to_string(line_no_) + ": " + std::string(what));
}

void SdpParser::Warn(std::string_view what) { WarnAt(line_no_, what); }

void SdpParser::WarnAt(size_t line, std::string_view what) {
  if (sd_.warnings.size() >= kMaxSdpWarnings) {
    ++sd_.warnings_dropped;
    return;
  }
  sd_.warnings.push_back("line " + std::to_string(line) + ": " + std::string(what));
}

Result<Connection> SdpParser::ParseConnection(std::string_view value) {
  const std::vector<std::string_view> f = SplitFields(value, 4);
  if (f.size() != 3) {
    return Error("c= needs 3 fields (<nettype> <addrtype> <address>), got " +
                 std::to_string(f.size()));
  }
  if (f[0] != "IN") return Error("c= network type '" + std::string(f[0]) + "' is not IN");
  if (f[1] != "IP4" && f[1] != "IP6") {
    return Error("c= address type '" + std::string(f[1]) + "' is not IP4 or IP6");
  }
  Connection c{std::string(f[0]), std::string(f[1]), std::string(f[2])};
  // Multicast: <address>/<ttl>[/<count>] (IP4) or <address>/<count> (IP6): keep the address.
  if (const size_t slash = c.address.find('/'); slash != std::string::npos) {
    c.address.resize(slash);
  }
  if (c.address.empty()) return Error("c= address is empty");
  unsigned char buf[16];
  const int family = c.addr_type == "IP4" ? AF_INET : AF_INET6;
  if (inet_pton(family, c.address.c_str(), buf) != 1) {
    Warn("c= address '" + c.address + "' is not an " + c.addr_type + " literal");
  }
  return c;
}

Status SdpParser::ParseOrigin(std::string_view value) {
  if (have_origin_) return Error("duplicate o= line");
  have_origin_ = true;
  const std::vector<std::string_view> f = SplitFields(value, 7);
  if (f.size() != 6) {
    return Error(
        "o= needs 6 fields (<username> <sess-id> <sess-version> <nettype> <addrtype> "
        "<address>), got " +
        std::to_string(f.size()));
  }
  Origin& o = sd_.origin;
  o.username = std::string(f[0]);
  o.session_id = std::string(f[1]);
  o.session_version = std::string(f[2]);
  o.net_type = std::string(f[3]);
  o.addr_type = std::string(f[4]);
  o.address = std::string(f[5]);
  if (!AllDigits(f[1])) Warn("o= sess-id '" + o.session_id + "' is not numeric");
  if (!AllDigits(f[2])) Warn("o= sess-version '" + o.session_version + "' is not numeric");
  return Status::Ok();
}

Status SdpParser::ParseBandwidth(std::string_view value, std::vector<Bandwidth>* out) {
  const size_t colon = value.find(':');
  const auto v =
      colon == std::string_view::npos ? std::nullopt : ParseDecimal(value.substr(colon + 1), ~0ull);
  if (!v || colon == 0) {
    Warn("b= '" + std::string(value) + "' is not <bwtype>:<bandwidth>; ignored");
    return Status::Ok();
  }
  out->push_back(Bandwidth{std::string(value.substr(0, colon)), *v});
  return Status::Ok();
}

// m=<media> <port>[/<number of ports>] <proto> <fmt> ...
Status SdpParser::ParseMediaLine(std::string_view value) {
  if (sd_.media.size() >= kMaxMediaLines) {
    return Error("more than " + std::to_string(kMaxMediaLines) + " m= lines");
  }
  if (sd_.media.empty()) CV_RETURN_IF_ERROR(FinishSession());
  if (!sd_.media.empty()) CV_RETURN_IF_ERROR(FinishMedia());
  const std::vector<std::string_view> f = SplitFields(value, kMaxFormatsPerMedia + 4);
  if (f.size() < 3) return Error("m= needs <media> <port> <proto> <fmt>...");
  if (f.size() == 3) return Error("m= line has no formats");
  if (f.size() > kMaxFormatsPerMedia + 3) {
    return Error("m= line has more than " + std::to_string(kMaxFormatsPerMedia) + " formats");
  }
  MediaDescription m;
  m.line = line_no_;
  m.media = std::string(f[0]);
  std::string_view port = f[1];
  if (const size_t slash = port.find('/'); slash != std::string_view::npos) {
    const auto count = ParseDecimal(port.substr(slash + 1), 65535);
    if (!count || *count == 0) return Error("m= port count is not a number between 1 and 65535");
    m.port_count = static_cast<uint16_t>(*count);
    port = port.substr(0, slash);
  }
  if (!AllDigits(port)) return Error("m= port is not a number");
  const auto port_number = ParseDecimal(port, 65535);
  if (!port_number) return Error("m= port " + std::string(port) + " is out of range 0-65535");
  m.port = static_cast<uint16_t>(*port_number);
  m.proto = std::string(f[2]);
  for (size_t i = 3; i < f.size(); ++i) m.formats.emplace_back(f[i]);
  if (m.IsRtp()) {
    for (const std::string& fmt : m.formats) {
      if (!AllDigits(fmt)) return Error("m= payload type '" + fmt + "' is not a number");
      const auto pt = ParseDecimal(fmt, 127);
      if (!pt) return Error("m= payload type " + fmt + " is out of range 0-127");
      if (m.FindPayload(static_cast<int>(*pt)) != nullptr) {
        Warn("m= payload type " + fmt + " listed twice; the repeat is ignored");
        continue;
      }
      PayloadFormat p;
      p.payload_type = static_cast<int>(*pt);
      m.payloads.push_back(std::move(p));
    }
  }
  sd_.media.push_back(std::move(m));
  section_ = SectionState{};
  return Status::Ok();
}

Status SdpParser::FinishSession() {
  if (!have_origin_) return InvalidArgumentError("sdp: missing o= line");
  if (!have_session_name_) WarnAt(1, "missing s= line");
  if (!sd_.timing) WarnAt(1, "missing t= line");
  return Status::Ok();
}

Status SdpParser::ParseLine(std::string_view line) {
  if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
    return Error("expected <type>=<value>, got '" + std::string(line.substr(0, 40)) + "'");
  }
  const char type = line[0];
  const std::string_view value = line.substr(2);
  const bool in_media = !sd_.media.empty();
  switch (type) {
    case 'v':
      return Error("duplicate v= line");
    case 'o':
      if (in_media) return Error("o= inside a media section");
      return ParseOrigin(value);
    case 's':
      if (in_media) return Error("s= inside a media section");
      if (have_session_name_) {
        Warn("duplicate s= line ignored");
        return Status::Ok();
      }
      have_session_name_ = true;
      sd_.session_name = std::string(value);
      return Status::Ok();
    case 'c': {
      CV_ASSIGN_OR_RETURN(Connection c, ParseConnection(value));
      if (!in_media) {
        if (sd_.connection) return Error("duplicate session-level c= line");
        sd_.connection = std::move(c);
      } else if (sd_.media.back().connection_is_media_level) {
        Warn("second c= in a media section ignored (multicast layers are not supported)");
      } else {
        sd_.media.back().connection = std::move(c);
        sd_.media.back().connection_is_media_level = true;
      }
      return Status::Ok();
    }
    case 'b':
      return ParseBandwidth(value, in_media ? &sd_.media.back().bandwidths : &sd_.bandwidths);
    case 't':
      if (in_media) return Error("t= inside a media section");
      if (!sd_.timing) sd_.timing = std::string(value);
      return Status::Ok();
    case 'a':
      return in_media ? ParseMediaAttribute(value) : ParseSessionAttribute(value);
    case 'm':
      return ParseMediaLine(value);
    case 'i':
    case 'u':
    case 'e':
    case 'p':
    case 'r':
    case 'z':
    case 'k':
      return Status::Ok();  // RFC 8866 fields a recorder does not use
    default:
      Warn(std::string("unknown line type '") + type + "=' ignored");
      return Status::Ok();
  }
}

Result<SessionDescription> SdpParser::Parse(std::string_view text) {
  if (text.size() > kMaxSdpSize) {
    return InvalidArgumentError("sdp: " + std::to_string(text.size()) + " bytes exceed the " +
                                std::to_string(kMaxSdpSize) + "-byte limit");
  }
  if (TrimSpace(text).find_first_not_of("\r\n") == std::string_view::npos) {
    return InvalidArgumentError("sdp: empty session description");
  }
  bool seen_version = false;
  bool trailing_space_warned = false;
  size_t pending_empty_line = 0;  // line number of an empty line not yet followed by text
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (++line_no_ > kMaxSdpLines) {
      return InvalidArgumentError("sdp: more than " + std::to_string(kMaxSdpLines) + " lines");
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        static constexpr char kHex[] = "0123456789abcdef";
        return Error(std::string("control character 0x") + kHex[u >> 4] + kHex[u & 15]);
      }
    }
    const std::string_view trimmed = TrimSpace(line);
    if (trimmed.empty()) {
      if (pending_empty_line == 0) pending_empty_line = line_no_;
      continue;
    }
    if (pending_empty_line != 0) {
      WarnAt(pending_empty_line, "empty line ignored");
      pending_empty_line = 0;
    }
    if (trimmed.size() != line.size() && !trailing_space_warned) {
      Warn("leading or trailing whitespace ignored");
      trailing_space_warned = true;
    }
    if (!seen_version) {
      if (trimmed.substr(0, 2) != "v=") return Error("expected v=0 as the first line");
      if (trimmed != "v=0") {
        return Error("unsupported SDP version '" + std::string(trimmed.substr(2)) + "'");
      }
      seen_version = true;
      continue;
    }
    if (trimmed.substr(0, 2) == "--" && !sd_.media.empty()) {
      // A MIME boundary of some other body inside the SDP part (Oracle SBC via MiaRec: a stray
      // "--metaswitch-boundary" part embedded after the real SDP): the SDP ended before it.
      Warn("SDP ends at a foreign MIME boundary line '" + std::string(trimmed.substr(0, 40)) +
           "'; the rest of the part is ignored");
      break;
    }
    CV_RETURN_IF_ERROR(ParseLine(trimmed));
  }
  if (sd_.media.empty()) {
    CV_RETURN_IF_ERROR(FinishSession());
  } else {
    CV_RETURN_IF_ERROR(FinishMedia());
  }
  return std::move(sd_);
}

}  // namespace internal

std::string_view DirectionName(Direction d) {
  switch (d) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "sendrecv";
}

bool MediaDescription::IsRtp() const {
  return proto.find("RTP/AVP") != std::string::npos || proto.find("RTP/SAVP") != std::string::npos;
}

bool MediaDescription::IsSrtp() const { return proto.find("SAVP") != std::string::npos; }

bool MediaDescription::IsDtlsSrtp() const {
  return proto.rfind("UDP/TLS/", 0) == 0 || proto.rfind("TCP/TLS/", 0) == 0;
}

const PayloadFormat* MediaDescription::FindPayload(int pt) const {
  for (const PayloadFormat& p : payloads) {
    if (p.payload_type == pt) return &p;
  }
  return nullptr;
}

Result<SessionDescription> ParseSdp(std::string_view text) {
  internal::SdpParser parser;
  return parser.Parse(text);
}

}  // namespace callvault::siprec

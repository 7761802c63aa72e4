// The recorder's SDP answer (siprec/sdp_answer.h): RFC 3264 §6 rules, RFC 7866 §8 directions.
#include "siprec/sdp_answer.h"

#include <arpa/inet.h>

#include <string>

#include "siprec/internal/sdp_text.h"
#include "siprec/sdp_crypto.h"

namespace callvault::siprec {

namespace {

constexpr std::string_view kCrlf = "\r\n";

// Payload types that never carry the recorded audio itself.
bool IsAuxiliaryEncoding(std::string_view name) {
  for (std::string_view aux : {"telephone-event", "CN", "red", "ulpfec", "rtx", "flexfec"}) {
    if (EncodingIs(name, aux)) return true;
  }
  return false;
}

bool IsLiteral(const std::string& address, int family) {
  unsigned char buf[16];
  return !address.empty() && inet_pton(family, address.c_str(), buf) == 1;
}

// The first family a c= of the offer names (session level first, then the m= lines).
std::string_view OfferAddrType(const SessionDescription& offer) {
  if (offer.connection) return offer.connection->addr_type;
  for (const MediaDescription& m : offer.media) {
    if (!m.connection.addr_type.empty()) return m.connection.addr_type;
  }
  return "IP4";
}

void AppendRtpmap(const PayloadFormat& p, std::string* out) {
  *out += "a=rtpmap:" + std::to_string(p.payload_type) + " " + p.codec.name + "/" +
          std::to_string(p.codec.clock_rate);
  if (p.codec.channels > 1) *out += "/" + std::to_string(p.codec.channels);
  *out += kCrlf;
  if (!p.codec.fmtp.empty()) {
    *out += "a=fmtp:" + std::to_string(p.payload_type) + " " + p.codec.fmtp + std::string(kCrlf);
  }
}

void AppendRejected(const MediaDescription& m, std::string* out) {
  *out += "m=" + m.media + " 0 " + m.proto;
  for (const std::string& f : m.formats) *out += " " + f;
  *out += kCrlf;
}

// The codecs answered for `m`: the first decodable audio codec, then telephone-event and CN
// with its clock rate. Empty when nothing is decodable.
struct CodecChoice {
  const PayloadFormat* audio = nullptr;
  const PayloadFormat* telephone_event = nullptr;
  const PayloadFormat* comfort_noise = nullptr;
};

CodecChoice ChooseCodecs(const MediaDescription& m, const AnswerOptions& options) {
  CodecChoice c;
  for (const PayloadFormat& p : m.payloads) {
    if (p.codec.name.empty() || IsAuxiliaryEncoding(p.codec.name)) continue;
    if (options.can_decode(p.codec)) {
      c.audio = &p;
      break;
    }
  }
  if (c.audio == nullptr) return c;
  const int rate = c.audio->codec.clock_rate;
  for (const PayloadFormat& p : m.payloads) {
    if (EncodingIs(p.codec.name, "telephone-event")) {
      // RFC 4733 §2.1: the audio codec's clock rate; another rate only when nothing else.
      if (c.telephone_event == nullptr ||
          (c.telephone_event->codec.clock_rate != rate && p.codec.clock_rate == rate)) {
        c.telephone_event = &p;
      }
    } else if (EncodingIs(p.codec.name, "CN") && c.comfort_noise == nullptr &&
               p.codec.clock_rate == rate && options.can_decode(p.codec)) {
      c.comfort_noise = &p;
    }
  }
  return c;
}

// A crypto line we can answer: supported suite, one key, no MKI, no session parameters
// (UNENCRYPTED_SRTP, KDR, ... would change the SRTP policy; they are not wired to libsrtp2).
const Crypto* ChooseCrypto(const MediaDescription& m) {
  for (const Crypto& c : m.crypto) {
    if (IsSupportedSdesSuite(c.suite) && c.mki.empty() && c.session_params.empty() &&
        c.key_param_count == 1) {
      return &c;
    }
  }
  return nullptr;
}

}  // namespace

size_t SdpAnswer::accepted_count() const {
  size_t n = 0;
  for (const AnsweredMedia& m : media) n += m.accepted ? 1 : 0;
  return n;
}

Result<SdpAnswer> BuildRecorderAnswer(const SessionDescription& offer,
                                      const AnswerOptions& options) {
  if (options.ports.size() != offer.media.size()) {
    return InvalidArgumentError("sdp answer: " + std::to_string(options.ports.size()) +
                                " ports for " + std::to_string(offer.media.size()) + " m= lines");
  }
  if (!options.can_decode) return InvalidArgumentError("sdp answer: no can_decode predicate");
  if (!internal::AllDigits(options.session_id) || options.session_id.size() > 20) {
    return InvalidArgumentError("sdp answer: session id '" + options.session_id +
                                "' is not a decimal number");
  }
  const bool want_ip6 = OfferAddrType(offer) == "IP6";
  const bool have_ip4 = !options.local_ipv4.empty();
  const bool have_ip6 = !options.local_ipv6.empty();
  const bool use_ip6 = have_ip6 && (want_ip6 || !have_ip4);
  SdpAnswer answer;
  answer.local_address = use_ip6 ? options.local_ipv6 : options.local_ipv4;
  if (!IsLiteral(answer.local_address, use_ip6 ? AF_INET6 : AF_INET)) {
    return InvalidArgumentError("sdp answer: local address '" + answer.local_address +
                                "' is not an " + (use_ip6 ? "IPv6" : "IPv4") + " literal");
  }
  const std::string addr = std::string(use_ip6 ? "IN IP6 " : "IN IP4 ") + answer.local_address;
  std::string& out = answer.text;
  out += "v=0\r\n";
  out += "o=callvault " + options.session_id + " " + std::to_string(options.session_version) + " " +
         addr + "\r\n";
  out += "s=-\r\n";
  out += "c=" + addr + "\r\n";
  out += "t=0 0\r\n";

  for (size_t i = 0; i < offer.media.size(); ++i) {
    const MediaDescription& m = offer.media[i];
    AnsweredMedia am;
    am.index = i;
    am.media = m.media;
    am.proto = m.proto;
    am.remote_address = m.connection.address;
    am.remote_port = m.port;
    am.rtcp_mux = m.rtcp_mux;
    am.remote_rtcp_port = m.rtcp_port                     ? *m.rtcp_port
                          : m.rtcp_mux || m.port == 65535 ? m.port
                                                          : static_cast<uint16_t>(m.port + 1);
    am.offer_direction = m.direction;
    am.label = m.label;

    CodecChoice codecs;
    const Crypto* crypto = nullptr;
    if (m.port == 0) {
      am.reject_reason = "offer disabled the stream (port 0)";
    } else if (options.ports[i] == 0) {
      am.reject_reason = "no local port";
    } else if (!EncodingIs(m.media, "audio")) {
      am.reject_reason = "media '" + m.media + "' is not recorded";
    } else if (!m.IsRtp()) {
      am.reject_reason = "proto '" + m.proto + "' is not RTP";
    } else if (m.IsDtlsSrtp()) {
      am.reject_reason = "DTLS-SRTP (" + m.proto + ") is not supported";
    } else if (codecs = ChooseCodecs(m, options); codecs.audio == nullptr) {
      am.reject_reason = "no decodable codec offered";
    } else if (m.IsSrtp() && (crypto = ChooseCrypto(m)) == nullptr) {
      am.reject_reason = "no a=crypto with a supported suite";
    }
    if (!am.reject_reason.empty()) {
      am.rtcp_mux = false;
      AppendRejected(m, &out);
      answer.media.push_back(std::move(am));
      continue;
    }

    am.accepted = true;
    am.local_port = options.ports[i];
    am.payload_type = codecs.audio->payload_type;
    am.codec = codecs.audio->codec;
    am.telephone_event_pt = codecs.telephone_event ? codecs.telephone_event->payload_type : -1;
    am.comfort_noise_pt = codecs.comfort_noise ? codecs.comfort_noise->payload_type : -1;
    am.answer_direction =
        (m.direction == Direction::kSendOnly || m.direction == Direction::kSendRecv)
            ? Direction::kRecvOnly
            : Direction::kInactive;

    std::vector<const PayloadFormat*> answered;  // in the offer's order
    for (const PayloadFormat& p : m.payloads) {
      if (&p == codecs.audio || &p == codecs.telephone_event || &p == codecs.comfort_noise) {
        answered.push_back(&p);
      }
    }
    out += "m=" + m.media + " " + std::to_string(am.local_port) + " " + m.proto;
    for (const PayloadFormat* p : answered) out += " " + std::to_string(p->payload_type);
    out += kCrlf;
    for (const PayloadFormat* p : answered) AppendRtpmap(*p, &out);
    if (crypto != nullptr) {
      Result<std::string> key = options.make_sdes_key ? options.make_sdes_key(crypto->suite)
                                                      : GenerateSdesKey(crypto->suite);
      CV_RETURN_IF_ERROR(key);
      std::optional<std::string> raw = Base64Decode(*key);
      if (!raw || raw->size() != SdesMasterKeyLength(crypto->suite)) {
        return InternalError("sdp answer: the SDES key for " + crypto->suite + " is invalid");
      }
      am.srtp_suite = crypto->suite;
      am.crypto_tag = crypto->tag;
      am.remote_master_key = crypto->master_key;
      am.local_master_key = std::move(*raw);
      out += "a=crypto:" + std::to_string(crypto->tag) + " " + crypto->suite + " inline:" + *key +
             std::string(kCrlf);
    }
    if (m.rtcp_mux) out += "a=rtcp-mux\r\n";
    if (m.label) out += "a=label:" + *m.label + std::string(kCrlf);
    out += "a=" + std::string(DirectionName(am.answer_direction)) + std::string(kCrlf);
    answer.media.push_back(std::move(am));
  }
  return answer;
}

}  // namespace callvault::siprec

// The recorder's SDP offer for a delayed-offer INVITE (siprec/sdp_offer.h).
#include "siprec/sdp_offer.h"

#include "siprec/internal/sdp_text.h"

namespace callvault::siprec {

Result<SdpOffer> BuildRecorderOffer(const OfferOptions& options) {
  if (options.port == 0) return InvalidArgumentError("sdp offer: no local port");
  if (!options.can_decode) return InvalidArgumentError("sdp offer: no can_decode predicate");
  if (!internal::AllDigits(options.session_id) || options.session_id.size() > 20) {
    return InvalidArgumentError("sdp offer: session id '" + options.session_id +
                                "' is not a decimal number");
  }
  const bool ip6 = options.local_ipv4.empty();
  const std::string& address = ip6 ? options.local_ipv6 : options.local_ipv4;
  if (address.empty()) return InvalidArgumentError("sdp offer: no local media address");
  SdpOffer offer;
  for (int pt : {0, 8, 9, 18}) {
    std::optional<codec::CodecSpec> spec = StaticPayloadCodec(pt);
    if (!spec || !options.can_decode(*spec)) continue;
    PayloadFormat p;
    p.payload_type = pt;
    p.codec = *spec;
    p.has_rtpmap = true;
    p.encoding_name_as_written = spec->name;
    offer.payloads.push_back(std::move(p));
  }
  if (offer.payloads.empty()) return InvalidArgumentError("sdp offer: no decodable codec");
  PayloadFormat dtmf;
  dtmf.payload_type = 101;
  dtmf.codec.name = "telephone-event";
  dtmf.codec.clock_rate = 8000;
  dtmf.codec.channels = 1;
  dtmf.codec.fmtp = "0-15";
  dtmf.has_rtpmap = true;
  dtmf.encoding_name_as_written = "telephone-event";
  offer.payloads.push_back(std::move(dtmf));

  const std::string addr = std::string(ip6 ? "IN IP6 " : "IN IP4 ") + address;
  std::string& out = offer.text;
  out += "v=0\r\n";
  out += "o=callvault " + options.session_id + " " + std::to_string(options.session_version) +
         " " + addr + "\r\n";
  out += "s=-\r\nc=" + addr + "\r\nt=0 0\r\n";
  out += "m=audio " + std::to_string(options.port) + " RTP/AVP";
  for (const PayloadFormat& p : offer.payloads) out += " " + std::to_string(p.payload_type);
  out += "\r\n";
  for (const PayloadFormat& p : offer.payloads) {
    out += "a=rtpmap:" + std::to_string(p.payload_type) + " " + p.codec.name + "/" +
           std::to_string(p.codec.clock_rate) + "\r\n";
    if (!p.codec.fmtp.empty())
      out += "a=fmtp:" + std::to_string(p.payload_type) + " " + p.codec.fmtp + "\r\n";
  }
  out += "a=ptime:20\r\na=recvonly\r\n";
  return offer;
}

}  // namespace callvault::siprec

#include "recording/rtp_packet.h"

namespace callvault::recording {

std::optional<RtpPacket> ParseRtp(std::string_view data, RtpParseError* error) {
  RtpParseError dummy;
  RtpParseError& err = error ? *error : dummy;
  err = RtpParseError::kNone;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(data[i]); };
  if (data.size() < 12) {
    err = RtpParseError::kTooShort;
    return std::nullopt;
  }
  const uint8_t b0 = byte(0), b1 = byte(1);
  if ((b0 >> 6) != 2) {
    err = RtpParseError::kBadVersion;
    return std::nullopt;
  }
  if (b1 >= 200 && b1 <= 204) {  // RFC 5761 §4: M=1 + PT 72..76 = RTCP SR/RR/SDES/BYE/APP
    err = RtpParseError::kRtcp;
    return std::nullopt;
  }
  const bool padding = (b0 & 0x20) != 0;
  const bool extension = (b0 & 0x10) != 0;
  const size_t csrc_count = b0 & 0x0f;
  RtpPacket p;
  p.marker = (b1 & 0x80) != 0;
  p.payload_type = b1 & 0x7f;
  p.sequence = static_cast<uint16_t>(byte(2) << 8 | byte(3));
  p.timestamp = static_cast<uint32_t>(byte(4)) << 24 | static_cast<uint32_t>(byte(5)) << 16 |
                static_cast<uint32_t>(byte(6)) << 8 | byte(7);
  p.ssrc = static_cast<uint32_t>(byte(8)) << 24 | static_cast<uint32_t>(byte(9)) << 16 |
           static_cast<uint32_t>(byte(10)) << 8 | byte(11);
  size_t offset = 12 + 4 * csrc_count;
  if (offset > data.size()) {
    err = RtpParseError::kTooShort;
    return std::nullopt;
  }
  if (extension) {  // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words
    if (offset + 4 > data.size()) {
      err = RtpParseError::kTooShort;
      return std::nullopt;
    }
    const size_t words = static_cast<size_t>(byte(offset + 2) << 8 | byte(offset + 3));
    offset += 4 + 4 * words;
    if (offset > data.size()) {
      err = RtpParseError::kTooShort;
      return std::nullopt;
    }
  }
  size_t end = data.size();
  if (padding) {  // the last octet counts the padding octets, itself included
    const size_t pad = byte(data.size() - 1);
    if (pad == 0 || offset + pad > end) {
      err = RtpParseError::kTooShort;
      return std::nullopt;
    }
    end -= pad;
  }
  p.payload = data.substr(offset, end - offset);
  return p;
}

}  // namespace callvault::recording

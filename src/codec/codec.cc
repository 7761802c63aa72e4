// codec.h: codec names and RTP mappings this build records, the decoder factory, and RFC 4733
// telephone-event parsing.
#include "codec/codec.h"

#include <string>

#include "base/strings.h"
#include "codec/internal/decoders.h"

namespace callvault::codec {
namespace {

enum class Kind { kUnknown, kPcmu, kPcma, kG722, kOpus, kG729, kCn, kTelephoneEvent };

Kind KindOf(std::string_view name) {
  struct Entry {
    std::string_view name;
    Kind kind;
  };
  static constexpr Entry kNames[] = {
      {"PCMU", Kind::kPcmu},
      {"PCMA", Kind::kPcma},
      {"G722", Kind::kG722},
      {"opus", Kind::kOpus},
      {"G729", Kind::kG729},
      {"CN", Kind::kCn},
      {"telephone-event", Kind::kTelephoneEvent},
  };
  for (const Entry& e : kNames) {
    if (EqualsIgnoreCase(name, e.name)) return e.kind;
  }
  return Kind::kUnknown;
}

constexpr bool kHaveG729 = CALLVAULT_HAVE_G729 != 0;

// "GSM/8000", "opus/48000/2" (the rtpmap spelling).
std::string Describe(const CodecSpec& spec) {
  std::string s = spec.name;
  s.append("/").append(std::to_string(spec.clock_rate));
  if (spec.channels != 1) s.append("/").append(std::to_string(spec.channels));
  return s;
}

// OK when this build records `spec`; otherwise the reason, naming the codec.
Status Check(const CodecSpec& spec, Kind kind) {
  switch (kind) {
    case Kind::kUnknown:
      return UnimplementedError("codec " + Describe(spec) + " is not supported");
    case Kind::kG729:
      if (!kHaveG729) {
        return UnimplementedError("codec " + Describe(spec) +
                                  " needs a build with CALLVAULT_G729=ON (bcg729, GPL-3+)");
      }
      [[fallthrough]];
    case Kind::kPcmu:
    case Kind::kPcma:
    case Kind::kG722:
      if (spec.clock_rate != 8000 || spec.channels != 1) {
        return InvalidArgumentError("codec " + Describe(spec) +
                                    ": only clock rate 8000 with 1 channel is supported");
      }
      return Status::Ok();
    case Kind::kOpus:
      if (spec.clock_rate != 48000 || (spec.channels != 1 && spec.channels != 2)) {
        return InvalidArgumentError("codec " + Describe(spec) +
                                    ": opus needs clock rate 48000 and 1 or 2 channels (RFC 7587)");
      }
      return Status::Ok();
    case Kind::kCn:
      if ((spec.clock_rate != 8000 && spec.clock_rate != 16000 && spec.clock_rate != 32000 &&
           spec.clock_rate != 48000) ||
          spec.channels != 1) {
        return InvalidArgumentError("codec " + Describe(spec) + ": unsupported CN clock rate");
      }
      return Status::Ok();
    case Kind::kTelephoneEvent:
      return Status::Ok();
  }
  return InternalError("codec " + Describe(spec) + ": unhandled kind");
}

}  // namespace

bool CanDecode(const CodecSpec& spec) { return Check(spec, KindOf(spec.name)).ok(); }

std::vector<std::string> DecodableCodecs() {
  std::vector<std::string> names = {"opus", "G722", "PCMU", "PCMA"};
  if (kHaveG729) names.push_back("G729");
  names.push_back("CN");
  names.push_back("telephone-event");
  return names;
}

Result<std::unique_ptr<Decoder>> NewDecoder(const CodecSpec& spec) {
  const Kind kind = KindOf(spec.name);
  CV_RETURN_IF_ERROR(Check(spec, kind));
  switch (kind) {
    case Kind::kPcmu:
      return internal::NewG711Decoder(/*alaw=*/false);
    case Kind::kPcma:
      return internal::NewG711Decoder(/*alaw=*/true);
    case Kind::kG722:
      return internal::NewG722Decoder();
    case Kind::kOpus:
      return internal::NewOpusDecoder(spec.channels);
#if CALLVAULT_HAVE_G729
    case Kind::kG729:
      return internal::NewG729Decoder();
#endif
    case Kind::kCn:
      return internal::NewComfortNoiseDecoder(spec.clock_rate, spec.ptime_ms);
    case Kind::kTelephoneEvent:
      return InvalidArgumentError("codec " + Describe(spec) +
                                  " is not audio: record it with ParseTelephoneEvent");
    default:
      break;
  }
  return InternalError("codec " + Describe(spec) + ": no decoder");
}

char TelephoneEvent::Digit() const {
  static constexpr char kDigits[] = "0123456789*#ABCD";
  return event >= 0 && event < 16 ? kDigits[event] : '?';
}

std::optional<TelephoneEvent> ParseTelephoneEvent(std::string_view payload) {
  // RFC 4733 §2.3: event (8) | E (1) R (1) volume (6) | duration (16, network order).
  if (payload.size() < 4) return std::nullopt;
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(payload[i]); };
  TelephoneEvent e;
  e.event = byte(0);
  e.end = (byte(1) & 0x80) != 0;
  e.volume = byte(1) & 0x3F;
  e.duration = (byte(2) << 8) | byte(3);
  return e;
}

}  // namespace callvault::codec

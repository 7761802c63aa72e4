// libFuzzer target for the audio decoders (codec/codec.h). The first byte picks the decoder
// (PCMU, PCMA, G722, opus mono/stereo, CN, G729 when built); the rest is a sequence of
// [length byte][payload] records fed to Decode, with Conceal between some of them, and each
// payload also parsed as an RFC 4733 telephone-event. Checks: no crash, a failed Decode appends
// nothing, Conceal appends exactly what it is asked for.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "codec/codec.h"

using namespace callvault::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const CodecSpec kSpecs[] = {
      {.name = "PCMU"},
      {.name = "PCMA"},
      {.name = "G722"},
      {.name = "opus", .clock_rate = 48000, .channels = 1},
      {.name = "opus", .clock_rate = 48000, .channels = 2},
      {.name = "CN", .clock_rate = 16000},
      {.name = "G729"},
  };
  const CodecSpec& spec = kSpecs[data[0] % (sizeof(kSpecs) / sizeof(kSpecs[0]))];
  auto decoder = NewDecoder(spec);
  if (!decoder.ok()) {
    if (CanDecode(spec)) abort();  // CanDecode and NewDecoder must agree
    return 0;
  }
  std::vector<int16_t> out;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!in.empty()) {
    const size_t len = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    const std::string_view payload = in.substr(0, len);
    in.remove_prefix(payload.size());
    (void)ParseTelephoneEvent(payload);
    const size_t before = out.size();
    if ((*decoder)->Decode(payload, &out).ok()) {
      if (out.size() == before) abort();
    } else if (out.size() != before) {
      abort();
    }
    if (len % 7 == 0) {
      const int gap = static_cast<int>(len) * 11;
      const size_t at = out.size();
      (*decoder)->Conceal(gap, &out);
      if (out.size() != at + static_cast<size_t>(gap)) abort();
    }
    if (out.size() > (1u << 20)) out.clear();
  }
  return 0;
}

// Audio decoders for recorded RTP payloads (codec/): G.711 µ-law/A-law (own tables),
// G.722 (spandsp), Opus (libopus), G.729 (bcg729; GPL-3+, only when built with
// CALLVAULT_G729=ON), comfort noise (RFC 3389, as silence) and telephone-event (RFC 4733, which
// is not audio: recording/ records it as DTMF events through ParseTelephoneEvent).
//
// Called by: recording/ (finalizing a call from its spool), siprec/ (CanDecode when it builds
// its SDP answer), tests, benchmarks, fuzz/codec_fuzzer.cc.
// Thread-safety: a Decoder keeps per-stream state and is used by one thread at a time; the free
// functions are thread-safe.
//
// Robustness: every Decode accepts any bytes (empty, odd sizes, garbage) without crashing; a
// payload it cannot decode returns a Status naming the codec and the payload size.
//
// Licensing: G.729 comes from bcg729 (GPL-3+). A build with CALLVAULT_G729=ON links it, which
// makes the callvault binary GPL-3+ as a whole; with OFF, CanDecode({"G729"}) is false.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace callvault::codec {

// A codec as the SDP names it (a=rtpmap encoding name, case-insensitive; RFC 3551 static
// payload types resolved by the caller).
struct CodecSpec {
  std::string name;       // "PCMU", "PCMA", "G722", "opus", "G729", "CN", "telephone-event"
  int clock_rate = 8000;  // RTP clock rate (G.722 says 8000 but samples at 16000, RFC 3551 §4.5.2)
  int channels = 1;
  std::string fmtp;  // a=fmtp parameters, e.g. "annexb=no"
  int ptime_ms = 0;  // a=ptime (RFC 4566), 0 = unknown; sizes CN frames (20 ms if unknown)
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Output sample rate in Hz (8000 for G.711/G.729, 16000 for G.722, 48000 for Opus).
  virtual int sample_rate() const = 0;
  // Samples of audio one RTP timestamp unit stands for, times 1000 (G.722: 2000; Opus at
  // 48 kHz: 1000; G.711: 1000). recording/ uses it to place decoded audio on the timeline.
  virtual int samples_per_rtp_unit_milli() const = 0;
  // Decodes one RTP payload, appending mono PCM16 samples at sample_rate() to *out (stereo Opus
  // is downmixed). A payload that cannot be decoded is an error naming the codec and size, and
  // appends nothing (the caller fills its duration with silence and counts it).
  // REQUIRES: out != nullptr.
  [[nodiscard]] virtual Status Decode(std::string_view payload, std::vector<int16_t>* out) = 0;
  // Packet loss concealment: appends exactly `samples` samples (at sample_rate()) standing for
  // missing audio. Opus and G.729 use their codec's PLC, G.711/G.722 repeat the last frame
  // fading out over 20 ms, CN and anything after a G.729 SID frame append silence. Long gaps
  // end in silence. `samples` <= 0 appends nothing. REQUIRES: out != nullptr.
  virtual void Conceal(int samples, std::vector<int16_t>* out) = 0;
};

// True when this build can record `spec` (used by siprec/ to choose codecs in its SDP answer):
// name known (case-insensitive), clock rate and channels as the codec's RTP mapping requires
// (8000/1 for PCMU, PCMA, G722, G729; 48000/1-2 for opus; CN at 8000, 16000, 32000 or 48000).
// True for "telephone-event" too, which is recorded through ParseTelephoneEvent, not decoded.
bool CanDecode(const CodecSpec& spec);
// Names this build records, in our order of preference for an SDP answer, spelled as in SDP:
// "opus", "G722", "PCMU", "PCMA", ["G729" when built with it], "CN", "telephone-event".
std::vector<std::string> DecodableCodecs();
// A decoder for `spec`, or an error naming the codec when this build cannot decode it:
// Unimplemented for unknown codecs (GSM, G723, iLBC, AMR…) and for G729 without
// CALLVAULT_G729; InvalidArgument for a wrong clock rate or channel count, and for
// telephone-event (not audio: use ParseTelephoneEvent).
Result<std::unique_ptr<Decoder>> NewDecoder(const CodecSpec& spec);

// RFC 4733 §2.3 telephone-event payload (first 4 bytes; later bytes, if any, are ignored).
struct TelephoneEvent {
  int event = 0;       // 0-9, 10 = '*', 11 = '#', 12-15 = A-D
  bool end = false;    // E bit
  int volume = 0;      // -dBm0
  int duration = 0;    // in RTP timestamp units
  char Digit() const;  // '0'..'9', '*', '#', 'A'..'D', '?' for other events
};
// The event in `payload`, or nullopt when it is shorter than 4 bytes.
std::optional<TelephoneEvent> ParseTelephoneEvent(std::string_view payload);

}  // namespace callvault::codec

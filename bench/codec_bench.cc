// Decode cost per 20 ms frame for each decoder (codec/codec.h), on frames encoded in the run:
// G.711 (the in-run baseline: a table lookup per byte), G.722 (spandsp), Opus mono and stereo
// (libopus, 32 kbit/s), G.729 (bcg729, when built with CALLVAULT_G729). A tone plus noise, so
// the encoders produce realistic bit streams. Each iteration decodes one frame into a reused
// buffer; the loop cycles through 50 frames (1 s) so state stays realistic.
// Usage: build/release/bench/codec_bench [--benchmark_repetitions=5]
// Results: docs/performance.md.
#include <benchmark/benchmark.h>
#include <opus.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

// telephony.h must come first (it defines SPAN_DECLARE).
// clang-format off
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
// clang-format on

#if CALLVAULT_HAVE_G729
extern "C" {  // bcg729's headers lack extern "C"
#include <bcg729/encoder.h>
}
#endif

#include "codec/codec.h"

namespace {

using callvault::codec::CodecSpec;

constexpr int kFrames = 50;  // 1 s of 20 ms frames

std::vector<int16_t> Signal(int rate, int channels) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 500);
  std::vector<int16_t> pcm(static_cast<size_t>(rate * channels));
  for (size_t i = 0; i < pcm.size(); ++i) {
    const double t = static_cast<double>(i / channels) / rate;
    pcm[i] = static_cast<int16_t>(6000 * std::sin(2 * M_PI * 440 * t) + noise(rng));
  }
  return pcm;
}

std::vector<std::string> G711Frames() {
  std::vector<std::string> frames;
  const std::vector<int16_t> pcm = Signal(8000, 1);
  for (int f = 0; f < kFrames; ++f) {
    std::string frame(160, '\0');
    for (int i = 0; i < 160; ++i) frame[i] = static_cast<char>((pcm[f * 160 + i] >> 8) ^ 0x55);
    frames.push_back(frame);
  }
  return frames;
}

std::vector<std::string> G722Frames() {
  std::vector<std::string> frames;
  const std::vector<int16_t> pcm = Signal(16000, 1);
  g722_encode_state_t* enc = g722_encode_init(nullptr, 64000, 0);
  for (int f = 0; f < kFrames; ++f) {
    std::string frame(160, '\0');
    g722_encode(enc, reinterpret_cast<uint8_t*>(frame.data()), pcm.data() + f * 320, 320);
    frames.push_back(frame);
  }
  g722_encode_free(enc);
  return frames;
}

std::vector<std::string> OpusFrames(int channels) {
  std::vector<std::string> frames;
  const std::vector<int16_t> pcm = Signal(48000, channels);
  int error = 0;
  OpusEncoder* enc = opus_encoder_create(48000, channels, OPUS_APPLICATION_VOIP, &error);
  opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
  for (int f = 0; f < kFrames; ++f) {
    std::string frame(1500, '\0');
    const int n = opus_encode(enc, pcm.data() + f * 960 * channels, 960,
                              reinterpret_cast<unsigned char*>(frame.data()), 1500);
    frame.resize(n > 0 ? static_cast<size_t>(n) : 0);
    frames.push_back(frame);
  }
  opus_encoder_destroy(enc);
  return frames;
}

#if CALLVAULT_HAVE_G729
std::vector<std::string> G729Frames() {
  std::vector<std::string> frames;
  const std::vector<int16_t> pcm = Signal(8000, 1);
  bcg729EncoderChannelContextStruct* enc = initBcg729EncoderChannel(0);
  for (int f = 0; f < kFrames; ++f) {
    std::string frame;
    for (int half = 0; half < 2; ++half) {
      uint8_t bits[10];
      uint8_t len = 0;
      bcg729Encoder(enc, pcm.data() + f * 160 + half * 80, bits, &len);
      frame.append(reinterpret_cast<const char*>(bits), len);
    }
    frames.push_back(frame);
  }
  closeBcg729EncoderChannel(enc);
  return frames;
}
#endif

void DecodeFrames(benchmark::State& state, const CodecSpec& spec,
                  const std::vector<std::string>& frames) {
  auto decoder = callvault::codec::NewDecoder(spec);
  if (!decoder.ok()) {
    state.SkipWithError(decoder.status().ToString().c_str());
    return;
  }
  std::vector<int16_t> out;
  out.reserve(48000);
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    if (!(*decoder)->Decode(frames[i], &out).ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.data());
    i = (i + 1) % frames.size();
  }
  state.SetItemsProcessed(state.iterations());  // items = 20 ms frames
  state.counters["rt_factor"] = benchmark::Counter(0.02 * static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
}

void BM_G711Pcma(benchmark::State& s) { DecodeFrames(s, {.name = "PCMA"}, G711Frames()); }
void BM_G711Pcmu(benchmark::State& s) { DecodeFrames(s, {.name = "PCMU"}, G711Frames()); }
void BM_G722(benchmark::State& s) { DecodeFrames(s, {.name = "G722"}, G722Frames()); }
void BM_OpusMono(benchmark::State& s) {
  DecodeFrames(s, {.name = "opus", .clock_rate = 48000, .channels = 1}, OpusFrames(1));
}
void BM_OpusStereo(benchmark::State& s) {
  DecodeFrames(s, {.name = "opus", .clock_rate = 48000, .channels = 2}, OpusFrames(2));
}
BENCHMARK(BM_G711Pcma);
BENCHMARK(BM_G711Pcmu);
BENCHMARK(BM_G722);
BENCHMARK(BM_OpusMono);
BENCHMARK(BM_OpusStereo);
#if CALLVAULT_HAVE_G729
void BM_G729(benchmark::State& s) { DecodeFrames(s, {.name = "G729"}, G729Frames()); }
BENCHMARK(BM_G729);
#endif

}  // namespace

BENCHMARK_MAIN();

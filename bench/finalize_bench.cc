// Finalize throughput: seconds of call audio finalized per CPU second, for a 60 s two-party
// call (G.711 both ways; G.711 + G.722 at 16 kHz; Ogg/Opus output). In-run baseline: copying
// the same spool bytes durably (read, write, fsync, rename), the least any finalizer must do.
// RenderOnly separates the CPU work (ordering, decoding, resampling, encoding) from the disk.
// Usage: build/release/bench/finalize_bench [--benchmark_repetitions=3]
// Results: docs/performance.md.
#include <benchmark/benchmark.h>

#include "base/fs.h"
#include "recording/audio_writer.h"
#include "recording/finalizer.h"
#include "recording/testing/spool_fixture.h"
#include "recording/testing/temp_dir.h"

namespace {

using namespace callvault;
using namespace callvault::recording;

constexpr int64_t kT0 = 1'795'600'000'000'000'000;
constexpr double kSeconds = 60;

// A finished spool for a 60 s call in `dir` (built once per benchmark).
void BuildSpool(const std::string& dir, const std::string& right_codec) {
  testing::SpoolBuilder b(DefaultFs(), dir, kT0);
  const int right_pt = right_codec == "G722" ? 9 : 8;
  b.Start(kT0);
  b.Stream(kT0, "s0", 0, "PCMU", 0);
  b.Stream(kT0, "s1", 1, right_codec, right_pt);
  b.Rtp("s0", testing::MakeStream({.codec = "PCMU",
                                   .pt = 0,
                                   .ssrc = 1,
                                   .start_ns = kT0,
                                   .seconds = kSeconds,
                                   .jitter_ns = 10'000'000}));
  b.Rtp("s1", testing::MakeStream({.codec = right_codec,
                                   .pt = static_cast<uint8_t>(right_pt),
                                   .ssrc = 2,
                                   .start_ns = kT0,
                                   .seconds = kSeconds,
                                   .jitter_ns = 10'000'000,
                                   .signal = testing::Tone(2000)}));
  b.End(kT0 + static_cast<int64_t>(kSeconds * 1e9));
  b.Close();
}

void CopyDir(Fs& fs, const std::string& from, const std::string& to, bool durable) {
  if (!fs.CreateDirs(to).ok()) std::abort();
  const std::vector<std::string> names = fs.ListDir(from).value();
  for (const std::string& name : names) {
    const std::string data = fs.ReadFile(from + "/" + name).value();
    if (durable) {
      if (!WriteFileDurably(fs, to + "/" + name, data).ok()) std::abort();
    } else {
      auto f = fs.NewWritableFile(to + "/" + name).value();
      if (!f->Append(data).ok() || !f->Close().ok()) std::abort();
    }
  }
}

void Report(benchmark::State& state) {
  state.counters["audio_s_per_cpu_s"] = benchmark::Counter(
      kSeconds * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_CopySpoolBaseline(benchmark::State& state) {
  testing::TempDir tmp;
  BuildSpool(tmp.path() + "/template", "PCMA");
  int n = 0;
  for (auto _ : state)
    CopyDir(*DefaultFs(), tmp.path() + "/template", tmp.path() + "/c" + std::to_string(n++), true);
  Report(state);
}

void Finalize(benchmark::State& state, const std::string& right_codec, AudioFormat format) {
  testing::TempDir tmp;
  Fs& fs = *DefaultFs();
  BuildSpool(tmp.path() + "/template", right_codec);
  FakeClock clock;
  FinalizeOptions options{.recordings_dir = tmp.path() + "/recordings", .format = format};
  int n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string spool = tmp.path() + "/spool/call" + std::to_string(n++);
    CopyDir(fs, tmp.path() + "/template", spool, false);
    state.ResumeTiming();
    Result<FinalizeResult> r = FinalizeCall(fs, clock, options, {.spool_dir = spool});
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  Report(state);
}

void BM_FinalizeG711Wav(benchmark::State& state) { Finalize(state, "PCMA", AudioFormat::kWav); }
void BM_FinalizeG711G722Wav(benchmark::State& state) { Finalize(state, "G722", AudioFormat::kWav); }
void BM_FinalizeG711OggOpus(benchmark::State& state) {
  Finalize(state, "PCMA", AudioFormat::kOggOpus);
}

BENCHMARK(BM_CopySpoolBaseline)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FinalizeG711Wav)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FinalizeG711G722Wav)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FinalizeG711OggOpus)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

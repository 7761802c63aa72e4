// The catalog of the web portal benchmark (bench/portal_bench.sh, issue 16):
//   - N calls of the catalog benchmarks' corpus (catalog_corpus.h) through
//     Catalog::IngestManifests, 100 per transaction — the same calls catalog_bench times;
//   - with --recordings=DIR, two one-hour calls with real audio for the waveform timing: a stereo
//     8 kHz WAV and an Ogg/Opus file, encoded by recording::WriteAudioFile as the finalizer
//     writes them (speech-like turns: one side talks while the other is near-silent), each with
//     its manifest beside it (docs/formats/manifest.md, real size and SHA-256) and ingested too.
//
// Usage: portal_fill --calls=N (--catalog=URL | --postgresql) [--recordings=DIR] [--batch=100]
//   --catalog: "sqlite:<path>" (a data dir's catalog.db) or a PostgreSQL URI.
//   --postgresql: a private PostgreSQL server on loopback with durable settings
//     (catalog/testing/pg_server.h), kept running until standard input closes (or SIGTERM/SIGINT),
//     then stopped and removed.
// Progress goes to stderr; when the catalog is ready one line goes to stdout:
//   portal_fill: ready {"catalog":"<url>","calls":N,"ingest_s":…,"wav_call":"<id>",…}
// Bench-only; the figures are bench/portal_bench.mjs's (docs/performance.md).
#include <csignal>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/log.h"
#include "catalog/catalog.h"
#include "catalog/testing/manifests.h"
#include "catalog/testing/pg_server.h"
#include "catalog_corpus.h"
#include "recording/audio_writer.h"

namespace {

using namespace callvault;
namespace ct = callvault::catalog::testing;

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

[[noreturn]] void Die(const std::string& what, const Status& st) {
  std::fprintf(stderr, "portal_fill: %s: %s\n", what.c_str(), st.ToString().c_str());
  std::exit(1);
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Ingests calls [0, n) of the corpus; returns the seconds spent in IngestManifests.
double FillCorpus(catalog::Catalog& catalog, int64_t n, int64_t batch) {
  double ingest_s = 0;
  for (int64_t i = 0; i < n && !g_stop; i += batch) {
    std::vector<recording::Manifest> manifests;
    for (int64_t k = i; k < std::min(n, i + batch); ++k) {
      manifests.push_back(bench::CorpusManifest(k, n));
    }
    const auto t0 = std::chrono::steady_clock::now();
    const Status st = catalog.IngestManifests(manifests);
    ingest_s += Seconds(std::chrono::steady_clock::now() - t0);
    if (!st.ok()) Die("ingest", st);
    const int64_t done = std::min(n, i + batch);
    if (done % std::max<int64_t>(batch, n / 10) < batch || done == n) {
      std::fprintf(stderr, "portal_fill: %lld calls ingested, %.0f calls/s\n",
                   static_cast<long long>(done), done / ingest_s);
    }
  }
  return ingest_s;
}

// One hour of a two-party conversation at 8 kHz: turns of 2–9 s alternate between the channels;
// the talking side carries a voiced signal (pitch 110–220 Hz with three harmonics, a ~4 Hz
// syllable envelope), the other side faint noise.
void Conversation(int64_t frames, std::vector<int16_t>& left, std::vector<int16_t>& right) {
  constexpr double kRate = 8000;
  left.assign(frames, 0);
  right.assign(frames, 0);
  uint64_t rng = 12345;
  auto next = [&rng] {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(rng >> 11) / 9007199254740992.0;  // [0, 1)
  };
  int64_t i = 0;
  int side = 0;
  while (i < frames) {
    const int64_t turn = std::min(frames - i, static_cast<int64_t>((2 + 7 * next()) * kRate));
    const double pitch = 110 + 110 * next();
    const double syllable_hz = 3 + 2 * next();
    std::vector<int16_t>& talk = side == 0 ? left : right;
    std::vector<int16_t>& quiet = side == 0 ? right : left;
    for (int64_t k = 0; k < turn; ++k) {
      const double t = static_cast<double>(k) / kRate;
      const double envelope = std::fabs(std::sin(M_PI * syllable_hz * t));
      const double voiced = std::sin(2 * M_PI * pitch * t) + 0.5 * std::sin(4 * M_PI * pitch * t) +
                            0.25 * std::sin(6 * M_PI * pitch * t);
      talk[i + k] = static_cast<int16_t>(6000 * envelope * voiced + 200 * (next() - 0.5));
      quiet[i + k] = static_cast<int16_t>(60 * (next() - 0.5));
    }
    i += turn;
    side ^= 1;
  }
}

// Writes a one-hour call's audio (format "wav" | "opus") and manifest under `recordings`,
// ingests the manifest; returns the call id.
std::string HourCall(catalog::Catalog& catalog, const std::string& recordings,
                     const std::string& format, int k, const std::vector<int16_t>& left,
                     const std::vector<int16_t>& right) {
  const int64_t duration_ms = 3600000;
  ct::ManifestSpec spec;
  spec.started_ms = bench::kT0 - bench::kDay + k * 60000;  // before the corpus: not on its pages
  spec.call_id = ct::TestCallId(spec.started_ms, 1000000000 + k);
  spec.node_id = "portal-bench";
  spec.duration_ms = duration_ms;
  spec.audio_format = format;
  spec.participants = {{"Hour " + format + " caller", "sip:+15559000001@gw.example.com", 0},
                       {"Hour " + format + " callee", "sip:9001@pbx.example.com", 1}};
  nlohmann::json doc = ct::MakeManifestJson(spec);
  const std::string file = "bench/hour-" + spec.call_id + "." + format;
  const auto t0 = std::chrono::steady_clock::now();
  Fs& fs = *DefaultFs();
  if (Status st = fs.CreateDirs(recordings + "/bench"); !st.ok()) Die("mkdir", st);
  const recording::AudioFormat af =
      format == "opus" ? recording::AudioFormat::kOggOpus : recording::AudioFormat::kWav;
  Result<recording::WrittenAudio> written =
      recording::WriteAudioFile(fs, recordings + "/" + file, af, 8000, left, right);
  if (!written.ok()) Die("writing " + file, written.status());
  nlohmann::json& audio = doc["audio"];
  audio["file"] = file;
  audio["format"] = format;
  audio["encoding"] = std::string(recording::AudioEncodingName(af));
  audio["sample_rate"] = 8000;
  audio["duration_ms"] = duration_ms;
  audio["bytes"] = written->bytes;
  audio["sha256"] = written->sha256;
  if (Status st = recording::WriteAudioDurably(fs, recordings + "/" + file + ".json",
                                               doc.dump(1) + "\n");
      !st.ok()) {
    Die("writing the manifest of " + file, st);
  }
  if (Status st = catalog.IngestManifests({ct::ToManifest(doc)}); !st.ok()) {
    Die("ingesting " + file, st);
  }
  std::fprintf(stderr, "portal_fill: one-hour %s call %s: %s, %llu bytes, written in %.1f s\n",
               format.c_str(), spec.call_id.c_str(), file.c_str(),
               static_cast<unsigned long long>(written->bytes),
               Seconds(std::chrono::steady_clock::now() - t0));
  return spec.call_id;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 100000;
  int64_t batch = 100;
  std::string url, recordings;
  bool postgresql = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--calls=", 0) == 0) {
      n = std::atoll(a.c_str() + 8);
    } else if (a.rfind("--batch=", 0) == 0) {
      batch = std::max<int64_t>(1, std::atoll(a.c_str() + 8));
    } else if (a.rfind("--catalog=", 0) == 0) {
      url = a.substr(10);
    } else if (a == "--postgresql") {
      postgresql = true;
    } else if (a.rfind("--recordings=", 0) == 0) {
      recordings = a.substr(13);
    } else {
      std::fprintf(stderr,
                   "usage: portal_fill --calls=N (--catalog=URL | --postgresql) "
                   "[--recordings=DIR] [--batch=100]\n");
      return 2;
    }
  }
  if (postgresql == !url.empty() || n < 1) {
    std::fprintf(stderr, "portal_fill: give exactly one of --catalog=URL and --postgresql\n");
    return 2;
  }
  InitLogging({.level = "warn"}).IgnoreError();
  struct sigaction sa {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: the wait for standard input ends
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  std::unique_ptr<ct::PgServer> pg;
  if (postgresql) {
    Result<std::unique_ptr<ct::PgServer>> server = ct::PgServer::Start({.fast_unsafe = false});
    if (!server.ok()) Die("starting PostgreSQL", server.status());
    pg = std::move(server).value();
    if (Status st = pg->CreateDatabase("portal"); !st.ok()) Die("creating the database", st);
    url = pg->Uri("portal");
    std::fprintf(stderr, "portal_fill: PostgreSQL in %s, %s\n", pg->dir().c_str(), url.c_str());
  }
  // What the queries need to know of the corpus (catalog_corpus.h).
  nlohmann::json ready = {{"catalog", url},
                          {"calls", n},
                          {"corpus",
                           {{"t0_ms", bench::kT0},
                            {"span_days", bench::kSpanDays},
                            {"caller_prefix", "+1555"},
                            {"ticket_every", 100}}}};
  {
    Result<std::unique_ptr<catalog::Catalog>> opened =
        catalog::OpenCatalog({.url = url, .pool_size = 2, .node_id = "portal-fill"});
    if (!opened.ok()) Die("opening " + url, opened.status());
    std::unique_ptr<catalog::Catalog> catalog = std::move(opened).value();
    const auto t0 = std::chrono::steady_clock::now();
    const double ingest_s = FillCorpus(*catalog, n, batch);
    ready["ingest_s"] = ingest_s;
    ready["fill_s"] = Seconds(std::chrono::steady_clock::now() - t0);
    if (!recordings.empty() && !g_stop) {
      std::vector<int16_t> left, right;
      Conversation(3600 * 8000, left, right);
      ready["wav_call"] = HourCall(*catalog, recordings, "wav", 0, left, right);
      ready["opus_call"] = HourCall(*catalog, recordings, "opus", 1, left, right);
    }
  }
  if (g_stop) return 1;
  std::printf("portal_fill: ready %s\n", ready.dump().c_str());
  std::fflush(stdout);
  if (pg) {
    while (!g_stop && std::fgetc(stdin) != EOF) {
    }
    std::fprintf(stderr, "portal_fill: stopping PostgreSQL\n");
  }
  return 0;  // ~PgServer stops the server and removes its directory
}

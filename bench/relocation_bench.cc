// Relocation benchmark (issue 14): storage::Relocator driven directly (its drainer's RunOnce on
// this thread, `workers` upload threads of its own) against the signature-checking S3 test server
// (storage::testing::S3Server: tests/s3/s3_server.mjs, `npm ci --prefix tests` first), with a
// real SQLite catalog and outbox.
//
//   1. bounded RSS: one --big-mb recording (written in 1 MiB chunks, never held in memory)
//      relocated with the default multipart settings (16 MiB parts, 4 in flight); prints the
//      process's VmHWM before and after (peak RSS) and the bound parts_in_flight × part_size.
//   2. throughput: --files recordings of --mb MiB, uploaded by `curl --aws-sigv4` processes
//      (xargs -P --workers: the same parallelism) and relocated by the Relocator with
//      `verify = size_and_hash` and `read_back`, alternated --rounds times in one run; prints
//      MB/s of each and the ratio relocation ÷ curl (goal ≥ 0.8).
//
// Usage: relocation_bench [--files 24] [--mb 8] [--workers 4] [--rounds 2] [--big-mb 300]
//                         [--threshold-mb N (multipart above N MiB in the throughput runs)]
// Results: docs/performance.md.
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/testing/manifests.h"
#include "crypto/sha256.h"
#include "outbox/outbox.h"
#include "storage/local_recording_store.h"
#include "storage/relocator.h"
#include "storage/s3/client.h"
#include "storage/s3_recording_store.h"
#include "storage/testing/s3_server.h"
#include "storage/testing/s3_test_files.h"

namespace callvault::storage {
namespace {

constexpr char kQueue[] = "relocation";

long StatusKb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field) + 1);
  }
  return -1;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Die(const char* what, const Status& s) {
  std::fprintf(stderr, "relocation_bench: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

// One relocation setup: a catalog, an outbox, a recordings dir and a Relocator over a client.
class Bench {
 public:
  Bench(testing::S3Server* server, const std::string& dir, const std::string& prefix,
        UploadVerify verify, int workers, int threshold_mb = 0)
      : dir_(dir) {
    if (Status s = DefaultFs()->CreateDirs(dir); !s.ok()) Die("mkdir", s);
    s3::S3Options o = server->ClientOptions();
    o.prefix = prefix;
    o.request_timeout_ms = 300000;
    if (threshold_mb > 0) o.multipart_threshold_mb = static_cast<uint32_t>(threshold_mb);
    Result<std::unique_ptr<s3::Client>> c = s3::Client::Create(o);
    if (!c.ok()) Die("client", c.status());
    client_ = std::move(c).value();
    store_ = std::make_unique<S3RecordingStore>(client_.get());
    target_ = std::make_unique<S3RelocationTarget>(store_.get(), verify);
    Result<std::unique_ptr<catalog::Catalog>> cat =
        catalog::OpenCatalog({.url = "sqlite:" + dir + "/catalog.db"});
    if (!cat.ok()) Die("catalog", cat.status());
    catalog_ = std::move(cat).value();
    local_ = std::make_unique<LocalRecordingStore>(DefaultFs(), Recordings());
    outbox_ = std::make_unique<outbox::Outbox>(dir + "/outbox", DefaultFs(), &metrics_);
    if (Status s = outbox_->OpenQueue(kQueue); !s.ok()) Die("outbox", s);
    relocator_ = std::make_unique<Relocator>(RelocatorOptions{.workers = workers, .batch = 64},
                                             outbox_.get(), DefaultFs(), local_.get(),
                                             target_.get(), catalog_.get(), RealClock(), &metrics_);
  }

  std::string Recordings() const { return dir_ + "/recordings"; }

  // A finished call as the finalizer leaves it (audio, manifest, catalog row, outbox entry);
  // the audio is written in 1 MiB chunks. Returns the audio's path.
  std::string AddCall(int n, uint64_t bytes) {
    catalog::testing::ManifestSpec spec;
    spec.call_id = catalog::testing::TestCallId(1795593600000 + n * 1000, 0);
    nlohmann::json doc = catalog::testing::MakeManifestJson(spec);
    const std::string file = "2026/11/25/" + spec.call_id + ".wav";
    const std::string path = Recordings() + "/" + file;
    if (Status s = DefaultFs()->CreateDirs(Recordings() + "/2026/11/25"); !s.ok()) Die("mkdir", s);
    crypto::Sha256 sha;
    {
      std::FILE* f = std::fopen(path.c_str(), "wb");
      const std::string chunk = testing::TestBytes(1 << 20, static_cast<uint32_t>(n));
      for (uint64_t left = bytes; left > 0;) {
        const size_t k = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
        std::fwrite(chunk.data(), 1, k, f);
        sha.Update(std::string_view(chunk.data(), k));
        left -= k;
      }
      std::fclose(f);
    }
    doc["audio"]["file"] = file;
    doc["audio"]["bytes"] = bytes;
    doc["audio"]["sha256"] = sha.HexDigest();
    if (Status s = WriteFileDurably(*DefaultFs(), path + ".json", doc.dump()); !s.ok()) {
      Die("manifest", s);
    }
    if (Status s = catalog_->IngestManifests({catalog::testing::ToManifest(doc)}); !s.ok()) {
      Die("ingest", s);
    }
    if (Status s = outbox_->Put(kQueue, outbox::Entry{.call_id = spec.call_id,
                                                      .manifest = file + ".json",
                                                      .state = "completed",
                                                      .finalized = doc["times"]["finalized"]});
        !s.ok()) {
      Die("outbox put", s);
    }
    return path;
  }

  // Relocates everything queued; seconds taken.
  double Drain() {
    const double t0 = Now();
    for (int i = 0; i < 100000; ++i) {
      bool more = false;
      if (Status s = relocator_->drainer().RunOnce(&more); !s.ok()) Die("relocate", s);
      if (!more) break;
    }
    const double took = Now() - t0;
    if (outbox_->backlog(kQueue) != 0) Die("relocate", InternalError("entries left"));
    return took;
  }

  uint64_t relocated() const { return relocator_->relocated(); }

 private:
  std::string dir_;
  Registry metrics_;
  std::unique_ptr<s3::Client> client_;
  std::unique_ptr<S3RecordingStore> store_;
  std::unique_ptr<S3RelocationTarget> target_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<LocalRecordingStore> local_;
  std::unique_ptr<outbox::Outbox> outbox_;
  std::unique_ptr<Relocator> relocator_;
};

// The same files uploaded by plain `curl --aws-sigv4` processes, `workers` at once.
double CurlUpload(testing::S3Server& server, const std::vector<std::string>& files,
                  const std::string& prefix, int workers, const std::string& dir) {
  const std::string list = dir + "/curl-files.txt";
  {
    std::ofstream out(list);
    for (const std::string& f : files) out << f << "\n";
  }
  const std::string cmd = "xargs -P " + std::to_string(workers) +
                          " -I{} sh -c 'curl -sS -f -o /dev/null "
                          "--aws-sigv4 aws:amz:us-east-1:s3 --user \"" +
                          server.access_key_id() + ":" + server.secret_access_key() +
                          "\" -H \"x-amz-content-sha256: UNSIGNED-PAYLOAD\" -T {} " +
                          server.endpoint() + "/" + server.bucket() + "/" + prefix +
                          "$(basename {})' < " + list;
  const double t0 = Now();
  const int rc = std::system(cmd.c_str());
  const double took = Now() - t0;
  if (rc != 0) Die("curl", InternalError("curl upload failed: " + std::to_string(rc)));
  return took;
}

int Main(int argc, char** argv) {
  int files = 24, mb = 8, workers = 4, rounds = 2, big_mb = 300, threshold_mb = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--files")
      files = v;
    else if (a == "--mb")
      mb = v;
    else if (a == "--workers")
      workers = v;
    else if (a == "--rounds")
      rounds = v;
    else if (a == "--big-mb")
      big_mb = v;
    else if (a == "--threshold-mb")
      threshold_mb = v;  // throughput runs; 0 = the default (64)
  }
  Result<std::unique_ptr<testing::S3Server>> server = testing::S3Server::Start();
  if (!server.ok()) Die("S3 server", server.status());
  testing::TempDir tmp;
  int serial = 0;

  // 1. Bounded RSS for one big recording (first, so nothing else raised the high-water mark).
  if (big_mb > 0) {
    Bench b(server->get(), tmp.path() + "/big", "big/", UploadVerify::kSizeAndHash, workers);
    b.AddCall(++serial, static_cast<uint64_t>(big_mb) << 20);
    const long hwm0 = StatusKb("VmHWM:"), rss0 = StatusKb("VmRSS:");
    const double took = b.Drain();
    const long hwm1 = StatusKb("VmHWM:");
    s3::S3Options d;
    std::printf(
        "big recording: %d MiB relocated in %.2f s (%.0f MB/s); VmRSS before %ld KiB, "
        "VmHWM before %ld KiB, after %ld KiB (peak grew %.1f MiB; bound "
        "parts_in_flight %d x part_size %d MiB = %d MiB)\n",
        big_mb, took, big_mb * 1.048576 / took, rss0, hwm0, hwm1, (hwm1 - hwm0) / 1024.0,
        d.parts_in_flight, d.part_size_mb, d.parts_in_flight * d.part_size_mb);
    std::fflush(stdout);
  }
  if (rounds <= 0 || files <= 0) return 0;

  // 2. Throughput, alternated.
  std::map<std::string, std::vector<double>> rate;  // MB/s
  const double total_mb = files * mb * 1.048576;
  for (int r = 0; r < rounds; ++r) {
    for (const char* mode : {"curl", "size_and_hash", "read_back"}) {
      const std::string name = std::string(mode) + "-" + std::to_string(r);
      Bench b(
          server->get(), tmp.path() + "/" + name, name + "/",
          std::string(mode) == "read_back" ? UploadVerify::kReadBack : UploadVerify::kSizeAndHash,
          workers, threshold_mb);
      std::vector<std::string> paths;
      for (int i = 0; i < files; ++i) paths.push_back(b.AddCall(++serial, uint64_t(mb) << 20));
      const double took = std::string(mode) == "curl"
                              ? CurlUpload(**server, paths, name + "/", workers, tmp.path())
                              : b.Drain();
      rate[mode].push_back(total_mb / took);
      std::printf("round %d %-13s %d x %d MiB, %d at once: %.2f s, %.1f MB/s\n", r + 1, mode, files,
                  mb, workers, took, total_mb / took);
      std::fflush(stdout);
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  const double curl = median(rate["curl"]);
  std::printf(
      "median MB/s: curl %.1f, relocation size_and_hash %.1f (ratio %.2f), read_back "
      "%.1f (ratio %.2f)\n",
      curl, median(rate["size_and_hash"]), median(rate["size_and_hash"]) / curl,
      median(rate["read_back"]), median(rate["read_back"]) / curl);
  return 0;
}

}  // namespace
}  // namespace callvault::storage

int main(int argc, char** argv) { return callvault::storage::Main(argc, argv); }

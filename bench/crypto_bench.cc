// Encryption at rest cost (src/crypto/): encrypting 8 MiB of audio through EncryptingFile into
// memory, and decrypting it back through DecryptingReader in 64 KiB reads and in one 1 MiB
// Range, against two baselines measured in the same run: memcpy of the same bytes and SHA-256
// of them (the finalizer hashes every audio file anyway). Bytes/s is of plaintext.
// An hour of stereo 8 kHz WAV is 115 MB: divide by the encrypt rate for the finalizer's extra
// time per call-hour.
// Usage: build/release/bench/crypto_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstring>
#include <random>
#include <string>

#include "crypto/decrypting_reader.h"
#include "crypto/encrypting_file.h"

namespace {

using namespace callvault;
using namespace callvault::crypto;

constexpr size_t kBytes = 8 << 20;

const std::string& Plain() {
  static const std::string s = [] {
    std::mt19937 rng(1);
    std::string p(kBytes, '\0');
    for (char& c : p) c = static_cast<char>(rng());
    return p;
  }();
  return s;
}

const TenantKey& Key() {
  static const TenantKey k = [] {
    TenantKey t;
    t.tenant = "acme";
    t.key_id = "bench-key";
    t.key = SecretKey::Random().value();
    return t;
  }();
  return k;
}

// Appends into a string (no disk: the cipher's cost alone).
class MemoryFile final : public AppendableFile {
 public:
  explicit MemoryFile(std::string* out) : out_(out) {}
  Status Append(std::string_view d) override {
    out_->append(d);
    return Status::Ok();
  }
  Status Flush() override { return Status::Ok(); }
  Status Sync() override { return Status::Ok(); }
  Status Close() override { return Status::Ok(); }
  uint64_t size() const override { return out_->size(); }
  const std::string& path() const override { return path_; }

 private:
  std::string* out_;
  std::string path_ = "memory";
};

std::string EncryptOnce() {
  std::string out;
  out.reserve(kBytes + kBytes / 4000 + 1024);
  auto f = EncryptingFile::Create(std::make_unique<MemoryFile>(&out), Key()).value();
  for (size_t pos = 0; pos < kBytes; pos += 1 << 20) {
    if (!f->Append(std::string_view(Plain()).substr(pos, 1 << 20)).ok()) std::abort();
  }
  if (!f->Close().ok()) std::abort();
  return out;
}

void BM_Memcpy(benchmark::State& state) {
  std::string dst(kBytes, '\0');
  for (auto _ : state) {
    std::memcpy(dst.data(), Plain().data(), kBytes);
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}

void BM_Sha256(benchmark::State& state) {
  unsigned char md[32];
  for (auto _ : state) {
    unsigned int len = 0;
    EVP_Digest(Plain().data(), kBytes, md, &len, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(md);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}

void BM_Encrypt(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(EncryptOnce());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}

void BM_Decrypt(benchmark::State& state) {
  const std::string stored = EncryptOnce();
  const size_t read_size = static_cast<size_t>(state.range(0));
  auto source = [&stored](uint64_t off, size_t len, char* buf) -> Result<size_t> {
    const size_t n =
        std::min<uint64_t>(len, stored.size() - std::min<uint64_t>(off, stored.size()));
    std::memcpy(buf, stored.data() + off, n);
    return n;
  };
  auto lookup = [](std::string_view) -> Result<TenantKey> { return Key(); };
  std::string buf(read_size, '\0');
  for (auto _ : state) {
    auto r = DecryptingReader::Open(source, stored.size(), lookup).value();
    for (uint64_t off = 0; off < kBytes; off += read_size) {
      if (!r->Read(off, read_size, buf.data()).ok()) std::abort();
    }
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}

BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sha256)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Encrypt)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decrypt)->Arg(64 << 10)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

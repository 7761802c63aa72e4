// EncryptingFile → DecryptingReader: round trips, ranged reads, and every tampering the format
// promises to detect (flipped bytes, swapped/spliced chunks, truncation, wrong keys).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <thread>
#include <unordered_set>

#include "base/fault_injecting_fs.h"
#include "crypto/decrypting_reader.h"
#include "crypto/encrypting_file.h"
#include "crypto/internal/aead.h"
#include "crypto/testing/memory_file.h"

namespace callvault::crypto {
namespace {

using testing::MapLookup;
using testing::MemoryFile;
using testing::StringSource;

TenantKey MakeKey(std::string tenant, std::string id) {
  TenantKey k;
  k.tenant = std::move(tenant);
  k.key_id = std::move(id);
  k.key = SecretKey::Random().value();
  return k;
}

// Plaintext that never repeats a 64-byte window (so a window search is meaningful).
std::string Plaintext(size_t n, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Encrypts `plain`, appending in pieces of `piece` bytes.
std::string Encrypt(std::string_view plain, const TenantKey& key, size_t piece = 1000) {
  std::string out;
  auto file = EncryptingFile::Create(std::make_unique<MemoryFile>(&out), key);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  for (size_t pos = 0; pos < plain.size(); pos += piece) {
    EXPECT_TRUE((*file)->Append(plain.substr(pos, piece)).ok());
  }
  EXPECT_EQ((*file)->size(), plain.size());
  EXPECT_TRUE((*file)->Close().ok());
  EXPECT_EQ((*file)->stored_size(), out.size());
  EXPECT_EQ((*file)->stored_sha256(), internal::HexEncode(internal::Sha256(out)));
  return out;
}

// True when some 64-byte window of `plain` occurs anywhere in `stored` (every window of both,
// by hash set, so it stays fast for megabytes).
bool LeaksPlaintext(const std::string& stored, std::string_view plain) {
  constexpr size_t kWindow = 64;
  if (stored.size() < kWindow) return false;
  std::unordered_set<std::string_view> windows;
  windows.reserve(stored.size());
  for (size_t pos = 0; pos + kWindow <= stored.size(); ++pos) {
    windows.insert(std::string_view(stored).substr(pos, kWindow));
  }
  for (size_t pos = 0; pos + kWindow <= plain.size(); ++pos) {
    if (windows.count(plain.substr(pos, kWindow)) != 0) return true;
  }
  return false;
}

class EncryptedFileTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<DecryptingReader>> Open(const std::string* stored,
                                                 bool verify_final = true) {
    return DecryptingReader::Open(
        StringSource(stored), stored->size(), lookup_,
        {.decrypt_failures = failures_, .verify_final_chunk = verify_final, .name = "test.wav"});
  }
  std::string ReadAll(const DecryptingReader& r) {
    std::string out(r.plaintext_size(), '\0');
    Result<size_t> n = r.Read(0, out.size() + 10, out.data());
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(n.value_or(0), out.size());
    return out;
  }
  static size_t HeaderSize(const std::string& stored) {
    return ParseEncryptedHeader(stored).value().size();
  }
  // Expects `r` to fail with DataLoss naming `chunk`, and the failure counter to rise by one.
  void ExpectChunkFailure(const Status& s, uint64_t chunk) {
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
    EXPECT_NE(s.message().find("chunk " + std::to_string(chunk) + ":"), std::string_view::npos)
        << s.ToString();
  }

  TenantKey key_ = MakeKey("acme", "key-acme-1");
  TenantKey other_ = MakeKey("globex", "key-globex-1");
  KeyLookupFn lookup_ = MapLookup({{key_.key_id, key_}, {other_.key_id, other_}});
  Registry registry_;
  Counter* failures_ = RegisterDecryptMetrics(registry_).value();
};

TEST_F(EncryptedFileTest, RoundTripsEverySizeAroundChunkBoundaries) {
  for (size_t n :
       {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{65537}, size_t{3 * 65536 + 5}}) {
    SCOPED_TRACE(n);
    const std::string plain = Plaintext(n, static_cast<uint32_t>(n));
    for (size_t piece : {size_t{1000}, size_t{65536}, std::max<size_t>(n, 1)}) {
      const std::string stored = Encrypt(plain, key_, piece);
      EXPECT_EQ(stored.size(), StoredSize(n, HeaderSize(stored)));
      auto r = Open(&stored);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ((*r)->plaintext_size(), n);
      EXPECT_EQ((*r)->tenant(), "acme");
      EXPECT_EQ((*r)->key_id(), "key-acme-1");
      EXPECT_EQ(ReadAll(**r), plain);
      char c;
      EXPECT_EQ((*r)->Read(n, 1, &c).value(), 0u);  // at the end
      EXPECT_EQ((*r)->Read(UINT64_MAX, 1, &c).value(), 0u);
      if (n > 0) {  // a huge length does not wrap around
        std::string tail(n - 1, '\0');
        EXPECT_EQ((*r)->Read(1, SIZE_MAX, tail.data()).value(), n - 1);
        EXPECT_EQ(tail, plain.substr(1));
      }
      EXPECT_FALSE(LeaksPlaintext(stored, plain));
    }
  }
  EXPECT_EQ(failures_->value(), 0u);
}

TEST(LeakScanTest, FindsAWindowOfPlaintext) {
  const std::string plain = Plaintext(1000);
  EXPECT_TRUE(LeaksPlaintext("header" + plain.substr(500, 64) + "tail", plain));
  EXPECT_FALSE(LeaksPlaintext("header" + plain.substr(500, 63) + "tail", plain));
}

TEST_F(EncryptedFileTest, EachFileHasItsOwnDataKeyAndNonces) {
  const std::string plain = Plaintext(1000);
  EXPECT_NE(Encrypt(plain, key_), Encrypt(plain, key_));
}

TEST_F(EncryptedFileTest, RandomRangedReadsEqualThePlaintextSliceFromManyThreads) {
  const std::string plain = Plaintext(3 * 65536 + 5);
  const std::string stored = Encrypt(plain, key_);
  auto r = Open(&stored);
  ASSERT_TRUE(r.ok());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::string buf;
      for (int i = 0; i < 300; ++i) {
        const uint64_t off = rng() % (plain.size() + 10);
        const size_t len = rng() % 140000;
        buf.assign(len, '\0');
        Result<size_t> n = (*r)->Read(off, len, buf.data());
        const size_t want = off >= plain.size() ? 0 : std::min<size_t>(len, plain.size() - off);
        if (!n.ok() || *n != want ||
            buf.compare(0, want, plain, std::min(off, plain.size()), want) != 0) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(EncryptedFileTest, ReadsOnlyTheCoveringChunksInFewSourceCalls) {
  const std::string plain = Plaintext(20 * 65536 + 7);  // 21 chunks
  const std::string stored = Encrypt(plain, key_);
  const size_t h = HeaderSize(stored);
  std::vector<std::pair<uint64_t, size_t>> calls;
  auto counting = [&](uint64_t offset, size_t len, char* buf) -> Result<size_t> {
    calls.emplace_back(offset, len);
    return StringSource(&stored)(offset, len, buf);
  };
  auto r = DecryptingReader::Open(counting, stored.size(), lookup_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(calls.size(), 2u);  // the header, the final chunk
  calls.clear();
  // A range inside chunk 5: that chunk alone.
  std::string buf(plain.size(), '\0');
  ASSERT_EQ((*r)->Read(5 * 65536 + 10, 100, buf.data()).value(), 100u);
  EXPECT_EQ(buf.substr(0, 100), plain.substr(5 * 65536 + 10, 100));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], std::make_pair(uint64_t{h + 5 * kStoredChunkSize}, kStoredChunkSize));
  calls.clear();
  // The whole file: runs of up to 16 chunks, one source call each.
  ASSERT_EQ((*r)->Read(0, buf.size(), buf.data()).value(), plain.size());
  EXPECT_EQ(buf, plain);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], std::make_pair(uint64_t{h}, 16 * kStoredChunkSize));
  EXPECT_EQ(calls[1], std::make_pair(uint64_t{h + 16 * kStoredChunkSize},
                                     4 * kStoredChunkSize + 7 + kTagSize));
}

TEST_F(EncryptedFileTest, FlippedByteInTheHeaderIsDetectedAtOpen) {
  const std::string stored = Encrypt(Plaintext(70000), key_);
  const size_t h = HeaderSize(stored);
  const size_t wrap = h - 64;  // wrap nonce 12, wrapped key 32, tag 16, nonce prefix 4
  // Tenant, wrap nonce, wrapped key, wrap tag, nonce prefix (caught by the final chunk's tag).
  for (size_t pos : {size_t{21}, wrap, wrap + 12, wrap + 44, h - 1}) {
    SCOPED_TRACE(pos);
    std::string bad = stored;
    bad[pos] ^= 0x01;
    const uint64_t before = failures_->value();
    auto r = Open(&bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
    EXPECT_EQ(failures_->value(), before + 1);
  }
  // The nonce prefix without the up-front check: every chunk fails, none is returned.
  std::string bad = stored;
  bad[h - 1] ^= 0x01;
  auto r = Open(&bad, /*verify_final=*/false);
  ASSERT_TRUE(r.ok());
  char buf[10];
  ExpectChunkFailure((*r)->Read(0, 10, buf).status(), 0);
}

TEST_F(EncryptedFileTest, FlippedByteInAChunkOrTagFailsThatChunkOnly) {
  const std::string plain = Plaintext(3 * 65536 + 5);
  const std::string stored = Encrypt(plain, key_);
  const size_t h = HeaderSize(stored);
  for (size_t pos : {h + kStoredChunkSize + 7,         // chunk 1's ciphertext
                     h + 2 * kStoredChunkSize - 1}) {  // chunk 1's tag
    SCOPED_TRACE(pos);
    std::string bad = stored;
    bad[pos] ^= 0x80;
    auto r = Open(&bad);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    // Chunk 0 and chunk 2 read fine.
    std::string buf(65536, '\0');
    ASSERT_EQ((*r)->Read(0, 65536, buf.data()).value(), 65536u);
    EXPECT_EQ(buf, plain.substr(0, 65536));
    ASSERT_EQ((*r)->Read(2 * 65536, 100, buf.data()).value(), 100u);
    EXPECT_EQ(buf.substr(0, 100), plain.substr(2 * 65536, 100));
    // A range across chunks 0 and 1: DataLoss naming chunk 1; no byte of chunk 1 in the buffer.
    const uint64_t before = failures_->value();
    std::string span(2000, 'Z');
    Status s = (*r)->Read(65536 - 1000, span.size(), span.data()).status();
    ExpectChunkFailure(s, 1);
    EXPECT_EQ(span.substr(0, 1000), plain.substr(65536 - 1000, 1000));
    EXPECT_EQ(span.substr(1000), std::string(1000, 'Z'));
    EXPECT_EQ(failures_->value(), before + 1);
  }
}

TEST_F(EncryptedFileTest, SwappedChunksAreDetected) {
  const std::string plain = Plaintext(3 * 65536 + 5);
  const std::string stored = Encrypt(plain, key_);
  const size_t h = HeaderSize(stored);
  std::string bad = stored;
  bad.replace(h, kStoredChunkSize, stored, h + kStoredChunkSize, kStoredChunkSize);
  bad.replace(h + kStoredChunkSize, kStoredChunkSize, stored, h, kStoredChunkSize);
  auto r = Open(&bad);
  ASSERT_TRUE(r.ok());
  std::string buf(10, '\0');
  ExpectChunkFailure((*r)->Read(0, 10, buf.data()).status(), 0);
  ExpectChunkFailure((*r)->Read(65536, 10, buf.data()).status(), 1);
  ASSERT_TRUE((*r)->Read(2 * 65536, 10, buf.data()).ok());
}

TEST_F(EncryptedFileTest, TruncationIsDetected) {
  const std::string plain = Plaintext(3 * 65536 + 5);
  const std::string stored = Encrypt(plain, key_);
  const size_t h = HeaderSize(stored);
  const std::string exact = Encrypt(Plaintext(2 * 65536), key_);  // ends with an empty chunk
  struct Case {
    const std::string* file;
    size_t keep;
  };
  for (Case c : {Case{&stored, h + 3 * kStoredChunkSize},          // the final chunk dropped
                 Case{&stored, h + 2 * kStoredChunkSize},          // at an earlier chunk boundary
                 Case{&stored, h + kStoredChunkSize + 5000 + 16},  // mid-chunk, looks final
                 Case{&stored, stored.size() - 1},
                 Case{&exact, exact.size() - 16},  // the empty final chunk dropped
                 Case{&stored, h + 10}, Case{&stored, h - 3}}) {
    SCOPED_TRACE(c.keep);
    const std::string cut = c.file->substr(0, c.keep);
    auto r = Open(&cut);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  }
  // Without the up-front check, the bytes before the cut read; the last chunk fails.
  const std::string cut = stored.substr(0, h + kStoredChunkSize + 5000 + 16);
  auto r = Open(&cut, /*verify_final=*/false);
  ASSERT_TRUE(r.ok());
  std::string buf(65536, '\0');
  ASSERT_TRUE((*r)->Read(0, 65536, buf.data()).ok());
  ExpectChunkFailure((*r)->Read(65536, 10, buf.data()).status(), 1);
}

TEST_F(EncryptedFileTest, ChunkSplicedFromAnotherFileIsDetected) {
  const std::string plain = Plaintext(3 * 65536 + 5);
  const std::string a = Encrypt(plain, key_);
  const std::string b = Encrypt(plain, key_);  // same plaintext, same tenant key
  const size_t h = HeaderSize(a);
  std::string bad = a;
  bad.replace(h + kStoredChunkSize, kStoredChunkSize, b, h + kStoredChunkSize, kStoredChunkSize);
  auto r = Open(&bad);
  ASSERT_TRUE(r.ok());
  std::string buf(10, '\0');
  ExpectChunkFailure((*r)->Read(65536, 10, buf.data()).status(), 1);
  // And b's header on a's chunks.
  std::string mixed = b.substr(0, h) + a.substr(h);
  EXPECT_EQ(Open(&mixed).status().code(), StatusCode::kDataLoss);
}

TEST_F(EncryptedFileTest, WrongTenantKeyFailsCleanly) {
  const std::string stored = Encrypt(Plaintext(1000), key_);
  // Same id and tenant, other key bytes.
  TenantKey wrong = MakeKey("acme", key_.key_id);
  auto r = DecryptingReader::Open(StringSource(&stored), stored.size(),
                                  MapLookup({{wrong.key_id, wrong}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("unwrapping the data key"), std::string_view::npos);
  // The id belongs to another tenant.
  TenantKey foreign = other_;
  foreign.key_id = key_.key_id;
  r = DecryptingReader::Open(StringSource(&stored), stored.size(),
                             MapLookup({{foreign.key_id, foreign}}));
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  // Unknown and destroyed keys keep their codes (HTTP: 404/500 vs 410).
  r = DecryptingReader::Open(StringSource(&stored), stored.size(), MapLookup({}));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  r = DecryptingReader::Open(StringSource(&stored), stored.size(),
                             [](std::string_view) -> Result<TenantKey> {
                               return FailedPreconditionError("tenant key x was destroyed");
                             });
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("destroyed"), std::string_view::npos);
}

TEST_F(EncryptedFileTest, PlainAudioIsRefusedNotServed) {
  const std::string wav = "RIFF\x24\0\0\0WAVEfmt " + Plaintext(1000);
  auto r = Open(&wav);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

// Vectors written by src/crypto/testdata/make_vector.py from docs/formats/encrypted-audio.md
// alone: the page and the code agree.
TEST(KnownVectorTest, DecryptsVectorsMadeFromTheFormatDoc) {
  TenantKey zero;
  zero.tenant = "t";
  zero.key_id = "k";  // key: 32 zero bytes
  for (size_t n : {size_t{100}, size_t{65536}, size_t{70000}}) {
    SCOPED_TRACE(n);
    const std::string path = std::string(CALLVAULT_SOURCE_DIR) + "/src/crypto/testdata/vector_" +
                             std::to_string(n) + ".cvenc";
    Result<std::string> stored = DefaultFs()->ReadFile(path);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    auto r =
        DecryptingReader::Open(StringSource(&*stored), stored->size(), MapLookup({{"k", zero}}));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ((*r)->plaintext_size(), n);
    std::string plain(n, '\0');
    ASSERT_EQ((*r)->Read(0, n, plain.data()).value(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(static_cast<uint8_t>(plain[i]), (7 * i + 3) % 251) << i;
    }
  }
}

TEST_F(EncryptedFileTest, WriterOverTheRealFsWithDurableEnd) {
  std::string dir = (std::filesystem::temp_directory_path() / "cv_crypto_XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  Fs& fs = *DefaultFs();
  const std::string path = dir + "/call.wav.enc";
  const std::string plain = Plaintext(200000);
  auto file = EncryptingFile::Create(fs.NewWritableFile(path).value(), key_);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(plain.substr(0, 100000)).ok());
  ASSERT_TRUE((*file)->Sync().ok());  // chunk 0 on disk, the rest buffered
  EXPECT_EQ(fs.FileSize(path).value(), HeaderSize(fs.ReadFile(path).value()) + kStoredChunkSize);
  ASSERT_TRUE((*file)->Append(plain.substr(100000)).ok());
  ASSERT_TRUE((*file)->FinishAndSync().ok());
  EXPECT_EQ((*file)->Append("x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(fs.FileSize(path).value(), (*file)->stored_size());
  const std::string stored = fs.ReadFile(path).value();
  EXPECT_EQ((*file)->stored_sha256(), internal::HexEncode(internal::Sha256(stored)));
  EXPECT_FALSE(LeaksPlaintext(stored, plain));

  auto raf = fs.NewRandomAccessFile(path).value();
  auto r = DecryptingReader::Open(SourceOf(raf.get()), raf->size(), lookup_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadAll(**r), plain);
  std::filesystem::remove_all(dir);
}

// A power loss before FinishAndSync() leaves the synced chunks and no final chunk: the file
// reads as truncated, never as a shorter valid recording (the finalizer writes a temp name and
// starts again).
TEST_F(EncryptedFileTest, CrashBeforeTheFinalChunkReadsAsTruncated) {
  std::string dir = (std::filesystem::temp_directory_path() / "cv_crypto_XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  FaultInjectingFs fs(DefaultFs());
  const std::string path = dir + "/call.wav.cvenc";
  ASSERT_TRUE(fs.SyncDir(dir).ok());
  auto file = EncryptingFile::Create(fs.NewWritableFile(path).value(), key_).value();
  ASSERT_TRUE(fs.SyncDir(dir).ok());
  ASSERT_TRUE(file->Append(Plaintext(150000)).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(fs.SimulateCrash().ok());
  const std::string stored = fs.ReadFile(path).value();
  EXPECT_EQ(stored.size(), HeaderSize(stored) + 2 * kStoredChunkSize);
  auto r = Open(&stored);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("truncated"), std::string_view::npos);
  std::filesystem::remove_all(dir);
}

TEST_F(EncryptedFileTest, CloseSyncsTheFinalChunkWhenTheCallerSyncedBefore) {
  std::string out;
  auto inner = std::make_unique<MemoryFile>(&out);
  MemoryFile* raw = inner.get();
  auto file = EncryptingFile::Create(std::move(inner), key_).value();
  ASSERT_TRUE(file->Append("abc").ok());
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(raw->syncs(), 1);
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(raw->syncs(), 2);  // after the final chunk

  std::string out2;
  inner = std::make_unique<MemoryFile>(&out2);
  raw = inner.get();
  file = EncryptingFile::Create(std::move(inner), key_).value();
  ASSERT_TRUE(file->Append("abc").ok());
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(raw->syncs(), 0);  // never asked for
}

TEST_F(EncryptedFileTest, AFailedInnerWriteBreaksTheFile) {
  std::string out;
  auto inner = std::make_unique<MemoryFile>(&out);
  MemoryFile* raw = inner.get();
  auto file = EncryptingFile::Create(std::move(inner), key_).value();
  raw->set_fail_appends(true);
  EXPECT_EQ(file->Append(Plaintext(65536)).code(), StatusCode::kIoError);
  raw->set_fail_appends(false);
  EXPECT_EQ(file->Append("x").code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(file->Close().ok());
  EXPECT_TRUE(file->stored_sha256().empty());
}

TEST_F(EncryptedFileTest, CreateRefusesANonEmptyFileAndBadNames) {
  std::string out = "already";
  EXPECT_EQ(EncryptingFile::Create(std::make_unique<MemoryFile>(&out), key_).status().code(),
            StatusCode::kFailedPrecondition);
  std::string empty;
  TenantKey bad = key_;
  bad.key_id = "../etc";
  EXPECT_EQ(EncryptingFile::Create(std::make_unique<MemoryFile>(&empty), bad).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace callvault::crypto

// DecryptingRecordingStore over a real LocalRecordingStore and KeyStore: encrypted recordings
// read back byte-identical (whole and by ranges), plain ones pass through, and every kind of
// damage — a flipped byte, swapped chunks, truncation, plain bytes where ciphertext belongs —
// is refused without a byte of the bad chunk and counted; a destroyed key is told apart.
#include "storage/decrypting_recording_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <thread>

#include "base/clock.h"
#include "base/fs.h"
#include "crypto/decrypting_reader.h"
#include "crypto/encrypted_file_format.h"
#include "crypto/encrypting_file.h"
#include "crypto/key_store.h"
#include "storage/local_recording_store.h"

namespace callvault::storage {
namespace {

constexpr char kCall[] = "01936b2e-7c4a-7d1e-9b0a-4f1e2d3c4b5a";

class DecryptingRecordingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv_decrypting_store_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_TRUE(fs_.CreateDirs(root_ + "/recordings").ok());
    Result<crypto::SecretKey> k = crypto::SecretKey::Random();
    ASSERT_TRUE(k.ok());
    master_ = crypto::MasterKey{*k, "test"};
    auto keys = crypto::KeyStore::Open(&fs_, root_ + "/keys", master_);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = std::move(keys).value();
    Result<Counter*> c = crypto::RegisterDecryptMetrics(registry_);
    ASSERT_TRUE(c.ok());
    failures_ = *c;
    local_ = std::make_unique<LocalRecordingStore>(&fs_, root_ + "/recordings");
    store_ = std::make_unique<DecryptingRecordingStore>(
        local_.get(),
        DecryptingStoreOptions{.keys = keys_->Lookup(), .decrypt_failures = failures_});
  }
  void TearDown() override { fs_.RemoveAll(root_).IgnoreError(); }

  static std::string Plaintext(size_t n) {
    std::string p = "RIFF";
    for (size_t i = p.size(); i < n; ++i) p += static_cast<char>((i * 7 + i / 251) & 0xff);
    return p;
  }
  // Writes `plain` encrypted under `tenant`'s key at `relative`; returns the ref for it.
  RecordingRef WriteEncrypted(const std::string& relative, const std::string& plain,
                              const std::string& tenant = "acme") {
    Result<crypto::TenantKey> key = keys_->ActiveKey(tenant, true);
    EXPECT_TRUE(key.ok());
    auto raw = fs_.NewWritableFile(Path(relative));
    EXPECT_TRUE(raw.ok());
    auto file = crypto::EncryptingFile::Create(std::move(raw).value(), *key);
    EXPECT_TRUE(file.ok());
    EXPECT_TRUE((*file)->Append(plain).ok());
    EXPECT_TRUE((*file)->FinishAndSync().ok());
    return {.call_id = kCall,
            .audio_file = relative,
            .sha256 = (*file)->stored_sha256(),
            .encrypted = true};
  }
  std::string Path(const std::string& relative) { return root_ + "/recordings/" + relative; }
  std::string ReadAll(AudioReader& r) {
    std::string out(r.size(), '\0');
    Result<size_t> n = r.Read(0, out.size(), out.data());
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    out.resize(n.ok() ? *n : 0);
    return out;
  }
  // Overwrites the stored file with `bytes`.
  void Store(const std::string& relative, const std::string& bytes) {
    ASSERT_TRUE(WriteFileDurably(fs_, Path(relative), bytes).ok());
  }

  Fs& fs_ = *DefaultFs();
  std::string root_;
  crypto::MasterKey master_;
  std::unique_ptr<crypto::KeyStore> keys_;
  Registry registry_;
  Counter* failures_ = nullptr;
  std::unique_ptr<LocalRecordingStore> local_;
  std::unique_ptr<DecryptingRecordingStore> store_;
};

TEST_F(DecryptingRecordingStoreTest, WholeFileAndRangesReadBackTheExactPlaintext) {
  const std::string plain = Plaintext(5 * crypto::kChunkSize + 1234);
  const RecordingRef ref = WriteEncrypted("a.wav.cvenc", plain);
  Result<std::unique_ptr<AudioReader>> r = store_->OpenAudio(ref);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->size(), plain.size());
  EXPECT_EQ((*r)->etag(), QuotedEtag(ref.sha256));
  EXPECT_EQ(ReadAll(**r), plain);
  // Ranges inside one chunk, across boundaries, the tail, past the end.
  const std::vector<std::pair<uint64_t, size_t>> ranges = {
      {0, 1},         {100, 1000},           {65535, 2}, {65000, 200000}, {327680, 1234},
      {327681, 5000}, {plain.size() - 1, 10}};
  for (auto [off, len] : ranges) {
    std::string buf(len, '\0');
    Result<size_t> n = (*r)->Read(off, len, buf.data());
    ASSERT_TRUE(n.ok()) << off;
    EXPECT_EQ(buf.substr(0, *n), plain.substr(off, len)) << off << "+" << len;
  }
  std::string none(10, '\0');
  EXPECT_EQ((*r)->Read(plain.size(), 10, none.data()).value(), 0u);
  // Several threads at once.
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t off = t * 7919; off + 4096 < plain.size(); off += 50000) {
        std::string buf(4096, '\0');
        Result<size_t> n = (*r)->Read(off, buf.size(), buf.data());
        if (!n.ok() || buf != plain.substr(off, 4096)) ++bad;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(failures_->value(), 0u);
}

TEST_F(DecryptingRecordingStoreTest, PlainPassesThroughAndPlainBytesForAnEncryptedRefAreRefused) {
  const std::string plain = Plaintext(5000);
  Store("p.wav", plain);
  RecordingRef ref{.call_id = kCall, .audio_file = "p.wav", .sha256 = "ab"};
  Result<std::unique_ptr<AudioReader>> r = store_->OpenAudio(ref);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadAll(**r), plain);
  // The manifest says encrypted, the bytes are plain: someone replaced the ciphertext.
  ref.encrypted = true;
  r = store_->OpenAudio(ref);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  EXPECT_EQ(failures_->value(), 1u);
  // And an encrypted file is decrypted even when the ref does not say so.
  RecordingRef enc = WriteEncrypted("e.wav.cvenc", plain);
  enc.encrypted = false;
  r = store_->OpenAudio(enc);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadAll(**r), plain);
}

TEST_F(DecryptingRecordingStoreTest, FlippedByteFailsOnlyItsChunkAndIsCounted) {
  const std::string plain = Plaintext(4 * crypto::kChunkSize + 10);
  const RecordingRef ref = WriteEncrypted("f.wav.cvenc", plain);
  std::string stored = fs_.ReadFile(Path(ref.audio_file)).value();
  const size_t header = crypto::ParseEncryptedHeader(stored).value().size();
  stored[header + 2 * crypto::kStoredChunkSize + 77] ^= 0x01;  // inside chunk 2
  Store(ref.audio_file, stored);
  Result<std::unique_ptr<AudioReader>> r = store_->OpenAudio(ref);
  ASSERT_TRUE(r.ok()) << r.status().ToString();  // the final chunk is fine
  std::string buf(crypto::kChunkSize, '\0');
  ASSERT_TRUE((*r)->Read(crypto::kChunkSize, buf.size(), buf.data()).ok());  // chunk 1: fine
  EXPECT_EQ(buf, plain.substr(crypto::kChunkSize, crypto::kChunkSize));
  const uint64_t before = failures_->value();
  std::string bad(1000, 'X');
  Result<size_t> n = (*r)->Read(2 * crypto::kChunkSize + 10, bad.size(), bad.data());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kDataLoss) << n.status().ToString();
  EXPECT_EQ(bad, std::string(1000, 'X'));  // no byte of the bad chunk
  EXPECT_EQ(failures_->value(), before + 1);
}

TEST_F(DecryptingRecordingStoreTest, SwappedChunksAndTruncationAreDetected) {
  const std::string plain = Plaintext(3 * crypto::kChunkSize + 10);
  const RecordingRef ref = WriteEncrypted("s.wav.cvenc", plain);
  const std::string stored = fs_.ReadFile(Path(ref.audio_file)).value();
  const size_t h = crypto::ParseEncryptedHeader(stored).value().size();
  const size_t c = crypto::kStoredChunkSize;
  std::string swapped = stored;
  swapped.replace(h, c, stored.substr(h + c, c));
  swapped.replace(h + c, c, stored.substr(h, c));
  Store(ref.audio_file, swapped);
  Result<std::unique_ptr<AudioReader>> r = store_->OpenAudio(ref);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string buf(100, '\0');
  EXPECT_EQ((*r)->Read(0, buf.size(), buf.data()).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(failures_->value(), 1u);

  // Cut at a chunk boundary (the final chunk gone) and inside a chunk: refused at open.
  for (size_t cut : {h + 3 * c, h + 2 * c + 100}) {
    Store(ref.audio_file, stored.substr(0, cut));
    const uint64_t before = failures_->value();
    r = store_->OpenAudio(ref);
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
    EXPECT_FALSE(IsKeyDestroyed(r.status()));
    EXPECT_EQ(failures_->value(), before + 1);
  }
}

TEST_F(DecryptingRecordingStoreTest, DestroyedTenantKeyIsToldApartAndOtherTenantsStillPlay) {
  const std::string plain = Plaintext(70000);
  const RecordingRef acme = WriteEncrypted("acme.wav.cvenc", plain, "acme");
  const RecordingRef globex = WriteEncrypted("globex.wav.cvenc", plain, "globex");
  ASSERT_TRUE(keys_->Destroy("acme").ok());
  Result<std::unique_ptr<AudioReader>> r = store_->OpenAudio(acme);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(IsKeyDestroyed(r.status())) << r.status().ToString();
  r = store_->OpenAudio(globex);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadAll(**r), plain);
  EXPECT_EQ(failures_->value(), 0u);  // a destroyed key is not a decrypt failure
}

TEST_F(DecryptingRecordingStoreTest, NoKeyOnThisNodeIsAFailedPreconditionNotNotFound) {
  const RecordingRef ref = WriteEncrypted("k.wav.cvenc", Plaintext(1000));
  DecryptingRecordingStore keyless(local_.get(), {});
  Result<std::unique_ptr<AudioReader>> r = keyless.OpenAudio(ref);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_FALSE(IsKeyDestroyed(r.status()));
  // Another node's key store (another master key, no such key id).
  auto other = crypto::KeyStore::Open(&fs_, root_ + "/other-keys", master_);
  ASSERT_TRUE(other.ok());
  DecryptingRecordingStore elsewhere(local_.get(), {.keys = (*other)->Lookup()});
  r = elsewhere.OpenAudio(ref);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_FALSE(IsKeyDestroyed(r.status()));
  // Delete/Locate forward.
  EXPECT_EQ(keyless.Locate(ref).value(), "local:k.wav.cvenc");
  RecordingRef missing = ref;
  missing.audio_file = "gone.wav";
  EXPECT_EQ(store_->Locate(missing).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace callvault::storage

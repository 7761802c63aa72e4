// Encrypted recordings over the API (issue 14, acceptance 8): playback and Range return the
// plaintext; a flipped byte → 500 audio_corrupt with no byte of the bad chunk and the
// decrypt-failure counter up; after the tenant key is destroyed → 410 key_destroyed while
// other tenants still play. A real server, SQLite catalog, LocalRecordingStore and KeyStore.
#include <gtest/gtest.h>

#include "crypto/decrypting_reader.h"
#include "crypto/encrypted_file_format.h"
#include "crypto/encrypting_file.h"
#include "crypto/key_store.h"
#include "http/testing/api_fixture.h"
#include "storage/decrypting_recording_store.h"

namespace callvault::http {
namespace {

using catalog::testing::ManifestSpec;
using catalog::testing::TestCallId;

class EncryptedAudioApiTest : public testing::ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    Result<crypto::SecretKey> k = crypto::SecretKey::Random();
    ASSERT_TRUE(k.ok());
    auto keys = crypto::KeyStore::Open(DefaultFs(), dir_ + "/keys", crypto::MasterKey{*k, "t"});
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = std::move(keys).value();
    Result<Counter*> c = crypto::RegisterDecryptMetrics(registry_);
    ASSERT_TRUE(c.ok());
    failures_ = *c;
    decrypting_ = std::make_unique<storage::DecryptingRecordingStore>(
        recordings_store_.get(),
        storage::DecryptingStoreOptions{.keys = keys_->Lookup(), .decrypt_failures = failures_});
    served_store_ = decrypting_.get();
    Start(HttpOptions{});
  }
  void TearDown() override {
    ApiTest::TearDown();  // stops the server before the decorator goes
    decrypting_.reset();
  }

  // Ingests a call of `tenant` whose audio (a WAV of `wav_bytes` PCM bytes) is stored
  // encrypted, with a version 2 manifest as the finalizer writes it. Returns {manifest, wav}.
  std::pair<nlohmann::json, std::string> IngestEncrypted(const std::string& tenant, uint64_t n,
                                                         uint32_t wav_bytes) {
    ManifestSpec spec;
    spec.tenant = tenant;
    spec.started_ms += static_cast<int64_t>(n) * 60000;  // the audio file is named by the time
    spec.call_id = TestCallId(spec.started_ms, n);
    nlohmann::json m = catalog::testing::MakeManifestJson(spec);
    const std::string plain_name = m["audio"]["file"].get<std::string>();
    const std::string wav = WriteWav(plain_name, wav_bytes);
    std::filesystem::remove(recordings_ + "/" + plain_name);
    const std::string stored_name = plain_name + ".cvenc";
    Result<crypto::TenantKey> key = keys_->ActiveKey(tenant, true);
    EXPECT_TRUE(key.ok());
    auto raw = DefaultFs()->NewWritableFile(recordings_ + "/" + stored_name);
    EXPECT_TRUE(raw.ok());
    auto file = crypto::EncryptingFile::Create(std::move(raw).value(), *key);
    EXPECT_TRUE(file.ok());
    EXPECT_TRUE((*file)->Append(wav).ok());
    EXPECT_TRUE((*file)->FinishAndSync().ok());
    m["version"] = 2;
    m["audio"]["file"] = stored_name;
    m["audio"]["bytes"] = (*file)->stored_size();
    m["audio"]["sha256"] = (*file)->stored_sha256();
    m["audio"]["encryption"] = {{"format", "callvault-encrypted-audio"},
                                {"version", 1},
                                {"algorithm", "aes-256-gcm-chunked"},
                                {"tenant", tenant},
                                {"key_id", key->key_id},
                                {"plaintext_bytes", wav.size()}};
    Result<recording::Manifest> parsed = recording::ManifestFromJson(m);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    Status s = catalog_->IngestManifests({std::move(parsed).value()});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return {m, wav};
  }
  static std::string AudioUrl(const nlohmann::json& m) {
    return "/api/v1/calls/" + m["call_id"].get<std::string>() + "/audio";
  }

  std::unique_ptr<crypto::KeyStore> keys_;
  Counter* failures_ = nullptr;
  std::unique_ptr<storage::DecryptingRecordingStore> decrypting_;
};

TEST_F(EncryptedAudioApiTest, PlaybackAndRangeReturnThePlaintext) {
  const auto [m, wav] = IngestEncrypted("acme", 1, 300000);
  auto admin = As("admin");
  auto res = admin->Get(AudioUrl(m));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body.size(), wav.size());
  EXPECT_TRUE(res->body == wav);
  EXPECT_EQ(res->get_header_value("Content-Type"), "audio/wav");
  EXPECT_EQ(res->get_header_value("ETag"), "\"" + m["audio"]["sha256"].get<std::string>() + "\"");
  const uint64_t size = wav.size();
  for (auto [a, b] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0, 99}, {65530, 65545}, {70000, 200000}, {size - 10, size - 1}}) {
    const std::string range = "bytes=" + std::to_string(a) + "-" + std::to_string(b);
    res = admin->Get(AudioUrl(m), {{"Range", range}});
    ASSERT_TRUE(res) << range;
    EXPECT_EQ(res->status, 206) << range;
    EXPECT_TRUE(res->body == wav.substr(a, b - a + 1)) << range;
    EXPECT_EQ(res->get_header_value("Content-Range"),
              "bytes " + std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(size));
  }
  // The tenant-scoped viewer of acme plays it too; the detail says encrypted.
  res = As("acme")->Get(AudioUrl(m), {{"Range", "bytes=0-3"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "RIFF");
  EXPECT_EQ(failures_->value(), 0u);
}

TEST_F(EncryptedAudioApiTest, FlippedByteIs500AndNoByteOfTheBadChunkIsSent) {
  const auto [m, wav] = IngestEncrypted("acme", 2, 300000);
  const std::string path = recordings_ + "/" + m["audio"]["file"].get<std::string>();
  std::string stored = DefaultFs()->ReadFile(path).value();
  const size_t h = crypto::ParseEncryptedHeader(stored).value().size();
  stored[h + 10] ^= 0x40;  // chunk 0
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), path, stored).ok());
  auto admin = As("admin");
  auto res = admin->Get(AudioUrl(m));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(ErrorCode(res), "audio_corrupt");
  EXPECT_EQ(failures_->value(), 1u);
  // A range in a good chunk still plays.
  res = admin->Get(AudioUrl(m), {{"Range", "bytes=70000-70099"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 206);
  EXPECT_EQ(res->body, wav.substr(70000, 100));

  // A bad chunk in the middle of a stream: the good chunks go out, then the connection is cut
  // before a byte of the bad one (the length never completes).
  stored[h + 10] ^= 0x40;
  stored[h + 2 * crypto::kStoredChunkSize + 5] ^= 0x01;  // chunk 2
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), path, stored).ok());
  std::string got;
  res = admin->Get(AudioUrl(m), [&](const char* data, size_t n) {
    got.append(data, n);
    return true;
  });
  EXPECT_LE(got.size(), 2u * crypto::kChunkSize);
  EXPECT_EQ(got, wav.substr(0, got.size()));
  EXPECT_EQ(failures_->value(), 2u);
  // The counter is on /metrics.
  res = admin->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("callvault_decrypt_failures_total 2"), std::string::npos);
}

TEST_F(EncryptedAudioApiTest, DestroyedTenantKeyIs410AndOtherTenantsStillPlay) {
  const auto [acme, acme_wav] = IngestEncrypted("acme", 3, 1000);
  const auto [globex, globex_wav] = IngestEncrypted("globex", 4, 1000);
  ASSERT_TRUE(keys_->Destroy("acme").ok());
  auto admin = As("admin");
  auto res = admin->Get(AudioUrl(acme));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 410);
  EXPECT_EQ(ErrorCode(res), "key_destroyed");
  res = admin->Get(AudioUrl(acme), {{"Range", "bytes=0-10"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 410);
  res = admin->Get(AudioUrl(globex));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body == globex_wav);
  EXPECT_EQ(failures_->value(), 0u);
}

TEST_F(EncryptedAudioApiTest, PlainBytesWhereTheManifestSaysEncryptedAreRefused) {
  const auto [m, wav] = IngestEncrypted("acme", 5, 1000);
  // Someone replaces the ciphertext with a plain WAV under the same name.
  ASSERT_TRUE(
      WriteFileDurably(*DefaultFs(), recordings_ + "/" + m["audio"]["file"].get<std::string>(), wav)
          .ok());
  auto res = As("admin")->Get(AudioUrl(m));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(ErrorCode(res), "audio_corrupt");
  EXPECT_EQ(failures_->value(), 1u);
}

}  // namespace
}  // namespace callvault::http

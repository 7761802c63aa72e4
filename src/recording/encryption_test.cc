// Encryption at rest in the finalizer: a listed tenant's audio is written as ciphertext
// (".wav.cvenc", manifest version 2) that decrypts to the audio a plain run writes; other
// tenants stay plain version 1; without a key nothing is written and the spool stays.
#include <gtest/gtest.h>

#include <cstring>
#include <string_view>
#include <unordered_set>

#include "crypto/decrypting_reader.h"
#include "crypto/encrypted_file_format.h"
#include "crypto/key_store.h"
#include "crypto/sha256.h"
#include "recording/audio_key.h"
#include "recording/finalizer.h"
#include "recording/manifest_reader.h"
#include "recording/testing/finalizer_fixture.h"

namespace callvault::recording {
namespace {

class EncryptedFinalizeTest : public testing::FinalizerTest {
 protected:
  void SetUp() override {
    Result<crypto::SecretKey> k = crypto::SecretKey::Random();
    ASSERT_TRUE(k.ok());
    Result<std::unique_ptr<crypto::KeyStore>> store =
        crypto::KeyStore::Open(&fs_, tmp_.path() + "/keys", crypto::MasterKey{*k, "test"}, &clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    keys_ = std::move(store).value();
  }
  FinalizeOptions EncryptingOptions(std::vector<std::string> tenants) {
    FinalizeOptions o = Options();
    o.audio_key = [this, tenants](std::string_view tenant) {
      return AudioKeyFor(keys_.get(), tenants, tenant);
    };
    return o;
  }
  std::string Decrypt(const std::string& stored) {
    Result<std::unique_ptr<crypto::DecryptingReader>> r = crypto::DecryptingReader::Open(
        [&](uint64_t off, size_t len, char* buf) -> Result<size_t> {
          if (off >= stored.size()) return size_t{0};
          const size_t n = std::min<uint64_t>(len, stored.size() - off);
          std::memcpy(buf, stored.data() + off, n);
          return n;
        },
        stored.size(), keys_->Lookup());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    std::string plain((*r)->plaintext_size(), '\0');
    Result<size_t> n = (*r)->Read(0, plain.size(), plain.data());
    EXPECT_TRUE(n.ok() && *n == plain.size());
    return plain;
  }
  std::unique_ptr<crypto::KeyStore> keys_;
};

// True when any 64-byte window of `plain` occurs anywhere in `stored`.
bool SharesA64ByteWindow(const std::string& plain, const std::string& stored) {
  constexpr size_t kWindow = 64;
  std::unordered_set<std::string_view> windows;
  for (size_t i = 0; i + kWindow <= plain.size(); ++i)
    windows.insert(std::string_view(plain).substr(i, kWindow));
  for (size_t i = 0; i + kWindow <= stored.size(); ++i)
    if (windows.count(std::string_view(stored).substr(i, kWindow))) return true;
  return false;
}

TEST_F(EncryptedFinalizeTest, ListedTenantIsWrittenAsCiphertextWithAVersion2Manifest) {
  TwoToneCall("plain", 3);
  TwoToneCall("secret", 3);
  Result<FinalizeResult> plain =
      FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("plain"), .tenant = "acme"});
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  Result<FinalizeResult> enc = FinalizeCall(fs_, clock_, EncryptingOptions({"acme"}),
                                            {.spool_dir = Spool("secret"), .tenant = "acme"});
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();

  EXPECT_TRUE(enc->audio_path.ends_with(".wav.cvenc")) << enc->audio_path;
  EXPECT_FALSE(fs_.Exists(Spool("secret")));
  const std::string stored = fs_.ReadFile(enc->audio_path).value();
  const std::string wav = fs_.ReadFile(plain->audio_path).value();
  ASSERT_GT(wav.size(), 90000u);
  EXPECT_TRUE(crypto::LooksEncrypted(stored));
  EXPECT_FALSE(SharesA64ByteWindow(wav, stored));
  // The same call rendered plain and encrypted: the ciphertext opens to the same bytes.
  EXPECT_EQ(Decrypt(stored), wav);

  const nlohmann::json& m = enc->manifest;
  EXPECT_EQ(m["version"], 2);
  EXPECT_EQ(m["audio"]["file"].get<std::string>(),
            enc->audio_path.substr(enc->audio_path.find("/recordings/") + 12));
  EXPECT_EQ(m["audio"]["bytes"], stored.size());
  EXPECT_EQ(m["audio"]["sha256"], crypto::Sha256Hex(stored));
  EXPECT_EQ(m["audio"]["format"], "wav");
  const nlohmann::json& e = m["audio"]["encryption"];
  EXPECT_EQ(e["tenant"], "acme");
  EXPECT_EQ(e["plaintext_bytes"], wav.size());
  EXPECT_EQ(e["key_id"], keys_->ActiveKey("acme", false).value().key_id);
  Result<Manifest> parsed = ParseManifest(fs_.ReadFile(enc->manifest_path).value());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_TRUE(parsed->audio.encryption.has_value());
  EXPECT_EQ(parsed->audio.encryption->plaintext_bytes, static_cast<int64_t>(wav.size()));

  // The plain twin: version 1, no encryption block.
  EXPECT_EQ(plain->manifest["version"], 1);
  EXPECT_FALSE(plain->manifest["audio"].contains("encryption"));
}

TEST_F(EncryptedFinalizeTest, OpusIsEncryptedToo) {
  TwoToneCall("opus", 2);
  FinalizeOptions o = EncryptingOptions({"*"});
  o.format = AudioFormat::kOggOpus;
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, o, {.spool_dir = Spool("opus")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->audio_path.ends_with(".opus.cvenc")) << r->audio_path;
  const std::string plain = Decrypt(fs_.ReadFile(r->audio_path).value());
  EXPECT_EQ(plain.substr(0, 4), "OggS");
  EXPECT_EQ(r->manifest["audio"]["encryption"]["tenant"], std::string(kNoTenantKeyName));
}

TEST_F(EncryptedFinalizeTest, TenantNotListedStaysPlainVersion1) {
  TwoToneCall("other", 2);
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, EncryptingOptions({"acme", ""}),
                                          {.spool_dir = Spool("other"), .tenant = "globex"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->audio_path.ends_with(".wav")) << r->audio_path;
  EXPECT_EQ(fs_.ReadFile(r->audio_path).value().substr(0, 4), "RIFF");
  EXPECT_EQ(r->manifest["version"], 1);
  EXPECT_FALSE(r->manifest["audio"].contains("encryption"));
  EXPECT_TRUE(keys_->List().empty());  // no key was made for it
}

TEST_F(EncryptedFinalizeTest, NoKeyMeansNoAudioAndTheSpoolStaysForTheRetry) {
  TwoToneCall("retry", 2);
  FinalizeOptions broken = Options();
  broken.audio_key = [](std::string_view tenant) {
    return AudioKeyFor(nullptr, {"*"}, tenant);  // the key store is not open
  };
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, broken, {.spool_dir = Spool("retry")});
  ASSERT_FALSE(r.ok());
  // Unavailable, not NotFound/Aborted: the finalize queue retries it with a backoff.
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_TRUE(fs_.Exists(Spool("retry")));
  Result<std::vector<std::string>> names = fs_.ListDir(tmp_.path() + "/recordings");
  EXPECT_TRUE(!names.ok() || names->empty()) << "nothing is claimed or written";

  // The retry, with the key store back: encrypted, and the spool is gone.
  Result<FinalizeResult> again =
      FinalizeCall(fs_, clock_, EncryptingOptions({"*"}), {.spool_dir = Spool("retry")});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->audio_path.ends_with(".wav.cvenc"));
  EXPECT_FALSE(fs_.Exists(Spool("retry")));
}

TEST(AudioKeyTest, Policy) {
  EXPECT_TRUE(TenantEncrypted({"*"}, ""));
  EXPECT_TRUE(TenantEncrypted({"*"}, "acme"));
  EXPECT_TRUE(TenantEncrypted({"acme"}, "acme"));
  EXPECT_FALSE(TenantEncrypted({"acme"}, ""));
  EXPECT_TRUE(TenantEncrypted({""}, ""));
  EXPECT_FALSE(TenantEncrypted({""}, "acme"));
  EXPECT_FALSE(TenantEncrypted({}, "acme"));
  EXPECT_EQ(KeyTenantOf(""), "(no tenant)");
  EXPECT_EQ(KeyTenantOf("acme"), "acme");
  Result<std::optional<crypto::TenantKey>> none = AudioKeyFor(nullptr, {"acme"}, "globex");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace callvault::recording

#include "crypto/key_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "base/clock.h"
#include "base/fault_injecting_fs.h"
#include "crypto/decrypting_reader.h"
#include "crypto/encrypting_file.h"
#include "crypto/testing/memory_file.h"

namespace callvault::crypto {
namespace {

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cv_keys_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl + "/keys";
    root_ = tmpl;
    master_.key = SecretKey::Random().value();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<KeyStore> OpenStore(const MasterKey& master) {
    auto store = KeyStore::Open(&fs_, dir_, master, &clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  FaultInjectingFs fs_{DefaultFs()};
  FakeClock clock_;
  std::string root_, dir_;
  MasterKey master_;
};

TEST_F(KeyStoreTest, CreatesFindsAndReloadsKeys) {
  auto store = OpenStore(master_);
  EXPECT_EQ(store->ActiveKey("acme", false).status().code(), StatusCode::kNotFound);
  Result<TenantKey> acme = store->ActiveKey("acme", true);
  ASSERT_TRUE(acme.ok()) << acme.status().ToString();
  EXPECT_EQ(acme->tenant, "acme");
  EXPECT_EQ(acme->key_id.size(), 36u);
  // The same key again; another tenant gets another.
  EXPECT_EQ(store->ActiveKey("acme", true)->key_id, acme->key_id);
  Result<TenantKey> globex = store->ActiveKey("globex", true);
  ASSERT_TRUE(globex.ok());
  EXPECT_NE(globex->key_id, acme->key_id);
  EXPECT_FALSE(globex->key == acme->key);
  EXPECT_EQ(store->Find(acme->key_id)->key, acme->key);
  EXPECT_EQ(store->Find("nope").status().code(), StatusCode::kNotFound);
  // On disk: wrapped, never the raw key.
  const std::string file = fs_.ReadFile(dir_ + "/" + acme->key_id + ".json").value();
  EXPECT_EQ(file.find(std::string(reinterpret_cast<const char*>(acme->key.data()), 32)),
            std::string::npos);
  EXPECT_NE(file.find("\"tenant\":\"acme\""), std::string::npos);

  store.reset();
  auto again = OpenStore(master_);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->ActiveKey("acme", false)->key, acme->key);
  EXPECT_EQ(again->Find(globex->key_id)->key, globex->key);
  EXPECT_EQ(again->List().size(), 2u);
}

TEST_F(KeyStoreTest, WrongMasterKeyRefusesToOpen) {
  ASSERT_TRUE(OpenStore(master_)->ActiveKey("acme", true).ok());
  MasterKey wrong;
  wrong.key = SecretKey::Random().value();
  auto store = KeyStore::Open(&fs_, dir_, wrong, &clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(store.status().message().find("wrong master key"), std::string_view::npos);
}

TEST_F(KeyStoreTest, KeyFileEditedToAnotherTenantDoesNotUnwrap) {
  const std::string id = OpenStore(master_)->ActiveKey("acme", true)->key_id;
  const std::string path = dir_ + "/" + id + ".json";
  std::string text = fs_.ReadFile(path).value();
  text.replace(text.find("\"acme\""), 6, "\"evil\"");
  ASSERT_TRUE(WriteFileDurably(fs_, path, text).ok());
  EXPECT_EQ(KeyStore::Open(&fs_, dir_, master_, &clock_).status().code(), StatusCode::kDataLoss);
}

TEST_F(KeyStoreTest, DestroyShredsAndLeavesATombstone) {
  auto store = OpenStore(master_);
  TenantKey acme = store->ActiveKey("acme", true).value();
  TenantKey globex = store->ActiveKey("globex", true).value();
  clock_.Advance(std::chrono::hours(1));
  ASSERT_TRUE(store->Destroy("acme").ok());
  EXPECT_EQ(store->Destroy("acme").code(), StatusCode::kNotFound);  // nothing left to destroy
  EXPECT_FALSE(fs_.Exists(dir_ + "/" + acme.key_id + ".json"));
  const std::string tomb = fs_.ReadFile(dir_ + "/" + acme.key_id + ".destroyed").value();
  EXPECT_NE(tomb.find("\"destroyed\":\"2026-01-01T01:00:00.000Z\""), std::string::npos) << tomb;

  auto check = [&](KeyStore& s) {
    Result<TenantKey> found = s.Find(acme.key_id);
    EXPECT_EQ(found.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(found.status().message().find("destroyed at 2026-01-01T01:00:00.000Z"),
              std::string_view::npos)
        << found.status().ToString();
    EXPECT_EQ(s.ActiveKey("acme", false).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(s.Find(globex.key_id)->key, globex.key);
  };
  check(*store);
  store.reset();
  auto again = OpenStore(master_);
  check(*again);
  // New recordings of the tenant get a new key.
  Result<TenantKey> fresh = again->ActiveKey("acme", true);
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->key_id, acme.key_id);
  std::vector<TenantKeyInfo> list = again->List();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].key_id, acme.key_id);
  EXPECT_TRUE(list[0].destroyed);
  EXPECT_FALSE(list[0].active);
  EXPECT_EQ(list[1].key_id, fresh->key_id);
  EXPECT_TRUE(list[1].active);
  EXPECT_EQ(list[2].tenant, "globex");
}

TEST_F(KeyStoreTest, DestroyByAnotherProcessIsHonouredAtOnce) {
  // The server's store and the CLI's store on the same directory.
  auto server = OpenStore(master_);
  Result<TenantKey> acme = server->ActiveKey("acme", true);
  Result<TenantKey> globex = server->ActiveKey("globex", true);
  ASSERT_TRUE(acme.ok() && globex.ok());
  auto cli = OpenStore(master_);
  ASSERT_TRUE(cli->Destroy("acme").ok());
  Result<TenantKey> found = server->Find(acme->key_id);
  EXPECT_EQ(found.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(found.status().message().find("destroyed"), std::string::npos);
  EXPECT_TRUE(server->Find(globex->key_id).ok());
  // New recordings of the tenant get a new key, never the destroyed one.
  Result<TenantKey> next = server->ActiveKey("acme", true);
  ASSERT_TRUE(next.ok());
  EXPECT_NE(next->key_id, acme->key_id);
}

TEST_F(KeyStoreTest, InterruptedDestroyIsFinishedOnOpen) {
  TenantKey acme = OpenStore(master_)->ActiveKey("acme", true).value();
  // A crash after the tombstone, before the key file went.
  ASSERT_TRUE(WriteFileDurably(fs_, dir_ + "/" + acme.key_id + ".destroyed",
                               R"({"format":"callvault-tenant-key-tombstone","version":1,)"
                               R"("tenant":"acme","key_id":")" +
                                   acme.key_id + R"(","destroyed":"2026-01-01T00:00:00.000Z"})")
                  .ok());
  auto store = OpenStore(master_);
  EXPECT_FALSE(fs_.Exists(dir_ + "/" + acme.key_id + ".json"));
  EXPECT_EQ(store->Find(acme.key_id).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(KeyStoreTest, FailedKeyWriteCreatesNoKey) {
  auto store = OpenStore(master_);
  fs_.InjectFault(FsOp::kSync, dir_, ENOSPC);
  EXPECT_EQ(store->ActiveKey("acme", true).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(store->ActiveKey("acme", false).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->List().empty());
}

TEST_F(KeyStoreTest, InvalidTenantNamesAreRefused) {
  auto store = OpenStore(master_);
  EXPECT_EQ(store->ActiveKey("", true).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ActiveKey("a\nb", true).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ActiveKey(std::string(256, 'a'), true).status().code(),
            StatusCode::kInvalidArgument);
}

// The acceptance path in small: after Destroy, that tenant's files cannot be decrypted (the
// reader says "destroyed": HTTP 410) while another tenant's still play.
TEST_F(KeyStoreTest, DestroyedTenantCannotBeDecryptedOthersStillCan) {
  auto store = OpenStore(master_);
  auto encrypt = [&](const std::string& tenant) {
    std::string out;
    auto file = EncryptingFile::Create(std::make_unique<testing::MemoryFile>(&out),
                                       store->ActiveKey(tenant, true).value())
                    .value();
    EXPECT_TRUE(file->Append("audio of " + tenant).ok());
    EXPECT_TRUE(file->Close().ok());
    return out;
  };
  const std::string a = encrypt("acme"), g = encrypt("globex");
  ASSERT_TRUE(store->Destroy("acme").ok());
  auto ra = DecryptingReader::Open(testing::StringSource(&a), a.size(), store->Lookup());
  EXPECT_EQ(ra.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(ra.status().message().find("destroyed"), std::string_view::npos);
  auto rg = DecryptingReader::Open(testing::StringSource(&g), g.size(), store->Lookup());
  ASSERT_TRUE(rg.ok());
  std::string buf(rg.value()->plaintext_size(), '\0');
  ASSERT_TRUE(rg.value()->Read(0, buf.size(), buf.data()).ok());
  EXPECT_EQ(buf, "audio of globex");
}

}  // namespace
}  // namespace callvault::crypto

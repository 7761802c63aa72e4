#include "crypto/master_key.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "crypto/internal/aead.h"

namespace callvault::crypto {
namespace {

class MasterKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cv_master_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    data_ = root_ + "/data";
    ASSERT_TRUE(fs_.CreateDirs(data_).ok());
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string Write(const std::string& name, std::string_view content, mode_t mode) {
    const std::string path = root_ + "/" + name;
    EXPECT_TRUE(WriteFileDurably(fs_, path, content).ok());
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  Fs& fs_ = *DefaultFs();
  std::string root_, data_;
};

TEST_F(MasterKeyTest, Mode0600RawAndHexAreAccepted) {
  const std::string raw(32, '\x42');
  Result<MasterKey> k = LoadMasterKey(fs_, Write("raw.key", raw, 0600), data_);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->key, SecretKey::FromBytes(raw));
  Result<MasterKey> hex =
      LoadMasterKey(fs_, Write("hex.key", internal::HexEncode(raw) + "\n", 0400), data_);
  ASSERT_TRUE(hex.ok()) << hex.status().ToString();
  EXPECT_EQ(hex->key, k->key);
  std::string upper = internal::HexEncode(raw);
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_TRUE(LoadMasterKey(fs_, Write("upper.key", upper + "\r\n", 0600), data_).ok());
}

TEST_F(MasterKeyTest, GroupOrOtherBitsAreRefused) {
  for (mode_t mode : {0644, 0640, 0604, 0610, 0602}) {
    Result<MasterKey> k = LoadMasterKey(fs_, Write("m.key", std::string(32, 'k'), mode), data_);
    ASSERT_FALSE(k.ok());
    EXPECT_EQ(k.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(k.status().message().find("chmod 600"), std::string_view::npos);
  }
  Result<MasterKey> k = LoadMasterKey(fs_, Write("m.key", std::string(32, 'k'), 0644), data_);
  EXPECT_NE(k.status().message().find("has mode 0644"), std::string_view::npos)
      << k.status().ToString();
}

TEST_F(MasterKeyTest, InsideTheDataDirectoryIsRefused) {
  const std::string inside = Write("data/master.key", std::string(32, 'k'), 0600);
  Result<MasterKey> k = LoadMasterKey(fs_, inside, data_);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(k.status().message().find("inside the data directory"), std::string_view::npos);
  // Spelled with "..", or with a trailing slash on the data dir, or through a symlink.
  EXPECT_EQ(LoadMasterKey(fs_, data_ + "/../data/master.key", data_).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(LoadMasterKey(fs_, inside, data_ + "/").status().code(), StatusCode::kPermissionDenied);
  std::filesystem::create_directory_symlink(data_, root_ + "/link");
  EXPECT_EQ(LoadMasterKey(fs_, root_ + "/link/master.key", data_).status().code(),
            StatusCode::kPermissionDenied);
  // A sibling whose name merely starts with the data dir's is fine.
  EXPECT_TRUE(LoadMasterKey(fs_, Write("data2.key", std::string(32, 'k'), 0600), data_).ok());
}

TEST_F(MasterKeyTest, BadContentAndMissingFile) {
  Result<MasterKey> k = LoadMasterKey(fs_, Write("short.key", "secret-ish", 0600), data_);
  EXPECT_EQ(k.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(k.status().message().find("secret-ish"), std::string_view::npos);  // not quoted
  EXPECT_EQ(LoadMasterKey(fs_, Write("bad.key", std::string(64, 'g'), 0600), data_).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadMasterKey(fs_, root_ + "/missing.key", data_).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(LoadMasterKey(fs_, "", data_).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace callvault::crypto

// S3RecordingStore against the local S3 server (tests/s3/s3_server.mjs).
#include "storage/s3_recording_store.h"

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "storage/s3/errors.h"
#include "storage/testing/s3_server.h"
#include "storage/testing/s3_suite.h"
#include "storage/testing/s3_test_files.h"

namespace callvault::storage {
namespace {

using crypto::Sha256Hex;
using testing::S3Server;
using testing::TempDir;
using testing::TestBytes;

class S3RecordingStoreTest : public testing::S3ServerTest {
 protected:
  void SetUp() override {
    S3ServerTest::SetUp();
    if (HasFatalFailure()) return;
    s3::S3Options o = server_->ClientOptions();
    o.prefix = "recordings/";
    o.multipart_threshold_mb = 5;
    o.part_size_mb = 5;
    o.parts_in_flight = 2;
    client_ = NewClient(o);
    ASSERT_NE(client_, nullptr);
    store_ = std::make_unique<S3RecordingStore>(client_.get());
  }

  RecordingRef Ref(const std::string& call, const std::string& data) {
    return RecordingRef{
        .call_id = call, .audio_file = "2026/12/06/" + call + ".wav", .sha256 = Sha256Hex(data)};
  }

  std::unique_ptr<s3::Client> client_;
  std::unique_ptr<S3RecordingStore> store_;
  TempDir tmp_;
};

TEST_F(S3RecordingStoreTest, UploadOpenReadLocateDelete) {
  const std::string data = TestBytes(300 * 1024 + 3, 10);
  RecordingRef ref = Ref("0193a1b2-0000-7000-8000-000000000001", data);
  auto file = tmp_.WriteFile("a.wav", data);
  ASSERT_TRUE(file.ok());

  Result<std::string> location = store_->Upload(ref, **file, data.size(), ref.sha256);
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  const std::string key = "recordings/2026/12/06/" + ref.call_id + ".wav";
  EXPECT_EQ(*location, "s3://" + server_->bucket() + "/" + key);
  EXPECT_EQ(server_->ListKeys("recordings/").value(), std::vector<std::string>{key});
  Result<s3::ObjectInfo> head = client_->HeadObject(key);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->metadata["call-id"], ref.call_id);
  EXPECT_EQ(head->metadata["sha256"], ref.sha256);

  // Found both by the prefix (no location yet) and by the catalog's location.
  EXPECT_EQ(store_->Locate(ref).value(), *location);
  ref.location = *location;
  EXPECT_EQ(store_->Locate(ref).value(), *location);

  Result<std::unique_ptr<AudioReader>> reader = store_->OpenAudio(ref);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), data.size());
  EXPECT_EQ((*reader)->etag(), QuotedEtag(ref.sha256));
  std::string buf(100000, '\0');
  EXPECT_EQ((*reader)->Read(0, 1, buf.data()).value(), 1u);
  EXPECT_EQ(buf[0], data[0]);
  EXPECT_EQ((*reader)->Read(65536 - 50, 100, buf.data()).value(), 100u);
  EXPECT_EQ(buf.substr(0, 100), data.substr(65536 - 50, 100));
  EXPECT_EQ((*reader)->Read(data.size() - 10, buf.size(), buf.data()).value(), 10u);
  EXPECT_EQ(buf.substr(0, 10), data.substr(data.size() - 10));
  EXPECT_EQ((*reader)->Read(data.size(), 10, buf.data()).value(), 0u);

  ASSERT_TRUE(store_->Delete(ref).ok());
  EXPECT_TRUE(store_->Delete(ref).ok()) << "idempotent";
  EXPECT_EQ(store_->Locate(ref).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->OpenAudio(ref).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(server_->ListKeys("recordings/")->empty());
  EXPECT_TRUE(store_->Recover().ok());
}

TEST_F(S3RecordingStoreTest, MultipartUploadWithReadBack) {
  const std::string data = TestBytes(12 * (1 << 20) + 77, 11);
  RecordingRef ref = Ref("0193a1b2-0000-7000-8000-000000000002", data);
  auto file = tmp_.WriteFile("big.wav", data);
  ASSERT_TRUE(file.ok());
  Result<std::string> location =
      store_->Upload(ref, **file, data.size(), ref.sha256, UploadVerify::kReadBack);
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  ref.location = *location;
  auto reader = store_->OpenAudio(ref);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->size(), data.size());
  ASSERT_TRUE(store_->Delete(ref).ok());
}

TEST_F(S3RecordingStoreTest, VerifyFailsWhenTheFileDoesNotMatchTheManifest) {
  const std::string data = TestBytes(200 * 1024, 12);
  std::string corrupt = data;
  corrupt[1234] ^= 0x55;  // the file on disk is not what the manifest hashed
  auto file = tmp_.WriteFile("corrupt.wav", corrupt);
  ASSERT_TRUE(file.ok());
  for (UploadVerify verify : {UploadVerify::kSizeAndHash, UploadVerify::kReadBack}) {
    RecordingRef ref = Ref("0193a1b2-0000-7000-8000-000000000003", data);
    Result<std::string> location = store_->Upload(ref, **file, corrupt.size(), ref.sha256, verify);
    ASSERT_FALSE(location.ok());
    EXPECT_EQ(location.status().code(), StatusCode::kDataLoss) << location.status().ToString();
    EXPECT_EQ(s3::ErrorReason(location.status()), s3::kReasonVerify)
        << location.status().ToString();
    // Nothing wrong is left behind for a reader to find.
    EXPECT_EQ(store_->Locate(ref).status().code(), StatusCode::kNotFound);
  }
}

TEST_F(S3RecordingStoreTest, ReadBackCatchesAnObjectChangedAfterUpload) {
  const std::string data = TestBytes(100 * 1024, 13);
  RecordingRef ref = Ref("0193a1b2-0000-7000-8000-000000000004", data);
  auto file = tmp_.WriteFile("r.wav", data);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(store_->Upload(ref, **file, data.size(), ref.sha256).ok());
  // The stored object changes to other bytes of the same size: size_and_hash trusts what was
  // sent, read_back reads what is stored.
  const std::string other = TestBytes(data.size(), 14);
  const std::string key = store_->KeyOf(ref).value();
  ASSERT_TRUE(client_->PutObject(key, other).ok());
  ref.location = "s3://" + server_->bucket() + "/" + key;
  EXPECT_TRUE(store_->VerifyStored(ref, data.size(), ref.sha256, UploadVerify::kSizeAndHash).ok());
  const Status read_back =
      store_->VerifyStored(ref, data.size(), ref.sha256, UploadVerify::kReadBack);
  EXPECT_EQ(read_back.code(), StatusCode::kDataLoss) << read_back.ToString();
  EXPECT_EQ(s3::ErrorReason(read_back), s3::kReasonVerify) << read_back.ToString();
  EXPECT_NE(read_back.message().find("read back"), std::string_view::npos);
  // A different size fails both ways.
  const Status size =
      store_->VerifyStored(ref, data.size() + 1, ref.sha256, UploadVerify::kSizeAndHash);
  EXPECT_EQ(s3::ErrorReason(size), s3::kReasonVerify) << size.ToString();
  ASSERT_TRUE(store_->Delete(ref).ok());
}

TEST_F(S3RecordingStoreTest, RefsElsewhereAreNotInThisStore) {
  RecordingRef local{.call_id = "c1", .audio_file = "a.wav", .location = "local:a.wav"};
  EXPECT_EQ(store_->OpenAudio(local).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Locate(local).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete(local).code(), StatusCode::kFailedPrecondition);
  RecordingRef other{.call_id = "c2", .audio_file = "a.wav", .location = "s3://other/a.wav"};
  EXPECT_EQ(store_->OpenAudio(other).status().code(), StatusCode::kNotFound);
  RecordingRef escape{.call_id = "c3", .audio_file = "../etc/passwd"};
  EXPECT_EQ(store_->OpenAudio(escape).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseUploadVerify("read_back").value(), UploadVerify::kReadBack);
  EXPECT_EQ(ParseUploadVerify("size_and_hash").value(), UploadVerify::kSizeAndHash);
  EXPECT_FALSE(ParseUploadVerify("none").ok());
}

TEST_F(S3RecordingStoreTest, OutageIsNetworkAndReadsResumeAfterIt) {
  const std::string data = TestBytes(10000, 15);
  RecordingRef ref = Ref("0193a1b2-0000-7000-8000-000000000005", data);
  auto file = tmp_.WriteFile("o.wav", data);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(store_->Upload(ref, **file, data.size(), ref.sha256).ok());
  auto reader = store_->OpenAudio(ref);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(server_->Stop().ok());
  char buf[16];
  const Status down = (*reader)->Read(0, sizeof buf, buf).status();
  EXPECT_EQ(s3::ErrorReason(down), s3::kReasonNetwork) << down.ToString();
  EXPECT_EQ(s3::ErrorReason(store_->Upload(ref, **file, data.size(), ref.sha256).status()),
            s3::kReasonNetwork);
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_EQ((*reader)->Read(0, sizeof buf, buf).value(), sizeof buf);
  EXPECT_EQ(std::string(buf, sizeof buf), data.substr(0, sizeof buf));
}

}  // namespace
}  // namespace callvault::storage

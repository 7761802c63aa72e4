// Relocator against the real (signature-checking) S3 test server and a real SQLite catalog:
// the happy path, an outage, a wrong secret fixed at run time, a byte flipped in transit, a
// local file changed after its manifest, a call deleted meanwhile, and a crash between steps.
#include "storage/relocator.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "catalog/testing/manifests.h"
#include "crypto/sha256.h"
#include "outbox/testing/outbox_fixture.h"
#include "storage/s3/errors.h"
#include "storage/s3_recording_store.h"
#include "storage/testing/s3_server.h"
#include "storage/testing/s3_suite.h"
#include "storage/testing/s3_test_files.h"

namespace callvault::storage {
namespace {

using crypto::Sha256Hex;
using testing::S3Server;
using testing::TestBytes;

constexpr char kQueue[] = "relocation";

// Flips one byte of what the wrapped file returns at `at` (a byte changed in transit).
class FlippingFile final : public RandomAccessFile {
 public:
  FlippingFile(const RandomAccessFile& inner, uint64_t at) : inner_(inner), at_(at) {}
  Result<size_t> Read(uint64_t offset, size_t n, char* buf) const override {
    CV_ASSIGN_OR_RETURN(size_t got, inner_.Read(offset, n, buf));
    if (at_ >= offset && at_ < offset + got) buf[at_ - offset] ^= 0x40;
    return got;
  }
  uint64_t size() const override { return inner_.size(); }
  const std::string& path() const override { return inner_.path(); }

 private:
  const RandomAccessFile& inner_;
  const uint64_t at_;
};

// The real target, with the first `flips` uploads corrupted in transit.
class FlakyTarget final : public RelocationTarget {
 public:
  explicit FlakyTarget(RelocationTarget* inner) : inner_(inner) {}
  Result<std::string> Upload(const RecordingRef& ref, const RandomAccessFile& file, uint64_t size,
                             std::string_view sha256) override {
    if (flips > 0) {
      --flips;
      FlippingFile flipped(file, size / 2);
      return inner_->Upload(ref, flipped, size, sha256);
    }
    return inner_->Upload(ref, file, size, sha256);
  }
  std::atomic<int> flips{0};

 private:
  RelocationTarget* const inner_;
};

class RelocatorTest : public testing::S3ServerTest {
 protected:
  void SetUp() override {
    S3ServerTest::SetUp();
    if (HasFatalFailure()) return;
    s3::S3Options o = server_->ClientOptions();
    prefix_ = TestPrefix("rec");  // the server keeps its objects across the suite's tests
    o.prefix = prefix_;
    o.multipart_threshold_mb = 5;
    o.part_size_mb = 5;
    client_ = NewClient(o);
    ASSERT_NE(client_, nullptr);
    s3_store_ = std::make_unique<S3RecordingStore>(client_.get());
    s3_target_ = std::make_unique<S3RelocationTarget>(s3_store_.get(), UploadVerify::kSizeAndHash);
    flaky_ = std::make_unique<FlakyTarget>(s3_target_.get());
    Result<std::unique_ptr<catalog::Catalog>> cat =
        catalog::OpenCatalog({.url = "sqlite:" + tmp_.path() + "/catalog.db"});
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    catalog_ = std::move(cat).value();
    local_ = std::make_unique<LocalRecordingStore>(DefaultFs(), Dir());
    outbox_ = std::make_unique<outbox::Outbox>(tmp_.path() + "/outbox", DefaultFs(), &metrics_);
    ASSERT_TRUE(outbox_->OpenQueue(kQueue).ok());
    relocator_ =
        std::make_unique<Relocator>(RelocatorOptions{.workers = 3}, outbox_.get(), DefaultFs(),
                                    local_.get(), flaky_.get(), catalog_.get(), &clock_, &metrics_);
  }

  std::string Dir() const { return tmp_.path() + "/recordings"; }
  // A finished call as the finalizer leaves it: audio, manifest, catalog row, outbox entry.
  std::string AddCall(int n, size_t bytes = 200000) {
    catalog::testing::ManifestSpec spec;
    spec.call_id = catalog::testing::TestCallId(1795593600000 + n * 1000, 0);
    nlohmann::json doc = catalog::testing::MakeManifestJson(spec);
    const std::string file = "2026/11/25/" + spec.call_id + ".wav";
    const std::string audio = TestBytes(bytes, static_cast<uint32_t>(n));
    doc["audio"]["file"] = file;
    doc["audio"]["bytes"] = audio.size();
    doc["audio"]["sha256"] = Sha256Hex(audio);
    const std::string path = Dir() + "/" + file;
    EXPECT_TRUE(DefaultFs()->CreateDirs(DirName(path)).ok());
    EXPECT_TRUE(WriteFileDurably(*DefaultFs(), path, audio).ok());
    EXPECT_TRUE(WriteFileDurably(*DefaultFs(), path + ".json", doc.dump()).ok());
    EXPECT_TRUE(catalog_->IngestManifests({catalog::testing::ToManifest(doc)}).ok());
    EXPECT_TRUE(outbox_
                    ->Put(kQueue, outbox::Entry{.call_id = spec.call_id,
                                                .manifest = file + ".json",
                                                .state = "completed",
                                                .finalized = doc["times"]["finalized"]})
                    .ok());
    files_[spec.call_id] = file;
    audio_[spec.call_id] = audio;
    return spec.call_id;
  }
  bool LocalAudio(const std::string& id) { return DefaultFs()->Exists(Dir() + "/" + files_[id]); }
  Status Drain() {
    for (int i = 0; i < 100; ++i) {
      bool more = false;
      CV_RETURN_IF_ERROR(relocator_->drainer().RunOnce(&more));
      if (!more) return Status::Ok();
    }
    return InternalError("did not finish");
  }
  // The object's bytes, read through the store.
  std::string Object(const std::string& id) {
    Result<std::optional<catalog::RecordingLocation>> loc = catalog_->GetLocation(id);
    EXPECT_TRUE(loc.ok() && loc->has_value());
    if (!loc.ok() || !loc->has_value()) return "";
    Result<std::unique_ptr<AudioReader>> r = s3_store_->OpenAudio(
        {.call_id = id, .audio_file = files_[id], .location = (*loc)->location});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    std::string out((*r)->size(), '\0');
    EXPECT_EQ(*(*r)->Read(0, out.size(), out.data()), out.size());
    return out;
  }
  // The value of the series `text` (name{labels}) in the registry's exposition; 0 if absent.
  double Metric(const std::string& text) {
    const std::string all = metrics_.Render();
    for (size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) {
      const size_t end = at + text.size();
      if ((at == 0 || all[at - 1] == '\n') && end < all.size() && all[end] == ' ') {
        return std::strtod(all.c_str() + end + 1, nullptr);
      }
    }
    return 0;
  }

  outbox::testing::TempDir tmp_;
  Registry metrics_;
  FakeClock clock_;
  std::unique_ptr<s3::Client> client_;
  std::unique_ptr<S3RecordingStore> s3_store_;
  std::unique_ptr<S3RelocationTarget> s3_target_;
  std::unique_ptr<FlakyTarget> flaky_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<LocalRecordingStore> local_;
  std::unique_ptr<outbox::Outbox> outbox_;
  std::unique_ptr<Relocator> relocator_;
  std::map<std::string, std::string> files_, audio_;
  std::string prefix_;
};

TEST_F(RelocatorTest, MovesEachRecordingAndRemovesLocalAudioOnlyAfterVerifying) {
  std::vector<std::string> ids;
  for (int i = 1; i <= 5; ++i)
    ids.push_back(AddCall(i, i == 3 ? 12 << 20 : 150000));  // 1 multipart
  ASSERT_TRUE(Drain().ok());
  EXPECT_EQ(relocator_->relocated(), 5u);
  EXPECT_EQ(outbox_->backlog(kQueue), 0);
  Result<std::vector<std::string>> keys = server_->ListKeys(prefix_);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 5u);
  for (const std::string& id : ids) {
    EXPECT_FALSE(LocalAudio(id));
    EXPECT_TRUE(DefaultFs()->Exists(Dir() + "/" + files_[id] + ".json"));  // the manifest stays
    Result<std::optional<catalog::RecordingLocation>> loc = catalog_->GetLocation(id);
    ASSERT_TRUE(loc.ok() && loc->has_value());
    EXPECT_EQ((*loc)->location, "s3://" + server_->bucket() + "/" + prefix_ + files_[id]);
    EXPECT_EQ((*loc)->stored_bytes, audio_[id].size());
    EXPECT_EQ(Object(id), audio_[id]);
  }
  EXPECT_EQ(Metric("callvault_storage_relocated_total"), 5);
}

TEST_F(RelocatorTest, WhileS3IsDownEntriesWaitAndNothingLocalIsRemoved) {
  const std::string a = AddCall(1), b = AddCall(2);
  ASSERT_TRUE(server_->Stop().ok());
  bool more = false;
  Status s = relocator_->drainer().RunOnce(&more);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s3::ErrorReason(s), "network");
  EXPECT_EQ(outbox_->backlog(kQueue), 2);
  EXPECT_TRUE(LocalAudio(a) && LocalAudio(b));
  EXPECT_GE(Metric("callvault_storage_upload_errors_total{reason=\"network\"}"), 1);
  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(Drain().ok());
  EXPECT_EQ(outbox_->backlog(kQueue), 0);
  EXPECT_FALSE(LocalAudio(a) || LocalAudio(b));
}

TEST_F(RelocatorTest, AWrongSecretKeepsEntriesQueuedUntilItIsFixed) {
  const std::string a = AddCall(1);
  client_->SetCredentials(server_->access_key_id(), "not-the-secret");
  bool more = false;
  Status s = relocator_->drainer().RunOnce(&more);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s3::ErrorReason(s), "auth");
  EXPECT_NE(s.ToString().find("SignatureDoesNotMatch"), std::string::npos) << s.ToString();
  EXPECT_EQ(outbox_->backlog(kQueue), 1);
  EXPECT_TRUE(LocalAudio(a));
  EXPECT_GE(Metric("callvault_storage_upload_errors_total{reason=\"auth\"}"), 1);
  client_->SetCredentials(server_->access_key_id(), server_->secret_access_key());
  ASSERT_TRUE(Drain().ok());
  EXPECT_FALSE(LocalAudio(a));
}

TEST_F(RelocatorTest, AByteFlippedInTransitIsCaughtAndRetriedWithoutRemovingAnything) {
  const std::string a = AddCall(1);
  flaky_->flips = 1;
  bool more = false;
  Status s = relocator_->drainer().RunOnce(&more);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s3::ErrorReason(s), "verify");
  EXPECT_TRUE(LocalAudio(a));
  EXPECT_EQ(relocator_->verify_failures(), 1u);
  EXPECT_FALSE((*catalog_->GetLocation(a)).has_value());
  EXPECT_TRUE(server_->ListKeys(prefix_)->empty());  // the bad copy was taken away
  ASSERT_TRUE(Drain().ok());                         // the retry goes through
  EXPECT_FALSE(LocalAudio(a));
  EXPECT_EQ(Object(a), audio_[a]);
}

TEST_F(RelocatorTest, ALocalFileChangedAfterItsManifestIsSetAsideUntouched) {
  const std::string a = AddCall(1), b = AddCall(2);
  std::string changed = audio_[a];
  changed[1000] ^= 1;  // same size, other bytes
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), Dir() + "/" + files_[a], changed).ok());
  ASSERT_TRUE(Drain().ok());
  EXPECT_TRUE(LocalAudio(a));  // untouched
  EXPECT_EQ(*DefaultFs()->ReadFile(Dir() + "/" + files_[a]), changed);
  EXPECT_FALSE(LocalAudio(b));  // the other call moved
  EXPECT_EQ(relocator_->drainer().rejected(), 1u);
  EXPECT_GE(relocator_->verify_failures(), 1u);
  const std::string reason =
      *DefaultFs()->ReadFile(outbox_->QueueDir(kQueue) + "/rejected/" + a + ".reason");
  EXPECT_NE(reason.find("SHA-256"), std::string::npos) << reason;
}

TEST_F(RelocatorTest, ADeletedCallIsSkippedAndACrashBetweenStepsIsFinishedLater) {
  const std::string gone = AddCall(1), half = AddCall(2);
  ASSERT_TRUE(catalog_->DeleteCall(gone, {.actor = "t", .action = "call.delete"}).ok());
  // `half` was uploaded and catalogued before a crash; its local audio is still there.
  Result<std::unique_ptr<RandomAccessFile>> f =
      DefaultFs()->NewRandomAccessFile(Dir() + "/" + files_[half]);
  ASSERT_TRUE(f.ok());
  Result<std::string> loc = s3_store_->Upload(
      {.call_id = half, .audio_file = files_[half], .sha256 = Sha256Hex(audio_[half])}, **f,
      (*f)->size(), Sha256Hex(audio_[half]));
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  ASSERT_TRUE(catalog_
                  ->RecordLocation({.call_id = half,
                                    .audio_file = files_[half],
                                    .location = *loc,
                                    .stored_bytes = audio_[half].size(),
                                    .stored_sha256 = Sha256Hex(audio_[half])})
                  .ok());
  f->reset();
  ASSERT_TRUE(Drain().ok());
  EXPECT_EQ(relocator_->drainer().dropped(), 1u);
  EXPECT_TRUE(LocalAudio(gone));  // the purger's business, not relocation's
  EXPECT_FALSE(LocalAudio(half));
  EXPECT_EQ(*server_->ListKeys(prefix_), std::vector<std::string>{prefix_ + files_[half]});
  EXPECT_EQ(outbox_->backlog(kQueue), 0);
}

TEST_F(RelocatorTest, RelocateAfterWaitsForTheDelay) {
  relocator_.reset();
  relocator_ = std::make_unique<Relocator>(RelocatorOptions{.delay = std::chrono::seconds(60)},
                                           outbox_.get(), DefaultFs(), local_.get(), flaky_.get(),
                                           catalog_.get(), &clock_, &metrics_);
  // Finalized 2026-11-25T08:05:..; the fake clock says 2026-01-01: set it just before due.
  const std::string a = AddCall(1);
  const auto finalized = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(*catalog_->GetCall(a)->summary.ended_ms + 840));
  clock_.SetWall(finalized + std::chrono::seconds(30));
  ASSERT_TRUE(Drain().ok());
  EXPECT_TRUE(LocalAudio(a));
  EXPECT_EQ(outbox_->backlog(kQueue), 1);
  clock_.SetWall(finalized + std::chrono::seconds(61));
  ASSERT_TRUE(Drain().ok());
  EXPECT_FALSE(LocalAudio(a));
}

}  // namespace
TEST_F(RelocatorTest, PeersSharingTheBucketGetTheCallWithItsLocationAfterTheCopyIsVerified) {
  ASSERT_TRUE(outbox_->OpenQueue("peer.b").ok());
  relocator_ = std::make_unique<Relocator>(
      RelocatorOptions{.workers = 2, .then_queues = {"peer.b"}}, outbox_.get(), DefaultFs(),
      local_.get(), flaky_.get(), catalog_.get(), &clock_, &metrics_);
  const std::string a = AddCall(1), b = AddCall(2);
  flaky_->flips = 1;  // one upload corrupted in transit: that call is not handed on yet
  bool more = false;
  relocator_->drainer().RunOnce(&more).IgnoreError();
  // Handed on exactly when the verified copy is catalogued: the corrupted one is not.
  int handed = 0;
  for (const std::string& id : {a, b}) {
    Result<std::optional<catalog::RecordingLocation>> loc = catalog_->GetLocation(id);
    ASSERT_TRUE(loc.ok());
    EXPECT_EQ(outbox_->Contains("peer.b", id), loc->has_value()) << id;
    handed += outbox_->Contains("peer.b", id);
  }
  EXPECT_LE(handed, 1);
  ASSERT_TRUE(Drain().ok());
  ASSERT_EQ(outbox_->backlog("peer.b"), 2);
  for (const std::string& id : {a, b}) {
    Result<std::optional<catalog::RecordingLocation>> loc = catalog_->GetLocation(id);
    ASSERT_TRUE(loc.ok() && loc->has_value());
    Result<std::string> text =
        DefaultFs()->ReadFile(outbox_->EntryPath("peer.b", id));
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    Result<outbox::Entry> e = outbox::ParseEntry(*text);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->location, (*loc)->location);
    EXPECT_EQ(e->manifest, files_[id] + ".json");
  }
}

TEST_F(RelocatorTest, AManifestReceivedWithoutItsAudioHasNothingToMove) {
  const std::string id = AddCall(1);
  nlohmann::json doc =
      nlohmann::json::parse(*DefaultFs()->ReadFile(Dir() + "/" + files_[id] + ".json"));
  doc["audio"]["location"] = "s3://elsewhere/rec/x.wav";
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), Dir() + "/" + files_[id] + ".json", doc.dump()).ok());
  ASSERT_TRUE(Drain().ok());
  EXPECT_EQ(outbox_->backlog(kQueue), 0);
  EXPECT_EQ(relocator_->relocated(), 0u);
  EXPECT_TRUE(LocalAudio(id));  // untouched
  Result<std::vector<std::string>> keys = server_->ListKeys(prefix_);
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
}

}  // namespace callvault::storage

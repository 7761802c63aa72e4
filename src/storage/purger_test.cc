// TieredRecordingStore routes by location; Purger removes a deleted call's bytes wherever they
// live, after the catalog committed the deletion, and keeps the purge pending until it worked.
#include "storage/purger.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/fs.h"
#include "catalog/testing/manifests.h"
#include "storage/local_recording_store.h"
#include "storage/tiered_recording_store.h"

namespace callvault::storage {
namespace {

// A remote store in memory: objects by audio path, for locations "mem://…".
class MemoryStore final : public RecordingStore {
 public:
  class Reader final : public AudioReader {
   public:
    explicit Reader(std::string data) : data_(std::move(data)) {}
    uint64_t size() const override { return data_.size(); }
    std::string etag() const override { return ""; }
    Result<size_t> Read(uint64_t offset, size_t len, char* buf) override {
      if (offset >= data_.size()) return size_t{0};
      const size_t n = std::min<size_t>(len, data_.size() - offset);
      std::copy_n(data_.data() + offset, n, buf);
      return n;
    }

   private:
    std::string data_;
  };
  Result<std::unique_ptr<AudioReader>> OpenAudio(const RecordingRef& ref) override {
    if (down) return UnavailableError("memory store down");
    auto it = objects.find(ref.audio_file);
    if (it == objects.end()) return NotFoundError("no object " + ref.audio_file);
    return std::unique_ptr<AudioReader>(new Reader(it->second));
  }
  Status Delete(const RecordingRef& ref) override {
    if (down) return UnavailableError("memory store down");
    objects.erase(ref.audio_file);
    return Status::Ok();
  }
  Result<std::string> Locate(const RecordingRef& ref) override {
    if (!objects.count(ref.audio_file)) return NotFoundError("no object");
    return "mem://" + ref.audio_file;
  }
  Status Recover() override { return Status::Ok(); }

  std::map<std::string, std::string> objects;
  bool down = false;
};

class PurgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv_purger_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    Result<std::unique_ptr<catalog::Catalog>> c =
        catalog::OpenCatalog({.url = "sqlite:" + root_ + "/catalog.db"});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(c).value();
  }
  void TearDown() override { DefaultFs()->RemoveAll(root_).IgnoreError(); }

  // A finished call: its manifest in the catalog, its audio + manifest on disk.
  std::string AddCall(int n, const std::string& audio = "audio-bytes") {
    catalog::testing::ManifestSpec spec;
    spec.call_id = catalog::testing::TestCallId(1795593600000 + n, 0);
    nlohmann::json doc = catalog::testing::MakeManifestJson(spec);
    const std::string file = "2026/11/25/" + spec.call_id + ".wav";
    doc["audio"]["file"] = file;
    EXPECT_TRUE(catalog_->IngestManifests({catalog::testing::ToManifest(doc)}).ok());
    const std::string path = Dir() + "/" + file;
    EXPECT_TRUE(DefaultFs()->CreateDirs(DirName(path)).ok());
    EXPECT_TRUE(WriteFileDurably(*DefaultFs(), path, audio).ok());
    EXPECT_TRUE(WriteFileDurably(*DefaultFs(), path + ".json", doc.dump()).ok());
    files_[spec.call_id] = file;
    return spec.call_id;
  }
  std::string Dir() const { return root_ + "/recordings"; }
  bool LocalExists(const std::string& id) {
    return DefaultFs()->Exists(Dir() + "/" + files_[id]) ||
           DefaultFs()->Exists(Dir() + "/" + files_[id] + ".json");
  }
  // Moves the call's audio to the memory store as relocation does: object, catalog, local audio.
  void Relocate(const std::string& id) {
    const std::string path = Dir() + "/" + files_[id];
    remote_.objects[files_[id]] = *DefaultFs()->ReadFile(path);
    ASSERT_TRUE(catalog_->RecordLocation({.call_id = id, .audio_file = files_[id],
                                          .location = "mem://" + files_[id]})
                    .ok());
    ASSERT_TRUE(DefaultFs()->Remove(path).ok());
  }
  catalog::AuditEntry Audit() { return {.actor = "alice", .action = "call.delete"}; }

  std::string root_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::map<std::string, std::string> files_;
  LocalRecordingStore local_{DefaultFs(), root_ + "/recordings"};
  MemoryStore remote_;
  TieredRecordingStore tiered_{&local_, &remote_};
  FakeClock clock_;
  Registry metrics_;
};

TEST_F(PurgerTest, TieredStoreReadsFromWhereverTheCatalogSaysItLives) {
  LocalRecordingStore local(DefaultFs(), Dir());
  TieredRecordingStore tiered(&local, &remote_);
  const std::string a = AddCall(1, "local bytes"), b = AddCall(2, "moved bytes");
  Relocate(b);
  char buf[32] = {};
  Result<std::unique_ptr<AudioReader>> ra = tiered.OpenAudio({.call_id = a, .audio_file = files_[a]});
  ASSERT_TRUE(ra.ok());
  EXPECT_EQ(std::string(buf, *(*ra)->Read(0, sizeof(buf), buf)), "local bytes");
  Result<std::unique_ptr<AudioReader>> rb =
      tiered.OpenAudio({.call_id = b, .audio_file = files_[b], .location = "mem://x"});
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(std::string(buf, *(*rb)->Read(0, sizeof(buf), buf)), "moved bytes");
  // A catalog row read just before the move still finds it.
  Result<std::unique_ptr<AudioReader>> stale = tiered.OpenAudio({.call_id = b, .audio_file = files_[b]});
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_EQ(*tiered.Locate({.call_id = b, .audio_file = files_[b]}), "mem://" + files_[b]);
  // Without a remote store, a moved recording is not found and cannot be deleted yet.
  TieredRecordingStore local_only(&local, nullptr);
  EXPECT_EQ(local_only.OpenAudio({.call_id = b, .audio_file = files_[b], .location = "mem://x"})
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(local_only.Delete({.call_id = b, .audio_file = files_[b], .location = "mem://x"}).code(),
            StatusCode::kUnavailable);
}

TEST_F(PurgerTest, PurgesLocalAndRemoteBytesOnlyAfterTheDeletionCommitted) {
  LocalRecordingStore local(DefaultFs(), Dir());
  TieredRecordingStore tiered(&local, &remote_);
  Purger purger({}, catalog_.get(), &tiered, &clock_, &metrics_);
  const std::string a = AddCall(1), b = AddCall(2), kept = AddCall(3);
  Relocate(b);
  ASSERT_EQ(*purger.RunOnce(), 0);  // nothing deleted: nothing touched
  EXPECT_TRUE(LocalExists(a) && LocalExists(b) && LocalExists(kept));
  ASSERT_TRUE(catalog_->DeleteCall(a, Audit()).ok());
  ASSERT_TRUE(catalog_->DeleteCall(b, Audit()).ok());

  remote_.down = true;  // S3 unreachable: a's bytes go, b's purge stays pending
  Result<int> r = purger.RunOnce();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(LocalExists(a));
  EXPECT_TRUE(remote_.objects.count(files_[b]));
  ASSERT_EQ(catalog_->PendingPurges(10)->size(), 1u);
  EXPECT_EQ(purger.errors(), 1u);

  remote_.down = false;
  ASSERT_EQ(*purger.RunOnce(), 1);
  EXPECT_FALSE(remote_.objects.count(files_[b]));
  EXPECT_FALSE(LocalExists(b));  // the manifest relocation left behind went too
  EXPECT_TRUE(LocalExists(kept));
  EXPECT_TRUE(catalog_->PendingPurges(10)->empty());
  EXPECT_EQ(purger.purged(), 2u);
  EXPECT_EQ(*purger.RunOnce(), 0);
}

TEST_F(PurgerTest, TheThreadPurgesOnWake) {
  LocalRecordingStore local(DefaultFs(), Dir());
  TieredRecordingStore tiered(&local, &remote_);
  Purger purger({.poll = std::chrono::seconds(60)}, catalog_.get(), &tiered, &clock_, &metrics_);
  purger.Start();
  const std::string a = AddCall(1);
  ASSERT_TRUE(catalog_->DeleteCall(a, Audit()).ok());
  purger.Wake();
  for (int i = 0; i < 500 && LocalExists(a); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(LocalExists(a));
  purger.Stop();
}

}  // namespace
}  // namespace callvault::storage

// Retention over a real (SQLite) catalog: the dry run lists exactly what the run deletes and
// changes nothing; the run writes one audit entry per call, spares held calls, and its purge
// removes the bytes.
#include "retention/retention.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/fs.h"
#include "catalog/testing/manifests.h"
#include "storage/local_recording_store.h"
#include "storage/purger.h"

namespace callvault::retention {
namespace {

using catalog::testing::TestCallId;

constexpr int64_t kStart = 1795593600000;  // 2026-11-25T08:00:00Z
constexpr int64_t kDay = 86400000;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv_retention_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    Result<std::unique_ptr<catalog::Catalog>> c =
        catalog::OpenCatalog({.url = "sqlite:" + root_ + "/catalog.db"});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(c).value();
    clock_.SetWall(std::chrono::system_clock::time_point(std::chrono::milliseconds(kStart + 100 * kDay)));
  }
  void TearDown() override { DefaultFs()->RemoveAll(root_).IgnoreError(); }

  std::string AddCall(int n, int64_t age_days, const std::string& tenant,
                      const std::string& state = "completed") {
    catalog::testing::ManifestSpec spec;
    spec.started_ms = kStart + 100 * kDay - age_days * kDay;
    spec.call_id = TestCallId(spec.started_ms, static_cast<uint64_t>(n));
    spec.tenant = tenant;
    spec.state = state;
    if (state == "partial") spec.end_reason = "crash";
    nlohmann::json doc = catalog::testing::MakeManifestJson(spec);
    const std::string file = "r/" + spec.call_id + ".wav";
    doc["audio"]["file"] = file;
    EXPECT_TRUE(catalog_->IngestManifests({catalog::testing::ToManifest(doc)}).ok());
    const std::string path = root_ + "/recordings/" + file;
    EXPECT_TRUE(DefaultFs()->CreateDirs(DirName(path)).ok());
    EXPECT_TRUE(WriteFileDurably(*DefaultFs(), path, "audio").ok());
    EXPECT_TRUE(WriteFileDurably(*DefaultFs(), path + ".json", doc.dump()).ok());
    files_[spec.call_id] = path;
    return spec.call_id;
  }
  std::vector<Policy> Policies() {
    return {*MakePolicy("default", 90, "", {}, {}),
            *MakePolicy("acme_partial", 10, "acme", {}, {"partial"})};
  }
  static std::vector<std::string> Ids(const RunReport& r) {
    std::vector<std::string> ids;
    for (const Selected& s : r.selected) ids.push_back(s.call_id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  std::string root_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::map<std::string, std::string> files_;
  FakeClock clock_;
  Registry metrics_;
};

TEST_F(RetentionTest, DryRunListsExactlyWhatTheRunDeletes) {
  const std::string old1 = AddCall(1, 200, "");
  const std::string old2 = AddCall(2, 95, "beta");
  const std::string young = AddCall(3, 30, "");
  const std::string acme_partial = AddCall(4, 20, "acme", "partial");
  const std::string acme_done = AddCall(5, 20, "acme");
  const std::string held = AddCall(6, 300, "");
  ASSERT_TRUE(catalog_->SetLegalHold({.call_id = held, .held_by = "counsel", .reason = "x"}).ok());

  storage::LocalRecordingStore store(DefaultFs(), root_ + "/recordings");
  storage::Purger purger({}, catalog_.get(), &store, &clock_, &metrics_);
  int wakes = 0;
  Retention retention(Policies(), catalog_.get(), &clock_, &metrics_, [&] { ++wakes; });

  std::vector<std::string> expected = {old1, old2, acme_partial};
  std::sort(expected.begin(), expected.end());
  std::vector<uint64_t> progress;
  Result<RunReport> dry = retention.Run(
      {.dry_run = true, .batch = 1, .progress = [&](const PolicyReport& p) {
         progress.push_back(p.selected);
       }});
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ(Ids(*dry), expected);
  EXPECT_EQ(dry->deleted(), 0u);
  EXPECT_FALSE(progress.empty());
  EXPECT_EQ(wakes, 0);
  // Nothing changed.
  EXPECT_TRUE(catalog_->ListAudit(0, 100)->empty());
  for (const auto& [id, path] : files_) {
    EXPECT_TRUE(catalog_->GetCall(id).ok());
    EXPECT_TRUE(DefaultFs()->Exists(path));
  }

  Result<RunReport> run = retention.Run({});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(Ids(*run), expected);
  EXPECT_EQ(run->deleted(), 3u);
  EXPECT_GT(wakes, 0);
  Result<std::vector<catalog::AuditEntry>> audit = catalog_->ListAudit(0, 100);
  ASSERT_EQ(audit->size(), 3u);
  for (const catalog::AuditEntry& e : *audit) {
    EXPECT_EQ(e.action, "call.delete");
    EXPECT_EQ(e.actor, "retention");
    EXPECT_EQ(e.detail["reason"], "retention");
  }
  ASSERT_EQ(*purger.RunOnce(), 3);
  for (const std::string& id : expected) {
    EXPECT_EQ(catalog_->GetCall(id).status().code(), StatusCode::kNotFound);
    EXPECT_FALSE(DefaultFs()->Exists(files_[id]));
    EXPECT_FALSE(DefaultFs()->Exists(files_[id] + ".json"));
  }
  for (const std::string& id : {young, acme_done, held}) {
    EXPECT_TRUE(catalog_->GetCall(id).ok());
    EXPECT_TRUE(DefaultFs()->Exists(files_[id]));
  }
  // A second run finds nothing more.
  EXPECT_EQ(retention.Run({})->deleted(), 0u);
}

TEST(RetentionPolicyTest, MakePolicyChecksItsFields) {
  EXPECT_FALSE(MakePolicy("x", 0, "", {}, {}).ok());
  EXPECT_FALSE(MakePolicy("x", 1, "", {}, {"active"}).ok());
  EXPECT_FALSE(MakePolicy("x", 1, "", {}, {"nope"}).ok());
  Result<Policy> p = MakePolicy("x", 2, "acme", {"t"}, {"timed_out"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->older_than, std::chrono::hours(48));
  EXPECT_EQ(p->tenant, "acme");
  EXPECT_EQ(p->states, std::vector<CallState>{CallState::kTimedOut});
}

}  // namespace
}  // namespace callvault::retention

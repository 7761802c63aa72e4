#include "outbox/outbox.h"

#include <gtest/gtest.h>

#include "outbox/testing/outbox_fixture.h"

namespace callvault::outbox {
namespace {

using testing::CallIdAt;
using testing::EntryFor;

class OutboxTest : public ::testing::Test {
 protected:
  std::string Root() const { return tmp_.path() + "/outbox"; }
  testing::TempDir tmp_;
  Fs* fs_ = DefaultFs();
  Registry metrics_;
};

TEST_F(OutboxTest, PutWritesOneEntryPerCallIntoItsBucket) {
  Outbox box(Root(), fs_, &metrics_);
  ASSERT_TRUE(box.OpenQueue("catalog").ok());
  const std::string id = CallIdAt(1764057600000, 1);
  ASSERT_TRUE(box.Put("catalog", EntryFor(id)).ok());
  const std::string path = Root() + "/catalog/" + id.substr(0, 8) + "/" + id + ".json";
  EXPECT_EQ(box.EntryPath("catalog", id), path);
  ASSERT_TRUE(fs_->Exists(path));
  EXPECT_EQ(*ParseEntry(*fs_->ReadFile(path)), EntryFor(id));
  EXPECT_TRUE(box.Contains("catalog", id));
  EXPECT_FALSE(box.Contains("catalog", CallIdAt(1764057600000, 2)));
  EXPECT_FALSE(box.Contains("catalog", "../../etc/passwd"));
  // Again (a finalizer re-run after a crash): replaced, still one entry.
  ASSERT_TRUE(box.Put("catalog", EntryFor(id, "2026-11-25T09:00:00.000Z")).ok());
  EXPECT_EQ(box.backlog("catalog"), 1);
  EXPECT_EQ(ParseEntry(*fs_->ReadFile(path))->finalized, "2026-11-25T09:00:00.000Z");
  EXPECT_NE(metrics_.Render().find("callvault_outbox_backlog{queue=\"catalog\"} 1"),
            std::string::npos)
      << metrics_.Render();
}

TEST_F(OutboxTest, PutRefusesUnopenedQueuesAndKeysThatAreNotCallIds) {
  Outbox box(Root(), fs_, nullptr);
  EXPECT_EQ(box.Put("catalog", EntryFor(CallIdAt(1, 1))).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(box.OpenQueue("catalog").ok());
  Entry bad = EntryFor("not-a-call-id");
  EXPECT_EQ(box.Put("catalog", bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(box.OpenQueue("../escape").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(box.OpenQueue("").code(), StatusCode::kInvalidArgument);
}

TEST_F(OutboxTest, OpenCountsTheBacklogAdoptsFlatEntriesAndRemovesStaleTemps) {
  {
    Outbox box(Root(), fs_, nullptr);
    ASSERT_TRUE(box.OpenQueue("catalog").ok());
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(box.Put("catalog", EntryFor(CallIdAt(1764057600000 + i * 70000, i))).ok());
  }
  // What an earlier build left: flat entries, and temp files of Puts that crashed.
  const std::string flat = CallIdAt(1764000000000, 9);
  ASSERT_TRUE(
      WriteFileDurably(*fs_, Root() + "/catalog/" + flat + ".json", SerializeEntry(EntryFor(flat)))
          .ok());
  const std::string bucket = Root() + "/catalog/" + CallIdAt(1764057600000, 0).substr(0, 8);
  ASSERT_TRUE(WriteFileDurably(*fs_, bucket + "/x.json.tmp", "half").ok());
  ASSERT_TRUE(WriteFileDurably(*fs_, Root() + "/catalog/y.json.tmp", "half").ok());
  Outbox box(Root(), fs_, nullptr);
  ASSERT_TRUE(box.OpenQueue("catalog").ok());
  EXPECT_EQ(box.backlog("catalog"), 6);
  EXPECT_TRUE(box.Contains("catalog", flat));
  EXPECT_FALSE(fs_->Exists(Root() + "/catalog/" + flat + ".json"));
  EXPECT_FALSE(fs_->Exists(bucket + "/x.json.tmp"));
  EXPECT_FALSE(fs_->Exists(Root() + "/catalog/y.json.tmp"));
}

TEST_F(OutboxTest, AListenerSetBeforeTheQueueIsOpenedHearsItsPuts) {
  // The server makes its consumers (and their drainers) before the start-up opens the queues.
  Outbox box(Root(), fs_, &metrics_);
  std::vector<std::string> heard;
  box.SetListener("catalog", [&](std::string_view id) { heard.emplace_back(id); });
  ASSERT_TRUE(box.OpenQueue("catalog").ok());
  const std::string id = CallIdAt(1764057600000, 7);
  ASSERT_TRUE(box.Put("catalog", EntryFor(id)).ok());
  EXPECT_EQ(heard, std::vector<std::string>{id});
}

TEST_F(OutboxTest, QueuesAreIndependent) {
  Outbox box(Root(), fs_, nullptr);
  ASSERT_TRUE(box.OpenQueue("catalog").ok());
  ASSERT_TRUE(box.OpenQueue("peer-b").ok());
  const std::string id = CallIdAt(1764057600000, 1);
  ASSERT_TRUE(box.Put("peer-b", EntryFor(id)).ok());
  EXPECT_TRUE(box.Contains("peer-b", id));
  EXPECT_FALSE(box.Contains("catalog", id));
  EXPECT_EQ(box.backlog("catalog"), 0);
  EXPECT_EQ(box.backlog("peer-b"), 1);
}

}  // namespace
}  // namespace callvault::outbox

#include "replication/receiver.h"

#include <gtest/gtest.h>

#include "outbox/testing/outbox_fixture.h"
#include "recording/manifest_reader.h"
#include "replication/testing/test_calls.h"

namespace callvault::replication {
namespace {

using testing::TestCall;
using testing::WriteTestCall;

class ReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(box_.OpenQueue("catalog").ok());
    ASSERT_TRUE(box_.OpenQueue("relocation").ok());
    ASSERT_TRUE(box_.OpenQueue("peer.c").ok());
    ASSERT_TRUE(receiver_.Open().ok());
  }
  std::string Src() const { return tmp_.path() + "/a/recordings"; }
  std::string Dst() const { return tmp_.path() + "/b/recordings"; }
  ReceiverOptions Options() {
    ReceiverOptions o;
    o.node_id = "b";
    o.recordings_dir = Dst();
    o.state_dir = tmp_.path() + "/b/cluster";
    o.queues = {"catalog"};
    o.relay_queues = [](std::string_view origin, std::string_view sender) {
      std::vector<std::string> q;
      if (origin != "c" && sender != "c") q.push_back("peer.c");
      return q;
    };
    o.min_free_bytes = 0;
    o.shared_bucket = "s3://calls/";
    o.audio_queues = {"relocation"};
    o.queues.push_back("relocation");
    return o;
  }
  // Uploads `bytes` of `c` from `offset` in chunks, as the peer server does.
  Status Send(const TestCall& c, size_t offset, size_t bytes) {
    CV_ASSIGN_OR_RETURN(auto up, receiver_.BeginUpload(c.call_id, offset, c.audio.size()));
    for (size_t i = offset; i < offset + bytes; i += 1000)
      CV_RETURN_IF_ERROR(up->Append(
          std::string_view(c.audio).substr(i, std::min<size_t>(1000, offset + bytes - i))));
    return up->Finish();
  }

  outbox::testing::TempDir tmp_;
  Registry metrics_;
  outbox::Outbox box_{tmp_.path() + "/b/outbox", DefaultFs(), &metrics_};
  FakeClock clock_;
  Receiver receiver_{Options(), DefaultFs(), &box_, &clock_, &metrics_};
};

TEST_F(ReceiverTest, AResumedUploadIsCommittedDurablyUnderTheOriginsNameWithItsEntries) {
  TestCall c = WriteTestCall(Src(), 1, 50000);
  EXPECT_EQ(receiver_.Lookup(c.call_id, "a")->presence, Presence::kAbsent);
  ASSERT_TRUE(Send(c, 0, 20000).ok());
  Result<CallStatus> st = receiver_.Lookup(c.call_id, "a");
  EXPECT_EQ(st->presence, Presence::kPartial);
  EXPECT_EQ(st->offset, 20000u);
  // The sender restarted and thinks it is at 10000: refused, the offset says where to go on.
  Result<std::unique_ptr<Receiver::Upload>> wrong = receiver_.BeginUpload(c.call_id, 10000, 50000);
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(wrong.status().message().starts_with("offset_mismatch"));
  ASSERT_TRUE(Send(c, 20000, 30000).ok());
  Result<Receiver::CommitResult> r = receiver_.Commit(c.call_id, c.manifest, "a");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->presence, Presence::kHave);
  EXPECT_EQ(r->audio_file, c.audio_file);
  EXPECT_EQ(*DefaultFs()->ReadFile(Dst() + "/" + c.audio_file), c.audio);
  EXPECT_EQ(*DefaultFs()->ReadFile(Dst() + "/" + c.audio_file + ".json"), c.manifest);
  EXPECT_TRUE(box_.Contains("catalog", c.call_id));
  EXPECT_TRUE(box_.Contains("peer.c", c.call_id));  // relay
  EXPECT_EQ(receiver_.Lookup(c.call_id, "a")->presence, Presence::kHave);
  EXPECT_FALSE(DefaultFs()->Exists(receiver_.IncomingDir() + "/" + c.call_id + ".part"));
  // Committing again (the answer was lost) changes nothing.
  r = receiver_.Commit(c.call_id, c.manifest, "a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->presence, Presence::kHave);
}

TEST_F(ReceiverTest, NoRelayBackToTheOriginOrTheSender) {
  TestCall c = WriteTestCall(Src(), 2, 1000, "c");
  ASSERT_TRUE(Send(c, 0, 1000).ok());
  ASSERT_TRUE(receiver_.Commit(c.call_id, c.manifest, "a").ok());
  EXPECT_FALSE(box_.Contains("peer.c", c.call_id));
}

TEST_F(ReceiverTest, AMismatchDiscardsThePartSoTheSenderStartsAgain) {
  TestCall c = WriteTestCall(Src(), 3, 4000);
  TestCall corrupt = c;
  corrupt.audio[100] ^= 1;
  ASSERT_TRUE(Send(corrupt, 0, 4000).ok());
  Result<Receiver::CommitResult> r = receiver_.Commit(c.call_id, c.manifest, "a");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(r.status().message().starts_with("sha256_mismatch"));
  EXPECT_EQ(receiver_.Lookup(c.call_id, "a")->presence, Presence::kAbsent);
  ASSERT_TRUE(Send(c, 0, 2000).ok());
  r = receiver_.Commit(c.call_id, c.manifest, "a");  // short
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().message().starts_with("size_mismatch"));
  ASSERT_TRUE(Send(c, 0, 4000).ok());
  ASSERT_TRUE(receiver_.Commit(c.call_id, c.manifest, "a").ok());
  EXPECT_FALSE(box_.Contains("catalog", "x"));
}

TEST_F(ReceiverTest, ANameTakenHereGetsTheNextFreeOneAndTheManifestSaysSo) {
  TestCall local = WriteTestCall(Dst(), 4, 3000, "b", "2026/11/25/same.wav");
  TestCall c = WriteTestCall(Src(), 5, 3000, "a", "2026/11/25/same.wav");
  ASSERT_TRUE(Send(c, 0, 3000).ok());
  Result<Receiver::CommitResult> r = receiver_.Commit(c.call_id, c.manifest, "a");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->audio_file, "2026/11/25/same_2.wav");
  EXPECT_EQ(*DefaultFs()->ReadFile(Dst() + "/2026/11/25/same.wav"), local.audio);
  Result<recording::Manifest> m =
      recording::ParseManifest(*DefaultFs()->ReadFile(Dst() + "/2026/11/25/same_2.wav.json"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->audio.file, "2026/11/25/same_2.wav");
  EXPECT_EQ(m->node_id, "a");  // the origin's
}

TEST_F(ReceiverTest, ATombstonedCallIsRefusedDiscardedAndReportedDeleted) {
  TestCall c = WriteTestCall(Src(), 6, 3000);
  ASSERT_TRUE(Send(c, 0, 1000).ok());
  ASSERT_TRUE(receiver_.ApplyTombstone(c.call_id).ok());
  EXPECT_EQ(receiver_.Lookup(c.call_id, "a")->presence, Presence::kDeleted);
  EXPECT_FALSE(DefaultFs()->Exists(receiver_.IncomingDir() + "/" + c.call_id + ".part"));
  EXPECT_FALSE(receiver_.BeginUpload(c.call_id, 0, 3000).ok());
  Result<Receiver::CommitResult> r = receiver_.Commit(c.call_id, c.manifest, "a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->presence, Presence::kDeleted);
  EXPECT_FALSE(box_.Contains("catalog", c.call_id));
}

TEST_F(ReceiverTest, BadInputIsRefusedWithAReason) {
  TestCall c = WriteTestCall(Src(), 7, 1000);
  EXPECT_EQ(receiver_.Lookup("../etc", "a").status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(Send(c, 0, 1000).ok());
  EXPECT_EQ(receiver_.Commit(c.call_id, "{not json", "a").status().code(),
            StatusCode::kInvalidArgument);
  TestCall other = WriteTestCall(Src(), 8, 1000);
  EXPECT_EQ(receiver_.Commit(c.call_id, other.manifest, "a").status().code(),
            StatusCode::kInvalidArgument);
  nlohmann::json evil = nlohmann::json::parse(c.manifest);
  evil["audio"]["file"] = "../../etc/passwd";
  Result<Receiver::CommitResult> r = receiver_.Commit(c.call_id, evil.dump(), "a");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a safe path"), std::string_view::npos);
  // One call is received by one request at a time.
  auto up = receiver_.BeginUpload(c.call_id, 1000, 1000);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(receiver_.Commit(c.call_id, c.manifest, "a").status().code(), StatusCode::kAborted);
}

TEST_F(ReceiverTest, AFullDiskIsRefusedBeforeAByteIsWritten) {
  ReceiverOptions o = Options();
  o.min_free_bytes = uint64_t{1} << 62;
  Receiver full(o, DefaultFs(), &box_, &clock_, nullptr);
  ASSERT_TRUE(full.Open().ok());
  TestCall c = WriteTestCall(Src(), 9, 1000);
  Result<std::unique_ptr<Receiver::Upload>> up = full.BeginUpload(c.call_id, 0, 1000);
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace callvault::replication

namespace callvault::replication {
namespace {

TEST_F(ReceiverTest, ANodeRestoredFromNothingTakesItsOwnCallsBack) {
  TestCall own = WriteTestCall(Src(), 10, 2000, "b");  // recorded on b, b's copy lost
  EXPECT_EQ(receiver_.Lookup(own.call_id, "b", own.audio_file)->presence, Presence::kAbsent);
  ASSERT_TRUE(Send(own, 0, 2000).ok());
  Result<Receiver::CommitResult> r = receiver_.Commit(own.call_id, own.manifest, "a");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*DefaultFs()->ReadFile(Dst() + "/" + own.audio_file), own.audio);
  // Still in place: "have" without a transfer.
  TestCall kept = WriteTestCall(Dst(), 11, 2000, "b");
  EXPECT_EQ(receiver_.Lookup(kept.call_id, "b", kept.audio_file)->presence, Presence::kHave);
}

TEST_F(ReceiverTest, ACallInTheSharedBucketComesAsItsManifestWithTheLocation) {
  TestCall c = WriteTestCall(Src(), 1, 50000);
  // A bucket this node does not use: refused, nothing written.
  Result<Receiver::CommitResult> r =
      receiver_.Commit(c.call_id, c.manifest, "a", "s3://other/rec/" + c.audio_file);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().message().starts_with("not_shared_bucket")) << r.status().ToString();
  EXPECT_FALSE(DefaultFs()->Exists(Dst() + "/" + c.audio_file + ".json"));
  EXPECT_EQ(receiver_.Lookup(c.call_id, "a")->presence, Presence::kAbsent);

  const std::string location = "s3://calls/rec/" + c.audio_file;
  r = receiver_.Commit(c.call_id, c.manifest, "a", location);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->presence, Presence::kHave);
  EXPECT_EQ(r->audio_file, c.audio_file);
  EXPECT_FALSE(DefaultFs()->Exists(Dst() + "/" + c.audio_file));  // no audio here
  Result<std::string> text = DefaultFs()->ReadFile(Dst() + "/" + c.audio_file + ".json");
  ASSERT_TRUE(text.ok());
  Result<recording::Manifest> m = recording::ParseManifest(*text);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->audio.location, location);
  EXPECT_EQ(m->audio.sha256, recording::ParseManifest(c.manifest)->audio.sha256);
  EXPECT_TRUE(box_.Contains("catalog", c.call_id));
  EXPECT_FALSE(box_.Contains("relocation", c.call_id));  // nothing here to move
  EXPECT_TRUE(box_.Contains("peer.c", c.call_id));       // relay: its sender decides
  EXPECT_EQ(receiver_.Lookup(c.call_id, "a")->presence, Presence::kHave);
}

TEST_F(ReceiverTest, ACommitStoppedAfterItsManifestIsCommittedAgainNotTakenAsDone) {
  TestCall c = WriteTestCall(Src(), 1, 30000);
  ASSERT_TRUE(Send(c, 0, c.audio.size()).ok());
  ASSERT_TRUE(receiver_.Commit(c.call_id, c.manifest, "a").ok());
  // As if the receiver died after writing the manifest: no outbox entries, no note.
  ASSERT_TRUE(DefaultFs()->Remove(box_.EntryPath("catalog", c.call_id)).ok());
  ASSERT_TRUE(CallIndex(tmp_.path() + "/b/cluster/received", DefaultFs()).Remove(c.call_id).ok());
  Result<CallStatus> st = receiver_.Lookup(c.call_id, "a", c.audio_file);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->presence, Presence::kPartial);  // not "have": the sender must commit again
  EXPECT_EQ(st->offset, c.audio.size());        // …without sending a byte
  Result<Receiver::CommitResult> r = receiver_.Commit(c.call_id, c.manifest, "a");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->audio_file, c.audio_file);
  EXPECT_TRUE(DefaultFs()->Exists(box_.EntryPath("catalog", c.call_id)));
  EXPECT_EQ(receiver_.Lookup(c.call_id, "a", c.audio_file)->presence, Presence::kHave);
  EXPECT_EQ(*DefaultFs()->ReadFile(Dst() + "/" + c.audio_file), c.audio);
}

}  // namespace
}  // namespace callvault::replication

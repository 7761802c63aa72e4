// ChangeFeed over real mutual TLS: node b pulls node a's change log from a's PeerServer and
// applies it to its own catalog; deletions reach b's receiver as tombstones.
#include "replication/change_feed.h"

#include <gtest/gtest.h>

#include "catalog/testing/manifests.h"
#include "outbox/testing/outbox_fixture.h"
#include "replication/peer_server.h"
#include "replication/testing/test_pki.h"

namespace callvault::replication {
namespace {

class ChangeFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<testing::TestPki> pki = testing::MakeTestPki(tmp_.path() + "/pki", {"a", "b"});
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
    a_ = Open("a");
    b_ = Open("b");
    ASSERT_TRUE(a_ && b_);
    for (const char* n : {"a", "b"}) {
      ASSERT_TRUE(boxes_[n == std::string("a") ? 0 : 1]->OpenQueue("catalog").ok());
      ReceiverOptions ro;
      ro.node_id = n;
      ro.recordings_dir = tmp_.path() + "/" + n + "/recordings";
      ro.state_dir = tmp_.path() + "/" + n + "/cluster";
      ro.min_free_bytes = 0;
      receivers_.push_back(std::make_unique<Receiver>(
          ro, DefaultFs(), boxes_[n == std::string("a") ? 0 : 1].get(), &clock_, nullptr));
      ASSERT_TRUE(receivers_.back()->Open().ok());
    }
    PeerServerOptions so;
    so.host = "127.0.0.1";
    so.tls = pki_.For("a");
    so.node_id = "a";
    so.instance_id = "instance-a";
    so.peers = {"b"};
    catalog::Catalog* a = a_.get();
    server_ = std::make_unique<PeerServer>(so, receivers_[0].get(), &metrics_,
                                           [a](int64_t after, int limit) -> Result<nlohmann::json> {
                                             CV_ASSIGN_OR_RETURN(std::vector<catalog::Change> c,
                                                                 a->ChangesAfter(after, limit));
                                             return ChangesToJson(c);
                                           });
    ASSERT_TRUE(server_->Start().ok());
    ChangeFeedOptions fo;
    fo.node_id = "b";
    feed_ = std::make_unique<ChangeFeed>(fo, b_.get(), receivers_[1].get(), &clock_, &metrics_,
                                         [this] { ++deletions_woken_; });
    PeerClientOptions po;
    po.peer_id = "a";
    po.url = "https://127.0.0.1:" + std::to_string(server_->port());
    po.tls = pki_.For("b");
    po.node_id = "b";
    po.instance_id = "instance-b";
    feed_->SetPeers({po});
  }
  std::unique_ptr<catalog::Catalog> Open(const std::string& node) {
    catalog::CatalogOptions o;
    o.url = "sqlite:" + tmp_.path() + "/" + node + ".db";
    o.node_id = node;
    Result<std::unique_ptr<catalog::Catalog>> c = catalog::OpenCatalog(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  outbox::testing::TempDir tmp_;
  testing::TestPki pki_;
  FakeClock clock_;
  Registry metrics_;
  std::unique_ptr<catalog::Catalog> a_, b_;
  std::unique_ptr<outbox::Outbox> boxes_[2] = {
      std::make_unique<outbox::Outbox>(tmp_.path() + "/a/outbox", DefaultFs(), nullptr),
      std::make_unique<outbox::Outbox>(tmp_.path() + "/b/outbox", DefaultFs(), nullptr)};
  std::vector<std::unique_ptr<Receiver>> receivers_;
  std::unique_ptr<PeerServer> server_;
  std::unique_ptr<ChangeFeed> feed_;
  int deletions_woken_ = 0;
};

TEST_F(ChangeFeedTest, AUserMadeOnAIsOnBAfterAPullAndADeletionTombstonesTheCallOnB) {
  catalog::User u{.username = "alice", .password_hash = "$argon2id$fake", .role = "admin"};
  ASSERT_TRUE(a_->CreateUser(u).ok());
  // A call both nodes have, deleted on a.
  recording::Manifest m = catalog::testing::MakeManifest({.node_id = "a"});
  ASSERT_TRUE(a_->IngestManifests({m}).ok());
  ASSERT_TRUE(b_->IngestManifests({m}).ok());
  ASSERT_TRUE(a_->DeleteCall(m.call_id,
                             catalog::AuditEntry{
                                 .actor = "tester", .action = "call.delete", .target = m.call_id})
                  .ok());
  Status s = feed_->RunOnce();
  ASSERT_TRUE(s.ok()) << s.ToString();
  Result<catalog::User> on_b = b_->GetUser("alice");
  ASSERT_TRUE(on_b.ok()) << on_b.status().ToString();
  EXPECT_EQ(on_b->password_hash, "$argon2id$fake");
  EXPECT_TRUE(*b_->IsDeleted(m.call_id));
  EXPECT_TRUE(receivers_[1]->IsDeleted(m.call_id));
  EXPECT_GE(deletions_woken_, 1);
  // Pulled again: nothing new is applied (the cursor moved on).
  const std::string before = metrics_.Render();
  ASSERT_TRUE(feed_->RunOnce().ok());
  EXPECT_EQ(metrics_.Render().find("callvault_cluster_sync_up{peer=\"a\"} 1") != std::string::npos,
            true);
  (void)before;
}

TEST_F(ChangeFeedTest, APasswordChangedOnAReplacesTheHashOnB) {
  catalog::User u{.username = "bob", .password_hash = "old", .role = "viewer"};
  ASSERT_TRUE(a_->CreateUser(u).ok());
  ASSERT_TRUE(feed_->RunOnce().ok());
  Result<catalog::User> on_a = a_->GetUser("bob");
  ASSERT_TRUE(on_a.ok());
  on_a->password_hash = "new";
  ASSERT_TRUE(a_->UpdateUser(*on_a).ok());
  ASSERT_TRUE(feed_->RunOnce().ok());
  EXPECT_EQ(b_->GetUser("bob")->password_hash, "new");
}

TEST_F(ChangeFeedTest, APeerDownIsAnErrorAndTheNextRoundCatchesUp) {
  server_->Stop();
  ASSERT_TRUE(a_->CreateUser({.username = "carol", .password_hash = "h", .role = "viewer"}).ok());
  EXPECT_EQ(feed_->RunOnce().code(), StatusCode::kUnavailable);
  Status started = server_->Start();  // the same port again
  ASSERT_TRUE(started.ok()) << started.ToString();
  ASSERT_TRUE(feed_->RunOnce().ok());
  EXPECT_TRUE(b_->GetUser("carol").ok());
}

TEST(ChangesJsonTest, MalformedBatchesAreRefusedNamingTheElement) {
  EXPECT_FALSE(ChangesFromJson(nlohmann::json::parse(R"({"x":1})")).ok());
  Result<std::vector<catalog::Change>> r =
      ChangesFromJson(nlohmann::json::parse(R"({"changes":[{"seq":1,"hlc":"x"}]})"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("changes[0]"), std::string_view::npos);
  std::vector<catalog::Change> in = {{.seq = 3,
                                      .hlc = "h",
                                      .origin = "a",
                                      .entity = "user",
                                      .key = "alice",
                                      .op = "upsert",
                                      .body = "{}"}};
  Result<std::vector<catalog::Change>> back = ChangesFromJson(ChangesToJson(in));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0].key, "alice");
  EXPECT_EQ(ChangesToJson(in)["last_seq"], 3);
}

}  // namespace
}  // namespace callvault::replication

// Sender → PeerServer → Receiver over real mutual TLS on loopback: calls arrive intact and once,
// resume at the peer's offset, are resent after a mismatch, wait while the peer is down or the
// window closed, and strangers (another CA, an unconfigured name, an API token) are refused.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

#include "outbox/testing/outbox_fixture.h"
#include "recording/manifest_reader.h"
#include "replication/peer_client.h"
#include "replication/peer_server.h"
#include "replication/receiver.h"
#include "replication/sender.h"
#include "replication/testing/test_calls.h"
#include "replication/testing/test_pki.h"

namespace callvault::replication {
namespace {

using std::chrono::milliseconds;
using testing::TestCall;
using testing::WriteTestCall;

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<testing::TestPki> pki =
        testing::MakeTestPki(tmp_.path() + "/pki", {"a", "b", "stranger"}, {"rogue"});
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
    ASSERT_TRUE(a_box_.OpenQueue("peer.b").ok());
    ASSERT_TRUE(b_box_.OpenQueue("catalog").ok());
    ReceiverOptions ro;
    ro.node_id = "b";
    ro.recordings_dir = BRec();
    ro.state_dir = tmp_.path() + "/b/cluster";
    ro.queues = {"catalog"};
    ro.min_free_bytes = 0;
    ro.shared_bucket = "s3://calls/";
    receiver_ = std::make_unique<Receiver>(ro, DefaultFs(), &b_box_, &clock_, &b_metrics_);
    ASSERT_TRUE(receiver_->Open().ok());
    StartServer();
  }
  void StartServer() {
    PeerServerOptions so;
    so.host = "127.0.0.1";
    so.port = port_;
    so.tls = pki_.For("b");
    so.node_id = "b";
    so.instance_id = "instance-b";
    so.peers = {"a"};
    so.threads = 4;
    server_ = std::make_unique<PeerServer>(so, receiver_.get(), &b_metrics_);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = server_->port();
  }
  std::string ARec() const { return tmp_.path() + "/a/recordings"; }
  std::string BRec() const { return tmp_.path() + "/b/recordings"; }
  PeerClientOptions ClientOptions(const std::string& as = "a") const {
    PeerClientOptions o;
    o.peer_id = "b";
    o.url = "https://127.0.0.1:" + std::to_string(port_);
    o.tls = pki_.For(as);
    o.node_id = as;
    o.instance_id = "instance-" + as;
    o.connect_timeout = std::chrono::seconds(2);
    o.stall_time = std::chrono::seconds(5);
    return o;
  }
  std::unique_ptr<Sender> MakeSender(SenderOptions so = {}) {
    so.recordings_dir = ARec();
    so.first_backoff = milliseconds(50);
    so.max_backoff = milliseconds(200);
    so.lower_priority = false;
    return std::make_unique<Sender>(so, ClientOptions(), &a_box_, DefaultFs(), &clock_,
                                    &a_tombstones_, &a_metrics_);
  }
  TestCall Queue(int n, size_t bytes) {
    TestCall c = WriteTestCall(ARec(), n, bytes);
    EXPECT_TRUE(a_box_.Put("peer.b", c.entry).ok());
    return c;
  }
  static Status Drain(Sender& s) {
    for (int i = 0; i < 1000; ++i) {
      bool more = false;
      CV_RETURN_IF_ERROR(s.drainer()->RunOnce(&more));
      if (!more) return Status::Ok();
    }
    return InternalError("did not finish");
  }
  void ExpectOnB(const TestCall& c) {
    Result<std::string> audio = DefaultFs()->ReadFile(BRec() + "/" + c.audio_file);
    ASSERT_TRUE(audio.ok()) << c.audio_file;
    EXPECT_TRUE(*audio == c.audio) << c.audio_file;
    EXPECT_TRUE(b_box_.Contains("catalog", c.call_id));
  }

  outbox::testing::TempDir tmp_;
  testing::TestPki pki_;
  FakeClock clock_;
  Registry a_metrics_, b_metrics_;
  outbox::Outbox a_box_{tmp_.path() + "/a/outbox", DefaultFs(), &a_metrics_};
  outbox::Outbox b_box_{tmp_.path() + "/b/outbox", DefaultFs(), &b_metrics_};
  CallIndex a_tombstones_{tmp_.path() + "/a/cluster/tombstones", DefaultFs()};
  std::unique_ptr<Receiver> receiver_;
  std::unique_ptr<PeerServer> server_;
  int port_ = 0;
};

TEST_F(ReplicationTest, CallsArriveIntactOnceAndTheQueueEmpties) {
  std::vector<TestCall> calls;
  for (int i = 0; i < 12; ++i) calls.push_back(Queue(i, 1000 + i * 7777));
  calls.push_back(Queue(99, 0));  // an empty recording (no audio at all) replicates too
  SenderOptions so;
  so.parallel = 3;
  so.batch = 5;
  auto sender = MakeSender(so);
  ASSERT_TRUE(Drain(*sender).ok()) << sender->drainer()->last_error();
  for (const TestCall& c : calls) ExpectOnB(c);
  EXPECT_EQ(a_box_.backlog("peer.b"), 0);
  EXPECT_EQ(sender->sent_calls(), calls.size());
  EXPECT_TRUE(sender->peer_up());
  // Queued again (a crash before the entry's removal was durable): "have", nothing sent.
  const uint64_t bytes = sender->sent_bytes();
  ASSERT_TRUE(a_box_.Put("peer.b", calls[3].entry).ok());
  ASSERT_TRUE(Drain(*sender).ok());
  EXPECT_EQ(sender->sent_bytes(), bytes);
  EXPECT_EQ(b_box_.backlog("catalog"), static_cast<int64_t>(calls.size()));
  const std::string text = a_metrics_.Render();
  EXPECT_NE(text.find("callvault_replication_sent_calls_total{peer=\"b\"} 14"), std::string::npos)
      << text;
}

TEST_F(ReplicationTest, ATransferResumesAtThePeersOffset) {
  TestCall c = Queue(1, 300000);
  {
    auto up = receiver_->BeginUpload(c.call_id, 0, c.audio.size());
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->Append(std::string_view(c.audio).substr(0, 200000)).ok());
  }  // cut: the part keeps what arrived
  auto sender = MakeSender();
  ASSERT_TRUE(Drain(*sender).ok());
  ExpectOnB(c);
  EXPECT_EQ(sender->sent_bytes(), 100000u);
}

TEST_F(ReplicationTest, AMismatchOnThePeerIsResentFromTheStart) {
  TestCall c = Queue(2, 50000);
  TestCall corrupt = c;
  corrupt.audio[10] ^= 0x40;
  {
    auto up = receiver_->BeginUpload(c.call_id, 0, c.audio.size());
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->Append(corrupt.audio).ok());
  }
  auto sender = MakeSender();
  ASSERT_TRUE(Drain(*sender).ok());
  ExpectOnB(c);
  EXPECT_EQ(sender->sent_bytes(), 50000u);
}

TEST_F(ReplicationTest, WhileThePeerIsDownEntriesStayAndGoOnceItIsBack) {
  TestCall c = Queue(3, 10000);
  server_->Stop();
  auto sender = MakeSender();
  bool more = false;
  Status s = sender->drainer()->RunOnce(&more);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(a_box_.backlog("peer.b"), 1);
  EXPECT_FALSE(sender->peer_up());
  StartServer();
  ASSERT_TRUE(Drain(*sender).ok());
  ExpectOnB(c);
  EXPECT_NE(a_metrics_.Render().find(
                "callvault_replication_errors_total{kind=\"unreachable\",peer=\"b\"} 1"),
            std::string::npos)
      << a_metrics_.Render();
}

TEST_F(ReplicationTest, AClosedWindowSendsNothingUntilItOpens) {
  const int now = LocalMinuteOfDay(clock_.WallNow());
  const auto hhmm = [](int m) {
    m = (m + 1440) % 1440;
    return fmt::format("{:02}:{:02}", m / 60, m % 60);
  };
  SenderOptions so;
  so.schedule = *Schedule::Parse(hhmm(now + 2) + "-" + hhmm(now + 3));
  TestCall c = Queue(4, 1000);
  auto sender = MakeSender(so);
  ASSERT_TRUE(Drain(*sender).ok());
  EXPECT_EQ(sender->sent_bytes(), 0u);
  EXPECT_EQ(a_box_.backlog("peer.b"), 1);
  EXPECT_FALSE(sender->window_open());
  clock_.Advance(std::chrono::minutes(2));
  ASSERT_TRUE(Drain(*sender).ok());
  ExpectOnB(c);
}

TEST_F(ReplicationTest, ATombstonedCallIsDroppedWithoutSending) {
  TestCall c = Queue(5, 1000);
  ASSERT_TRUE(a_tombstones_.Open().ok());
  ASSERT_TRUE(a_tombstones_.Put(c.call_id, "{}").ok());
  auto sender = MakeSender();
  ASSERT_TRUE(Drain(*sender).ok());
  EXPECT_EQ(sender->drainer()->dropped(), 1u);
  EXPECT_EQ(a_box_.backlog("peer.b"), 0);
  EXPECT_FALSE(DefaultFs()->Exists(BRec() + "/" + c.audio_file));
}

TEST_F(ReplicationTest, StrangersAreRefused) {
  // A certificate from another CA: the TLS handshake fails.
  PeerClient rogue(ClientOptions("rogue"));
  Result<nlohmann::json> r = rogue.Hello();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  // The cluster's CA, but a name that is not a configured peer.
  PeerClient stranger(ClientOptions("stranger"));
  r = stranger.Hello();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
  EXPECT_NE(r.status().message().find("peer_unknown"), std::string_view::npos);
  // A cloned data directory: the same instance id as the receiver.
  PeerClientOptions clone = ClientOptions("a");
  clone.instance_id = "instance-b";
  r = PeerClient(clone).Hello();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cloned_data_dir"), std::string_view::npos);
  // The configured peer gets through and learns who answers.
  r = PeerClient(ClientOptions("a")).Hello();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["node_id"], "b");
}

TEST_F(ReplicationTest, AMalformedUploadIsRefusedWithAJsonError) {
  PeerClient client(ClientOptions("a"));
  Result<nlohmann::json> r = client.GetJson("/cluster/v1/calls/not-a-call-id");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  r = client.GetJson("/cluster/v1/changes");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST_F(ReplicationTest, APeerSharingTheBucketGetsMovedCallsAsManifestsAlone) {
  TestCall moved = WriteTestCall(ARec(), 1, 300000);
  outbox::Entry e = moved.entry;
  e.location = "s3://calls/rec/" + moved.audio_file;
  ASSERT_TRUE(DefaultFs()->Remove(ARec() + "/" + moved.audio_file).ok());  // relocated
  ASSERT_TRUE(a_box_.Put("peer.b", e).ok());
  TestCall local = Queue(2, 20000);  // not moved (yet): goes with its audio
  SenderOptions so;
  so.shared_bucket = true;
  auto sender = MakeSender(so);
  ASSERT_TRUE(Drain(*sender).ok()) << sender->drainer()->last_error();
  EXPECT_EQ(a_box_.backlog("peer.b"), 0);
  EXPECT_EQ(sender->sent_bytes(), local.audio.size());  // not one byte of the moved call
  ExpectOnB(local);
  Result<std::string> text = DefaultFs()->ReadFile(BRec() + "/" + moved.audio_file + ".json");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(recording::ParseManifest(*text)->audio.location, e.location);
  EXPECT_FALSE(DefaultFs()->Exists(BRec() + "/" + moved.audio_file));
  EXPECT_TRUE(b_box_.Contains("catalog", moved.call_id));

  // A peer that does not share it: refused by the peer (the entry waits, counted)...
  TestCall other = WriteTestCall(ARec(), 3, 1000);
  e = other.entry;
  e.location = "s3://elsewhere/rec/" + other.audio_file;
  ASSERT_TRUE(a_box_.Put("peer.b", e).ok());
  bool more = false;
  EXPECT_FALSE(sender->drainer()->RunOnce(&more).ok());
  EXPECT_EQ(a_box_.backlog("peer.b"), 1);
  EXPECT_NE(a_metrics_.Render().find("errors_total{kind=\"bucket_mismatch\",peer=\"b\"} 1"), std::string::npos)
      << a_metrics_.Render();
}

}  // namespace
}  // namespace callvault::replication

// SRTP: the test encrypts with libsrtp2 as the SRC would; the engine decrypts before spooling.
#include <gtest/gtest.h>

#include <thread>

#include "media/internal/test_rtp.h"
#include "media/media_engine.h"
#include "media/srtp_session.h"

namespace callvault::media {
namespace {

using namespace std::chrono_literals;
using spool::RecordKind;
using testing::MakeRtcp;
using testing::MakeRtp;
using testing::ReadCallSpool;
using testing::UdpSender;
using testing::WaitFor;

std::string Key(size_t bytes, char seed) {
  std::string k(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) k[i] = static_cast<char>(seed + i * 13);
  return Base64Encode(k);
}

TEST(SrtpKeyTest, DecodesInlineKeysAndRejectsBadOnes) {
  const std::string k30 = Key(30, 1);
  EXPECT_EQ(DecodeSdesKey("AES_CM_128_HMAC_SHA1_80", "inline:" + k30 + "|2^20")->size(), 30u);
  EXPECT_EQ(DecodeSdesKey("AES_256_CM_HMAC_SHA1_80", Key(46, 2))->size(), 46u);
  EXPECT_EQ(DecodeSdesKey("AES_256_CM_HMAC_SHA1_80", k30).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeSdesKey("F8_128_HMAC_SHA1_80", k30).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeSdesKey("AES_CM_128_HMAC_SHA1_80", k30 + "|2^20|1:4").status().code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(DecodeSdesKey("AES_CM_128_HMAC_SHA1_80", "!!!").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(*Base64Decode(Base64Encode("any carnal pleas")), "any carnal pleas");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
}

class SrtpEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("cv_srtp_");
    const uint16_t base = testing::RandomPortBase(100);
    MediaOptions o;
    o.ipv4_address = "127.0.0.1";
    o.port_min = base;
    o.port_max = static_cast<uint16_t>(base + 99);
    o.io_threads = 1;
    o.spool_flush = 50ms;
    o.rtcp_sockets = true;  // SRTCP is sent to RTP + 1 below
    engine_ = std::make_unique<MediaEngine>(o, DefaultFs(), RealClock(), nullptr);
    ASSERT_TRUE(engine_->Start().ok());
  }
  void TearDown() override {
    engine_->Stop();
    DefaultFs()->RemoveAll(dir_).IgnoreError();
  }
  // Encrypts and sends `n` packets from seq `first`; returns the plaintexts.
  std::vector<std::string> Send(uint16_t port, SrtpSession& tx, int first, int n) {
    std::vector<std::string> plain;
    for (int i = first; i < first + n; ++i) {
      plain.push_back(MakeRtp(static_cast<uint16_t>(i), i * 160u, 0xABCD));
      std::string wire = plain.back();
      int len = static_cast<int>(wire.size());
      wire.resize(wire.size() + SrtpSession::kMaxTrailer);
      EXPECT_TRUE(tx.ProtectRtp(wire.data(), &len).ok());
      wire.resize(static_cast<size_t>(len));
      sent_wire_.push_back(wire);
      sender_.Send(port, wire);
    }
    return plain;
  }
  StreamConfig Config(std::optional<SrtpParams> srtp) {
    return StreamConfig{"call-s", "s0", dir_ + "/call-s", false, std::move(srtp)};
  }

  std::string dir_;
  std::unique_ptr<MediaEngine> engine_;
  UdpSender sender_;
  std::vector<std::string> sent_wire_;
};

class SrtpSuiteTest : public SrtpEngineTest,
                      public ::testing::WithParamInterface<std::pair<const char*, size_t>> {};

TEST_P(SrtpSuiteTest, DecryptsBeforeSpooling) {
  const auto [suite, key_bytes] = GetParam();
  SrtpParams params{suite, "inline:" + Key(key_bytes, 5)};
  auto port = engine_->OpenStream(Config(params));
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  auto tx = SrtpSession::Create(params, SrtpSession::Direction::kOutbound);
  ASSERT_TRUE(tx.ok());
  auto plain = Send(*port, **tx, 100, 100);
  // One SRTCP packet on port + 1.
  std::string rtcp = MakeRtcp(201, 0xABCD);
  int len = static_cast<int>(rtcp.size());
  rtcp.resize(rtcp.size() + SrtpSession::kMaxTrailer);
  ASSERT_TRUE((*tx)->ProtectRtcp(rtcp.data(), &len).ok());
  rtcp.resize(static_cast<size_t>(len));
  sender_.Send(*port + 1, rtcp);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = engine_->Stats("call-s", "s0");
        return s && s->rtp.packets == 100 && s->rtp.rtcp_packets == 1;
      },
      5s));
  auto st = engine_->CloseStream("call-s", "s0");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->srtp);
  EXPECT_EQ(st->srtp_decrypted, 101u);
  EXPECT_EQ(st->srtp_auth_failures, 0u);
  EXPECT_EQ(st->rtp.lost, 0u);
  auto records = ReadCallSpool(dir_ + "/call-s/media.spool", "s0");
  ASSERT_EQ(records.size(), 101u);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(records[i].flags, spool::kFlagSrtpDecrypted);
    EXPECT_EQ(records[i].payload, plain[i]) << i;
  }
  EXPECT_EQ(records[100].kind, RecordKind::kRtcp);
  EXPECT_EQ(records[100].payload, MakeRtcp(201, 0xABCD));
}

INSTANTIATE_TEST_SUITE_P(Suites, SrtpSuiteTest,
                         ::testing::Values(std::make_pair("AES_CM_128_HMAC_SHA1_80", size_t{30}),
                                           std::make_pair("AES_CM_128_HMAC_SHA1_32", size_t{30}),
                                           std::make_pair("AES_256_CM_HMAC_SHA1_80", size_t{46})));

TEST_F(SrtpEngineTest, WrongKeyIsCountedAndSpooledRaw) {
  auto port = engine_->OpenStream(Config(SrtpParams{"AES_CM_128_HMAC_SHA1_80", Key(30, 1)}));
  ASSERT_TRUE(port.ok());
  auto tx = SrtpSession::Create({"AES_CM_128_HMAC_SHA1_80", Key(30, 9)},
                                SrtpSession::Direction::kOutbound);
  Send(*port, **tx, 0, 20);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = engine_->Stats("call-s", "s0");
        return s && s->rtp.packets == 20;
      },
      5s));
  auto st = engine_->CloseStream("call-s", "s0");
  EXPECT_EQ(st->srtp_auth_failures, 20u);
  EXPECT_EQ(st->srtp_decrypted, 0u);
  auto records = ReadCallSpool(dir_ + "/call-s/media.spool", "s0");
  ASSERT_EQ(records.size(), 20u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].flags, spool::kFlagSrtpAuthFailed);
    EXPECT_EQ(records[i].payload, sent_wire_[i]);  // exactly as received
  }
}

TEST_F(SrtpEngineTest, RekeyOnReInvite) {
  SrtpParams k1{"AES_CM_128_HMAC_SHA1_80", Key(30, 1)}, k2{"AES_CM_128_HMAC_SHA1_32", Key(30, 2)};
  auto port = engine_->OpenStream(Config(k1));
  ASSERT_TRUE(port.ok());
  auto tx1 = SrtpSession::Create(k1, SrtpSession::Direction::kOutbound);
  Send(*port, **tx1, 0, 10);
  ASSERT_TRUE(WaitFor([&] { return engine_->Stats("call-s", "s0")->rtp.packets == 10; }, 5s));
  ASSERT_TRUE(engine_->UpdateSrtp("call-s", "s0", k2).ok());
  auto tx2 = SrtpSession::Create(k2, SrtpSession::Direction::kOutbound);
  Send(*port, **tx2, 10, 10);
  ASSERT_TRUE(WaitFor([&] { return engine_->Stats("call-s", "s0")->rtp.packets == 20; }, 5s));
  ASSERT_TRUE(engine_->UpdateSrtp("call-s", "s0", std::nullopt).ok());  // plain RTP from now on
  sender_.Send(*port, MakeRtp(20, 0, 0xABCD));
  ASSERT_TRUE(WaitFor([&] { return engine_->Stats("call-s", "s0")->rtp.packets == 21; }, 5s));
  auto st = engine_->CloseStream("call-s", "s0");
  EXPECT_EQ(st->srtp_decrypted, 20u);
  EXPECT_EQ(st->srtp_auth_failures, 0u);
  EXPECT_FALSE(st->srtp);
  EXPECT_EQ(st->rtp.lost, 0u);
  EXPECT_EQ(engine_->UpdateSrtp("call-s", "s0", k1).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace callvault::media

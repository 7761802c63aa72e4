#include <gtest/gtest.h>

#include <cerrno>
#include <random>

#include "base/clock.h"
#include "base/fault_injecting_fs.h"
#include "base/fs.h"
#include "media/crc32c.h"
#include "media/internal/spool_v1_bytes.h"
#include "media/internal/test_rtp.h"
#include "media/session_log.h"
#include "media/spool_reader.h"

namespace callvault::media {
namespace {

using spool::RecordKind;
using testing::MakeTempDir;
using testing::OwnedRecord;
using testing::ReadSpool;

TEST(Crc32cTest, KnownVectorsAndBothPathsAgree) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c("", 0), 0u);
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
  std::mt19937 rng(7);
  for (size_t n :
       {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 9u, 12u, 13u, 14u, 15u, 63u, 172u, 188u, 1500u}) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(Crc32c(s.data(), n), internal::Crc32cExtendPortable(0, s.data(), n)) << n;
    // Extending in two pieces equals one pass.
    EXPECT_EQ(Crc32cExtend(Crc32c(s.data(), n / 2), s.data() + n / 2, n - n / 2),
              Crc32c(s.data(), n));
  }
}

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("cv_spool_"); }
  void TearDown() override { DefaultFs()->RemoveAll(dir_).IgnoreError(); }
  std::string Path(const std::string& name = "a.rtp") { return dir_ + "/" + name; }

  // A version 1 file of 50 records and a gap marker at Path(); returns what it holds.
  std::vector<OwnedRecord> WriteSample() {
    std::vector<OwnedRecord> sent;
    std::string file = testing::SpoolV1Header();
    for (int i = 0; i < 50; ++i) {
      OwnedRecord r{i % 7 == 3 ? RecordKind::kRtcp : RecordKind::kRtp, static_cast<uint8_t>(i % 3),
                    1'700'000'000'000'000'000 + i * 20'000'000LL,
                    testing::MakeRtp(static_cast<uint16_t>(i), i * 160u, 0x1234, i * 3)};
      testing::AppendSpoolV1Record(&file, r.kind, r.flags, r.arrival_ns, r.payload);
      sent.push_back(r);
    }
    testing::AppendSpoolV1Record(&file, RecordKind::kGap, 0, 1, "");
    sent.push_back({RecordKind::kGap, 0, 1, ""});
    EXPECT_TRUE(WriteFileDurably(*DefaultFs(), Path(), file).ok());
    return sent;
  }
  static void ExpectSame(const std::vector<OwnedRecord>& a, const std::vector<OwnedRecord>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].kind, b[i].kind) << i;
      EXPECT_EQ(a[i].flags, b[i].flags) << i;
      EXPECT_EQ(a[i].arrival_ns, b[i].arrival_ns) << i;
      EXPECT_EQ(a[i].payload, b[i].payload) << i;
    }
  }

  std::string dir_;
};

TEST_F(SpoolTest, RoundTripKeepsEveryRecordInOrder) {
  auto sent = WriteSample();
  uint64_t ignored = 99;
  ExpectSame(ReadSpool(Path(), &ignored), sent);
  EXPECT_EQ(ignored, 0u);
}

TEST_F(SpoolTest, HeaderOnlyFileHasNoRecords) {
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), Path(), testing::SpoolV1Header()).ok());
  auto r = SpoolReader::Open(*DefaultFs(), Path());
  ASSERT_TRUE(r.ok());
  SpoolRecord rec;
  EXPECT_FALSE(r->Next(&rec));
  EXPECT_TRUE(r->tail().ok());
}

TEST_F(SpoolTest, TornTailIsIgnoredAndReported) {
  auto sent = WriteSample();
  std::string full = *DefaultFs()->ReadFile(Path());
  // Cut inside the last 3 records' headers and payloads: every cut keeps the records before it.
  const size_t last_sizes = 16 + 0;  // gap record
  for (size_t cut = 1; cut < last_sizes + 40; ++cut) {
    if (cut == last_sizes) continue;  // exactly the last record: a clean end
    auto r = SpoolReader::FromBytes(full.substr(0, full.size() - cut));
    ASSERT_TRUE(r.ok());
    SpoolRecord rec;
    size_t n = 0;
    while (r->Next(&rec)) ++n;
    EXPECT_LT(n, sent.size());
    EXPECT_FALSE(r->tail().ok()) << cut;
    EXPECT_EQ(r->tail().code(), StatusCode::kDataLoss);
    EXPECT_GT(r->ignored_bytes(), 0u);
    EXPECT_EQ(rec.offset + 16 + rec.payload.size() + r->ignored_bytes(), full.size() - cut);
  }
}

TEST_F(SpoolTest, CrcMismatchStopsTheReader) {
  WriteSample();
  std::string data = *DefaultFs()->ReadFile(Path());
  // Flip one payload byte of record 10.
  auto r0 = SpoolReader::FromBytes(data);
  SpoolRecord rec;
  for (int i = 0; i <= 10; ++i) ASSERT_TRUE(r0->Next(&rec));
  data[rec.offset + 16 + 5] ^= 0x40;
  auto r = SpoolReader::FromBytes(data);
  ASSERT_TRUE(r.ok());
  size_t n = 0;
  while (r->Next(&rec)) ++n;
  EXPECT_EQ(n, 10u);
  EXPECT_NE(r->tail().message().find("CRC"), std::string_view::npos);
  EXPECT_EQ(r->ignored_bytes(), data.size() - rec.offset - 16 - rec.payload.size());
}

TEST_F(SpoolTest, BadHeadersAreErrors) {
  EXPECT_EQ(SpoolReader::FromBytes("CVSPOOL").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(SpoolReader::FromBytes(std::string("XXSPOOL\0\1\0\x10\0\0\0\0\0", 16)).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(SpoolReader::FromBytes(std::string("CVSPOOL\0\3\0\x10\0\0\0\0\0", 16)).status().code(),
            StatusCode::kUnimplemented);
}

TEST_F(SpoolTest, SessionLogLinesAndTornTail) {
  FakeClock clock;
  const std::string call_dir = dir_ + "/call-1";
  auto log = SessionLog::Open(DefaultFs(), &clock, call_dir);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE((*log)->Append("start", {{"call_id", "call-1"}, {"v", 7}}).ok());
  ASSERT_TRUE((*log)->Sync().ok());
  ASSERT_TRUE((*log)->Append("state", {{"state", "paused"}}).ok());
  EXPECT_FALSE((*log)->Append("bad", nlohmann::json::array()).ok());
  ASSERT_TRUE((*log)->Close().ok());
  const std::string path = call_dir + "/session.jsonl";
  auto lines = ReadSessionLog(*DefaultFs(), path);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0]["v"], 1);
  EXPECT_EQ((*lines)[0]["t"], "start");
  EXPECT_EQ((*lines)[0]["at"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ((*lines)[0]["call_id"], "call-1");
  EXPECT_EQ((*lines)[1]["state"], "paused");
  // A crash tore a line: readers ignore it; a reopened log continues on a fresh line.
  {
    auto f = DefaultFs()->NewAppendableFile(path);
    ASSERT_TRUE((*f)->Append("{\"v\":1,\"t\":\"end\",\"rea").ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  EXPECT_EQ(ReadSessionLog(*DefaultFs(), path)->size(), 2u);
  auto again = SessionLog::Open(DefaultFs(), &clock, call_dir);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Append("end", {{"reason", "bye"}}).ok());
  int bad = 0;
  lines = ReadSessionLog(*DefaultFs(), path, &bad);
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ(bad, 1);
  EXPECT_EQ((*lines)[2]["reason"], "bye");
}

}  // namespace
}  // namespace callvault::media

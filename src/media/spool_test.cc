#include <gtest/gtest.h>

#include <cerrno>
#include <random>

#include "base/clock.h"
#include "base/fault_injecting_fs.h"
#include "base/fs.h"
#include "media/crc32c.h"
#include "media/internal/test_rtp.h"
#include "media/session_log.h"
#include "media/spool_reader.h"
#include "media/spool_writer.h"

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

  std::vector<OwnedRecord> WriteSample(SpoolWriter& w) {
    std::vector<OwnedRecord> sent;
    for (int i = 0; i < 50; ++i) {
      OwnedRecord r{i % 7 == 3 ? RecordKind::kRtcp : RecordKind::kRtp, static_cast<uint8_t>(i % 3),
                    1'700'000'000'000'000'000 + i * 20'000'000LL,
                    testing::MakeRtp(static_cast<uint16_t>(i), i * 160u, 0x1234, i * 3)};
      w.Append(r.kind, r.flags, r.arrival_ns, r.payload);
      sent.push_back(r);
    }
    w.Append(RecordKind::kGap, 0, 1, "");
    sent.push_back({RecordKind::kGap, 0, 1, ""});
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
  auto w = SpoolWriter::Create(DefaultFs(), Path());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto sent = WriteSample(**w);
  EXPECT_GT((*w)->buffered_bytes(), 0u);
  EXPECT_EQ((*w)->flushed_bytes(), 16u);  // only the header so far: no syscall per record
  ASSERT_TRUE((*w)->Flush().ok());
  EXPECT_EQ((*w)->buffered_bytes(), 0u);
  ASSERT_TRUE((*w)->Close().ok());
  uint64_t ignored = 99;
  ExpectSame(ReadSpool(Path(), &ignored), sent);
  EXPECT_EQ(ignored, 0u);
  EXPECT_EQ((*w)->records(), sent.size());
}

TEST_F(SpoolTest, HeaderOnlyFileHasNoRecords) {
  auto w = SpoolWriter::Create(DefaultFs(), Path());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto data = DefaultFs()->ReadFile(Path());
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, std::string("CVSPOOL\0\1\0\x10\0\0\0\0\0", 16));
  auto r = SpoolReader::Open(*DefaultFs(), Path());
  ASSERT_TRUE(r.ok());
  SpoolRecord rec;
  EXPECT_FALSE(r->Next(&rec));
  EXPECT_TRUE(r->tail().ok());
}

TEST_F(SpoolTest, NeverOverwritesAnExistingSpoolFile) {
  auto w = SpoolWriter::Create(DefaultFs(), Path());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto again = SpoolWriter::Create(DefaultFs(), Path());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST_F(SpoolTest, TornTailIsIgnoredAndReported) {
  auto w = SpoolWriter::Create(DefaultFs(), Path());
  ASSERT_TRUE(w.ok());
  auto sent = WriteSample(**w);
  ASSERT_TRUE((*w)->Close().ok());
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
  auto w = SpoolWriter::Create(DefaultFs(), Path());
  ASSERT_TRUE(w.ok());
  auto sent = WriteSample(**w);
  ASSERT_TRUE((*w)->Close().ok());
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

TEST_F(SpoolTest, DiskFullKeepsBufferedRecordsAndRetries) {
  FaultInjectingFs fs(DefaultFs());
  auto w = SpoolWriter::Create(&fs, Path());
  ASSERT_TRUE(w.ok());
  auto sent = WriteSample(**w);
  fs.InjectFault(FsOp::kAppend, Path(), ENOSPC);
  Status s = (*w)->Flush();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_NE(s.message().find("No space left"), std::string_view::npos);
  EXPECT_GT((*w)->buffered_bytes(), 0u);
  EXPECT_EQ((*w)->write_errors(), 1u);
  EXPECT_FALSE((*w)->first_error().ok());
  EXPECT_TRUE((*w)->ClaimErrorLog());
  EXPECT_FALSE((*w)->ClaimErrorLog());
  ASSERT_TRUE((*w)->Flush().ok());  // the disk has room again
  ASSERT_TRUE((*w)->Close().ok());
  ExpectSame(ReadSpool(Path()), sent);
}

TEST_F(SpoolTest, LongDiskFailureDropsNewRecordsAndMarksTheGap) {
  FaultInjectingFs fs(DefaultFs());
  auto w = SpoolWriter::Create(&fs, Path(), {.max_buffer_bytes = 1000});
  ASSERT_TRUE(w.ok());
  fs.InjectFault(FsOp::kAppend, Path(), ENOSPC, 1, /*repeat=*/true);
  for (int i = 0; i < 20; ++i) {
    (*w)->Append(RecordKind::kRtp, 0, i, std::string(100, 'x'));
    EXPECT_FALSE((*w)->Flush().ok());
  }
  EXPECT_EQ((*w)->dropped_records(), 12u);  // 8 × 116 bytes fit in 1000
  fs.ClearFaults();
  (*w)->Append(RecordKind::kRtp, 0, 99, "after");
  ASSERT_TRUE((*w)->Close().ok());
  auto got = ReadSpool(Path());
  ASSERT_EQ(got.size(), 8u + 2u);
  EXPECT_EQ(got[8].kind, RecordKind::kGap);
  EXPECT_EQ(got[8].payload, std::string("\x0c\0\0\0", 4));  // u32 LE: 12 records dropped
  EXPECT_EQ(got[9].payload, "after");
}

TEST_F(SpoolTest, SyncedRecordsSurviveAPowerLoss) {
  FaultInjectingFs fs(DefaultFs());
  auto w = SpoolWriter::Create(&fs, Path());
  ASSERT_TRUE(w.ok());
  (*w)->Append(RecordKind::kRtp, 0, 1, "synced");
  ASSERT_TRUE((*w)->Flush().ok());
  EXPECT_TRUE((*w)->NeedsSync());
  ASSERT_TRUE((*w)->Sync().ok());  // also syncs the directory: the name survives
  EXPECT_FALSE((*w)->NeedsSync());
  (*w)->Append(RecordKind::kRtp, 0, 2, "only flushed");
  ASSERT_TRUE((*w)->Flush().ok());
  ASSERT_TRUE(fs.SimulateCrash().ok());
  auto got = ReadSpool(Path());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "synced");
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

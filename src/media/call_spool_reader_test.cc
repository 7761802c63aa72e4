// Reading spool files in bounded memory: version 2 call files (built byte by byte here from
// docs/formats/spool.md, independently of the writer), version 1 stream files, both merged.
#include "media/call_spool_reader.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "base/fault_injecting_fs.h"
#include "base/fs.h"
#include "media/internal/spool_v1_bytes.h"
#include "media/internal/spool_v2_bytes.h"
#include "media/internal/test_rtp.h"
#include "media/spool_reader.h"

namespace callvault::media {
namespace {

using spool::RecordKind;

// A version 2 file, per the spec.
struct V2File {
  std::string bytes = testing::SpoolV2Header();
  void Record(RecordKind kind, uint16_t slot, int64_t arrival, std::string_view payload,
              uint8_t flags = 0) {
    testing::AppendSpoolV2Record(&bytes, kind, flags, slot, arrival, payload);
  }
  void Declare(uint16_t slot, std::string_view id, int64_t at) {
    Record(RecordKind::kStreamDeclaration, slot, at, id);
  }
};

class CallSpoolReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("cv_callspool_"); }
  void TearDown() override { DefaultFs()->RemoveAll(dir_).IgnoreError(); }
  void Write(const std::string& name, const std::string& bytes) {
    ASSERT_TRUE(WriteFileDurably(*DefaultFs(), dir_ + "/" + name, bytes).ok());
  }
  struct Got {
    std::string stream;
    RecordKind kind;
    int64_t arrival;
    std::string payload;
  };
  std::vector<Got> ReadAll(Fs& fs, Status* read_error = nullptr,
                           std::vector<SpoolFileReport>* files = nullptr) {
    std::vector<Got> out;
    Result<CallSpoolReader> r = CallSpoolReader::Open(fs, dir_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return out;
    CallRecord rec;
    while (r->Next(&rec))
      out.push_back({std::string(rec.stream_id), rec.record.kind, rec.record.arrival_ns,
                     std::string(rec.record.payload)});
    if (read_error != nullptr) *read_error = r->read_error();
    if (files != nullptr) *files = r->files();
    return out;
  }
  std::string dir_;
};

TEST_F(CallSpoolReaderTest, VersionTwoSlotsNameStreamsAndReopenedStreamsJoin) {
  V2File f;
  f.Declare(0, "s0", 100);
  f.Record(RecordKind::kRtp, 0, 110, "a1");
  f.Declare(1, "s1", 111);
  f.Record(RecordKind::kRtp, 1, 112, "b1");
  f.Record(RecordKind::kRtcp, 0, 113, "a-rtcp");
  f.Declare(2, "s0", 120);  // s0 moved by a re-INVITE: new slot, same id
  f.Record(RecordKind::kRtp, 2, 121, "a2");
  f.Record(RecordKind::kGap, 1, 122, std::string("\x05\0\0\0", 4));
  Write(std::string(spool::kCallSpoolName), f.bytes);
  std::vector<SpoolFileReport> files;
  std::vector<Got> got = ReadAll(*DefaultFs(), nullptr, &files);
  ASSERT_EQ(got.size(), 8u);
  EXPECT_EQ(got[0].kind, RecordKind::kStreamDeclaration);
  EXPECT_EQ(got[0].stream, "s0");
  EXPECT_EQ(got[1].stream, "s0");
  EXPECT_EQ(got[1].payload, "a1");
  EXPECT_EQ(got[3].stream, "s1");
  EXPECT_EQ(got[4].stream, "s0");
  EXPECT_EQ(got[4].kind, RecordKind::kRtcp);
  EXPECT_EQ(got[6].stream, "s0");
  EXPECT_EQ(got[6].payload, "a2");
  EXPECT_EQ(got[7].stream, "s1");
  EXPECT_EQ(got[7].kind, RecordKind::kGap);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].version, 2);
  EXPECT_EQ(files[0].records, 8u);
  EXPECT_EQ(files[0].ignored_bytes, 0u);
  EXPECT_TRUE(files[0].tail.ok());
}

TEST_F(CallSpoolReaderTest, UndeclaredSlotEndsTheValidRecords) {
  V2File f;
  f.Declare(0, "s0", 100);
  f.Record(RecordKind::kRtp, 0, 110, "a1");
  const size_t good = f.bytes.size();
  f.Record(RecordKind::kRtp, 3, 111, "x");
  f.Record(RecordKind::kRtp, 0, 112, "a2");
  Write(std::string(spool::kCallSpoolName), f.bytes);
  std::vector<SpoolFileReport> files;
  std::vector<Got> got = ReadAll(*DefaultFs(), nullptr, &files);
  EXPECT_EQ(got.size(), 2u);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].ignored_bytes, f.bytes.size() - good);
  EXPECT_EQ(files[0].tail.code(), StatusCode::kDataLoss);
  EXPECT_NE(files[0].tail.message().find("undeclared slot 3"), std::string_view::npos);
}

TEST_F(CallSpoolReaderTest, VersionTwoTornTailAtEveryCut) {
  V2File f;
  f.Declare(0, "s0", 100);
  for (int i = 0; i < 5; ++i) f.Record(RecordKind::kRtp, 0, 110 + i, std::string(30, 'a' + i));
  for (size_t cut = 1; cut < 60; ++cut) {
    auto r = SpoolReader::FromBytes(f.bytes.substr(0, f.bytes.size() - cut));
    ASSERT_TRUE(r.ok());
    SpoolRecord rec;
    uint64_t end = 0;
    while (r->Next(&rec)) end = rec.offset + spool::kRecordHeaderSizeV2 + rec.payload.size();
    if (cut == 50) {  // exactly the last record
      EXPECT_TRUE(r->tail().ok());
      continue;
    }
    EXPECT_EQ(r->tail().code(), StatusCode::kDataLoss) << cut;
    EXPECT_EQ(end + r->ignored_bytes(), f.bytes.size() - cut) << cut;
  }
}

TEST_F(CallSpoolReaderTest, LargeFileIsReadThroughTheWindow) {
  // ~4 MiB: several read windows; records straddle window ends.
  V2File f;
  f.Declare(0, "s0", 1);
  f.Declare(1, "s1", 1);
  constexpr int kRecords = 20000;
  for (int i = 0; i < kRecords; ++i) {
    std::string payload(100 + i % 150, static_cast<char>(i));
    f.Record(RecordKind::kRtp, static_cast<uint16_t>(i % 2), 1000 + i, payload);
  }
  f.Record(RecordKind::kRtp, 0, 999999, std::string(65535, 'z'));  // the largest record
  Write(std::string(spool::kCallSpoolName), f.bytes);
  std::vector<Got> got = ReadAll(*DefaultFs());
  ASSERT_EQ(got.size(), kRecords + 3u);
  for (int i = 0; i < kRecords; ++i) {
    const Got& g = got[static_cast<size_t>(i) + 2];
    ASSERT_EQ(g.payload, std::string(100 + i % 150, static_cast<char>(i))) << i;
    ASSERT_EQ(g.stream, i % 2 ? "s1" : "s0");
    ASSERT_EQ(g.arrival, 1000 + i);
  }
  EXPECT_EQ(got.back().payload.size(), 65535u);
}

TEST_F(CallSpoolReaderTest, VersionOneFilesMergeByArrival) {
  for (const char* id : {"s0", "s1"}) {
    std::string file = testing::SpoolV1Header();
    const int64_t base = id[1] == '0' ? 0 : 5;
    for (int i = 0; i < 100; ++i)
      testing::AppendSpoolV1Record(&file, RecordKind::kRtp, 0, 1000 + base + i * 10,
                                   std::string(id) + std::to_string(i));
    Write(std::string(id) + ".rtp", file);
  }
  Write("session.jsonl", "{}\n");
  std::vector<SpoolFileReport> files;
  std::vector<Got> got = ReadAll(*DefaultFs(), nullptr, &files);
  ASSERT_EQ(got.size(), 200u);
  for (size_t i = 1; i < got.size(); ++i) ASSERT_LE(got[i - 1].arrival, got[i].arrival);
  EXPECT_EQ(got[0].stream, "s0");
  EXPECT_EQ(got[1].stream, "s1");
  EXPECT_EQ(got[1].payload, "s10");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].stream_id, "s0");
  EXPECT_EQ(files[0].version, 1);
  EXPECT_EQ(files[1].records, 100u);
}

TEST_F(CallSpoolReaderTest, UnreadableFilesAreReportedNotFatal) {
  Write("s0.rtp", "CVSP");                                            // torn at birth
  Write("s1.rtp", std::string("XXSPOOL\0\1\0\x10\0\0\0\0\0", 16));    // bad magic
  Write("s2.rtp", std::string("CVSPOOL\0\x09\0\x10\0\0\0\0\0", 16));  // future version
  std::vector<SpoolFileReport> files;
  Status err;
  std::vector<Got> got = ReadAll(*DefaultFs(), &err, &files);
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(err.ok());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].ignored_bytes, 4u);
  EXPECT_EQ(files[0].tail.code(), StatusCode::kDataLoss);
  EXPECT_EQ(files[1].tail.code(), StatusCode::kDataLoss);
  EXPECT_EQ(files[2].tail.code(), StatusCode::kUnimplemented);
}

TEST_F(CallSpoolReaderTest, ReadErrorIsNotATornTail) {
  V2File f;
  f.Declare(0, "s0", 1);
  for (int i = 0; i < 30000; ++i) f.Record(RecordKind::kRtp, 0, 10 + i, std::string(160, 'p'));
  Write(std::string(spool::kCallSpoolName), f.bytes);
  FaultInjectingFs fs(DefaultFs());
  fs.InjectFault(FsOp::kRead, dir_, EIO, /*nth=*/3);  // header, first window, then fails
  std::vector<SpoolFileReport> files;
  Status err;
  std::vector<Got> got = ReadAll(fs, &err, &files);
  EXPECT_GT(got.size(), 0u);
  EXPECT_LT(got.size(), 30001u);
  EXPECT_EQ(err.code(), StatusCode::kIoError) << err.ToString();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].ignored_bytes, 0u);  // nothing judged torn
  EXPECT_TRUE(files[0].tail.ok());
}

}  // namespace
}  // namespace callvault::media

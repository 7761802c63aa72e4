// CallSpoolWriter: the version-2 bytes (checked by a parser written from docs/formats/spool.md,
// not by SpoolReader), slots and their declarations, disk errors, gap markers per slot, syncs.
#include "media/call_spool_writer.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "base/fault_injecting_fs.h"
#include "base/fs.h"
#include "media/crc32c.h"
#include "media/internal/test_rtp.h"

namespace callvault::media {
namespace {

using spool::RecordKind;
using testing::ParseCallSpool;
using testing::ReadCallSpool;
using testing::V2Record;

// The payload of an unwritten marker (docs/formats/spool.md, kind 5).
std::string Unwritten(uint32_t count, spool::UnwrittenReason reason, int64_t first, int64_t last) {
  std::string p(4, '\0');
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(count >> (8 * i));
  p.push_back(static_cast<char>(reason));
  for (int64_t v : {first, last})
    for (int i = 0; i < 8; ++i) p.push_back(static_cast<char>(static_cast<uint64_t>(v) >> (8 * i)));
  return p;
}

class CallSpoolWriterTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("cv_callspool_"); }
  void TearDown() override { DefaultFs()->RemoveAll(dir_).IgnoreError(); }
  std::string Path() const { return dir_ + "/media.spool"; }
  std::vector<V2Record> Parse(uint64_t* ignored = nullptr) {
    std::string error;
    auto bytes = DefaultFs()->ReadFile(Path());
    EXPECT_TRUE(bytes.ok());
    auto out = ParseCallSpool(bytes.ok() ? *bytes : "", ignored, &error);
    EXPECT_EQ(error, "");
    return out;
  }

  std::string dir_;
};

TEST_F(CallSpoolWriterTest, HeaderAndOneRecordAreExactlyTheSpecifiedBytes) {
  auto w = CallSpoolWriter::Create(DefaultFs(), Path());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto slot = (*w)->AddSlot("s0", 0x0102030405060708);
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(*slot, 0);
  (*w)->Append(0, RecordKind::kRtp, spool::kFlagSrtpDecrypted, 0x1112131415161718, "ab");
  EXPECT_EQ((*w)->flushed_bytes(), 16u);  // only the header so far: no syscall per record
  ASSERT_TRUE((*w)->Close().ok());
  const std::string b = DefaultFs()->ReadFile(Path()).value();
  ASSERT_EQ(b.size(), 16u + (20 + 2) + (20 + 2));
  EXPECT_EQ(b.substr(0, 16), std::string("CVSPOOL\0\2\0\x10\0\0\0\0\0", 16));
  // Declaration: length 2, kind 4, flags 0, slot 0, reserved 0, arrival, crc, "s0".
  EXPECT_EQ(b.substr(16, 16), std::string("\x02\x00\x04\x00\x00\x00\x00\x00"
                                          "\x08\x07\x06\x05\x04\x03\x02\x01",
                                          16));
  uint32_t crc = Crc32cExtend(Crc32c(b.data() + 16, 16), "s0", 2);
  EXPECT_EQ(b.substr(32, 4), std::string(reinterpret_cast<const char*>(&crc), 4));
  EXPECT_EQ(b.substr(36, 2), "s0");
  // The RTP record: kind 1, flags 1, slot 0.
  EXPECT_EQ(b.substr(38, 16), std::string("\x02\x00\x01\x01\x00\x00\x00\x00"
                                          "\x18\x17\x16\x15\x14\x13\x12\x11",
                                          16));
  crc = Crc32cExtend(Crc32c(b.data() + 38, 16), "ab", 2);
  EXPECT_EQ(b.substr(54, 4), std::string(reinterpret_cast<const char*>(&crc), 4));
  EXPECT_EQ(b.substr(58), "ab");
}

TEST_F(CallSpoolWriterTest, StreamsInterleaveUnderTheirSlotsAndAReopenedStreamGetsANewSlot) {
  auto w = CallSpoolWriter::Create(DefaultFs(), Path());
  ASSERT_TRUE(w.ok());
  ASSERT_EQ((*w)->AddSlot("s0", 1).value(), 0);
  ASSERT_EQ((*w)->AddSlot("s1", 2).value(), 1);
  for (int i = 0; i < 10; ++i) {
    (*w)->Append(static_cast<uint16_t>(i % 2), i == 5 ? RecordKind::kRtcp : RecordKind::kRtp, 0,
                 100 + i, "p" + std::to_string(i));
  }
  ASSERT_TRUE((*w)->Flush().ok());
  ASSERT_EQ((*w)->AddSlot("s0", 200).value(), 2);  // s0 reopened
  (*w)->Append(2, RecordKind::kRtp, 0, 201, "again");
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ((*w)->slot_records(0), 5u);
  EXPECT_EQ((*w)->slot_records(1), 5u);
  EXPECT_EQ((*w)->slot_records(2), 1u);
  EXPECT_EQ((*w)->slot_records(9), 0u);
  EXPECT_EQ((*w)->records(), 11u);

  uint64_t ignored = 1;
  auto all = Parse(&ignored);
  EXPECT_EQ(ignored, 0u);
  ASSERT_EQ(all.size(), 3u + 11u);
  EXPECT_EQ(all[0].kind, RecordKind::kStreamDeclaration);
  EXPECT_EQ(all[0].payload, "s0");
  EXPECT_EQ(all[1].payload, "s1");
  EXPECT_EQ(all[1].arrival_ns, 2);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(all[2 + i].slot, i % 2) << i;
    EXPECT_EQ(all[2 + i].payload, "p" + std::to_string(i));
  }
  EXPECT_EQ(all[5 + 2].kind, RecordKind::kRtcp);
  EXPECT_EQ(all[12].kind, RecordKind::kStreamDeclaration);
  EXPECT_EQ(all[12].slot, 2);
  EXPECT_EQ(all[12].payload, "s0");

  auto s0 = ReadCallSpool(Path(), "s0");
  ASSERT_EQ(s0.size(), 6u);
  EXPECT_EQ(s0[0].payload, "p0");
  EXPECT_EQ(s0[5].payload, "again");
  EXPECT_EQ(ReadCallSpool(Path(), "s1").size(), 5u);
}

TEST_F(CallSpoolWriterTest, BadStreamIdsAndExistingFilesAreRefused) {
  auto w = CallSpoolWriter::Create(DefaultFs(), Path());
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->AddSlot("", 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*w)->AddSlot(std::string(65, 'x'), 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE((*w)->AddSlot(std::string(64, 'x'), 1).ok());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ((*w)->Close().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CallSpoolWriter::Create(DefaultFs(), Path()).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(Parse().size(), 1u);  // untouched by the refused Create
}

TEST_F(CallSpoolWriterTest, DiskFullKeepsBufferedRecordsAndRetries) {
  FaultInjectingFs fs(DefaultFs());
  auto w = CallSpoolWriter::Create(&fs, Path());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->AddSlot("s0", 1).ok());
  for (int i = 0; i < 30; ++i) (*w)->Append(0, RecordKind::kRtp, 0, i, std::string(172, 'a' + i));
  fs.InjectFault(FsOp::kAppend, Path(), ENOSPC);
  Status s = (*w)->Flush();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_GT((*w)->buffered_bytes(), 0u);
  EXPECT_EQ((*w)->write_errors(), 1u);
  EXPECT_FALSE((*w)->first_error().ok());
  EXPECT_TRUE((*w)->ClaimErrorLog());
  EXPECT_FALSE((*w)->ClaimErrorLog());
  ASSERT_TRUE((*w)->Flush().ok());  // the disk has room again
  ASSERT_TRUE((*w)->Close().ok());
  auto got = ReadCallSpool(Path(), "s0");
  ASSERT_EQ(got.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(got[i].payload, std::string(172, 'a' + i));
}

TEST_F(CallSpoolWriterTest, LongDiskFailureDropsPerSlotAndEachSlotGetsItsGapMarker) {
  FaultInjectingFs fs(DefaultFs());
  auto w = CallSpoolWriter::Create(&fs, Path(), {.max_buffer_bytes = 1000});
  ASSERT_TRUE(w.ok());
  fs.InjectFault(FsOp::kAppend, Path(), ENOSPC, 1, /*repeat=*/true);
  ASSERT_TRUE((*w)->AddSlot("s0", 1).ok());  // 22 bytes
  ASSERT_TRUE((*w)->AddSlot("s1", 1).ok());  // 22 bytes
  for (int i = 0; i < 20; ++i) {
    (*w)->Append(static_cast<uint16_t>(i % 2), RecordKind::kRtp, 0, i, std::string(100, 'x'));
    EXPECT_FALSE((*w)->Flush().ok());
  }
  // 956 bytes free: 7 records of 120 fit (s0: 0,2,4,6; s1: 1,3,5), 13 are dropped.
  EXPECT_EQ((*w)->dropped_records(), 13u);
  EXPECT_EQ((*w)->slot_dropped(0), 6u);
  EXPECT_EQ((*w)->slot_dropped(1), 7u);
  EXPECT_EQ((*w)->slot_records(0), 10u);
  // A stream opened while the buffer is full is still declared: its records need it.
  ASSERT_EQ((*w)->AddSlot("s2", 1).value(), 2);
  fs.ClearFaults();
  ASSERT_TRUE((*w)->Flush().ok());
  (*w)->Append(1, RecordKind::kRtp, 0, 99, "s1 after");
  (*w)->Append(2, RecordKind::kRtp, 0, 99, "s2 first");
  (*w)->Append(0, RecordKind::kRtp, 0, 99, "s0 after");
  ASSERT_TRUE((*w)->Close().ok());
  auto s0 = ReadCallSpool(Path(), "s0");
  ASSERT_EQ(s0.size(), 4u + 2u);
  // s0 kept 0, 2, 4, 6 and dropped 8..18: 6 records, the disk full.
  EXPECT_EQ(s0[4].kind, RecordKind::kUnwritten);
  EXPECT_EQ(s0[4].payload, Unwritten(6, spool::UnwrittenReason::kDiskFull, 8, 18));
  EXPECT_EQ(s0[4].arrival_ns, 8);
  EXPECT_EQ(s0[5].payload, "s0 after");
  auto s1 = ReadCallSpool(Path(), "s1");
  ASSERT_EQ(s1.size(), 3u + 2u);
  EXPECT_EQ(s1[3].kind, RecordKind::kUnwritten);
  EXPECT_EQ(s1[3].payload, Unwritten(7, spool::UnwrittenReason::kDiskFull, 7, 19));
  auto s2 = ReadCallSpool(Path(), "s2");
  ASSERT_EQ(s2.size(), 1u);  // no gap: none of its records was dropped
  EXPECT_EQ(s2[0].payload, "s2 first");
}

// Issue 21: a call that ends while the disk is full keeps its records (Close fails and keeps
// them), within one budget shared by every call; what is past the budget is dropped, counted
// and marked with its span even though the slot never gets another record.
TEST_F(CallSpoolWriterTest, ANodeWideBudgetBoundsEveryWriterAndCloseKeepsRecordsForTheDisk) {
  FaultInjectingFs fs(DefaultFs());
  SpoolMemoryBudget budget(64 * 1024);
  Registry registry;
  Counter* disk_full = registry.AddCounter("unwritten", "", {{"reason", "disk_full"}}).value();
  CallSpoolWriterOptions o{.max_buffer_bytes = 1 << 20, .budget = &budget, .counters = {}};
  o.counters.disk_full = disk_full;
  const std::string other = dir_ + "/other.spool";
  auto a = CallSpoolWriter::Create(&fs, Path(), o);
  auto b = CallSpoolWriter::Create(&fs, other, o);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->AddSlot("s0", 1).ok());
  ASSERT_TRUE((*b)->AddSlot("s0", 1).ok());
  (*a)->Append(0, RecordKind::kRtp, 0, 1, "first");  // before the failure: its write fails
  fs.InjectFault(FsOp::kAppend, dir_ + "/", ENOSPC, 1, /*repeat=*/true);
  EXPECT_EQ((*a)->Flush().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ((*b)->Flush().code(), StatusCode::kResourceExhausted);
  // 180-byte records (200 with the header), alternately: the 64 KiB budget holds ~320 of them.
  const std::string payload(180, 'x');
  for (int i = 0; i < 1000; ++i) {
    (*a)->Append(0, RecordKind::kRtp, 0, 100 + i, payload);
    (*b)->Append(0, RecordKind::kRtp, 0, 100 + i, payload);
  }
  EXPECT_LE(budget.used(), 64u * 1024 + 2 * SpoolMemoryBudget::kChunk);
  const uint64_t dropped = (*a)->dropped_records() + (*b)->dropped_records();
  EXPECT_GT(dropped, 1300u);
  EXPECT_LT(dropped, 1800u);
  EXPECT_EQ(disk_full->value(), dropped);
  const uint64_t a_kept = 1000 - (*a)->slot_dropped(0);
  // The call ends while the disk is full: nothing is lost, nothing is closed.
  EXPECT_EQ((*a)->Close().code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE((*a)->closed());
  EXPECT_GT((*a)->buffered_bytes(), 0u);
  fs.ClearFaults();  // space returns
  ASSERT_TRUE((*a)->Close().ok());
  EXPECT_TRUE((*a)->closed());
  auto got = ReadCallSpool(Path(), "s0");
  ASSERT_EQ(got.size(), 1 + a_kept + 1);  // "first", the kept ones, the marker
  EXPECT_EQ(got[0].payload, "first");
  EXPECT_EQ(got.back().kind, RecordKind::kUnwritten);
  EXPECT_EQ(got.back().payload,
            Unwritten(static_cast<uint32_t>(1000 - a_kept), spool::UnwrittenReason::kDiskFull,
                      100 + static_cast<int64_t>(a_kept), 1099));
  // The other call is given up (stopping with the disk refusing): counted, memory released.
  fs.InjectFault(FsOp::kAppend, dir_ + "/", ENOSPC, 1, /*repeat=*/true);
  EXPECT_EQ((*b)->Abandon(), 1000u);  // buffered, or dropped with their marker still pending
  EXPECT_EQ((*b)->dropped_records(), 1000u);
  EXPECT_EQ(disk_full->value(), dropped + (1000 - (*b)->slot_dropped(0)));
  a->reset();
  b->reset();
  EXPECT_EQ(budget.used(), 0u);
}

TEST_F(CallSpoolWriterTest, SyncedRecordsSurviveAPowerLossAndMarkSyncedCounts) {
  FaultInjectingFs fs(DefaultFs());
  auto w = CallSpoolWriter::Create(&fs, Path());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->AddSlot("s0", 1).ok());
  (*w)->Append(0, RecordKind::kRtp, 0, 1, "synced");
  ASSERT_TRUE((*w)->Flush().ok());
  EXPECT_TRUE((*w)->NeedsSync());
  ASSERT_TRUE((*w)->Sync().ok());  // also syncs the directory: the name survives
  EXPECT_FALSE((*w)->NeedsSync());
  EXPECT_EQ((*w)->synced_bytes(), (*w)->flushed_bytes());
  (*w)->Append(0, RecordKind::kRtp, 0, 2, "only flushed");
  ASSERT_TRUE((*w)->Flush().ok());
  EXPECT_TRUE((*w)->NeedsSync());
  const uint64_t at = (*w)->flushed_bytes();
  (*w)->MarkSynced(at - 1);  // a syncfs that started before the last byte landed
  EXPECT_TRUE((*w)->NeedsSync());
  (*w)->MarkSynced(at);
  EXPECT_FALSE((*w)->NeedsSync());
  (*w)->MarkSynced(1);  // never lowers
  EXPECT_EQ((*w)->synced_bytes(), at);
  ASSERT_TRUE(fs.SimulateCrash().ok());  // MarkSynced is bookkeeping only: the disk has 1 record
  auto got = ReadCallSpool(Path(), "s0");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "synced");
}

TEST_F(CallSpoolWriterTest, TheTestParserStopsAtTornAndCorruptRecords) {
  auto w = CallSpoolWriter::Create(DefaultFs(), Path());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->AddSlot("s0", 1).ok());
  for (int i = 0; i < 5; ++i) (*w)->Append(0, RecordKind::kRtp, 0, i, "12345");
  ASSERT_TRUE((*w)->Close().ok());
  const std::string full = DefaultFs()->ReadFile(Path()).value();
  uint64_t ignored = 0;
  EXPECT_EQ(ParseCallSpool(full.substr(0, full.size() - 3), &ignored).size(), 5u);  // torn tail
  EXPECT_EQ(ignored, 22u);
  std::string flipped = full;
  flipped[16 + 22 + 25 + 21] ^= 1;  // a payload byte of the second RTP record
  EXPECT_EQ(ParseCallSpool(flipped, &ignored).size(), 2u);
  std::string undeclared = full;
  undeclared[16 + 22 + 4] = 1;  // the first RTP record names slot 1 (CRC recomputed)
  const uint32_t crc = Crc32cExtend(Crc32c(undeclared.data() + 38, 16), "12345", 5);
  undeclared.replace(38 + 16, 4, std::string(reinterpret_cast<const char*>(&crc), 4));
  EXPECT_EQ(ParseCallSpool(undeclared, &ignored).size(), 1u);
  std::string error;
  EXPECT_TRUE(
      ParseCallSpool(std::string("CVSPOOL\0\1\0\x10\0\0\0\0\0", 16), nullptr, &error).empty());
  EXPECT_NE(error, "");
}

// While the disk refuses the file an empty DISK_FULL.<ns> file names the first record not
// written; it goes once everything is written, and stays when the writer gives up.
TEST_F(CallSpoolWriterTest, AnOutageMarkerFileLastsAsLongAsTheDiskRefusesTheRecords) {
  FaultInjectingFs fs(DefaultFs());
  auto w = CallSpoolWriter::Create(&fs, Path());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->AddSlot("s0", 1).ok());
  ASSERT_TRUE((*w)->Flush().ok());
  (*w)->Append(0, RecordKind::kRtp, 0, 1234567, "first unwritten");
  (*w)->Append(0, RecordKind::kRtp, 0, 1234999, "second");
  fs.InjectFault(FsOp::kAppend, Path(), ENOSPC, 1, /*repeat=*/true);
  EXPECT_FALSE((*w)->Flush().ok());
  EXPECT_TRUE(DefaultFs()->Exists(dir_ + "/DISK_FULL.1234567"));
  fs.ClearFaults();
  ASSERT_TRUE((*w)->Flush().ok());
  EXPECT_FALSE(DefaultFs()->Exists(dir_ + "/DISK_FULL.1234567"));
  (*w)->Append(0, RecordKind::kRtp, 0, 2000000, "lost");
  fs.InjectFault(FsOp::kAppend, Path(), ENOSPC, 1, /*repeat=*/true);
  EXPECT_FALSE((*w)->Close().ok());
  EXPECT_EQ((*w)->Abandon(), 1u);
  EXPECT_TRUE(DefaultFs()->Exists(dir_ + "/DISK_FULL.2000000"));  // for the finalizer
}

}  // namespace
}  // namespace callvault::media

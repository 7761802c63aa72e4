// Finalizing after crashes and failures: torn tails, idempotent re-runs, name collisions, disk
// full, power loss at every durable step, an empty spool.
#include <gtest/gtest.h>

#include <cerrno>

#include "base/fault_injecting_fs.h"
#include "recording/finalizer.h"
#include "recording/testing/finalizer_fixture.h"

namespace callvault::recording {
namespace {

using testing::FinalizerTest;
using testing::Goertzel;
using testing::kMs;
using testing::kSec;
using testing::kT0;
using testing::MakeStream;
using testing::Packet;
using testing::ReadWav;
using testing::Rms;
using testing::SpoolBuilder;
using testing::StreamSpec;

TEST_F(FinalizerTest, TornTailsAfterACrashGiveAPartialRecordingOfEverythingBefore) {
  TwoToneCall("crash", 8, nullptr, /*end=*/false);
  // The crash: half a record at the end of media.spool and half a line at the end of the log.
  auto tear = [&](const std::string& path, std::string_view bytes) {
    auto f = fs_.NewAppendableFile(path).value();
    ASSERT_TRUE(f->Append(bytes).ok());
    ASSERT_TRUE(f->Close().ok());
  };
  tear(Spool("crash") + "/media.spool", std::string("\x20\x00\x01\x00garbage", 11));
  tear(Spool("crash") + "/session.jsonl", "{\"v\":1,\"t\":\"end\",\"reas");
  Result<std::vector<std::string>> todo = ListUnfinishedSpools(fs_, tmp_.path() + "/spool");
  ASSERT_TRUE(todo.ok());
  ASSERT_EQ(*todo, std::vector<std::string>{Spool("crash")});
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("crash")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest["state"], "partial");
  EXPECT_EQ(r->manifest["end_reason"], "crash");
  bool torn_reported = false;  // a call file's torn tail belongs to no one stream: a warning
  for (const auto& w : r->manifest["warnings"])
    torn_reported |=
        w.get<std::string>() == "media.spool: 11 bytes of torn or corrupt tail ignored";
  EXPECT_TRUE(torn_reported) << r->manifest["warnings"].dump();
  EXPECT_EQ(r->manifest["streams"][0]["packets"], 400);
  EXPECT_GE(r->manifest["warnings"].size(), 2u);
  const testing::Wav w = ReadWav(r->audio_path);
  EXPECT_NEAR(static_cast<double>(w.left.size()) / 8000, 8.0, 0.08);
  EXPECT_TRUE(ListUnfinishedSpools(fs_, tmp_.path() + "/spool")->empty());
}

TEST_F(FinalizerTest, FinalizingTwiceChangesNothing) {
  TwoToneCall("twice", 3);
  // A second spool of the same call, to finalize the same call id again after the first is gone.
  TwoToneCall("twice-copy", 3);
  Result<FinalizeResult> first =
      FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("twice")});
  ASSERT_TRUE(first.ok());
  const std::string audio = fs_.ReadFile(first->audio_path).value();
  const std::string manifest = fs_.ReadFile(first->manifest_path).value();
  // The same call id again (a restored spool): found by name, nothing rewritten, no "_2".
  ASSERT_TRUE(fs_.Rename(Spool("twice-copy"), Spool("twice")).ok());
  clock_.Advance(std::chrono::seconds(5));
  Result<FinalizeResult> second =
      FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("twice")});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->already_finalized);
  EXPECT_EQ(second->audio_path, first->audio_path);
  EXPECT_EQ(fs_.ReadFile(first->audio_path).value(), audio);
  EXPECT_EQ(fs_.ReadFile(first->manifest_path).value(), manifest);
  EXPECT_FALSE(fs_.Exists(DirName(first->audio_path) + "/094640_twice_2.wav"));
  EXPECT_FALSE(fs_.Exists(Spool("twice")));
  // Without a spool there is nothing to do.
  EXPECT_EQ(FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("twice")}).status().code(),
            StatusCode::kNotFound);
}

TEST_F(FinalizerTest, DoneButNotRemovedReturnsTheExistingResult) {
  TwoToneCall("done", 2);
  FaultInjectingFs ffs(&fs_);
  ffs.InjectFault(FsOp::kRemoveAll, Spool("done"), EIO);
  Result<FinalizeResult> first = FinalizeCall(ffs, clock_, Options(), {.spool_dir = Spool("done")});
  ASSERT_TRUE(first.ok()) << first.status().ToString();  // the recording is durable all the same
  ASSERT_TRUE(fs_.Exists(Spool("done") + "/DONE"));
  EXPECT_TRUE(ListUnfinishedSpools(fs_, tmp_.path() + "/spool")->empty());
  Result<FinalizeResult> second =
      FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("done")});
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->already_finalized);
  EXPECT_EQ(second->manifest, first->manifest);
  EXPECT_FALSE(fs_.Exists(Spool("done")));
}

TEST_F(FinalizerTest, NameCollisionsGetASuffix) {
  FinalizeOptions o = Options();
  o.name_template = "{caller}/{callee}";
  for (const std::string id : {"c1", "c2", "c3"}) TwoToneCall(id, 1);
  std::vector<std::string> files;
  for (const std::string id : {"c1", "c2", "c3"}) {
    Result<FinalizeResult> r = FinalizeCall(fs_, clock_, o, {.spool_dir = Spool(id)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    files.push_back(r->manifest["audio"]["file"]);
  }
  EXPECT_EQ(files, (std::vector<std::string>{"+15551234567/bob.wav", "+15551234567/bob_2.wav",
                                             "+15551234567/bob_3.wav"}));
}

TEST_F(FinalizerTest, DiskFullDuringTheAudioWriteKeepsTheSpool) {
  TwoToneCall("full", 3);
  const std::string before = fs_.ReadFile(Spool("full") + "/media.spool").value();
  FaultInjectingFs ffs(&fs_);
  ffs.InjectFault(FsOp::kAppend, tmp_.path() + "/recordings", ENOSPC, 1, /*repeat=*/true);
  Result<FinalizeResult> r = FinalizeCall(ffs, clock_, Options(), {.spool_dir = Spool("full")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_NE(r.status().message().find("finalizing call full"), std::string_view::npos);
  EXPECT_EQ(fs_.ReadFile(Spool("full") + "/media.spool").value(), before);
  EXPECT_FALSE(fs_.Exists(Spool("full") + "/DONE"));
  // Space again: the re-run finishes under the name it claimed (no "_2").
  ffs.ClearFaults();
  Result<FinalizeResult> again = FinalizeCall(ffs, clock_, Options(), {.spool_dir = Spool("full")});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->manifest["audio"]["file"], "2026/11/25/094640_full.wav");
  EXPECT_GT(ReadWav(again->audio_path).left.size(), 20000u);
}

TEST_F(FinalizerTest, PowerLossAtAnyStepLeavesTheSpoolOrTheRecording) {
  // Fail each durable step once, simulate a power loss, and re-run: always one recording.
  const FsOp steps[] = {FsOp::kSync, FsOp::kRename, FsOp::kSyncDir};
  int case_no = 0;
  for (FsOp op : steps) {
    for (int nth = 1; nth <= 6; ++nth, ++case_no) {
      const std::string id = "pl" + std::to_string(case_no);
      TwoToneCall(id, 1);
      FaultInjectingFs ffs(&fs_);
      ffs.InjectFault(op, "", EIO, nth);
      Result<FinalizeResult> r = FinalizeCall(ffs, clock_, Options(), {.spool_dir = Spool(id)});
      ASSERT_TRUE(ffs.SimulateCrash().ok());
      if (!r.ok()) {
        ASSERT_TRUE(fs_.Exists(Spool(id) + "/media.spool")) << id << " " << r.status().ToString();
        r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool(id)});
      }
      ASSERT_TRUE(r.ok()) << id << " " << r.status().ToString();
      const testing::Wav w = ReadWav(r->audio_path);
      // 1 s of audio after 60 ms (first packet's duration + network delay) from the answer.
      EXPECT_NEAR(static_cast<double>(w.left.size()) / 8000, 1.06, 0.01) << id;
      EXPECT_EQ(r->manifest["audio"]["file"], "2026/11/25/094640_" + id + ".wav") << id;
    }
  }
}

TEST_F(FinalizerTest, AnEmptySpoolFromACrashAtBirthStillFinalizes) {
  const std::string id = "0193b2e0-0000-7000-8000-000000000000";  // UUIDv7 of 2024-12-…
  ASSERT_TRUE(fs_.CreateDirs(Spool(id)).ok());
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool(id)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest["state"], "partial");
  EXPECT_EQ(r->duration_ms, 0);
  EXPECT_EQ(r->manifest["audio"]["file"].get<std::string>().substr(0, 8), "2024/12/");
  EXPECT_EQ(ReadWav(r->audio_path).channels, 2);
  FinalizeOptions opus = Options();
  opus.format = AudioFormat::kOggOpus;
  ASSERT_TRUE(fs_.CreateDirs(Spool("empty-opus")).ok());
  EXPECT_TRUE(FinalizeCall(fs_, clock_, opus, {.spool_dir = Spool("empty-opus")}).ok());
}

}  // namespace
}  // namespace callvault::recording

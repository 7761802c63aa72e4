// LocalRecordingStore: ranged reads, NotFound, bad paths, idempotent deletes, and a crash at
// every step of a delete followed by a restart (new store + Recover()): never half a recording.
#include "storage/local_recording_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/fault_injecting_fs.h"
#include "storage/internal/delete_journal.h"

namespace callvault::storage {
namespace {

constexpr char kCall[] = "01936b2e-7c4a-7d1e-9b0a-4f1e2d3c4b5a";
constexpr char kOther[] = "01936b2f-0000-7000-8000-000000000001";
constexpr char kAudio[] = "2026/11/25/080000_01936b2e.wav";

class LocalRecordingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv_storage_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/recordings";
  }
  void TearDown() override { DefaultFs()->RemoveAll(root_).IgnoreError(); }

  // Writes a finished recording as the finalizer leaves it (audio, then its manifest naming
  // `call_id`), durably, straight to disk. Returns the audio bytes.
  std::string WriteRecording(const std::string& call_id, const std::string& relative,
                             size_t bytes = 100000) {
    std::string audio;
    for (size_t i = 0; i < bytes; ++i) audio += static_cast<char>((i * 7 + i / 251) & 0xff);
    const std::string path = dir_ + "/" + relative;
    EXPECT_TRUE(base_.CreateDirs(DirName(path)).ok());
    EXPECT_TRUE(WriteFileDurably(base_, path, audio).ok());
    const nlohmann::json manifest = {{"format", "callvault-manifest"},
                                     {"version", 1},
                                     {"call_id", call_id},
                                     {"audio", {{"file", relative}, {"sha256", "ab12"}}}};
    EXPECT_TRUE(WriteFileDurably(base_, path + ".json", manifest.dump()).ok());
    return audio;
  }

  RecordingRef Ref(const std::string& call_id = kCall, const std::string& audio = kAudio) {
    return RecordingRef{.call_id = call_id, .audio_file = audio, .sha256 = "ab12"};
  }
  bool AudioExists(const std::string& relative = kAudio) {
    return base_.Exists(dir_ + "/" + relative);
  }
  bool ManifestExists(const std::string& relative = kAudio) {
    return base_.Exists(dir_ + "/" + relative + ".json");
  }
  std::vector<std::string> Journal() {
    return base_.ListDir(dir_ + "/.deleting").value_or(std::vector<std::string>{});
  }

  Fs& base_ = *DefaultFs();
  std::string root_, dir_;
};

TEST_F(LocalRecordingStoreTest, OpenAudioReadsRanges) {
  const std::string audio = WriteRecording(kCall, kAudio);
  LocalRecordingStore store(&base_, dir_ + "/");  // a trailing slash changes nothing
  Result<std::unique_ptr<AudioReader>> reader = store.OpenAudio(Ref());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), audio.size());
  EXPECT_EQ((*reader)->etag(), "\"ab12\"");
  struct Case {
    uint64_t offset;
    size_t len, expected;
  };
  for (const Case& c : {Case{0, 44, 44}, Case{44, 65536, 65536}, Case{99990, 100, 10},
                        Case{100000, 1, 0}, Case{1 << 30, 1, 0}}) {
    std::string buf(c.len, '\0');
    Result<size_t> n = (*reader)->Read(c.offset, c.len, buf.data());
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_EQ(*n, c.expected) << c.offset;
    if (*n > 0) {
      EXPECT_EQ(buf.substr(0, *n), audio.substr(c.offset, *n)) << c.offset;
    }
  }
  RecordingRef unhashed = Ref();
  unhashed.sha256.clear();
  EXPECT_EQ(store.OpenAudio(unhashed).value()->etag(), "");
  EXPECT_EQ(store.Locate(Ref()).value(), std::string("local:") + kAudio);
}

TEST_F(LocalRecordingStoreTest, MissingAudioIsNotFound) {
  LocalRecordingStore store(&base_, dir_);
  EXPECT_EQ(store.OpenAudio(Ref()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Locate(Ref()).status().code(), StatusCode::kNotFound);
  WriteRecording(kCall, kAudio);
  RecordingRef elsewhere = Ref();
  elsewhere.location = "s3://bucket/rec-a/" + elsewhere.audio_file;
  Result<std::unique_ptr<AudioReader>> r = store.OpenAudio(elsewhere);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("not in the local store"), std::string_view::npos);
  EXPECT_EQ(store.Locate(elsewhere).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Delete(elsewhere).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(AudioExists());
  RecordingRef local = Ref();
  local.location = std::string("local:") + kAudio;
  EXPECT_TRUE(store.OpenAudio(local).ok());
  // A directory where the audio should be is an I/O error, not a file.
  EXPECT_EQ(store.OpenAudio(Ref(kCall, "2026/11")).status().code(), StatusCode::kIoError);
}

TEST_F(LocalRecordingStoreTest, PathsThatLeaveTheDirectoryAreRefused) {
  WriteRecording(kCall, "a.wav");
  LocalRecordingStore store(&base_, dir_ + "/2026");
  for (const std::string& bad :
       {std::string(""), std::string("/etc/passwd"), std::string("../a.wav"),
        std::string("11/../../a.wav"), std::string("./a.wav"), std::string("a.wav\0x", 7)}) {
    EXPECT_EQ(store.OpenAudio(Ref(kCall, bad)).status().code(), StatusCode::kInvalidArgument)
        << bad;
    EXPECT_EQ(store.Delete(Ref(kCall, bad)).code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store.Locate(Ref(kCall, bad)).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(store.Delete(Ref("../x", "a.wav")).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(AudioExists("a.wav"));
  EXPECT_TRUE(ManifestExists("a.wav"));
}

TEST_F(LocalRecordingStoreTest, ReadFaultsAreReturned) {
  WriteRecording(kCall, kAudio);
  FaultInjectingFs fs(&base_);
  LocalRecordingStore store(&fs, dir_);
  fs.InjectFault(FsOp::kOpenRandomAccess, dir_, EACCES);
  EXPECT_EQ(store.OpenAudio(Ref()).status().code(), StatusCode::kIoError);
  std::unique_ptr<AudioReader> reader = store.OpenAudio(Ref()).value();
  fs.InjectFault(FsOp::kRead, dir_, EIO);
  char buf[16];
  Result<size_t> failed = reader->Read(0, sizeof(buf), buf);
  EXPECT_EQ(failed.status().code(), StatusCode::kIoError);
  EXPECT_NE(failed.status().message().find(kAudio), std::string_view::npos);
  EXPECT_EQ(reader->Read(0, sizeof(buf), buf).value(), sizeof(buf));
}

TEST_F(LocalRecordingStoreTest, DeleteRemovesBothDurablyAndIsIdempotent) {
  WriteRecording(kCall, kAudio);
  FaultInjectingFs fs(&base_);
  LocalRecordingStore store(&fs, dir_);
  ASSERT_TRUE(store.Delete(Ref()).ok());
  EXPECT_FALSE(AudioExists());
  EXPECT_FALSE(ManifestExists());
  EXPECT_EQ(Journal(), std::vector<std::string>{});
  ASSERT_TRUE(fs.SimulateCrash().ok());  // everything that was done is durable
  EXPECT_FALSE(AudioExists());
  EXPECT_FALSE(ManifestExists());
  EXPECT_EQ(Journal(), std::vector<std::string>{});
  // Again, and for a recording that never existed: OK, nothing written.
  ASSERT_TRUE(store.Delete(Ref()).ok());
  ASSERT_TRUE(store.Delete(Ref(kOther, "never/was.wav")).ok());
  EXPECT_FALSE(base_.Exists(dir_ + "/never"));
}

TEST_F(LocalRecordingStoreTest, DeleteFinishesHalfARecording) {
  // Audio without its manifest (e.g. an older version's delete stopped half-way), and a
  // manifest without its audio: each is removed.
  WriteRecording(kCall, kAudio);
  ASSERT_TRUE(base_.Remove(dir_ + "/" + kAudio + ".json").ok());
  WriteRecording(kOther, "b.wav");
  ASSERT_TRUE(base_.Remove(dir_ + "/b.wav").ok());
  LocalRecordingStore store(&base_, dir_);
  ASSERT_TRUE(store.Delete(Ref()).ok());
  ASSERT_TRUE(store.Delete(Ref(kOther, "b.wav")).ok());
  EXPECT_FALSE(AudioExists());
  EXPECT_FALSE(ManifestExists("b.wav"));
  EXPECT_EQ(Journal(), std::vector<std::string>{});
}

TEST_F(LocalRecordingStoreTest, AnotherCallsRecordingIsNeverDeleted) {
  WriteRecording(kOther, kAudio);  // the catalog's path now holds a newer recording
  LocalRecordingStore store(&base_, dir_);
  Status s = store.Delete(Ref());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find(std::string("belongs to call ") + kOther), std::string_view::npos)
      << s.ToString();
  EXPECT_TRUE(AudioExists());
  EXPECT_TRUE(ManifestExists());
  EXPECT_EQ(Journal(), std::vector<std::string>{});
}

TEST_F(LocalRecordingStoreTest, ConcurrentDeletesOfOneRecordingAllSucceed) {
  WriteRecording(kCall, kAudio);
  LocalRecordingStore store(&base_, dir_);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (!store.Delete(Ref()).ok()) ++failures;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_FALSE(AudioExists());
  EXPECT_FALSE(ManifestExists());
  EXPECT_EQ(Journal(), std::vector<std::string>{});
}

// The state after a crash, before recovery: the whole recording, none of it, or an intent to
// delete it.
void ExpectWholeNoneOrIntended(bool audio, bool manifest, bool intent, int step) {
  if (!intent) {
    EXPECT_EQ(audio, manifest) << "step " << step << ": half a recording without an intent"
                               << " (audio=" << audio << " manifest=" << manifest << ")";
  }
}

TEST_F(LocalRecordingStoreTest, CrashAtEveryStepOfDeleteThenRestartLeavesNothing) {
  // Fail the k-th filesystem operation of a delete (the process dies there), simulate the power
  // loss (removals not followed by a sync of their directory are undone too), then restart: a
  // new store, Recover(). k runs until a delete meets no fault.
  const std::string intent =
      std::string(kCall) + std::string(internal::kIntentSuffix);  // in .deleting/
  int steps = 0;
  for (int k = 1; k < 100; ++k) {
    WriteRecording(kCall, kAudio);
    FaultInjectingFs fs(&base_);
    fs.set_removals_need_dir_sync(true);  // a removal lasts only once its directory is synced
    bool faulted = false;
    {
      LocalRecordingStore store(&fs, dir_);
      fs.InjectFault(FsOp::kAny, root_, EIO, /*nth=*/k);
      Status s = store.Delete(Ref());
      faulted = fs.injected_failures() > 0;
      EXPECT_EQ(s.ok(), !faulted) << "step " << k << ": " << s.ToString();
    }
    ASSERT_TRUE(fs.SimulateCrash().ok());
    const std::vector<std::string> journal = Journal();
    ExpectWholeNoneOrIntended(AudioExists(), ManifestExists(),
                              std::find(journal.begin(), journal.end(), intent) != journal.end(),
                              k);

    LocalRecordingStore restarted(&base_, dir_);
    Status recovered = restarted.Recover();
    ASSERT_TRUE(recovered.ok()) << "step " << k << ": " << recovered.ToString();
    if (AudioExists() || ManifestExists()) {
      // Crashed before the intent was durable: nothing was removed, and the user's delete
      // failed, so it is asked again.
      EXPECT_TRUE(AudioExists() && ManifestExists()) << "step " << k;
      ASSERT_TRUE(restarted.Delete(Ref()).ok()) << "step " << k;
    }
    EXPECT_FALSE(AudioExists()) << "step " << k;
    EXPECT_FALSE(ManifestExists()) << "step " << k;
    EXPECT_EQ(Journal(), std::vector<std::string>{}) << "step " << k;
    if (!faulted) break;
    ++steps;
  }
  // Intent (open, append, sync, close, rename, sync dir), two removals, a directory sync, the
  // intent's removal and its directory's sync, plus the journal directory and manifest reads.
  EXPECT_GE(steps, 10);
}

TEST_F(LocalRecordingStoreTest, FailedDeleteIsFinishedByTheNextDelete) {
  for (FsOp op : {FsOp::kRemove, FsOp::kSyncDir}) {
    for (int nth = 1; nth <= 3; ++nth) {
      WriteRecording(kCall, kAudio);
      FaultInjectingFs fs(&base_);
      LocalRecordingStore store(&fs, dir_);
      fs.InjectFault(op, root_, EIO, nth);
      Status s = store.Delete(Ref());
      EXPECT_FALSE(s.ok()) << FsOpName(op) << " " << nth;
      EXPECT_NE(s.message().find(std::string("deleting the recording of call ") + kCall),
                std::string_view::npos)
          << s.ToString();
      ASSERT_TRUE(store.Delete(Ref()).ok()) << FsOpName(op) << " " << nth;
      ASSERT_TRUE(fs.SimulateCrash().ok());
      EXPECT_FALSE(AudioExists()) << FsOpName(op) << " " << nth;
      EXPECT_FALSE(ManifestExists()) << FsOpName(op) << " " << nth;
      EXPECT_EQ(Journal(), std::vector<std::string>{});
    }
  }
}

TEST_F(LocalRecordingStoreTest, RecoverLeavesANewerRecordingUnderTheSameNameAlone) {
  // An intent that outlived its delete (its removal was not durable), and a newer call that
  // took the freed name meanwhile.
  ASSERT_TRUE(base_.CreateDirs(dir_ + "/.deleting").ok());
  ASSERT_TRUE(WriteFileDurably(base_, dir_ + "/.deleting/" + kCall + ".delete",
                               internal::EncodeDeleteIntent({kCall, kAudio}))
                  .ok());
  const std::string audio = WriteRecording(kOther, kAudio);
  LocalRecordingStore store(&base_, dir_);
  ASSERT_TRUE(store.Recover().ok());
  EXPECT_EQ(base_.ReadFile(dir_ + "/" + kAudio).value(), audio);
  EXPECT_TRUE(ManifestExists());
  EXPECT_EQ(Journal(), std::vector<std::string>{});
}

TEST_F(LocalRecordingStoreTest, RecoverReportsABadEntryAndFinishesTheOthers) {
  WriteRecording(kCall, kAudio);
  WriteRecording(kOther, "b.wav");
  const std::string journal = dir_ + "/.deleting/";
  ASSERT_TRUE(base_.CreateDirs(journal).ok());
  ASSERT_TRUE(WriteFileDurably(base_, journal + "0-bad.delete", "{not json").ok());
  ASSERT_TRUE(WriteFileDurably(base_, journal + kCall + ".delete",
                               internal::EncodeDeleteIntent({kCall, kAudio}))
                  .ok());
  // A crash while writing an intent: its temp file, and the recording untouched.
  ASSERT_TRUE(WriteFileDurably(base_, journal + kOther + ".delete.tmp", "{\"for").ok());
  ASSERT_TRUE(WriteFileDurably(base_, journal + "README", "not an entry").ok());
  LocalRecordingStore store(&base_, dir_);
  Status s = store.Recover();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("0-bad.delete"), std::string_view::npos) << s.ToString();
  EXPECT_FALSE(AudioExists());
  EXPECT_FALSE(ManifestExists());
  EXPECT_TRUE(AudioExists("b.wav"));
  EXPECT_TRUE(ManifestExists("b.wav"));
  EXPECT_EQ(Journal(), (std::vector<std::string>{"0-bad.delete", "README"}));
  // Nothing to recover in a directory that never had a delete.
  LocalRecordingStore fresh(&base_, root_ + "/elsewhere");
  EXPECT_TRUE(fresh.Recover().ok());
}

}  // namespace
}  // namespace callvault::storage

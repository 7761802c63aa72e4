// LocalRecordingStore: the RecordingStore over this node's recordings directory (where
// recording/'s finalizer writes `<audio>` and `<audio>.json`), through base/fs.h only, so tests
// run it on FaultInjectingFs.
//
// Reading: OpenAudio() opens `<recordings dir>/<audio_file>` with Fs::NewRandomAccessFile (pread:
// concurrent responses share no file offset). The path is checked first (CheckRelativePath: it
// must stay inside the directory).
//
// Deleting, durably and crash-safe, with a journal (docs/formats/delete-journal.md):
//   1. write the intent `<recordings dir>/.deleting/<call id>.delete` naming the audio path
//      (WriteFileDurably);
//   2. remove the manifest `<audio>.json` (first: without it the audio is an unfinished
//      leftover for every reader, docs/formats/manifest.md);
//   3. remove the audio;
//   4. fsync the audio's directory (steps 2-3 become durable);
//   5. remove the intent and fsync `.deleting/`.
// A file already gone counts as removed, so each step can be repeated. A crash (or an error) at
// any point leaves either nothing removed and no intent, or an intent: Recover() at the next
// start, or the next Delete() of the same call, runs steps 2-5 again. The manifest is never
// removed when it names another call (a later recording may reuse a freed name), so a stale
// intent cannot take a newer recording with it.
//
// Who calls it: app/ (creates it, Recover() at start, hands it to http/), http/ through
// RecordingStore.
// Thread-safety: thread-safe. Deletes and Recover() are serialized by one mutex (they are rare,
// and one writer per journal entry is WriteFileDurably's contract); reads take no lock.
#pragma once

#include <memory>
#include <string>

#include "base/fs.h"
#include "base/mutex.h"
#include "storage/recording_store.h"

namespace callvault::storage {
namespace internal {
struct DeleteIntent;
}  // namespace internal

class LocalRecordingStore final : public RecordingStore {
 public:
  // REQUIRES: `fs` outlives the store; `recordings_dir` is the directory the manifests' audio
  // paths are relative to (it need not exist yet).
  LocalRecordingStore(Fs* fs, std::string recordings_dir);

  // A ref whose `location` is neither "" nor "local:..." is not in this store: NotFound.
  Result<std::unique_ptr<AudioReader>> OpenAudio(const RecordingRef& ref) override;
  // Also InvalidArgument for a call id that cannot name a journal entry (CheckCallId), and
  // FailedPrecondition for a ref located elsewhere.
  Status Delete(const RecordingRef& ref) override;
  // "local:<audio_file>"; NotFound when the audio file is not there.
  Result<std::string> Locate(const RecordingRef& ref) override;
  // Finishes every intent in `.deleting/` (steps 2-5) and removes temp files of intents a crash
  // cut short. An entry that cannot be parsed is left in place and reported (DataLoss) without
  // stopping the others.
  Status Recover() override;

  // After relocation: removes the audio file of a recording that now lives elsewhere, durably
  // (remove + fsync of its directory), keeping its manifest — the manifest keeps the name taken
  // (the finalizer's claim goes by manifests) and stays the node's record of the call until the
  // call is deleted. Idempotent (audio already gone: OK). FailedPrecondition when the manifest
  // at that path names another call (nothing is removed).
  [[nodiscard]] Status RemoveAudio(const RecordingRef& ref);

  const std::string& recordings_dir() const { return dir_; }

 private:
  std::string AudioPath(const std::string& relative) const { return dir_ + "/" + relative; }
  std::string IntentPath(const std::string& call_id) const;
  // The call id the manifest at `path` names; "" when there is no manifest or it names none.
  Result<std::string> ManifestOwner(const std::string& path);
  // Creates `.deleting/` and makes its name durable (once per store).
  Status EnsureJournalDir() REQUIRES(mu_);
  // Steps 2-5 for `intent`.
  Status FinishDelete(const internal::DeleteIntent& intent) REQUIRES(mu_);

  Fs* const fs_;
  const std::string dir_;
  const std::string journal_dir_;
  Mutex mu_;
  bool journal_dir_ready_ GUARDED_BY(mu_) = false;
};

}  // namespace callvault::storage

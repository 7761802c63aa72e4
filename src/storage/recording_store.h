// RecordingStore: where finished recordings live, seen from the stages that read or remove them
// (http/ today; retention and replication later). A recording is a manifest (`<audio>.json`,
// docs/formats/manifest.md) and its audio file, named by the path relative to the recordings
// directory that the manifest's `audio.file` gives. The store opens the audio for ranged reads,
// deletes a recording durably and says where it lives, so its callers never build paths or touch
// the disk themselves.
//
// Implementations: LocalRecordingStore (local_recording_store.h: the node's recordings directory,
// through base/fs.h); an S3 store comes next. Callers hold a `RecordingStore*` and must not need
// to know which one they have.
//
// Who calls it: http/ (GET /api/v1/calls/{id}/audio, DELETE /api/v1/calls/{id}); app/ creates
// the store and calls Recover() once at start.
// Thread-safety: implementations are thread-safe; an AudioReader may be read from several threads
// at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault::storage {

// What the catalog knows of a recording: enough for any store to find it.
struct RecordingRef {
  std::string call_id;     // the call (UUIDv7); also names the recording in delete journals
  std::string audio_file;  // relative to the recordings directory (manifest `audio.file`)
  std::string sha256;      // manifest `audio.sha256`, lowercase hex ("" = unknown)
  std::string location;    // where the catalog says it lives ("" = this node's local store)
  // The manifest says the stored bytes are encrypted (manifest version 2 `audio.encryption`):
  // a reader that finds plain bytes instead refuses them (DecryptingRecordingStore).
  bool encrypted = false;
};

// An open audio file.
class AudioReader {
 public:
  virtual ~AudioReader() = default;

  // Bytes in the file when it was opened.
  virtual uint64_t size() const = 0;
  // A strong entity tag for HTTP (RFC 9110 §8.8.3), quoted: "\"<sha256>\"", or "" when the
  // content hash is unknown.
  virtual std::string etag() const = 0;
  // Reads up to `len` bytes at `offset` into `buf` (room for `len` bytes); returns the count,
  // fewer than `len` only at the end of the file (0 at or past it, e.g. if the file shrank since
  // it was opened). Thread-safe.
  virtual Result<size_t> Read(uint64_t offset, size_t len, char* buf) = 0;
};

class RecordingStore {
 public:
  virtual ~RecordingStore() = default;

  // Opens the recording's audio. NotFound when it is not in this store; InvalidArgument when
  // `ref` cannot name a recording (e.g. an audio path that leaves the recordings directory);
  // other codes for I/O failures.
  virtual Result<std::unique_ptr<AudioReader>> OpenAudio(const RecordingRef& ref) = 0;

  // Removes the recording, manifest first (without it the audio is an unfinished leftover for
  // every reader), then the audio, durably: when it returns OK the removal survives a power
  // loss. Idempotent: a recording that is already gone is OK. A crash or an error part-way
  // leaves a state that the next Delete of the same ref or the next Recover() finishes.
  // InvalidArgument for a bad `ref`; FailedPrecondition when the manifest at that path belongs
  // to another call (nothing is removed).
  [[nodiscard]] virtual Status Delete(const RecordingRef& ref) = 0;

  // Where the recording lives, for logs and the catalog: "local:<audio_file>" for the local
  // store, an s3:// URL for S3. NotFound when its audio is not in this store.
  virtual Result<std::string> Locate(const RecordingRef& ref) = 0;

  // Finishes what a crash interrupted (deletes). Called once at start, before the first other
  // call; returns the first error but finishes what it can.
  [[nodiscard]] virtual Status Recover() = 0;
};

// OK when `relative` can name a file inside a recordings directory: not empty, not absolute, no
// empty, "." or ".." segment, no NUL. InvalidArgument naming the path otherwise.
[[nodiscard]] Status CheckRelativePath(std::string_view relative);

// "\"<sha256>\"", or "" for an empty hash.
std::string QuotedEtag(std::string_view sha256);

}  // namespace callvault::storage

// Where a call's audio lives on this node, and reading it in chunks for a streamed response.
//
// Who calls it: api_audio.cc (serving), api_calls.cc (deleting).
// Thread-safety: AudioPath is pure; an AudioFile is used by one response at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace callvault::http {

// recordings_dir + "/" + relative, after checking that `relative` (CallDetail::audio_file) stays
// inside the directory: not empty, not absolute, no "." or ".." segment, no NUL.
// FailedPrecondition when recordings_dir is not configured, InvalidArgument for a bad path.
Result<std::string> AudioPath(const std::string& recordings_dir, const std::string& relative);

// An open audio file. Read with pread, so concurrent responses never share a file offset.
class AudioFile {
 public:
  // NotFound when the file does not exist, IoError otherwise.
  static Result<std::unique_ptr<AudioFile>> Open(const std::string& path);
  ~AudioFile();
  AudioFile(const AudioFile&) = delete;
  AudioFile& operator=(const AudioFile&) = delete;

  uint64_t size() const { return size_; }
  // Reads up to `n` bytes at `offset`; returns the count (0 at end of file), or -1 on error.
  ssize_t ReadAt(uint64_t offset, char* buf, size_t n) const;

 private:
  AudioFile(int fd, uint64_t size) : fd_(fd), size_(size) {}
  const int fd_;
  const uint64_t size_;
};

}  // namespace callvault::http

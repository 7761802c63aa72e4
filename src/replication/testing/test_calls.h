// Finished calls on disk for replication tests: an audio file of `bytes` pseudo-random bytes
// and its manifest (catalog/testing/manifests.h, with audio.file/bytes/sha256 of that file) in a
// recordings directory, and the outbox entry the finalizer would put.
//
// Test-only. Thread-safety: functions over files.
#pragma once

#include <string>

#include "base/fs.h"
#include "outbox/entry.h"

namespace callvault::replication::testing {

struct TestCall {
  std::string call_id;
  std::string audio_file;  // relative
  std::string manifest;    // the manifest's text
  std::string audio;       // the audio bytes
  outbox::Entry entry;
};

// Writes <recordings>/<audio_file> and its manifest. `node_id` is the origin.
TestCall WriteTestCall(const std::string& recordings, int n, size_t bytes,
                       const std::string& node_id = "a", const std::string& audio_file = "");

}  // namespace callvault::replication::testing

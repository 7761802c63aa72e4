// Test helpers for outbox/ and its consumers: a temp directory, call ids spread over time,
// entries. Test-only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/fs.h"
#include "outbox/entry.h"

namespace callvault::outbox::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cv-outbox-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { DefaultFs()->RemoveAll(path_).IgnoreError(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A UUIDv7-shaped call id for `ms` since the epoch and a sequence number.
inline std::string CallIdAt(uint64_t ms, uint64_t seq) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-7%03llx-8%03llx-%012llx",
                static_cast<unsigned long long>(ms >> 16),
                static_cast<unsigned long long>(ms & 0xffff),
                static_cast<unsigned long long>((seq >> 12) & 0xfff),
                static_cast<unsigned long long>(seq & 0xfff), static_cast<unsigned long long>(seq));
  return buf;
}

inline Entry EntryFor(const std::string& call_id,
                      std::string finalized = "2026-11-25T08:05:00.840Z") {
  return Entry{.call_id = call_id,
               .manifest = "2026/11/25/" + call_id + ".wav.json",
               .state = "completed",
               .finalized = std::move(finalized)};
}

}  // namespace callvault::outbox::testing

// Test helpers for crypto/: an AppendableFile that appends into a std::string, a ReadAtFn over a
// string, and a fixed-key KeyLookupFn. Test-only (not linked into cv_crypto).
// Thread-safety: MemoryFile as AppendableFile (one thread); StringSource is safe for concurrent
// reads as long as the string is not modified.
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "base/fs.h"
#include "crypto/decrypting_reader.h"
#include "crypto/tenant_key.h"

namespace callvault::crypto::testing {

class MemoryFile final : public AppendableFile {
 public:
  explicit MemoryFile(std::string* out) : out_(out) {}
  Status Append(std::string_view data) override {
    if (closed_) return FailedPreconditionError("closed");
    if (fail_appends_) return IoError("appending to memory", 5);
    out_->append(data);
    return Status::Ok();
  }
  Status Flush() override { return closed_ ? FailedPreconditionError("closed") : Status::Ok(); }
  Status Sync() override {
    ++syncs_;
    return Flush();
  }
  Status Close() override {
    if (closed_) return FailedPreconditionError("closed");
    closed_ = true;
    return Status::Ok();
  }
  uint64_t size() const override { return out_->size(); }
  const std::string& path() const override { return path_; }

  void set_fail_appends(bool fail) { fail_appends_ = fail; }
  int syncs() const { return syncs_; }

 private:
  std::string* out_;
  std::string path_ = "memory";
  bool closed_ = false;
  bool fail_appends_ = false;
  int syncs_ = 0;
};

// REQUIRES: *bytes outlives the function.
inline ReadAtFn StringSource(const std::string* bytes) {
  return [bytes](uint64_t offset, size_t len, char* buf) -> Result<size_t> {
    if (offset >= bytes->size()) return size_t{0};
    const size_t n = std::min<uint64_t>(len, bytes->size() - offset);
    std::memcpy(buf, bytes->data() + offset, n);
    return n;
  };
}

// Looks keys up in a copy of `keys` (by key id).
inline KeyLookupFn MapLookup(std::map<std::string, TenantKey> keys) {
  return [keys = std::move(keys)](std::string_view id) -> Result<TenantKey> {
    auto it = keys.find(std::string(id));
    if (it == keys.end()) return NotFoundError("tenant key " + std::string(id) + " not found");
    return it->second;
  };
}

}  // namespace callvault::crypto::testing

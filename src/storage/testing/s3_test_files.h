// Helpers for tests against the S3 test server: temporary files with deterministic content and
// an unsigned raw HTTP request (to see the server refuse it).
//
// Test-only. Thread-safety: none.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/fs.h"
#include "base/status.h"

namespace callvault::storage::testing {

// `n` pseudo-random bytes from `seed` (the same for the same arguments).
std::string TestBytes(size_t n, uint32_t seed);

// A temporary directory removed on destruction, with files written into it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `data` to `<dir>/<name>` and opens it for reading.
  Result<std::unique_ptr<RandomAccessFile>> WriteFile(const std::string& name,
                                                      const std::string& data);

 private:
  std::string path_;
};

// Sends "<method> <target> HTTP/1.1" with no Authorization to 127.0.0.1:`port` and returns the
// raw answer (status line, headers, body).
Result<std::string> UnsignedRequest(int port, const std::string& method, const std::string& target);

}  // namespace callvault::storage::testing

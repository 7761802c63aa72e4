// A temporary directory for one test (removed at destruction). Test-only.
#pragma once

#include <cstdlib>
#include <string>

#include "base/fs.h"

namespace callvault::recording::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cv-recording-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { DefaultFs()->RemoveAll(path_).IgnoreError(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace callvault::recording::testing

// A private S3 server for tests: tests/s3/s3_server.mjs (s3rver, checking SigV4 signatures and
// rejecting unsigned requests) started on a free 127.0.0.1 port with its data in a temporary
// directory; stopped (SIGTERM, then SIGKILL) and removed on destruction. Stop() and Restart()
// take it away and bring it back on the same port with the same objects (storage outages).
//
// Tooling: Node 20 and s3rver from `npm ci --prefix tests` (scripts/test.sh runs it). When
// they are missing Start() fails with a message saying so: the tests then fail, not skip.
//
// Test-only. Thread-safety: none; one thread drives a server (the test's).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/s3/options.h"

namespace callvault::storage::testing {

struct S3ServerOptions {
  std::string bucket = "callvault-test";
  std::string access_key_id = "CVTESTKEY0001";
  std::string secret_access_key = "cv-test-secret/with+chars";
};

class S3Server {
 public:
  static Result<std::unique_ptr<S3Server>> Start(const S3ServerOptions& options = {});
  ~S3Server();  // stops the server and removes its directory

  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  // Stops the server (connections drop; the port refuses). Objects stay.
  Status Stop();
  // Starts it again on the same port with the same objects after Stop().
  Status Restart();

  // "http://127.0.0.1:<port>".
  std::string endpoint() const;
  int port() const { return port_; }
  const std::string& bucket() const { return options_.bucket; }
  const std::string& access_key_id() const { return options_.access_key_id; }
  const std::string& secret_access_key() const { return options_.secret_access_key; }
  // Where s3rver keeps the buckets (one directory per bucket).
  const std::string& data_dir() const { return data_dir_; }
  // The server's stderr so far (for failure messages).
  std::string Log() const;

  // Options for an s3::Client of this server: endpoint, bucket, path-style, credentials, short
  // timeouts (1 s connect, 30 s per request).
  s3::S3Options ClientOptions() const;

  // Every key under `prefix`, sorted, listed through a client (ListObjectsV2, all pages).
  Result<std::vector<std::string>> ListKeys(const std::string& prefix = "") const;

  // The Node 20 binary and the launcher script; FailedPrecondition with the install hint when
  // `npm ci --prefix tests` has not run.
  struct Tooling {
    std::string node;
    std::string script;
  };
  static Result<Tooling> FindTooling();

 private:
  S3Server() = default;
  Status Launch();

  S3ServerOptions options_;
  Tooling tooling_;
  std::string dir_, data_dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;  // the read end of the server's stdout, open while it runs
};

}  // namespace callvault::storage::testing

// A private PostgreSQL server for tests and benchmarks: initdb into a temporary directory, then
// pg_ctl on a free loopback port with its own socket directory; stopped and removed on
// destruction. initdb refuses to run as root, so as root every server command runs as the
// `postgres` user (runuser) and the directory is handed to it.
//
// Binaries: the newest /usr/lib/postgresql/<version>/bin (Debian's `postgresql` package,
// installed by scripts/install-deps.sh). When missing, Start() fails with a message that says so.
//
// Test-only. Thread-safety: none; one thread drives a server (gtest environment, bench main).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace callvault::catalog::testing {

struct PgServerOptions {
  // fsync, full_page_writes and synchronous_commit off: fast, not crash-safe (unit tests).
  // Benchmarks turn this off to measure a durable server.
  bool fast_unsafe = true;
};

class PgServer {
 public:
  static Result<std::unique_ptr<PgServer>> Start(const PgServerOptions& options = {});
  ~PgServer();  // stops the server and removes its directory

  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Stops the server (pg_ctl stop -m fast; clients see their connections dropped). Data stays.
  Status Stop();
  // Starts it again on the same port after Stop().
  Status Restart();

  // Creates a fresh database `name` (letters, digits, '_').
  Status CreateDatabase(const std::string& name);
  // "postgresql://postgres@127.0.0.1:<port>/<db>".
  std::string Uri(const std::string& db) const;
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // The newest /usr/lib/postgresql/<v>/bin holding initdb and pg_ctl; FailedPrecondition with
  // an install hint when there is none.
  static Result<std::string> FindBinDir();

 private:
  PgServer() = default;
  Status PgCtl(const std::string& action);

  PgServerOptions options_;
  std::string bin_dir_, dir_, data_dir_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace callvault::catalog::testing

// A pool of SOCI sessions for the catalog: leases a session per operation, maps every SOCI /
// database exception to a Status (none escapes), and heals lost connections: a session whose
// connection broke is reconnected (soci::session::reconnect) before its next use, and an
// idempotent operation that lost its connection is retried once on the fresh connection, so
// the catalog recovers by itself when the database server comes back.
//
// Called by: SqlCatalog. Thread-safety: Run() may be called from any thread; a session is used
// by one thread at a time (soci::connection_pool hands it out).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "catalog/internal/dialect.h"
#include "catalog/internal/soci.h"

namespace callvault::catalog::internal {

class SessionPool {
 public:
  using OnConnect = std::function<void(soci::session&)>;  // may throw SOCI errors

  // Opens `size` sessions with `connect_string` (SOCI's, for `dialect`), running `on_connect`
  // on each (and again after every reconnect). Unavailable when the database cannot be reached.
  static Result<std::unique_ptr<SessionPool>> Open(const Dialect& dialect,
                                                   const std::string& connect_string, int size,
                                                   int lease_timeout_ms, OnConnect on_connect);
  ~SessionPool();

  enum class Retry {
    kNo,    // not idempotent (e.g. an INSERT assigning an id): a lost connection is Unavailable
    kOnce,  // idempotent: a lost connection is reconnected and `fn` runs once more
  };
  // Runs `fn` on a leased session. `what` names the operation in error messages ("list
  // calls"). Exceptions thrown by `fn` become: Unavailable (connection lost, server down,
  // database busy/locked, no session free within the lease timeout), AlreadyExists (a unique or
  // foreign key constraint), ResourceExhausted (disk full), Internal (anything else).
  Status Run(std::string_view what, Retry retry, const std::function<Status(soci::session&)>& fn);

  const Dialect& dialect() const { return dialect_; }

 private:
  SessionPool(const Dialect& dialect, int size, int lease_timeout_ms, OnConnect on_connect);

  struct Failure {
    Status status;
    bool connection_lost = false;
  };
  Failure MapCurrentException(soci::session& sql, std::string_view what);
  bool ConnectionBroken(soci::session& sql);
  Status Reconnect(size_t pos, std::string_view what);

  const Dialect& dialect_;
  const int lease_timeout_ms_;
  const OnConnect on_connect_;
  soci::connection_pool pool_;
  // broken_[i]: session i lost its connection; reconnect before use. Only the thread holding
  // the lease of session i touches broken_[i] (the pool's lease/give_back orders the accesses).
  std::vector<char> broken_;
};

// Runs `fn` inside a write transaction (dialect.begin_write … COMMIT); rolls back when `fn`
// returns an error or throws (and rethrows).
Status InWriteTransaction(soci::session& sql, const Dialect& dialect,
                          const std::function<Status()>& fn);

}  // namespace callvault::catalog::internal

#include "catalog/internal/session_pool.h"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "base/log.h"

namespace callvault::catalog::internal {
namespace {

std::string Describe(std::string_view what, std::string_view message) {
  std::string m(message);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return "catalog: " + std::string(what) + ": " + m;
}

void RollbackQuietly(soci::session& sql) {
  try {
    sql << "ROLLBACK";
  } catch (...) {  // no transaction open, or the connection is gone (the server rolls back)
  }
}

}  // namespace

SessionPool::SessionPool(const Dialect& dialect, int size, int lease_timeout_ms,
                         OnConnect on_connect)
    : dialect_(dialect),
      lease_timeout_ms_(lease_timeout_ms),
      on_connect_(std::move(on_connect)),
      pool_(static_cast<size_t>(size)),
      broken_(static_cast<size_t>(size), 0) {}

SessionPool::~SessionPool() = default;

Result<std::unique_ptr<SessionPool>> SessionPool::Open(const Dialect& dialect,
                                                       const std::string& connect_string, int size,
                                                       int lease_timeout_ms, OnConnect on_connect) {
  if (size < 1 || size > 256) {
    return InvalidArgumentError("catalog: pool_size must be 1..256, not " + std::to_string(size));
  }
  std::unique_ptr<SessionPool> pool(
      new SessionPool(dialect, size, lease_timeout_ms, std::move(on_connect)));
  for (int i = 0; i < size; ++i) {
    soci::session& sql = pool->pool_.at(static_cast<size_t>(i));
    try {
      if (dialect.backend == Backend::kSqlite) {
        sql.open(soci::sqlite3, connect_string);
      } else {
        sql.open(soci::postgresql, connect_string);
      }
      if (pool->on_connect_) pool->on_connect_(sql);
    } catch (const soci::sqlite3_soci_error& e) {
      const std::string message = Describe("opening the SQLite database", e.what());
      return (e.result() & 0xff) == SQLITE_CANTOPEN ? Status(StatusCode::kIoError, message)
                                                    : UnavailableError(message);
    } catch (const std::exception& e) {
      return UnavailableError(
          Describe(std::string("connecting to ") + std::string(dialect.name), e.what()));
    }
  }
  return pool;
}

bool SessionPool::ConnectionBroken(soci::session& sql) {
  if (dialect_.backend != Backend::kPostgresql) return false;
  auto* backend = static_cast<soci::postgresql_session_backend*>(sql.get_backend());
  return backend == nullptr || backend->conn_ == nullptr ||
         PQstatus(backend->conn_) != CONNECTION_OK;
}

SessionPool::Failure SessionPool::MapCurrentException(soci::session& sql, std::string_view what) {
  try {
    throw;
  } catch (const soci::postgresql_soci_error& e) {
    const std::string state = e.sqlstate();
    const bool lost = ConnectionBroken(sql) ||
                      e.get_error_category() == soci::soci_error::connection_error ||
                      state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0;
    if (lost) return {UnavailableError(Describe(what, e.what())), true};
    if (state.rfind("23", 0) == 0) return {AlreadyExistsError(Describe(what, e.what())), false};
    if (state == "53100") return {ResourceExhaustedError(Describe(what, e.what())), false};
    if (state == "40001" || state == "40P01" || state == "55P03") {
      return {UnavailableError(Describe(what, e.what())), false};
    }
    return {InternalError(Describe(what, e.what())), false};
  } catch (const soci::sqlite3_soci_error& e) {
    const int rc = e.result() & 0xff;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      return {UnavailableError(Describe(what, e.what())), false};
    }
    if (rc == SQLITE_CONSTRAINT) return {AlreadyExistsError(Describe(what, e.what())), false};
    if (rc == SQLITE_FULL) return {ResourceExhaustedError(Describe(what, e.what())), false};
    if (rc == SQLITE_IOERR || rc == SQLITE_CANTOPEN) {
      return {Status(StatusCode::kIoError, Describe(what, e.what())), false};
    }
    return {InternalError(Describe(what, e.what())), false};
  } catch (const soci::soci_error& e) {
    const bool lost =
        ConnectionBroken(sql) || e.get_error_category() == soci::soci_error::connection_error;
    if (lost) return {UnavailableError(Describe(what, e.what())), true};
    return {InternalError(Describe(what, e.what())), false};
  } catch (const std::exception& e) {
    return {InternalError(Describe(what, e.what())), ConnectionBroken(sql)};
  }
}

Status SessionPool::Reconnect(size_t pos, std::string_view what) {
  soci::session& sql = pool_.at(pos);
  try {
    sql.reconnect();
    if (on_connect_) on_connect_(sql);
    broken_[pos] = 0;
    CV_LOG_INFO("catalog.reconnected", "backend={} session={}", dialect_.name, pos);
    return Status::Ok();
  } catch (const std::exception& e) {
    broken_[pos] = 1;
    return UnavailableError(Describe(what, std::string("reconnecting: ") + e.what()));
  }
}

Status SessionPool::Run(std::string_view what, Retry retry,
                        const std::function<Status(soci::session&)>& fn) {
  size_t pos = 0;
  if (!pool_.try_lease(pos, lease_timeout_ms_)) {
    return UnavailableError("catalog: " + std::string(what) + ": no database session free within " +
                            std::to_string(lease_timeout_ms_) + " ms");
  }
  struct GiveBack {
    soci::connection_pool& pool;
    size_t pos;
    ~GiveBack() { pool.give_back(pos); }
  } give_back{pool_, pos};

  for (int attempt = 0;; ++attempt) {
    if (broken_[pos]) CV_RETURN_IF_ERROR(Reconnect(pos, what));
    soci::session& sql = pool_.at(pos);
    try {
      return fn(sql);
    } catch (...) {
      Failure failure = MapCurrentException(sql, what);
      // Transactions were rolled back by InWriteTransaction; single statements autocommit.
      if (!failure.connection_lost) return failure.status;
      broken_[pos] = 1;
      CV_LOG_WARN("catalog.connection_lost", "backend={} session={} op=\"{}\" error=\"{}\"",
                  dialect_.name, pos, what, failure.status.message());
      if (retry == Retry::kNo || attempt > 0) return failure.status;
    }
  }
}

Status InWriteTransaction(soci::session& sql, const Dialect& dialect,
                          const std::function<Status()>& fn) {
  sql << dialect.begin_write;
  Status status;
  try {
    status = fn();
  } catch (...) {
    RollbackQuietly(sql);
    throw;
  }
  if (!status.ok()) {
    RollbackQuietly(sql);
    return status;
  }
  sql << "COMMIT";
  return Status::Ok();
}

}  // namespace callvault::catalog::internal

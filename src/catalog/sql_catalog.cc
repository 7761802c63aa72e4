// SqlCatalog construction, health, and OpenCatalog (URL → backend, pool, migrations).
#include "catalog/sql_catalog.h"

#include <chrono>

#include "base/fs.h"
#include "base/log.h"
#include "catalog/internal/schema.h"

namespace callvault::catalog {
namespace internal {
namespace {

struct Target {
  const Dialect* dialect = nullptr;
  std::string connect;  // SOCI connect string
  std::string display;  // for logs: the path, or the URI without credentials
};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The PostgreSQL URI without a password ("postgresql://user@host/db").
std::string RedactUri(const std::string& uri) {
  const size_t scheme = uri.find("://");
  const size_t at = uri.find('@', scheme);
  if (scheme == std::string::npos || at == std::string::npos) return uri;
  const size_t colon = uri.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon) + ":***" + uri.substr(at);
}

Result<Target> ParseUrl(const CatalogOptions& options) {
  const std::string& url = options.url;
  Target t;
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    t.dialect = &PostgresqlDialect();
    t.connect = url;
    if (url.find("connect_timeout=") == std::string::npos) {
      // libpq waits forever for an unreachable host by default; 2 s is its minimum. (Also
      // SOCI 4.0.3 mangles a URI that has no key=value parameter at all: this adds one.)
      const int seconds = std::max(2, (options.busy_timeout_ms + 999) / 1000);
      t.connect += (url.find('?') == std::string::npos ? "?" : "&");
      t.connect += "connect_timeout=" + std::to_string(seconds);
    }
    t.display = RedactUri(url);
    return t;
  }
  std::string path = url;
  if (StartsWith(path, "sqlite:")) {
    path = path.substr(7);
    if (StartsWith(path, "//")) path = path.substr(2);
  } else if (url.find("://") != std::string::npos) {
    return InvalidArgumentError("catalog: url \"" + RedactUri(url) +
                                "\" is neither sqlite:<path>, a path, nor postgresql://…");
  }
  if (path.empty()) return InvalidArgumentError("catalog: url is empty (catalog.url)");
  if (path == ":memory:" || path.find('"') != std::string::npos) {
    return InvalidArgumentError(
        "catalog: \"" + path + "\" cannot be a SQLite catalog file (use a file path without '\"')");
  }
  t.dialect = &SqliteDialect();
  t.connect = "db=\"" + path + "\"";
  t.display = path;
  return t;
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SqlCatalog::SqlCatalog(std::unique_ptr<SessionPool> pool, int schema_version,
                       std::unique_ptr<ChangeStamper> changes)
    : pool_(std::move(pool)), schema_version_(schema_version), changes_(std::move(changes)) {}

Status SqlCatalog::Replicated(std::string_view what, SessionPool::Retry retry,
                              const std::function<Status(soci::session&)>& fn) {
  return pool_->Run(what, retry, [&](soci::session& sql) {
    return InReplicatedTransaction(sql, pool_->dialect(), [&] { return fn(sql); });
  });
}

Status SqlCatalog::Ping() {
  return pool_->Run("ping", SessionPool::Retry::kOnce, [](soci::session& sql) {
    int one = 0;
    sql << "SELECT 1", soci::into(one);
    return one == 1 ? Status::Ok()
                    : InternalError("catalog: ping: SELECT 1 returned " + std::to_string(one));
  });
}

}  // namespace internal

Result<std::unique_ptr<Catalog>> OpenCatalog(const CatalogOptions& options) {
  using namespace internal;  // NOLINT: one function, in a .cc
  if (options.busy_timeout_ms < 0) {
    return InvalidArgumentError("catalog: busy_timeout_ms must not be negative");
  }
  CV_ASSIGN_OR_RETURN(Target target, ParseUrl(options));
  SessionPool::OnConnect on_connect;
  const bool read_only = options.read_only;
  if (target.dialect->backend == Backend::kSqlite) {
    if (read_only && !DefaultFs()->Exists(target.display)) {
      return NotFoundError("catalog: no SQLite catalog at " + target.display);
    }
    const int busy = options.busy_timeout_ms;
    on_connect = [busy, read_only](soci::session& sql) {
      sql << "PRAGMA busy_timeout = " + std::to_string(busy);
      if (read_only) {
        sql << "PRAGMA query_only = ON";  // every write fails
        return;
      }
      // WAL: readers never block the writer. synchronous=FULL: a committed ingest survives a
      // power cut (DESIGN.md rule 2: the ingester drops its queue entry after the commit).
      std::string mode;
      sql << "PRAGMA journal_mode = WAL", soci::into(mode);
      sql << "PRAGMA synchronous = FULL";
      sql << "PRAGMA foreign_keys = ON";
    };
  } else if (read_only) {
    on_connect = [](soci::session& sql) {
      sql << "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY";
    };
  }
  CV_ASSIGN_OR_RETURN(std::unique_ptr<SessionPool> pool,
                      SessionPool::Open(*target.dialect, target.connect, options.pool_size,
                                        std::max(1, options.busy_timeout_ms), on_connect));
  auto changes = std::make_unique<ChangeStamper>(
      options.clock != nullptr ? options.clock : RealClock(), options.node_id);
  int version = 0;
  Status migrated = pool->Run(
      "migrating the schema", SessionPool::Retry::kOnce, [&](soci::session& sql) -> Status {
        if (read_only) {
          CV_ASSIGN_OR_RETURN(version, ReadSchemaVersion(sql, *target.dialect));
        } else {
          CV_ASSIGN_OR_RETURN(version,
                              Migrate(sql, *target.dialect, kSchemaVersion, changes.get()));
        }
        if (version < 3) return Status::Ok();  // no change log yet (read-only only)
        // Stamps stay above every stamp in the log, across restarts and processes.
        std::string newest;
        soci::indicator ind = soci::i_null;
        sql << "SELECT MAX(hlc) FROM change_log", soci::into(newest, ind);
        if (ind == soci::i_ok) {
          CV_ASSIGN_OR_RETURN(Hlc floor, ParseHlc(newest));
          changes->clock().Seed(floor);
        }
        return Status::Ok();
      });
  if (!migrated.ok()) {
    CV_LOG_ERROR("catalog.open_failed", "backend={} db=\"{}\" error=\"{}\"", target.dialect->name,
                 target.display, migrated.ToString());
    return migrated;
  }
  CV_LOG_INFO("catalog.opened", "backend={} db=\"{}\" schema={} pool={} node={} hlc={}{}",
              target.dialect->name, target.display, version, options.pool_size, changes->origin(),
              changes->clock().Last().ToString(), read_only ? " read_only=true" : "");
  return std::unique_ptr<Catalog>(new SqlCatalog(std::move(pool), version, std::move(changes)));
}

}  // namespace callvault::catalog

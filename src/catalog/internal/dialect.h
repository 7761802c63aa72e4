// The SQL that differs between the catalog's two backends (SQLite, PostgreSQL): how a write
// transaction starts, case-insensitive LIKE, the free-text match, identity columns and the
// schema statements that only one of them has. Everything else is the same SQL on both.
//
// Called by: SqlCatalog, schema migrations. Thread-safety: immutable singletons.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace callvault::catalog::internal {

enum class Backend { kSqlite, kPostgresql };

struct Dialect {
  Backend backend;
  std::string_view name;  // "sqlite" | "postgresql" (Catalog::Backend())
  // Starts a transaction that will write. SQLite takes the write lock at once (BEGIN
  // IMMEDIATE), so a reader that later writes never fails with SQLITE_BUSY mid-transaction.
  std::string_view begin_write;
  // Serializes schema migrations of several processes (PostgreSQL advisory lock); "" = none.
  std::string_view migration_lock;
  // Case-insensitive LIKE: SQLite's LIKE folds ASCII case; PostgreSQL needs ILIKE.
  std::string_view like;
  // Counts the tables named :name in the current database/schema (one row, one column).
  std::string_view table_exists;
  // The type of a primary key column filled by the database ("id {identity}"). Its values
  // increase; SQLite's AUTOINCREMENT also never reuses one (change_log.seq relies on both).
  std::string_view identity;
  // A text column compared byte by byte whatever the database's locale (PostgreSQL
  // `COLLATE "C"`; SQLite's default): keys scanned by range (`'<call id>/'` … `'<call id>0'`).
  std::string_view binary_text;
  // Taken first by every transaction that appends to change_log (PostgreSQL: an advisory
  // transaction lock, so that change_log.seq values commit in increasing order and a reader
  // paging by seq never skips a row committed late; "" on SQLite, whose writers are serial).
  std::string_view change_log_lock;
  // Appended to a SELECT to lock the rows it reads until the transaction ends (PostgreSQL
  // " FOR UPDATE": the head row of an audit chain; "" on SQLite, whose writers are serial).
  std::string_view for_update;
  // Most bound parameters one statement may have: SQLite's SQLITE_MAX_VARIABLE_NUMBER (32766
  // by default since 3.32), PostgreSQL's protocol limit (65535). Multi-row statements are cut
  // into chunks below it.
  int max_params;

  // The WHERE term "call `c` matches free-text query parameter :<param>".
  std::string TextMatch(std::string_view param) const;
  // The value of that parameter for `tokens` (from SearchTokens; not empty): every token must
  // be a prefix of a word of the call's search text.
  std::string TextQuery(const std::vector<std::string>& tokens) const;
};

const Dialect& SqliteDialect();
const Dialect& PostgresqlDialect();

}  // namespace callvault::catalog::internal

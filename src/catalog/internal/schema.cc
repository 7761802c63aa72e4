#include "catalog/internal/schema.h"

#include <chrono>
#include <string>
#include <vector>

#include "base/log.h"

namespace callvault::catalog::internal {
namespace {

struct Migration {
  int version;
  const char* description;
  std::vector<std::string> statements;
};

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// Version 1: every table of docs/formats/catalog-schema.md. `{id}` is the dialect's identity
// column; `{call_key}` the calls table's key (see the document: SQLite keeps an integer rowid
// alias for its FTS5 index).
std::vector<std::string> Version1(const Dialect& d) {
  const bool sqlite = d.backend == Backend::kSqlite;
  std::vector<std::string> v = {
      "CREATE TABLE tenants (name TEXT PRIMARY KEY, display_name TEXT NOT NULL DEFAULT '', "
      "created_ms BIGINT NOT NULL)",
      "CREATE TABLE calls ({call_key}, node_id TEXT NOT NULL, tenant TEXT NOT NULL DEFAULT '', "
      "state TEXT NOT NULL, end_reason TEXT NOT NULL DEFAULT '', "
      "sip_call_id TEXT NOT NULL DEFAULT '', siprec_session_id TEXT NOT NULL DEFAULT '', "
      "started_ms BIGINT NOT NULL, answered_ms BIGINT, ended_ms BIGINT, "
      "duration_ms BIGINT NOT NULL DEFAULT 0, "
      "caller_name TEXT NOT NULL DEFAULT '', caller_aor TEXT NOT NULL DEFAULT '', "
      "caller_number TEXT NOT NULL DEFAULT '', callee_name TEXT NOT NULL DEFAULT '', "
      "callee_aor TEXT NOT NULL DEFAULT '', callee_number TEXT NOT NULL DEFAULT '', "
      "src_address TEXT NOT NULL DEFAULT '', from_uri TEXT NOT NULL DEFAULT '', "
      "to_uri TEXT NOT NULL DEFAULT '', "
      "audio_file TEXT NOT NULL DEFAULT '', audio_format TEXT NOT NULL DEFAULT '', "
      "audio_bytes BIGINT NOT NULL DEFAULT 0, audio_sha256 TEXT NOT NULL DEFAULT '', "
      "finalized TEXT, version_ms BIGINT, participants TEXT NOT NULL DEFAULT '[]', "
      "manifest TEXT, search_text TEXT NOT NULL DEFAULT ''{search_column}, "
      "numbers_text TEXT NOT NULL DEFAULT '', names_text TEXT NOT NULL DEFAULT '', "
      "deleted_ms BIGINT, deleted_by TEXT, updated_ms BIGINT NOT NULL)",
      "CREATE INDEX calls_started ON calls (started_ms, call_id) WHERE deleted_ms IS NULL",
      "CREATE INDEX calls_duration ON calls (duration_ms, call_id) WHERE deleted_ms IS NULL",
      "CREATE INDEX calls_tenant_started ON calls (tenant, started_ms, call_id) "
      "WHERE deleted_ms IS NULL",
      "CREATE INDEX calls_tenant_duration ON calls (tenant, duration_ms, call_id) "
      "WHERE deleted_ms IS NULL",
      "CREATE INDEX calls_state_started ON calls (state, started_ms, call_id) "
      "WHERE deleted_ms IS NULL",
      "CREATE INDEX calls_node_state ON calls (node_id, state, started_ms)",
      "CREATE TABLE participants (call_id TEXT NOT NULL REFERENCES calls (call_id) "
      "ON DELETE CASCADE, ordinal INTEGER NOT NULL, participant_id TEXT NOT NULL DEFAULT '', "
      "name TEXT NOT NULL DEFAULT '', aor TEXT NOT NULL DEFAULT '', "
      "number TEXT NOT NULL DEFAULT '', channel INTEGER, PRIMARY KEY (call_id, ordinal))",
      "CREATE TABLE streams (call_id TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE, "
      "ordinal INTEGER NOT NULL, stream_id TEXT NOT NULL DEFAULT '', "
      "label TEXT NOT NULL DEFAULT '', channel INTEGER, mixed INTEGER NOT NULL DEFAULT 0, "
      "codec TEXT NOT NULL DEFAULT '', packets BIGINT NOT NULL DEFAULT 0, "
      "bytes BIGINT NOT NULL DEFAULT 0, lost BIGINT NOT NULL DEFAULT 0, "
      "duplicates BIGINT NOT NULL DEFAULT 0, reordered BIGINT NOT NULL DEFAULT 0, "
      "late BIGINT NOT NULL DEFAULT 0, bad BIGINT NOT NULL DEFAULT 0, "
      "detail TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (call_id, ordinal))",
      "CREATE TABLE metadata_snapshots (call_id TEXT NOT NULL REFERENCES calls (call_id) "
      "ON DELETE CASCADE, ordinal INTEGER NOT NULL, at_ms BIGINT, "
      "source TEXT NOT NULL DEFAULT '', content_type TEXT NOT NULL DEFAULT '', "
      "raw TEXT NOT NULL DEFAULT '', well_formed INTEGER, PRIMARY KEY (call_id, ordinal))",
      "CREATE TABLE tags (call_id TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE, "
      "tag TEXT NOT NULL, created_ms BIGINT NOT NULL, PRIMARY KEY (call_id, tag))",
      "CREATE INDEX tags_tag ON tags (tag, call_id)",
      "CREATE TABLE roles (name TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '')",
      "CREATE TABLE role_permissions (role TEXT NOT NULL REFERENCES roles (name) "
      "ON DELETE CASCADE, permission TEXT NOT NULL, PRIMARY KEY (role, permission))",
      "CREATE TABLE users ({id}, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, "
      "role TEXT NOT NULL REFERENCES roles (name), tenant TEXT NOT NULL DEFAULT '', "
      "disabled INTEGER NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL)",
      "CREATE TABLE api_tokens ({id}, user_id BIGINT NOT NULL REFERENCES users (id) "
      "ON DELETE CASCADE, name TEXT NOT NULL DEFAULT '', token_hash TEXT NOT NULL UNIQUE, "
      "created_ms BIGINT NOT NULL, expires_ms BIGINT, last_used_ms BIGINT)",
      "CREATE INDEX api_tokens_user ON api_tokens (user_id)",
      "CREATE TABLE audit_log ({id}, at_ms BIGINT NOT NULL, actor TEXT NOT NULL DEFAULT '', "
      "action TEXT NOT NULL, target TEXT NOT NULL DEFAULT '', "
      "detail TEXT NOT NULL DEFAULT '{}', remote TEXT NOT NULL DEFAULT '')",
      "INSERT INTO roles (name, description) VALUES ('admin', 'everything'), "
      "('supervisor', 'reads, tags and deletes calls; reads the audit log'), "
      "('viewer', 'reads calls and audio')",
      "INSERT INTO role_permissions (role, permission) VALUES ('admin', 'calls:read'), "
      "('admin', 'audio:read'), ('admin', 'calls:tag'), ('admin', 'calls:delete'), "
      "('admin', 'users:manage'), ('admin', 'audit:read'), ('admin', 'metrics:read'), "
      "('supervisor', 'calls:read'), ('supervisor', 'audio:read'), "
      "('supervisor', 'calls:tag'), ('supervisor', 'calls:delete'), "
      "('supervisor', 'audit:read'), ('viewer', 'calls:read'), ('viewer', 'audio:read')",
  };
  if (sqlite) {
    // External-content FTS5 index over calls.search_text, kept in step by triggers.
    v.push_back(
        "CREATE VIRTUAL TABLE calls_fts USING fts5(search_text, content='calls', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 0', prefix='2 3')");
    v.push_back(
        "CREATE TRIGGER calls_fts_insert AFTER INSERT ON calls BEGIN "
        "INSERT INTO calls_fts (rowid, search_text) VALUES (new.id, new.search_text); END");
    v.push_back(
        "CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls BEGIN "
        "INSERT INTO calls_fts (calls_fts, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); END");
    v.push_back(
        "CREATE TRIGGER calls_fts_update AFTER UPDATE OF search_text ON calls BEGIN "
        "INSERT INTO calls_fts (calls_fts, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO calls_fts (rowid, search_text) VALUES (new.id, new.search_text); END");
    // The contains filters' trigram index: external-content FTS5 over numbers_text and
    // names_text (written by the ingest with the row), kept in step by triggers.
    v.push_back(
        "CREATE VIRTUAL TABLE calls_trgm USING fts5(numbers_text, names_text, content='calls', "
        "content_rowid='id', tokenize='trigram', detail='full')");
    v.push_back(
        "CREATE TRIGGER calls_trgm_insert AFTER INSERT ON calls BEGIN "
        "INSERT INTO calls_trgm (rowid, numbers_text, names_text) "
        "VALUES (new.id, new.numbers_text, new.names_text); END");
    v.push_back(
        "CREATE TRIGGER calls_trgm_delete AFTER DELETE ON calls BEGIN "
        "INSERT INTO calls_trgm (calls_trgm, rowid, numbers_text, names_text) "
        "VALUES ('delete', old.id, old.numbers_text, old.names_text); END");
    v.push_back(
        "CREATE TRIGGER calls_trgm_update AFTER UPDATE OF numbers_text, names_text ON calls "
        "BEGIN INSERT INTO calls_trgm (calls_trgm, rowid, numbers_text, names_text) "
        "VALUES ('delete', old.id, old.numbers_text, old.names_text); "
        "INSERT INTO calls_trgm (rowid, numbers_text, names_text) "
        "VALUES (new.id, new.numbers_text, new.names_text); END");
  } else {
    v.push_back("CREATE INDEX calls_search ON calls USING GIN (search_tsv)");
    // The contains filters' trigram indexes (pg_trgm: a trusted extension since PostgreSQL 13,
    // so a database owner without superuser rights may create it). ILIKE '%…%' uses them.
    v.push_back("CREATE EXTENSION IF NOT EXISTS pg_trgm");
    v.push_back(
        "CREATE INDEX calls_numbers_trgm ON calls USING GIN (numbers_text gin_trgm_ops) "
        "WHERE deleted_ms IS NULL");
    v.push_back(
        "CREATE INDEX calls_names_trgm ON calls USING GIN (names_text gin_trgm_ops) "
        "WHERE deleted_ms IS NULL");
  }
  for (std::string& s : v) {
    s = Replace(std::move(s), "{call_key}",
                sqlite ? "id INTEGER PRIMARY KEY, call_id TEXT NOT NULL UNIQUE"
                       : "call_id TEXT PRIMARY KEY");
    s = Replace(std::move(s), "{search_column}",
                sqlite ? ""
                       : ", search_tsv tsvector GENERATED ALWAYS AS "
                         "(to_tsvector('simple', search_text)) STORED");
    s = Replace(std::move(s), "{id}", d.identity_column);
  }
  return v;
}

// Version 2: where each recording lives and its purge, legal holds (issue: storage
// lifecycle). Separate tables, not `calls` columns: ingest's upsert rewrites calls rows, and a
// location may be recorded before the call is ingested (the queues drain independently).
std::vector<std::string> Version2() {
  return {
      "CREATE TABLE recording_locations (call_id TEXT PRIMARY KEY, "
      "audio_file TEXT NOT NULL DEFAULT '', location TEXT NOT NULL DEFAULT '', "
      "stored_bytes BIGINT NOT NULL DEFAULT 0, stored_sha256 TEXT NOT NULL DEFAULT '', "
      "key_id TEXT NOT NULL DEFAULT '', relocated_ms BIGINT, purge_pending_ms BIGINT, "
      "purged_ms BIGINT, updated_ms BIGINT NOT NULL)",
      "CREATE INDEX recording_locations_purge ON recording_locations (purge_pending_ms, call_id) "
      "WHERE purge_pending_ms IS NOT NULL",
      "CREATE INDEX recording_locations_key ON recording_locations (key_id) WHERE key_id <> ''",
      "CREATE TABLE legal_holds (call_id TEXT PRIMARY KEY, held_by TEXT NOT NULL DEFAULT '', "
      "reason TEXT NOT NULL DEFAULT '', created_ms BIGINT NOT NULL)",
      "INSERT INTO role_permissions (role, permission) VALUES ('admin', 'calls:hold'), "
      "('admin', 'retention:run'), ('supervisor', 'calls:hold')",
  };
}

std::vector<Migration> Migrations(const Dialect& d) {
  return {{1, "calls, participants, streams, metadata, tags, tenants, users, tokens, roles, audit",
           Version1(d)},
          {2, "recording locations, purges, legal holds", Version2()}};
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<int> Migrate(soci::session& sql, const Dialect& dialect, int target) {
  sql << dialect.begin_write;
  try {
    if (!dialect.migration_lock.empty()) sql << dialect.migration_lock;
    int exists = 0;
    const std::string table = "schema_migrations";
    sql << dialect.table_exists, soci::use(table, "name"), soci::into(exists);
    if (exists == 0) {
      sql << "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
             "description TEXT NOT NULL, applied_ms BIGINT NOT NULL)";
    }
    int current = 0;
    soci::indicator ind = soci::i_ok;
    sql << "SELECT MAX(version) FROM schema_migrations", soci::into(current, ind);
    if (ind == soci::i_null) current = 0;
    if (current > kSchemaVersion) {
      sql << "ROLLBACK";
      return FailedPreconditionError("catalog: the database has schema version " +
                                     std::to_string(current) + ", newer than this binary's " +
                                     std::to_string(kSchemaVersion) + " (upgrade callvault)");
    }
    for (const Migration& m : Migrations(dialect)) {
      if (m.version <= current || m.version > target) continue;
      for (const std::string& stmt : m.statements) sql << stmt;
      const std::string description = m.description;
      const long long now = NowMs();
      sql << "INSERT INTO schema_migrations (version, description, applied_ms) "
             "VALUES (:v, :d, :t)",
          soci::use(m.version), soci::use(description), soci::use(now);
      CV_LOG_INFO("catalog.migrated", "backend={} version={}", dialect.name, m.version);
      current = m.version;
    }
    sql << "COMMIT";
    return current;
  } catch (...) {
    try {
      sql << "ROLLBACK";
    } catch (...) {  // the connection may be gone; the server rolls back then
    }
    throw;
  }
}

}  // namespace callvault::catalog::internal

#include "catalog/internal/schema.h"

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "base/uuid.h"
#include "catalog/internal/audit_chain.h"
#include "catalog/internal/change_body.h"
#include "catalog/internal/params.h"

namespace callvault::catalog::internal {
namespace {

struct Migration {
  int version;
  const char* description;
  std::vector<std::string> statements;
  // Runs after the statements, in the same transaction (backfills).
  std::function<void(soci::session&, ChangeStamper&)> then;
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
    s = Replace(std::move(s), "{id}", "id " + std::string(d.identity));
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

// Version 3: the replicated change log (issue: the cluster). Keys equal on every node: users
// by username, tokens by a new `api_id`, audit entries by a new `uid` (both UUIDv7, backfilled
// by Version3Backfill; unique indexes, NULL only until then).
std::vector<std::string> Version3(const Dialect& d) {
  std::vector<std::string> v = {
      "CREATE TABLE change_log (seq {identity}, hlc {binary_text} NOT NULL, "
      "origin TEXT NOT NULL, entity TEXT NOT NULL, entity_key {binary_text} NOT NULL, "
      "op TEXT NOT NULL, body TEXT NOT NULL DEFAULT '{}', recorded_ms BIGINT NOT NULL)",
      "CREATE INDEX change_log_entity ON change_log (entity, entity_key)",
      "CREATE INDEX change_log_hlc ON change_log (hlc)",
      "CREATE TABLE entity_versions (entity TEXT NOT NULL, entity_key {binary_text} NOT NULL, "
      "hlc {binary_text} NOT NULL, origin TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, "
      "PRIMARY KEY (entity, entity_key))",
      "ALTER TABLE api_tokens ADD COLUMN api_id TEXT",
      "CREATE UNIQUE INDEX api_tokens_api_id ON api_tokens (api_id)",
      "ALTER TABLE audit_log ADD COLUMN uid TEXT",
      "CREATE UNIQUE INDEX audit_log_uid ON audit_log (uid)",
      "CREATE TABLE cluster_cursors (peer TEXT PRIMARY KEY, after_seq BIGINT NOT NULL, "
      "updated_ms BIGINT NOT NULL)",
      "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
      // Drain the recorder without stopping it (GET /api/v1/node, PUT /api/v1/node/drain).
      "INSERT INTO role_permissions (role, permission) VALUES ('admin', 'node:manage')",
  };
  for (std::string& s : v) {
    s = Replace(std::move(s), "{identity}", d.identity);
    s = Replace(std::move(s), "{binary_text}", d.binary_text);
  }
  return v;
}

// Version 4: the web portal (issue: web portal). Browser sessions — node-local, not replicated
// (nodes sharing one PostgreSQL share them); the cookie's SHA-256 is the key, never the cookie
// — and the indexes of the audit log's filters. New permissions: system:read (GET
// /api/v1/system), tenants:manage (/api/v1/tenants).
std::vector<std::string> Version4() {
  return {
      "CREATE TABLE web_sessions (id_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL "
      "REFERENCES users (id) ON DELETE CASCADE, csrf_token TEXT NOT NULL, "
      "credential TEXT NOT NULL, created_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL, "
      "expires_ms BIGINT NOT NULL, remote TEXT NOT NULL DEFAULT '', "
      "user_agent TEXT NOT NULL DEFAULT '')",
      "CREATE INDEX web_sessions_user ON web_sessions (user_id)",
      "CREATE INDEX web_sessions_expires ON web_sessions (expires_ms)",
      "CREATE INDEX audit_log_actor ON audit_log (actor, id)",
      "CREATE INDEX audit_log_action ON audit_log (action, id)",
      "CREATE INDEX audit_log_target ON audit_log (target, id)",
      "CREATE INDEX audit_log_at ON audit_log (at_ms, id)",
      "INSERT INTO role_permissions (role, permission) VALUES ('admin', 'system:read'), "
      "('admin', 'tenants:manage')",
  };
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Version 5: who listened to what (issue 17). Audit entries get a tenant (tenant-scoped users
// see only theirs) and a place in a hash chain per origin (docs/formats/catalog-schema.md
// §Audit chains): origin, origin_seq, prev_hash, hash, and a head row per chain. The rows that
// exist are given tenants and chained by Version5Backfill.
std::vector<std::string> Version5() {
  return {
      "ALTER TABLE audit_log ADD COLUMN tenant TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE audit_log ADD COLUMN origin TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE audit_log ADD COLUMN origin_seq BIGINT NOT NULL DEFAULT 0",
      "ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT ''",
      // Tenants can be disabled: new calls are no longer recorded under them.
      "ALTER TABLE tenants ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0",
      "CREATE TABLE audit_heads (origin TEXT PRIMARY KEY, seq BIGINT NOT NULL, "
      "hash TEXT NOT NULL, updated_ms BIGINT NOT NULL)",
      // The tenant of what existed: the call's for call.* entries, the user's (the target) for
      // user, token and session entries, the tenant's own for tenant entries.
      "UPDATE audit_log SET tenant = COALESCE((SELECT c.tenant FROM calls c "
      "WHERE c.call_id = audit_log.target), '') WHERE action LIKE 'call.%'",
      "UPDATE audit_log SET tenant = COALESCE((SELECT u.tenant FROM users u "
      "WHERE u.username = audit_log.target), '') "
      "WHERE action LIKE 'user.%' OR action LIKE 'token.%' OR action LIKE 'session.%'",
      "UPDATE audit_log SET tenant = target "
      "WHERE action LIKE 'tenant.%' OR action = 'tenant_key.destroy'",
  };
}

// Chains every audit row that exists, in id order, into the local chain of the migrating node
// (audit_chain.h: they carry no chain of their origin, and peers hold other subsets of them),
// so that `callvault audit verify` passes on an upgraded catalog; then the chain indexes.
void Version5Backfill(soci::session& sql, ChangeStamper& stamper, const Dialect& dialect) {
  const std::string origin = LocalChain(stamper.origin());
  const long long now = NowMs();
  std::string prev(kGenesisHash);
  long long seq = 0, last_id = 0;
  for (;;) {
    std::vector<std::pair<long long, AuditEntry>> rows;
    std::vector<std::string> details;
    {
      AuditEntry e;
      long long id = 0, at = 0;
      std::string detail;
      soci::indicator uid_ind = soci::i_null;
      soci::statement st =
          (sql.prepare << "SELECT id, uid, at_ms, actor, action, target, detail, remote, tenant "
                          "FROM audit_log WHERE id > :last ORDER BY id LIMIT 10000",
           soci::use(last_id), soci::into(id), soci::into(e.uid, uid_ind), soci::into(at),
           soci::into(e.actor), soci::into(e.action), soci::into(e.target), soci::into(detail),
           soci::into(e.remote), soci::into(e.tenant));
      if (st.execute(true)) {
        do {
          AuditEntry row = e;
          if (uid_ind != soci::i_ok) row.uid.clear();
          row.at_ms = at;
          rows.emplace_back(id, std::move(row));
          details.push_back(detail);
        } while (st.fetch());
      }
    }
    if (rows.empty()) break;
    for (size_t i = 0; i < rows.size(); ++i) {
      AuditEntry& e = rows[i].second;
      e.origin = origin;
      e.seq = ++seq;
      e.prev_hash = prev;
      e.hash = ChainHash(prev, e, details[i]);
      prev = e.hash;
    }
    // One UPDATE … FROM (VALUES …) per 1,000 rows: a round trip per row made this minutes
    // on PostgreSQL for a large log.
    for (size_t from = 0; from < rows.size(); from += 1000) {
      Params p = Params::ByPosition(dialect);
      std::string values;
      for (size_t i = from; i < std::min(rows.size(), from + 1000); ++i) {
        const AuditEntry& e = rows[i].second;
        if (!values.empty()) values += ", ";
        values += Tuple({"CAST(" + p.Add(static_cast<int64_t>(rows[i].first)) + " AS BIGINT)",
                         p.Add(e.origin), "CAST(" + p.Add(e.seq) + " AS BIGINT)",
                         p.Add(e.prev_hash), p.Add(e.hash)});
      }
      soci::statement st(sql);
      p.Prepare(st,
                "UPDATE audit_log SET origin = v.column2, origin_seq = v.column3, "
                "prev_hash = v.column4, hash = v.column5 FROM (VALUES " +
                    values + ") AS v WHERE audit_log.id = v.column1");
      st.execute(true);
    }
    last_id = rows.back().first;
  }
  if (seq > 0) {
    sql << "INSERT INTO audit_heads (origin, seq, hash, updated_ms) VALUES (:o, :s, :h, :t)",
        soci::use(origin), soci::use(seq), soci::use(prev), soci::use(now);
  }
  sql << "CREATE UNIQUE INDEX audit_log_chain ON audit_log (origin, origin_seq)";
  sql << "CREATE INDEX audit_log_tenant ON audit_log (tenant, id)";
  if (seq > 0) {
    CV_LOG_INFO("catalog.audit_chained", "origin={} entries={} head={}", origin, seq, prev);
  }
}

// Gives every row of `table` without a `column` value a new UUIDv7.
void BackfillUuids(soci::session& sql, const std::string& table, const std::string& column) {
  std::vector<long long> ids;
  long long id = 0;
  soci::statement st =
      (sql.prepare << "SELECT id FROM " + table + " WHERE " + column + " IS NULL ORDER BY id",
       soci::into(id));
  if (st.execute(true)) {
    do {
      ids.push_back(id);
    } while (st.fetch());
  }
  for (long long row : ids) {
    const std::string uid = NewUuidV7(*RealClock());
    sql << "UPDATE " + table + " SET " + column + " = :u WHERE id = :id", soci::use(uid),
        soci::use(row);
  }
}

// The configuration that existed before the change log enters it as changes of this node, so
// that a peer pulling the log from the start (a new node) receives it: users, their tokens,
// legal holds, and the tags of live calls. The audit log before version 3 stays local.
void SeedChangeLog(soci::session& sql, ChangeStamper& stamper) {
  std::vector<User> users;
  {
    User u;
    int disabled = 0;
    long long created = 0;
    soci::statement st = (sql.prepare << "SELECT username, password_hash, role, tenant, "
                                         "disabled, created_ms FROM users ORDER BY id",
                          soci::into(u.username), soci::into(u.password_hash), soci::into(u.role),
                          soci::into(u.tenant), soci::into(disabled), soci::into(created));
    if (st.execute(true)) {
      do {
        u.disabled = disabled != 0;
        u.created_ms = created;
        users.push_back(u);
      } while (st.fetch());
    }
  }
  for (const User& u : users) stamper.Record(sql, kEntityUser, u.username, kOpUpsert, UserBody(u));

  std::vector<std::pair<ApiToken, std::string>> tokens;
  {
    ApiToken t;
    std::string username;
    long long created = 0, expires = 0;
    soci::indicator expires_ind = soci::i_null;
    soci::statement st =
        (sql.prepare << "SELECT t.api_id, u.username, t.name, t.token_hash, t.created_ms, "
                        "t.expires_ms FROM api_tokens t JOIN users u ON u.id = t.user_id "
                        "ORDER BY t.id",
         soci::into(t.api_id), soci::into(username), soci::into(t.name), soci::into(t.token_hash),
         soci::into(created), soci::into(expires, expires_ind));
    if (st.execute(true)) {
      do {
        t.created_ms = created;
        t.expires_ms = expires_ind == soci::i_ok ? std::optional<int64_t>(expires) : std::nullopt;
        tokens.emplace_back(t, username);
      } while (st.fetch());
    }
  }
  for (const auto& [t, username] : tokens) {
    stamper.Record(sql, kEntityToken, t.api_id, kOpUpsert, WriteTokenBody(t, username));
  }

  std::vector<LegalHold> holds;
  {
    LegalHold h;
    long long created = 0;
    soci::statement st =
        (sql.prepare << "SELECT call_id, held_by, reason, created_ms "
                        "FROM legal_holds ORDER BY call_id",
         soci::into(h.call_id), soci::into(h.held_by), soci::into(h.reason), soci::into(created));
    if (st.execute(true)) {
      do {
        h.created_ms = created;
        holds.push_back(h);
      } while (st.fetch());
    }
  }
  for (const LegalHold& h : holds) {
    stamper.Record(sql, kEntityLegalHold, h.call_id, kOpUpsert, LegalHoldBody(h));
  }

  std::vector<TagRow> tags;
  {
    std::string call_id, tag;
    long long created = 0;
    soci::statement st = (sql.prepare << "SELECT t.call_id, t.tag, t.created_ms FROM tags t "
                                         "JOIN calls c ON c.call_id = t.call_id "
                                         "WHERE c.deleted_ms IS NULL ORDER BY t.call_id, t.tag",
                          soci::into(call_id), soci::into(tag), soci::into(created));
    if (st.execute(true)) {
      do {
        tags.push_back({call_id, tag, created});
      } while (st.fetch());
    }
  }
  for (const TagRow& t : tags) {
    stamper.Record(sql, kEntityTag, TagKey(t.call_id, t.tag), kOpUpsert, TagBody(t));
  }
}

void Version3Backfill(soci::session& sql, ChangeStamper& stamper) {
  BackfillUuids(sql, "api_tokens", "api_id");
  BackfillUuids(sql, "audit_log", "uid");
  SeedChangeLog(sql, stamper);
}

// Version 6 (issue 19): how each copy of a call was captured, so that a passive spare's copy
// and the primary's are found by their SIP Call-ID and reconciled (catalog/copies.h).
std::vector<std::string> Version6() {
  return {
      "ALTER TABLE calls ADD COLUMN capture_mode TEXT NOT NULL DEFAULT 'active'",
      "ALTER TABLE calls ADD COLUMN primary_node_id TEXT NOT NULL DEFAULT ''",
      "CREATE INDEX calls_sip_call_id ON calls (sip_call_id) WHERE deleted_ms IS NULL",
      "CREATE INDEX calls_passive_started ON calls (started_ms) "
      "WHERE deleted_ms IS NULL AND capture_mode = 'passive'",
  };
}

// Passive copies catalogued before version 6: their stored manifests say so. Read here rather
// than with the databases' JSON functions, which refuse some documents the catalog stores
// (PostgreSQL's jsonb has no \u0000).
void Version6Backfill(soci::session& sql) {
  std::vector<std::pair<std::string, std::string>> passive;  // call id, primary
  {
    std::string id, manifest;
    soci::statement st = (sql.prepare << "SELECT call_id, manifest FROM calls WHERE manifest "
                                         "IS NOT NULL AND manifest LIKE '%passive%'",
                          soci::into(id), soci::into(manifest));
    if (st.execute(true)) {
      do {
        const nlohmann::json m = nlohmann::json::parse(manifest, nullptr, false);
        if (!m.is_object()) continue;
        const nlohmann::json* capture = m.contains("capture") ? &m["capture"] : nullptr;
        if (capture == nullptr || !capture->is_object() ||
            capture->value("mode", nlohmann::json()) != "passive")
          continue;
        const nlohmann::json primary = capture->value("primary_node_id", nlohmann::json());
        passive.emplace_back(id, primary.is_string() ? primary.get<std::string>() : "");
      } while (st.fetch());
    }
  }
  for (const auto& [id, primary] : passive) {
    sql << "UPDATE calls SET capture_mode = 'passive', primary_node_id = :p WHERE call_id = :id",
        soci::use(primary), soci::use(id);
  }
}

std::vector<Migration> Migrations(const Dialect& d) {
  return {
      {1, "calls, participants, streams, metadata, tags, tenants, users, tokens, roles, audit",
       Version1(d)},
      {2, "recording locations, purges, legal holds", Version2()},
      {3, "change log, entity versions, token api ids, audit uids, cursors, settings", Version3(d),
       Version3Backfill},
      {4, "web sessions, audit filter indexes, system:read, tenants:manage", Version4()},
      {5, "audit tenants and hash chains per origin, audit heads, disabled tenants", Version5(),
       [&d](soci::session& sql, ChangeStamper& stamper) { Version5Backfill(sql, stamper, d); }},
      {6, "capture mode and primary of each copy, calls by SIP Call-ID", Version6(),
       [](soci::session& sql, ChangeStamper&) { Version6Backfill(sql); }}};
}

}  // namespace

Result<int> ReadSchemaVersion(soci::session& sql, const Dialect& dialect) {
  int exists = 0;
  const std::string table = "schema_migrations";
  sql << dialect.table_exists, soci::use(table, "name"), soci::into(exists);
  int current = 0;
  soci::indicator ind = soci::i_null;
  if (exists != 0) sql << "SELECT MAX(version) FROM schema_migrations", soci::into(current, ind);
  if (exists == 0 || ind != soci::i_ok || current < 1) {
    return FailedPreconditionError("catalog: the database has no callvault schema");
  }
  if (current > kSchemaVersion) {
    return FailedPreconditionError("catalog: the database has schema version " +
                                   std::to_string(current) + ", newer than this binary's " +
                                   std::to_string(kSchemaVersion) + " (upgrade callvault)");
  }
  return current;
}

Result<int> Migrate(soci::session& sql, const Dialect& dialect, int target,
                    ChangeStamper* stamper) {
  ChangeStamper local(RealClock(), "");
  if (stamper == nullptr) stamper = &local;
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
      if (m.then) m.then(sql, *stamper);
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

// Catalog: the node's SQL view of its calls — calls, participants, streams, metadata
// snapshots, tags, tenants — and of who may see them: users, API tokens, roles, the audit log
// (DESIGN.md §The path of a recording). Two implementations behind one interface, through
// SOCI: SQLite (the embedded default, WAL) and PostgreSQL (`catalog.url = "postgresql://…"`).
// Versioned schema migrations are applied by OpenCatalog (docs/formats/catalog-schema.md).
//
// The catalog is downstream of the recorder (DESIGN.md rule 1): calls arrive only through
// ingest (catalog/ingester.h), which applies manifests (docs/formats/manifest.md, read by
// recording/manifest_reader.h) idempotently:
// applying the same manifest twice changes nothing, an older version never overwrites a newer
// one, a deleted call is not resurrected. Active calls are visible while they record
// (UpsertActive), then replaced by their manifest.
//
// Configuration replicates between cluster nodes through a change log (schema version 3,
// docs/formats/catalog-schema.md §change_log): every replicated mutation — users, API tokens,
// tags, audit entries, call deletions, legal holds, tenants, settings — appends a change
// stamped with a hybrid logical clock (base/hlc.h) and this node's id in the same transaction
// as the change, whether it comes from the REST API or the CLI. A peer pulls the log
// (ChangesAfter) and applies it (ApplyChanges): last writer wins by (HLC, origin), deletions
// stay tombstones. The transport between nodes is replication/'s.
//
// Called by: catalog::Ingester (writes), http/ (queries, tags, users, audit), app/ (CLI user
// bootstrap, readiness), replication/ (change log, cursors). Thread-safety: every method is
// thread-safe (a pool of SOCI sessions;
// a session is used by one thread at a time). No method throws: database errors come back as
// Unavailable (connection lost / server down / SQLite busy: retry later) or
// Internal/InvalidArgument. A lost connection is re-established on the next use, so the
// catalog recovers by itself when the server returns; idempotent methods (ingest, queries,
// tags, deletion, updates) also retry once on a fresh connection, the ones that create rows
// with new ids (CreateUser, CreateToken, AppendAudit) return Unavailable instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/call_state.h"
#include "base/clock.h"
#include "base/status.h"
#include "recording/active_call.h"
#include "recording/manifest_reader.h"

namespace callvault::catalog {

// Call states are base/call_state.h CallState, stored by name in column `calls.state`.

struct CatalogOptions {
  // "sqlite:<path>", a plain path (SQLite), or "postgresql://…" / "postgres://…" (a libpq
  // connection URI). Required.
  std::string url;
  // Sessions in the pool (concurrent queries). Default: 4. SQLite: one writer at a time anyway.
  int pool_size = 4;
  // How long a statement waits for a lock (SQLite busy_timeout) or a connection. Default: 5 s.
  int busy_timeout_ms = 5000;
  // This node's id (config `node.id`): the origin stamped on every change made here, and the
  // tie-break of last-writer-wins between equal clocks. Default: "" = "local" (single-node
  // tests; app/ always sets it).
  std::string node_id;
  // The wall clock of the change log's hybrid logical clock. Default: nullptr = RealClock().
  // REQUIRES: outlives the catalog.
  const Clock* clock = nullptr;
  // Opens without migrating and with read-only connections (SQLite SQLITE_OPEN_READONLY,
  // PostgreSQL `default_transaction_read_only`): `callvault audit verify`. Every write fails;
  // SchemaVersion() is the database's, which may be older than this binary's. Default: false.
  bool read_only = false;
};

// What the catalog shows of a call before its manifest exists (the recorder's hand-off when
// the call is acknowledged): recording/active_call.h.
using ActiveCall = recording::ActiveCallInfo;

// One row of a call list.
struct CallSummary {
  std::string call_id, node_id, tenant;
  CallState state = CallState::kActive;
  std::string end_reason;
  int64_t started_ms = 0;
  std::optional<int64_t> answered_ms, ended_ms;
  int64_t duration_ms = 0;  // 0 while active
  // Caller and callee: the participants on channel 0 and 1 (else the first two in document
  // order, else the SIP From/To users). `number` is the AOR's user part.
  std::string caller_name, caller_aor, caller_number;
  std::string callee_name, callee_aor, callee_number;
  std::vector<std::string> tags;
  std::string audio_format;  // "" while active
  uint64_t audio_bytes = 0;
};

// Where a recording's bytes live (table recording_locations, schema version 2). A row exists
// once the recording moved (relocation) or a deletion is waiting to remove its bytes; a call
// without one lives in its recording node's local store. Rows do not need a `calls` row: the
// relocation and catalog queues drain independently, so a location may come first.
struct RecordingLocation {
  std::string call_id;
  std::string audio_file;     // manifest `audio.file` (relative path; the object key's suffix)
  std::string location;       // "" = the recording node's local store; else "s3://bucket/key"
  uint64_t stored_bytes = 0;  // bytes as stored (ciphertext when encrypted)
  std::string stored_sha256;  // lowercase hex of the stored bytes
  std::string key_id;         // the tenant key that wraps the file's data key ("" = plaintext)
  std::optional<int64_t> relocated_ms;      // when it moved to `location`
  std::optional<int64_t> purge_pending_ms;  // a deletion waits for the bytes to be removed
  std::optional<int64_t> purged_ms;         // when the bytes were removed
};

// A legal hold: the call is exempt from deletion (retention and API) until released.
struct LegalHold {
  std::string call_id;
  std::string held_by;  // username
  std::string reason;
  int64_t created_ms = 0;
};

// Calls a retention policy selects (all given conditions hold): started before
// `started_before_ms`, in `tenant` (nullopt = any), carrying any of `tags` (empty = any), in
// any of `states` (empty = any final state). Active, deleted and held calls are never selected.
struct RetentionQuery {
  int64_t started_before_ms = 0;
  std::optional<std::string> tenant;
  std::vector<std::string> tags;
  std::vector<CallState> states;
};

// One finished recording of a SIP dialog as the catalog holds it (schema version 6): what
// catalog/copies.h needs to keep one of the primary's and a passive spare's copies.
struct RecordingCopy {
  std::string call_id, node_id;
  CallState state = CallState::kCompleted;
  std::string capture_mode = "active";  // "active" | "passive"
  std::string primary_node_id;          // a passive copy's primary, "" = not configured
  int64_t started_ms = 0;
  std::optional<int64_t> ended_ms;
  int64_t duration_ms = 0;
};

struct CallDetail {
  CallSummary summary;
  std::optional<RecordingLocation> location;  // nullopt = the recording node's local store
  std::optional<LegalHold> legal_hold;
  std::string sip_call_id, siprec_session_id;
  std::string audio_file;  // relative to the recordings directory of `summary.node_id`
  std::string audio_sha256;
  nlohmann::json participants = nlohmann::json::array();  // manifest `participants`
  nlohmann::json streams = nlohmann::json::array();       // manifest `streams` (packet stats)
  nlohmann::json metadata = nlohmann::json::array();      // manifest `metadata` (history)
  nlohmann::json manifest;                                // the whole manifest; null while active
};

// List filters; empty/nullopt = not filtered; all given filters must hold (AND). Text filters
// other than `text` and `tag` match when the column contains the string, ignoring case (ASCII
// case on SQLite; `%` and `_` are literal).
struct CallFilter {
  std::optional<int64_t> started_from_ms;  // started_ms >= this
  std::optional<int64_t> started_to_ms;    // started_ms < this
  std::string caller;                      // caller number or AOR contains this
  std::string callee;                      // callee number or AOR contains this
  std::string number;                      // any participant's number or AOR contains this
  std::string participant;                 // any participant's name contains this
  std::optional<int64_t> min_duration_ms, max_duration_ms;  // both inclusive
  std::vector<CallState> states;                            // any of
  std::string node_id;
  std::optional<std::string> tenant;  // exact; set by http/ for tenant-scoped users
  std::string tag;                    // exact
  // Free text over metadata, names, AORs, SIP ids: split into words (runs of letters and
  // digits), a call matches when every word is a prefix of one of its words ("ali smi" finds
  // "Alice Smith"; "lice" does not). InvalidArgument when it has no letters or digits.
  // docs/formats/catalog-schema.md §Free text.
  std::string text;
};

enum class SortKey : uint8_t { kStarted, kDuration };

struct PageRequest {
  SortKey sort = SortKey::kStarted;
  bool descending = true;
  // "" = first page; else the `next_cursor` of the previous page, with the same sort and
  // direction (InvalidArgument otherwise, or when it is malformed or altered).
  std::string cursor;
  int limit = 50;  // 1…1000; InvalidArgument otherwise
};

struct CallPage {
  std::vector<CallSummary> calls;
  std::string next_cursor;  // "" = last page
};

// Roles: built in, seeded by the first migration. Permissions are strings ("calls:read",
// "audio:read", "calls:tag", "calls:delete", "users:manage", "audit:read", "metrics:read").
struct Role {
  std::string name;  // "admin" | "supervisor" | "viewer" | …
  std::vector<std::string> permissions;
  std::string description;
};

struct User {
  int64_t id = 0;
  std::string username;
  std::string password_hash;  // libsodium crypto_pwhash_str (Argon2id); never returned by http/
  std::string role;
  std::string tenant;  // "" = all tenants
  bool disabled = false;
  int64_t created_ms = 0;
};

struct ApiToken {
  int64_t id = 0;      // this node's row id (TouchToken); differs between nodes
  std::string api_id;  // UUIDv7, the same on every node: the token's id in the API and CLI
  int64_t user_id = 0;
  std::string name;
  std::string token_hash;  // hex SHA-256 of the secret; the secret itself is never stored
  int64_t created_ms = 0;
  std::optional<int64_t> expires_ms, last_used_ms;
};

// One entry of the audit log (docs/formats/catalog-schema.md §audit_log). Entries are
// immutable and form one hash chain per origin (§Audit chains): the catalog that appends an
// entry sets `origin` (its node id), `seq` (the next in that origin's chain), `prev_hash` and
// `hash`; a peer that receives the entry verifies the hash and stores all four as they are.
struct AuditEntry {
  int64_t id = 0;   // assigned by the catalog: this node's order (ListAudit pages by it)
  std::string uid;  // UUIDv7, the same on every node; assigned by the catalog when empty
  int64_t at_ms = 0;
  std::string actor;   // username, or "cli"; for login.failed/login.locked the name tried
  std::string action;  // "call.delete", "user.create", "token.create", …
  std::string target;  // call id, username, …
  nlohmann::json detail = nlohmann::json::object();
  std::string remote;  // client address
  // Whose entry it is: the call's tenant for call.* entries, the user's for user, token,
  // session and login entries, the tenant itself for tenant.*; "" = system-wide (visible only
  // to users without a tenant). DeleteCall sets the call's tenant itself.
  std::string tenant;
  // Set by the catalog (ignored by AppendAudit): the chain the entry belongs to.
  std::string origin;  // node id of the appending node, or "<node id>/local" (§Audit chains)
  int64_t seq = 0;     // 1, 2, … within the origin's chain
  std::string prev_hash, hash;  // lowercase hex SHA-256; prev of the first entry: 64 '0'
};

// The newest entry of one origin's audit chain (table audit_heads): what an operator anchors
// elsewhere (metrics, the hourly log line, `callvault audit verify`).
struct AuditHead {
  std::string origin;
  int64_t seq = 0;   // entries in the chain (the newest one's seq); 0 = none yet
  std::string hash;  // the newest entry's hash (64 '0' when none)
  int64_t updated_ms = 0;
};

// One row of ScanAuditChains: the entry, and its `detail` column as stored (the chain's hash
// covers those bytes, not a re-serialization of `entry.detail`).
struct AuditChainRow {
  AuditEntry entry;
  std::string detail_text;
};

// Which audit entries ListAudit… returns: all given filters hold (AND); text filters are exact.
// Ascending pages by `after_id` (id > after_id), descending by `before_id` (id < before_id;
// nullopt = from the newest).
struct AuditFilter {
  std::string actor, action, target;
  std::string call;                   // call.* entries about this call id
  std::optional<std::string> tenant;  // exact ("" = system-wide); set by http/ for scoped users
  std::optional<int64_t> from_ms;     // at_ms >= this
  std::optional<int64_t> to_ms;       // at_ms < this
  bool descending = false;
  int64_t after_id = 0;
  std::optional<int64_t> before_id;
  int limit = 100;  // 1…1000
};

// A browser session of the web portal (table web_sessions, schema version 4). Node-local: not
// in the change log (nodes sharing one PostgreSQL share it). The cookie itself is never
// stored, only its hash.
struct WebSession {
  std::string id_hash;     // lowercase hex SHA-256 of the cookie value
  int64_t user_id = 0;     // this node's user row
  std::string csrf_token;  // sent with unsafe requests (X-CSRF-Token)
  // A fingerprint of the user's credentials when the session began (http/ derives it from the
  // password hash): a session whose user's fingerprint differs now (password changed here or
  // on a peer) is over.
  std::string credential;
  int64_t created_ms = 0, last_seen_ms = 0, expires_ms = 0;  // expires: absolute end
  std::string remote, user_agent;
};

// A tenant's row (table `tenants`). Ingest adds a bare row (name only) for every tenant an
// ingested call names; UpsertTenant sets the rest.
struct Tenant {
  std::string name;  // 1–128 bytes, no control characters
  std::string display_name;
  int64_t created_ms = 0;  // 0 = now
  // A disabled tenant keeps its calls and users, but new calls are not recorded under it
  // (config `tenants.unknown` decides what happens to them instead). Schema version 5.
  bool disabled = false;
};

// One entry of the replicated change log (docs/formats/catalog-schema.md §change_log).
struct Change {
  int64_t seq = 0;     // position in the log of the node it was read from (not sent on apply)
  std::string hlc;     // Hlc::ToString() of the change's stamp (base/hlc.h)
  std::string origin;  // node id of the node that made the change
  std::string entity;  // "user" | "token" | "tag" | "audit" | "call" | "legal_hold" | "tenant"
                       // | "setting"
  std::string key;     // the entity's key, equal on every node (username, api_id, …)
  std::string op;      // "upsert" | "delete" | "insert" (audit)
  std::string body;    // JSON object text; its fields per entity and op are in the format doc
};

// What ApplyChanges did with a batch; every change is counted in exactly one of the counters
// (problems: `problems.size()`).
struct ApplyResult {
  int applied = 0;       // newer than this node's version: applied and appended to change_log
  int stale = 0;         // not newer than this node's version (or already here): skipped
  int refused_skew = 0;  // stamped too far ahead of this node's clock: refused, not applied
  int conflicts = 0;     // cannot apply here (the token's user is missing, the call is held)
  std::vector<std::string> problems;  // unknown entity/op, malformed body or stamp, SQL errors
  // The seq of the first refused change (0 = none). A refused change is applied when pulled
  // again once the clocks agree: the caller keeps its cursor below it (first_refused_seq - 1).
  int64_t first_refused_seq = 0;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // --- ingest (catalog/ingest.h) ---
  // Applies finished calls' manifests (read by recording::ParseManifest, which refuses what is
  // not a version-1 manifest), all in one transaction. Idempotent: a call already holding this
  // manifest (same call id, same `finalized` time) is left alone; a deleted call stays deleted.
  // InvalidArgument names the manifest the catalog cannot hold (call id empty or longer than
  // 128 bytes, state not final): the batch is not applied; the caller retries the others one by
  // one.
  [[nodiscard]] virtual Status IngestManifests(
      const std::vector<recording::Manifest>& manifests) = 0;
  // Inserts or refreshes active calls; a call that already has a final state is left alone.
  [[nodiscard]] virtual Status UpsertActive(const std::vector<ActiveCall>& calls) = 0;
  // Removes an `active` row whose call was never acknowledged or whose spool is gone (no-op
  // for other states).
  [[nodiscard]] virtual Status RemoveActive(const std::string& call_id) = 0;
  // Call ids of `node_id`'s calls in state active.
  virtual Result<std::vector<std::string>> ActiveCallIds(const std::string& node_id) = 0;

  // --- queries ---
  virtual Result<CallPage> ListCalls(const CallFilter& filter, const PageRequest& page) = 0;
  // NotFound when there is no such call (or it was deleted).
  virtual Result<CallDetail> GetCall(const std::string& call_id) = 0;

  // --- tags ---
  // Tags are 1–64 bytes of [A-Za-z0-9_.:-]; InvalidArgument otherwise; NotFound: no call.
  // Replicated per (call, tag); a peer that has not received the call yet keeps the tag's
  // version and adds the tag when the call's manifest is ingested there.
  [[nodiscard]] virtual Status AddTags(const std::string& call_id,
                                       const std::vector<std::string>& tags) = 0;
  [[nodiscard]] virtual Status RemoveTag(const std::string& call_id, const std::string& tag) = 0;

  // --- deletion: the row stays as a tombstone (deleted_ms, deleted_by) so that a later ingest
  // of the same manifest (a retry, a peer) does not bring it back; its manifest, participants,
  // streams, metadata and tags are dropped. NotFound: no such call. Deleting a deleted call is
  // OK (a retried or replicated deletion). Replicated (as DeleteCall, without audit entry).
  [[nodiscard]] virtual Status MarkDeleted(const std::string& call_id, const std::string& actor,
                                           int64_t at_ms) = 0;
  // Whether `call_id` is a tombstone (consumers drop work for a deleted call instead of
  // setting it aside as broken).
  virtual Result<bool> IsDeleted(const std::string& call_id) = 0;
  // The deletion of a user or a retention policy, in one transaction: the tombstone (as
  // MarkDeleted), `audit` (its target is set to the call id; its detail gains `audio_file`),
  // and "purge pending" on the recording's location row, so that the bytes are removed
  // wherever they live (PendingPurges) even after a crash. FailedPrecondition ("legal hold")
  // when the call is held; NotFound: no such call; a deleted call: OK, nothing written.
  // Replicated: peers tombstone the call (also one they have not received yet, so it is not
  // shown when it arrives) and purge its bytes, unless they hold it.
  [[nodiscard]] virtual Status DeleteCall(const std::string& call_id, const AuditEntry& audit) = 0;

  // --- where recordings live (schema version 2) ---
  // Inserts or replaces where `loc.call_id`'s bytes live (relocation, after verifying). Purge
  // times in `loc` are ignored: a deletion pending stays pending, and a location recorded for
  // a call already deleted (a relocation racing the deletion) makes its purge pending again,
  // so the new copy is removed too.
  [[nodiscard]] virtual Status RecordLocation(const RecordingLocation& loc) = 0;
  // nullopt when the catalog has no row (the recording node's local store).
  virtual Result<std::optional<RecordingLocation>> GetLocation(const std::string& call_id) = 0;
  // Locations whose deletion waits for its bytes to be removed, oldest first.
  virtual Result<std::vector<RecordingLocation>> PendingPurges(int limit) = 0;
  // The bytes of a pending purge are gone.
  [[nodiscard]] virtual Status MarkPurged(const std::string& call_id, int64_t at_ms) = 0;

  // --- legal holds and retention ---
  // Holds the call (replacing the reason of an existing hold). NotFound: no such call.
  // Holds and releases replicate (a peer holds the call even before it arrives there).
  [[nodiscard]] virtual Status SetLegalHold(const LegalHold& hold) = 0;
  // NotFound when the call is not held.
  [[nodiscard]] virtual Status ReleaseLegalHold(const std::string& call_id) = 0;
  // Up to `limit` (1…10000) calls the query selects whose call id is greater than
  // `after_call_id`, in call id order (UUIDv7: start order), for paging through a policy.
  virtual Result<std::vector<CallSummary>> FindRetentionCandidates(const RetentionQuery& query,
                                                                   const std::string& after_call_id,
                                                                   int limit) = 0;

  // --- copies of one call (a passive spare's and the primary's; catalog/copies.h) ---
  // The finished, not deleted recordings of SIP dialog `sip_call_id` (not empty), in call id
  // order.
  virtual Result<std::vector<RecordingCopy>> FindCopies(const std::string& sip_call_id) = 0;
  // Up to `limit` (1…10000) SIP Call-IDs of passive copies started at or after `since_ms` that
  // another finished, not deleted recording shares, none of them under legal hold: the copies
  // still to reconcile.
  virtual Result<std::vector<std::string>> FindUnreconciledCopies(int64_t since_ms, int limit) = 0;

  // --- users, roles, tokens ---
  virtual Result<std::vector<Role>> ListRoles() = 0;
  // AlreadyExists when the username is taken; InvalidArgument for an unknown role.
  virtual Result<int64_t> CreateUser(const User& user) = 0;
  virtual Result<User> GetUser(const std::string& username) = 0;  // NotFound
  virtual Result<User> GetUserById(int64_t id) = 0;               // NotFound
  virtual Result<std::vector<User>> ListUsers() = 0;
  // Updates password_hash, role, tenant, disabled of user `user.id`. A new password hash or
  // disabling the user ends its web sessions in the same transaction.
  [[nodiscard]] virtual Status UpdateUser(const User& user) = 0;
  // Deletes the user, its tokens and its web sessions; replicated as a tombstone (an older update
  // arriving later does not bring the user back). NotFound: no such user.
  [[nodiscard]] virtual Status DeleteUser(int64_t id) = 0;
  // Stores a token of user `token.user_id` (NotFound: no such user) and returns its api_id
  // (`token.api_id`, or a new UUIDv7 when empty). AlreadyExists: the hash or api_id is taken.
  virtual Result<std::string> CreateToken(const ApiToken& token) = 0;
  virtual Result<ApiToken> FindToken(const std::string& token_hash) = 0;  // NotFound
  virtual Result<std::vector<ApiToken>> ListTokens(int64_t user_id) = 0;
  [[nodiscard]] virtual Status DeleteToken(const std::string& api_id) = 0;  // NotFound
  // Sets last_used_ms of token row `id`: node-local, not replicated.
  [[nodiscard]] virtual Status TouchToken(int64_t id, int64_t at_ms) = 0;

  // --- audit log (append-only, hash-chained per origin) ---
  // Appends the entry to this node's chain (assigning `uid` when empty; `origin`, `seq`,
  // `prev_hash` and `hash` are the catalog's) and returns its row id. Appends of one origin
  // are serialized (the head row is locked in the insert's transaction), also across
  // processes and nodes sharing one PostgreSQL.
  virtual Result<int64_t> AppendAudit(const AuditEntry& entry) = 0;
  // Entries with id > after_id, oldest first, at most `limit`.
  virtual Result<std::vector<AuditEntry>> ListAudit(int64_t after_id, int limit) = 0;
  // Entries the filter selects, in its order. InvalidArgument: limit out of 1…1000.
  virtual Result<std::vector<AuditEntry>> FindAudit(const AuditFilter& filter) = 0;
  // The head of every chain this catalog holds (its own and its peers'), by origin.
  virtual Result<std::vector<AuditHead>> AuditHeads() = 0;
  // Rows in chain order: (origin, seq, id) greater than (after_origin, after_seq, after_id),
  // ordered by origin, seq, id, at most `limit` (1…10000). `callvault audit verify` pages
  // through every chain with it, starting from ("", INT64_MIN, INT64_MIN) so that rows
  // outside any chain (origin "", seq 0) come first.
  virtual Result<std::vector<AuditChainRow>> ScanAuditChains(const std::string& after_origin,
                                                             int64_t after_seq, int64_t after_id,
                                                             int limit) = 0;

  // --- web sessions (schema version 4; node-local) ---
  // Stores a new session and removes sessions that expired (absolute end) before
  // `session.created_ms`. AlreadyExists: the hash is taken; NotFound: no such user.
  [[nodiscard]] virtual Status CreateSession(const WebSession& session) = 0;
  virtual Result<WebSession> GetSession(const std::string& id_hash) = 0;  // NotFound
  // Sets last_seen_ms (idle timeout). NotFound: no such session.
  [[nodiscard]] virtual Status TouchSession(const std::string& id_hash, int64_t at_ms) = 0;
  // Ends one session (logout, or found expired). Ending an absent session is OK.
  [[nodiscard]] virtual Status DeleteSession(const std::string& id_hash) = 0;
  // UpdateUser ends the user's sessions itself when the password changes or the user is
  // disabled, DeleteUser when it deletes the user; so does applying a peer's change.

  // --- tenants and settings (replicated) ---
  // Inserts or replaces tenant `tenant.name`. InvalidArgument: a bad name.
  [[nodiscard]] virtual Status UpsertTenant(const Tenant& tenant) = 0;
  // Removes the tenant row (calls keep their tenant name; a later ingest of a call naming it
  // adds a bare row again). NotFound: no such tenant.
  [[nodiscard]] virtual Status DeleteTenant(const std::string& name) = 0;
  virtual Result<std::vector<Tenant>> ListTenants() = 0;  // by name
  // A cluster-wide setting (table `settings`). NotFound when never set.
  virtual Result<std::string> GetSetting(const std::string& name) = 0;
  // Sets it; names are 1–128 bytes without control characters (InvalidArgument otherwise).
  [[nodiscard]] virtual Status PutSetting(const std::string& name, const std::string& value) = 0;

  // --- the replicated change log (replication/ pulls and applies it) ---
  // Changes in this node's log with seq > after_seq, oldest first, at most `limit` (1…10000,
  // InvalidArgument otherwise): its own changes and the ones it applied from peers (so a node
  // pulling from this one also gets relayed changes; applying is idempotent).
  virtual Result<std::vector<Change>> ChangesAfter(int64_t after_seq, int limit) = 0;
  // Applies a peer's changes in order, in one transaction, each at most once: last writer
  // wins by (hlc, origin) — a change not greater than the version this node holds for its
  // (entity, key) is stale and skipped; a newer one is applied and appended to this node's log
  // with its original hlc and origin. This node's clock observes every stamp first: one more
  // than `max_skew` ahead of its wall clock is refused (counted, not applied). Unknown
  // entities or ops, malformed stamps or bodies, and statements that fail are problems:
  // counted, logged and skipped (each change runs in a savepoint), never failing the batch.
  // Conflicts (counted, logged, skipped): a token whose user does not exist here, the
  // deletion of a call under legal hold here. Errors only for the database itself
  // (Unavailable: retry the whole batch; it is idempotent).
  virtual Result<ApplyResult> ApplyChanges(const std::vector<Change>& changes,
                                           std::chrono::milliseconds max_skew) = 0;
  // How far this node has pulled `peer`'s log (the last seq applied); 0 when never.
  virtual Result<int64_t> GetCursor(const std::string& peer) = 0;
  [[nodiscard]] virtual Status SetCursor(const std::string& peer, int64_t after_seq) = 0;

  // --- health ---
  // A round trip to the database (readiness of the web role). Unavailable when down.
  [[nodiscard]] virtual Status Ping() = 0;
  virtual int SchemaVersion() const = 0;
  virtual std::string_view Backend() const = 0;  // "sqlite" | "postgresql"
};

// Opens (creating the SQLite file when needed) and migrates the schema to the newest version.
// Unavailable when the server cannot be reached (the caller retries), InvalidArgument for a bad
// URL, FailedPrecondition when the database has a newer schema than this binary knows.
Result<std::unique_ptr<Catalog>> OpenCatalog(const CatalogOptions& options);

}  // namespace callvault::catalog

// The replicated change log's mechanics (docs/formats/catalog-schema.md §change_log,
// §entity_versions): entity and op names, the winning version per key, appending changes, and
// stamping the changes made on this node. The bodies per entity: internal/change_body.h.
//
// Called by: SqlCatalog (its replicated mutations, ApplyChanges) and schema migration 3 (which
// seeds the log with the configuration that existed before it). Thread-safety: ChangeStamper
// is thread-safe (its HlcClock is); the functions use the caller's session, inside the
// caller's transaction (InReplicatedTransaction).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/hlc.h"
#include "base/status.h"
#include "catalog/catalog.h"
#include "catalog/internal/dialect.h"
#include "catalog/internal/soci.h"

namespace callvault::catalog::internal {

// Entity and op names as stored in change_log (persistent: never rename).
inline constexpr std::string_view kEntityUser = "user";
inline constexpr std::string_view kEntityToken = "token";
inline constexpr std::string_view kEntityTag = "tag";
inline constexpr std::string_view kEntityAudit = "audit";
inline constexpr std::string_view kEntityCall = "call";
inline constexpr std::string_view kEntityLegalHold = "legal_hold";
inline constexpr std::string_view kEntityTenant = "tenant";
inline constexpr std::string_view kEntitySetting = "setting";
inline constexpr std::string_view kOpUpsert = "upsert";
inline constexpr std::string_view kOpDelete = "delete";
inline constexpr std::string_view kOpInsert = "insert";  // audit entries only

// The winning version of one (entity, key): table entity_versions.
struct Version {
  std::string hlc, origin;
  bool deleted = false;
};

std::optional<Version> ReadVersion(soci::session& sql, std::string_view entity,
                                   const std::string& key);
void WriteVersion(soci::session& sql, std::string_view entity, const std::string& key,
                  const Version& version);
// Last writer wins: whether (hlc, origin) of `change` is greater than `version`'s (HLC text
// sorts like its value, base/hlc.h).
bool NewerThan(const Change& change, const Version& version);

// Appends `change` (its seq is ignored: the database assigns the next one).
void AppendChange(soci::session& sql, const Change& change, int64_t recorded_ms);

// Runs `fn` in a write transaction that may append to change_log: the dialect's change-log
// lock is taken first, before any row lock, so that seq values commit in order (PostgreSQL)
// and transactions writing the log never deadlock on it.
Status InReplicatedTransaction(soci::session& sql, const Dialect& dialect,
                               const std::function<Status()>& fn);

// Stamps and records the changes made on this node.
class ChangeStamper {
 public:
  // `origin` "" is recorded as "local". REQUIRES: clock outlives this object.
  ChangeStamper(const Clock* clock, std::string origin);

  // Records a change made on this node, inside the caller's replicated transaction: stamps it
  // above the key's current version (so the newest local write wins here and on the peers,
  // even when another process — the CLI — wrote the key last with its own clock), writes the
  // key's version (audit entries have none: their uid is their identity) and appends the
  // change to the log.
  void Record(soci::session& sql, std::string_view entity, const std::string& key,
              std::string_view op, const nlohmann::json& body);

  // A new UUIDv7 on this catalog's clock (token api ids, audit uids).
  std::string NewId() const;

  HlcClock& clock() { return hlc_; }
  const std::string& origin() const { return origin_; }
  int64_t WallMs() const;

 private:
  const Clock* const clock_;
  const std::string origin_;
  HlcClock hlc_;
};

}  // namespace callvault::catalog::internal

#include "catalog/internal/change_log.h"

#include <chrono>
#include <tuple>

#include "base/uuid.h"
#include "catalog/internal/session_pool.h"

namespace callvault::catalog::internal {

std::optional<Version> ReadVersion(soci::session& sql, std::string_view entity,
                                   const std::string& key) {
  const std::string e(entity);
  Version v;
  int deleted = 0;
  soci::indicator ind = soci::i_null;
  sql << "SELECT hlc, origin, deleted FROM entity_versions WHERE entity = :e AND entity_key = :k",
      soci::use(e), soci::use(key), soci::into(v.hlc, ind), soci::into(v.origin),
      soci::into(deleted);
  if (ind != soci::i_ok) return std::nullopt;
  v.deleted = deleted != 0;
  return v;
}

void WriteVersion(soci::session& sql, std::string_view entity, const std::string& key,
                  const Version& version) {
  const std::string e(entity);
  const int deleted = version.deleted ? 1 : 0;
  sql << "INSERT INTO entity_versions (entity, entity_key, hlc, origin, deleted) "
         "VALUES (:e, :k, :h, :o, :d) ON CONFLICT (entity, entity_key) DO UPDATE SET "
         "hlc = excluded.hlc, origin = excluded.origin, deleted = excluded.deleted",
      soci::use(e), soci::use(key), soci::use(version.hlc), soci::use(version.origin),
      soci::use(deleted);
}

bool NewerThan(const Change& change, const Version& version) {
  return std::tie(change.hlc, change.origin) > std::tie(version.hlc, version.origin);
}

void AppendChange(soci::session& sql, const Change& c, int64_t recorded_ms) {
  const long long at = recorded_ms;
  sql << "INSERT INTO change_log (hlc, origin, entity, entity_key, op, body, recorded_ms) "
         "VALUES (:h, :o, :e, :k, :op, :b, :at)",
      soci::use(c.hlc), soci::use(c.origin), soci::use(c.entity), soci::use(c.key), soci::use(c.op),
      soci::use(c.body), soci::use(at);
}

Status InReplicatedTransaction(soci::session& sql, const Dialect& dialect,
                               const std::function<Status()>& fn) {
  return InWriteTransaction(sql, dialect, [&]() -> Status {
    if (!dialect.change_log_lock.empty()) sql << dialect.change_log_lock;
    return fn();
  });
}

ChangeStamper::ChangeStamper(const Clock* clock, std::string origin)
    : clock_(clock), origin_(origin.empty() ? "local" : std::move(origin)), hlc_(clock) {}

std::string ChangeStamper::NewId() const { return NewUuidV7(*clock_); }

int64_t ChangeStamper::WallMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_->WallNow().time_since_epoch())
      .count();
}

void ChangeStamper::Record(soci::session& sql, std::string_view entity, const std::string& key,
                           std::string_view op, const nlohmann::json& body) {
  const bool versioned = entity != kEntityAudit;
  if (versioned) {
    if (std::optional<Version> current = ReadVersion(sql, entity, key)) {
      // Written by this node's own log (never ahead by more than any skew): no limit.
      if (Result<Hlc> h = ParseHlc(current->hlc); h.ok()) {
        hlc_.Observe(*h, std::chrono::milliseconds::max()).IgnoreError();
      }
    }
  }
  Change c{.hlc = hlc_.Now().ToString(),
           .origin = origin_,
           .entity = std::string(entity),
           .key = key,
           .op = std::string(op),
           .body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  if (versioned) {
    WriteVersion(sql, entity, key, {.hlc = c.hlc, .origin = c.origin, .deleted = op == kOpDelete});
  }
  AppendChange(sql, c, WallMs());
}

}  // namespace callvault::catalog::internal

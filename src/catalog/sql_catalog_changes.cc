// SqlCatalog: the replicated change log — reading it after a cursor, applying a peer's changes
// with last-writer-wins, and the cursors of the peers pulled (catalog.h §change log,
// docs/formats/catalog-schema.md §change_log, §entity_versions, §cluster_cursors).
#include <string>
#include <vector>

#include "base/log.h"
#include "catalog/sql_catalog.h"

namespace callvault::catalog::internal {
namespace {

using Applier = Status (*)(soci::session&, const Change&, const nlohmann::json&);

// What a peer may send: the ops of each entity and the function that applies them.
struct EntityRule {
  std::string_view entity;
  std::string_view op, other_op;  // other_op "" = one op only
  Applier apply;
};

const EntityRule* FindRule(const std::string& entity) {
  static const EntityRule kRules[] = {
      {kEntityUser, kOpUpsert, kOpDelete, ApplyUserChange},
      {kEntityToken, kOpUpsert, kOpDelete, ApplyTokenChange},
      {kEntityTag, kOpUpsert, kOpDelete, ApplyTagChange},
      {kEntityAudit, kOpInsert, "", nullptr},  // ApplyAuditChange: needs this node's id
      {kEntityCall, kOpDelete, "", ApplyCallChange},
      {kEntityLegalHold, kOpUpsert, kOpDelete, ApplyLegalHoldChange},
      {kEntityTenant, kOpUpsert, kOpDelete, ApplyTenantChange},
      {kEntitySetting, kOpUpsert, "", ApplySettingChange},
  };
  for (const EntityRule& rule : kRules) {
    if (rule.entity == entity) return &rule;
  }
  return nullptr;
}

}  // namespace

Result<std::vector<Change>> SqlCatalog::ChangesAfter(int64_t after_seq, int limit) {
  if (limit < 1 || limit > 10000) {
    return InvalidArgumentError("change log: limit must be 1..10000, not " + std::to_string(limit));
  }
  std::vector<Change> out;
  CV_RETURN_IF_ERROR(
      pool_->Run("read the change log", SessionPool::Retry::kOnce, [&](soci::session& sql) {
        out.clear();
        const long long after = after_seq;
        long long seq = 0;
        Change c;
        soci::statement st =
            (sql.prepare << "SELECT seq, hlc, origin, entity, entity_key, op, body "
                            "FROM change_log WHERE seq > :after ORDER BY seq LIMIT " +
                                std::to_string(limit),
             soci::use(after), soci::into(seq), soci::into(c.hlc), soci::into(c.origin),
             soci::into(c.entity), soci::into(c.key), soci::into(c.op), soci::into(c.body));
        if (st.execute(true)) {
          do {
            c.seq = seq;
            out.push_back(c);
          } while (st.fetch());
        }
        return Status::Ok();
      }));
  return out;
}

// Changes are applied in the order given: a node's log is causal (a token's user, a tag's
// call deletion … come before the changes that depend on them on that node), so a batch in
// seq order needs no reordering; what still cannot apply is a conflict.
Result<ApplyResult> SqlCatalog::ApplyChanges(const std::vector<Change>& changes,
                                             std::chrono::milliseconds max_skew) {
  ApplyResult result;
  if (changes.empty()) return result;
  CV_RETURN_IF_ERROR(
      Replicated("apply changes", SessionPool::Retry::kOnce, [&](soci::session& sql) {
        result = ApplyResult{};  // a retry starts over (the transaction was rolled back)
        for (const Change& c : changes) ApplyOne(sql, c, max_skew, &result);
        return Status::Ok();
      }));
  CV_LOG_DEBUG("catalog.changes_applied",
               "changes={} applied={} stale={} refused_skew={} "
               "conflicts={} problems={}",
               changes.size(), result.applied, result.stale, result.refused_skew, result.conflicts,
               result.problems.size());
  return result;
}

void SqlCatalog::ApplyOne(soci::session& sql, const Change& c, std::chrono::milliseconds max_skew,
                          ApplyResult* result) {
  auto problem = [&](std::string_view why) {
    CV_LOG_WARN("catalog.change_problem",
                "seq={} entity=\"{}\" key=\"{}\" op=\"{}\" origin=\"{}\" hlc=\"{}\" problem=\"{}\"",
                c.seq, c.entity, c.key, c.op, c.origin, c.hlc, why);
    result->problems.push_back("change " + std::to_string(c.seq) + " (" + c.entity + " \"" + c.key +
                               "\" from " + c.origin + "): " + std::string(why));
  };
  const EntityRule* rule = FindRule(c.entity);
  if (rule == nullptr) return problem("unknown entity");
  if (c.op != rule->op && (rule->other_op.empty() || c.op != rule->other_op)) {
    return problem("unknown op for this entity");
  }
  if (c.key.empty() || c.origin.empty()) return problem("empty key or origin");
  Result<Hlc> hlc = ParseHlc(c.hlc);
  if (!hlc.ok()) return problem(hlc.status().message());
  const nlohmann::json body = nlohmann::json::parse(c.body, nullptr, false);
  if (!body.is_object()) return problem("the body is not a JSON object");

  if (Status s = changes_->clock().Observe(*hlc, max_skew); !s.ok()) {
    ++result->refused_skew;
    if (result->first_refused_seq == 0) result->first_refused_seq = c.seq;
    CV_LOG_WARN("catalog.change_refused",
                "seq={} entity=\"{}\" key=\"{}\" origin=\"{}\" "
                "error=\"{}\"",
                c.seq, c.entity, c.key, c.origin, s.message());
    return;
  }
  // Audit entries are immutable and have no version: their uid says whether they are here.
  const bool versioned = c.entity != kEntityAudit;
  if (versioned) {
    std::optional<Version> current = ReadVersion(sql, c.entity, c.key);
    if (current && !NewerThan(c, *current)) {
      ++result->stale;
      return;
    }
  }

  sql << "SAVEPOINT cv_change";
  Status applied;
  try {
    applied = rule->apply != nullptr
                  ? rule->apply(sql, c, body)
                  : ApplyAuditChange(sql, pool_->dialect(), c, body, changes_->origin());
    if (applied.ok()) {
      if (versioned) {
        WriteVersion(sql, c.entity, c.key,
                     {.hlc = c.hlc, .origin = c.origin, .deleted = c.op == kOpDelete});
      }
      AppendChange(sql, c, changes_->WallMs());
    }
  } catch (const std::exception& e) {
    applied = InternalError(std::string("SQL: ") + e.what());
  }
  // With the connection gone this throws, and the whole batch fails (Unavailable).
  if (!applied.ok()) sql << "ROLLBACK TO SAVEPOINT cv_change";
  sql << "RELEASE SAVEPOINT cv_change";

  switch (applied.code()) {
    case StatusCode::kOk:
      ++result->applied;
      return;
    case StatusCode::kAlreadyExists:
      ++result->stale;
      return;
    case StatusCode::kFailedPrecondition:
      ++result->conflicts;
      CV_LOG_WARN("catalog.change_conflict",
                  "seq={} entity=\"{}\" key=\"{}\" op=\"{}\" origin=\"{}\" conflict=\"{}\"", c.seq,
                  c.entity, c.key, c.op, c.origin, applied.message());
      return;
    default:
      return problem(applied.message());
  }
}

Result<int64_t> SqlCatalog::GetCursor(const std::string& peer) {
  int64_t out = 0;
  CV_RETURN_IF_ERROR(
      pool_->Run("read a cursor", SessionPool::Retry::kOnce, [&](soci::session& sql) {
        long long after = 0;
        soci::indicator ind = soci::i_null;
        sql << "SELECT after_seq FROM cluster_cursors WHERE peer = :p", soci::use(peer),
            soci::into(after, ind);
        out = ind == soci::i_ok ? after : 0;
        return Status::Ok();
      }));
  return out;
}

Status SqlCatalog::SetCursor(const std::string& peer, int64_t after_seq) {
  if (peer.empty()) return InvalidArgumentError("cursor: empty peer id");
  if (after_seq < 0) return InvalidArgumentError("cursor: negative seq");
  return pool_->Run("set a cursor", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    const long long after = after_seq, now = changes_->WallMs();
    sql << "INSERT INTO cluster_cursors (peer, after_seq, updated_ms) VALUES (:p, :a, :u) "
           "ON CONFLICT (peer) DO UPDATE SET after_seq = excluded.after_seq, "
           "updated_ms = excluded.updated_ms",
        soci::use(peer), soci::use(after), soci::use(now);
    return Status::Ok();
  });
}

}  // namespace callvault::catalog::internal

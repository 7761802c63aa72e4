// SqlCatalog: where recordings live, pending purges, legal holds, and the deletion that ties a
// tombstone, its audit entry and its purge together (schema version 2,
// docs/formats/catalog-schema.md §recording_locations, §legal_holds); the applier of peers'
// legal hold changes.
#include <string>

#include "catalog/internal/change_body.h"
#include "catalog/internal/params.h"
#include "catalog/sql_catalog.h"

namespace callvault::catalog::internal {
namespace {

constexpr char kLocationColumns[] =
    "call_id, audio_file, location, stored_bytes, stored_sha256, key_id, relocated_ms, "
    "purge_pending_ms, purged_ms";

// The into() targets of kLocationColumns.
struct LocationInto {
  RecordingLocation loc;
  long long stored_bytes = 0, relocated = 0, pending = 0, purged = 0;
  soci::indicator relocated_ind = soci::i_null, pending_ind = soci::i_null,
                  purged_ind = soci::i_null;

  void Exchange(soci::statement& st) {
    st.exchange(soci::into(loc.call_id));
    st.exchange(soci::into(loc.audio_file));
    st.exchange(soci::into(loc.location));
    st.exchange(soci::into(stored_bytes));
    st.exchange(soci::into(loc.stored_sha256));
    st.exchange(soci::into(loc.key_id));
    st.exchange(soci::into(relocated, relocated_ind));
    st.exchange(soci::into(pending, pending_ind));
    st.exchange(soci::into(purged, purged_ind));
  }
  RecordingLocation Take() {
    loc.stored_bytes = static_cast<uint64_t>(stored_bytes);
    loc.relocated_ms =
        relocated_ind == soci::i_ok ? std::optional<int64_t>(relocated) : std::nullopt;
    loc.purge_pending_ms =
        pending_ind == soci::i_ok ? std::optional<int64_t>(pending) : std::nullopt;
    loc.purged_ms = purged_ind == soci::i_ok ? std::optional<int64_t>(purged) : std::nullopt;
    return std::move(loc);
  }
};

std::optional<RecordingLocation> QueryLocation(soci::session& sql, const std::string& call_id) {
  LocationInto row;
  soci::statement st(sql);
  row.Exchange(st);
  st.exchange(soci::use(call_id, "id"));
  st.alloc();
  st.prepare(
      std::string("SELECT ") + kLocationColumns + " FROM recording_locations WHERE call_id = :id",
      soci::details::st_one_time_query);
  st.define_and_bind();
  if (!st.execute(true)) return std::nullopt;
  return row.Take();
}

}  // namespace

std::optional<LegalHold> QueryHold(soci::session& sql, const std::string& call_id) {
  LegalHold hold;
  long long created = 0;
  soci::indicator ind = soci::i_null;
  sql << "SELECT call_id, held_by, reason, created_ms FROM legal_holds WHERE call_id = :id",
      soci::use(call_id), soci::into(hold.call_id, ind), soci::into(hold.held_by),
      soci::into(hold.reason), soci::into(created);
  if (ind != soci::i_ok) return std::nullopt;
  hold.created_ms = created;
  return hold;
}

void LoadLifecycle(soci::session& sql, CallDetail* call) {
  call->location = QueryLocation(sql, call->summary.call_id);
  call->legal_hold = QueryHold(sql, call->summary.call_id);
}

void MarkPurgePending(soci::session& sql, const std::string& call_id, const std::string& audio_file,
                      int64_t at_ms) {
  const long long at = at_ms;
  soci::statement up = (sql.prepare << "UPDATE recording_locations SET purge_pending_ms = :at, "
                                       "purged_ms = NULL, updated_ms = :now "
                                       "WHERE call_id = :id",
                        soci::use(at), soci::use(at), soci::use(call_id));
  up.execute(true);
  if (up.get_affected_rows() == 0) {
    sql << "INSERT INTO recording_locations (call_id, audio_file, location, purge_pending_ms, "
           "updated_ms) VALUES (:id, :f, '', :at, :now)",
        soci::use(call_id), soci::use(audio_file), soci::use(at), soci::use(at);
  }
}

Status SqlCatalog::DeleteCall(const std::string& call_id, const AuditEntry& audit) {
  if (audit.action.empty())
    return InvalidArgumentError("delete call: the audit entry needs an action");
  AuditEntry entry = audit;
  entry.uid = audit.uid.empty() ? changes_->NewId() : audit.uid;
  entry.at_ms = audit.at_ms != 0 ? audit.at_ms : NowMs();
  entry.target = call_id;
  return Replicated("delete call", SessionPool::Retry::kOnce, [&](soci::session& sql) -> Status {
    if (std::optional<LegalHold> hold = QueryHold(sql, call_id)) {
      return FailedPreconditionError("delete call: " + call_id + " is under legal hold (" +
                                     hold->reason + ", by " + hold->held_by + ")");
    }
    CV_ASSIGN_OR_RETURN(bool deleted_now, TombstoneCall(sql, call_id, entry.actor, entry.at_ms));
    if (!deleted_now) return Status::Ok();
    std::string audio_file;
    sql << "SELECT audio_file FROM calls WHERE call_id = :id", soci::use(call_id),
        soci::into(audio_file);
    // Purge pending: on the location row, made here when the recording never moved.
    MarkPurgePending(sql, call_id, audio_file, entry.at_ms);
    RecordCallDeletion(sql, *changes_, call_id);
    AuditEntry logged = entry;
    logged.detail = audit.detail.is_object() ? audit.detail : nlohmann::json::object();
    logged.detail["audio_file"] = audio_file;
    sql << "SELECT tenant FROM calls WHERE call_id = :id", soci::use(call_id),
        soci::into(logged.tenant);
    Result<int64_t> appended = AppendLocalAudit(sql, &logged);
    if (!appended.ok() && appended.status().code() != StatusCode::kAlreadyExists) {
      return appended.status();
    }
    return Status::Ok();
  });
}

Status SqlCatalog::RecordLocation(const RecordingLocation& loc) {
  if (loc.call_id.empty()) return InvalidArgumentError("record location: no call id");
  return pool_->Run("record location", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    return InWriteTransaction(sql, pool_->dialect(), [&]() -> Status {
      const long long now = NowMs();
      const long long bytes = static_cast<long long>(loc.stored_bytes);
      long long relocated = loc.relocated_ms.value_or(0);
      soci::indicator relocated_ind = loc.relocated_ms ? soci::i_ok : soci::i_null;
      int deleted = 0;
      sql << "SELECT COUNT(*) FROM calls WHERE call_id = :id AND deleted_ms IS NOT NULL",
          soci::use(loc.call_id), soci::into(deleted);
      std::optional<RecordingLocation> old = QueryLocation(sql, loc.call_id);
      // A deleted call's bytes must go, also the copy recorded now.
      const bool purge = deleted > 0 || (old && (old->purge_pending_ms || old->purged_ms));
      long long pending = old && old->purge_pending_ms ? *old->purge_pending_ms : now;
      soci::indicator pending_ind = purge ? soci::i_ok : soci::i_null;
      if (old) {
        sql << "UPDATE recording_locations SET audio_file = :f, location = :l, stored_bytes = :b, "
               "stored_sha256 = :s, key_id = :k, relocated_ms = :r, purge_pending_ms = :p, "
               "purged_ms = NULL, updated_ms = :now WHERE call_id = :id",
            soci::use(loc.audio_file), soci::use(loc.location), soci::use(bytes),
            soci::use(loc.stored_sha256), soci::use(loc.key_id),
            soci::use(relocated, relocated_ind), soci::use(pending, pending_ind), soci::use(now),
            soci::use(loc.call_id);
      } else {
        sql << "INSERT INTO recording_locations (call_id, audio_file, location, stored_bytes, "
               "stored_sha256, key_id, relocated_ms, purge_pending_ms, updated_ms) "
               "VALUES (:id, :f, :l, :b, :s, :k, :r, :p, :now)",
            soci::use(loc.call_id), soci::use(loc.audio_file), soci::use(loc.location),
            soci::use(bytes), soci::use(loc.stored_sha256), soci::use(loc.key_id),
            soci::use(relocated, relocated_ind), soci::use(pending, pending_ind), soci::use(now);
      }
      return Status::Ok();
    });
  });
}

Result<std::optional<RecordingLocation>> SqlCatalog::GetLocation(const std::string& call_id) {
  std::optional<RecordingLocation> out;
  CV_RETURN_IF_ERROR(pool_->Run("get location", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    out = QueryLocation(sql, call_id);
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<RecordingLocation>> SqlCatalog::PendingPurges(int limit) {
  if (limit < 1 || limit > 10000) {
    return InvalidArgumentError("purges: limit must be 1..10000, not " + std::to_string(limit));
  }
  std::vector<RecordingLocation> out;
  CV_RETURN_IF_ERROR(pool_->Run("list purges", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    out.clear();
    LocationInto row;
    soci::statement st(sql);
    row.Exchange(st);
    st.alloc();
    st.prepare(std::string("SELECT ") + kLocationColumns +
                   " FROM recording_locations WHERE purge_pending_ms IS NOT NULL "
                   "ORDER BY purge_pending_ms, call_id LIMIT " +
                   std::to_string(limit),
               soci::details::st_one_time_query);
    st.define_and_bind();
    if (st.execute(true)) {
      do {
        out.push_back(row.Take());
        row = LocationInto{};
      } while (st.fetch());
    }
    return Status::Ok();
  }));
  return out;
}

Status SqlCatalog::MarkPurged(const std::string& call_id, int64_t at_ms) {
  return pool_->Run("mark purged", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    const long long at = at_ms;
    sql << "UPDATE recording_locations SET purge_pending_ms = NULL, purged_ms = :at, "
           "updated_ms = :now WHERE call_id = :id",
        soci::use(at), soci::use(at), soci::use(call_id);
    return Status::Ok();
  });
}

namespace {

void WriteHold(soci::session& sql, const LegalHold& hold) {
  const long long at = hold.created_ms;
  sql << "INSERT INTO legal_holds (call_id, held_by, reason, created_ms) "
         "VALUES (:id, :by, :reason, :at) ON CONFLICT (call_id) DO UPDATE SET "
         "reason = excluded.reason, held_by = excluded.held_by",
      soci::use(hold.call_id), soci::use(hold.held_by), soci::use(hold.reason), soci::use(at);
}

bool DeleteHold(soci::session& sql, const std::string& call_id) {
  soci::statement st =
      (sql.prepare << "DELETE FROM legal_holds WHERE call_id = :id", soci::use(call_id));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

}  // namespace

Status SqlCatalog::SetLegalHold(const LegalHold& hold) {
  return Replicated("set legal hold", SessionPool::Retry::kOnce, [&](soci::session& sql) -> Status {
    if (!CallVisible(sql, hold.call_id)) {
      return NotFoundError("legal hold: no call " + hold.call_id);
    }
    LegalHold row = hold;
    if (row.created_ms == 0) row.created_ms = NowMs();
    // An existing hold keeps its start time.
    if (std::optional<LegalHold> old = QueryHold(sql, hold.call_id)) {
      row.created_ms = old->created_ms;
    }
    WriteHold(sql, row);
    changes_->Record(sql, kEntityLegalHold, row.call_id, kOpUpsert, LegalHoldBody(row));
    return Status::Ok();
  });
}

Status SqlCatalog::ReleaseLegalHold(const std::string& call_id) {
  return Replicated("release legal hold", SessionPool::Retry::kOnce,
                    [&](soci::session& sql) -> Status {
                      if (!DeleteHold(sql, call_id)) {
                        return NotFoundError("legal hold: call " + call_id + " is not held");
                      }
                      changes_->Record(sql, kEntityLegalHold, call_id, kOpDelete, DeleteBody());
                      return Status::Ok();
                    });
}

Status ApplyLegalHoldChange(soci::session& sql, const Change& c, const nlohmann::json& body) {
  if (c.op == kOpDelete) {
    DeleteHold(sql, c.key);
    return Status::Ok();
  }
  CV_ASSIGN_OR_RETURN(LegalHold hold, ReadLegalHoldBody(body));
  if (hold.call_id != c.key) {
    return InvalidArgumentError("legal hold " + c.key + ": the body names call " + hold.call_id);
  }
  // Also for a call not here yet: it is held from the moment it arrives.
  WriteHold(sql, hold);
  return Status::Ok();
}

}  // namespace callvault::catalog::internal

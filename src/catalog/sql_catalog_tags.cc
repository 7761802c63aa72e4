// SqlCatalog: tags and call deletion (catalog.h §tags, §deletion), and the appliers of peers'
// tag and call-deletion changes (docs/formats/catalog-schema.md §change_log).
#include <string>
#include <vector>

#include "catalog/internal/change_body.h"
#include "catalog/sql_catalog.h"

namespace callvault::catalog::internal {
namespace {

// Inserts a tag; false when the call had it already.
bool InsertTag(soci::session& sql, const TagRow& t) {
  const long long at = t.created_ms;
  soci::statement st = (sql.prepare << "INSERT INTO tags (call_id, tag, created_ms) "
                                       "VALUES (:c, :t, :n) ON CONFLICT (call_id, tag) DO NOTHING",
                        soci::use(t.call_id), soci::use(t.tag), soci::use(at));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

// Removes a tag; false when the call did not have it.
bool DeleteTag(soci::session& sql, const std::string& call_id, const std::string& tag) {
  soci::statement st = (sql.prepare << "DELETE FROM tags WHERE call_id = :c AND tag = :t",
                        soci::use(call_id), soci::use(tag));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

// What a peer needs to apply the deletion of `call_id` (a row of `calls`, deleted).
CallDeletion ReadCallDeletion(soci::session& sql, const std::string& call_id) {
  CallDeletion d;
  d.call_id = call_id;
  long long deleted = 0, started = 0;
  soci::indicator by_ind = soci::i_null;
  sql << "SELECT deleted_ms, deleted_by, audio_file, node_id, started_ms FROM calls "
         "WHERE call_id = :id",
      soci::use(call_id), soci::into(deleted), soci::into(d.deleted_by, by_ind),
      soci::into(d.audio_file), soci::into(d.node_id), soci::into(started);
  d.deleted_ms = deleted;
  d.started_ms = started;
  return d;
}

}  // namespace

Status SqlCatalog::AddTags(const std::string& call_id, const std::vector<std::string>& tags) {
  for (const std::string& tag : tags) CV_RETURN_IF_ERROR(CheckTag(tag));
  return Replicated("add tags", SessionPool::Retry::kOnce, [&](soci::session& sql) -> Status {
    if (!CallVisible(sql, call_id)) return NotFoundError("add tags: no call " + call_id);
    const int64_t now = NowMs();
    for (const std::string& tag : tags) {
      const TagRow row{.call_id = call_id, .tag = tag, .created_ms = now};
      if (InsertTag(sql, row)) {
        changes_->Record(sql, kEntityTag, TagKey(call_id, tag), kOpUpsert, TagBody(row));
      }
    }
    return Status::Ok();
  });
}

Status SqlCatalog::RemoveTag(const std::string& call_id, const std::string& tag) {
  CV_RETURN_IF_ERROR(CheckTag(tag));
  return Replicated("remove tag", SessionPool::Retry::kOnce, [&](soci::session& sql) -> Status {
    if (!CallVisible(sql, call_id)) return NotFoundError("remove tag: no call " + call_id);
    if (DeleteTag(sql, call_id, tag)) {
      changes_->Record(sql, kEntityTag, TagKey(call_id, tag), kOpDelete, DeleteBody());
    }
    return Status::Ok();
  });
}

bool CallVisible(soci::session& sql, const std::string& call_id) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM calls WHERE call_id = :id AND deleted_ms IS NULL",
      soci::use(call_id), soci::into(n);
  return n > 0;
}

Result<bool> TombstoneCall(soci::session& sql, const std::string& call_id, const std::string& actor,
                           int64_t at_ms) {
  const long long at = at_ms;
  soci::statement st = (sql.prepare << "UPDATE calls SET deleted_ms = :at, deleted_by = :by, "
                                       "manifest = NULL, participants = '[]', "
                                       "search_text = '', numbers_text = '', "
                                       "names_text = '', updated_ms = :now "
                                       "WHERE call_id = :id AND deleted_ms IS NULL",
                        soci::use(at), soci::use(actor), soci::use(at), soci::use(call_id));
  st.execute(true);
  if (st.get_affected_rows() == 0) {
    int n = 0;
    sql << "SELECT COUNT(*) FROM calls WHERE call_id = :id", soci::use(call_id), soci::into(n);
    // Already deleted: nothing to do (a retried or replicated deletion).
    if (n == 0) return NotFoundError("delete call: no call " + call_id);
    return false;
  }
  for (const char* table : {"participants", "streams", "metadata_snapshots", "tags"}) {
    sql << std::string("DELETE FROM ") + table + " WHERE call_id = :id", soci::use(call_id);
  }
  return true;
}

void RecordCallDeletion(soci::session& sql, ChangeStamper& changes, const std::string& call_id) {
  changes.Record(sql, kEntityCall, call_id, kOpDelete,
                 CallDeletionBody(ReadCallDeletion(sql, call_id)));
}

Status SqlCatalog::MarkDeleted(const std::string& call_id, const std::string& actor,
                               int64_t at_ms) {
  return Replicated("delete call", SessionPool::Retry::kOnce, [&](soci::session& sql) -> Status {
    CV_ASSIGN_OR_RETURN(bool deleted_now, TombstoneCall(sql, call_id, actor, at_ms));
    if (deleted_now) RecordCallDeletion(sql, *changes_, call_id);
    return Status::Ok();
  });
}

Result<bool> SqlCatalog::IsDeleted(const std::string& call_id) {
  bool deleted = false;
  CV_RETURN_IF_ERROR(
      pool_->Run("look up a deletion", SessionPool::Retry::kOnce, [&](soci::session& sql) {
        int n = 0;
        sql << "SELECT COUNT(*) FROM calls WHERE call_id = :id AND deleted_ms IS NOT NULL",
            soci::use(call_id), soci::into(n);
        deleted = n > 0;
        return Status::Ok();
      }));
  return deleted;
}

Status ApplyTagChange(soci::session& sql, const Change& c, const nlohmann::json& body) {
  TagRow row;
  if (!SplitTagKey(c.key, &row.call_id, &row.tag)) {
    return InvalidArgumentError("tag: key \"" + c.key + "\" is not <call id>/<tag>");
  }
  CV_RETURN_IF_ERROR(CheckTag(row.tag));
  if (c.op == kOpDelete) {
    DeleteTag(sql, row.call_id, row.tag);
    return Status::Ok();
  }
  CV_ASSIGN_OR_RETURN(TagRow sent, ReadTagBody(body));
  if (sent.call_id != row.call_id || sent.tag != row.tag) {
    return InvalidArgumentError("tag " + c.key + ": the body names another call or tag");
  }
  // A call not here yet: its version (written by ApplyChanges) keeps the tag, and the ingest
  // of its manifest adds it (RestoreReplicatedTags).
  if (CallVisible(sql, sent.call_id)) InsertTag(sql, sent);
  return Status::Ok();
}

Status ApplyCallChange(soci::session& sql, const Change& c, const nlohmann::json& body) {
  CV_ASSIGN_OR_RETURN(CallDeletion d, ReadCallDeletionBody(body));
  if (d.call_id != c.key) {
    return InvalidArgumentError("call " + c.key + ": the body names call " + d.call_id);
  }
  if (std::optional<LegalHold> hold = QueryHold(sql, d.call_id)) {
    return FailedPreconditionError("call " + d.call_id + " is under legal hold here (" +
                                   hold->reason + ", by " + hold->held_by + "): not deleted");
  }
  Result<bool> deleted_now = TombstoneCall(sql, d.call_id, d.deleted_by, d.deleted_ms);
  if (deleted_now.status().code() == StatusCode::kNotFound) {
    // Not ingested here yet: a tombstone holds its place, so that the manifest arriving later
    // (ingest never replaces a deleted row) does not show it, and its bytes are purged.
    const long long deleted = d.deleted_ms, started = d.started_ms;
    sql << "INSERT INTO calls (call_id, node_id, state, started_ms, audio_file, deleted_ms, "
           "deleted_by, updated_ms) VALUES (:id, :node, 'completed', :s, :f, :d, :by, :u)",
        soci::use(d.call_id), soci::use(d.node_id), soci::use(started), soci::use(d.audio_file),
        soci::use(deleted), soci::use(d.deleted_by), soci::use(deleted);
    deleted_now = true;
  }
  CV_RETURN_IF_ERROR(deleted_now.status());
  if (*deleted_now) {
    MarkPurgePending(sql, d.call_id, ReadCallDeletion(sql, d.call_id).audio_file, d.deleted_ms);
  }
  return Status::Ok();
}

}  // namespace callvault::catalog::internal

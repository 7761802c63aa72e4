// SqlCatalog: ingest of manifests and active calls (catalog.h §ingest); the rows are written
// by internal/call_writer.h, a few multi-row statements per batch.
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "catalog/internal/call_writer.h"
#include "catalog/sql_catalog.h"

namespace callvault::catalog::internal {

Status SqlCatalog::IngestManifests(const std::vector<recording::Manifest>& manifests) {
  std::vector<CallRow> rows;
  rows.reserve(manifests.size());
  for (size_t i = 0; i < manifests.size(); ++i) {
    CV_ASSIGN_OR_RETURN(CallRow row,
                        RowFromManifest(manifests[i], "manifest " + std::to_string(i)));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return Status::Ok();
  size_t written = 0;
  CV_RETURN_IF_ERROR(pool_->Run("ingest", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    return InWriteTransaction(sql, pool_->dialect(), [&] {
      written = WriteCalls(sql, pool_->dialect(), rows, WriteMode::kManifest, NowMs());
      return Status::Ok();
    });
  }));
  CV_LOG_DEBUG("catalog.ingested", "manifests={} written={}", rows.size(), written);
  return Status::Ok();
}

Status SqlCatalog::UpsertActive(const std::vector<ActiveCall>& calls) {
  std::vector<CallRow> rows;
  rows.reserve(calls.size());
  for (const ActiveCall& call : calls) {
    CV_ASSIGN_OR_RETURN(CallRow row, RowFromActive(call));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return Status::Ok();
  return pool_->Run("upsert active calls", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    return InWriteTransaction(sql, pool_->dialect(), [&] {
      WriteCalls(sql, pool_->dialect(), rows, WriteMode::kActive, NowMs());
      return Status::Ok();
    });
  });
}

Status SqlCatalog::RemoveActive(const std::string& call_id) {
  return pool_->Run("remove active call", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    sql << "DELETE FROM calls WHERE call_id = :id AND state = 'active' AND deleted_ms IS NULL",
        soci::use(call_id);
    return Status::Ok();
  });
}

Result<std::vector<std::string>> SqlCatalog::ActiveCallIds(const std::string& node_id) {
  std::vector<std::string> ids;
  CV_RETURN_IF_ERROR(
      pool_->Run("list active calls", SessionPool::Retry::kOnce, [&](soci::session& sql) {
        ids.clear();
        std::string id;
        soci::statement st = (sql.prepare << "SELECT call_id FROM calls WHERE node_id = :n AND "
                                             "state = 'active' AND deleted_ms IS NULL "
                                             "ORDER BY call_id",
                              soci::use(node_id), soci::into(id));
        if (st.execute(true)) {
          do {
            ids.push_back(id);
          } while (st.fetch());
        }
        return Status::Ok();
      }));
  return ids;
}

}  // namespace callvault::catalog::internal

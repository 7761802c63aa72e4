// SqlCatalog: ingest of manifests and active calls (catalog.h §ingest).
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "catalog/internal/params.h"
#include "catalog/sql_catalog.h"

namespace callvault::catalog::internal {
namespace {

// A manifest replaces an active row or an older manifest's row; never a deleted call.
constexpr char kManifestReplaces[] =
    "calls.deleted_ms IS NULL AND "
    "(calls.version_ms IS NULL OR calls.version_ms < excluded.version_ms)";
// An active call refreshes only an active row (never a finished or deleted call).
constexpr char kActiveReplaces[] = "calls.deleted_ms IS NULL AND calls.state = 'active'";

void Exec(soci::session& sql, Params& params, const std::string& query) {
  soci::statement st(sql);
  params.Prepare(st, query);
  st.execute(true);
}

void ReplaceChildren(soci::session& sql, const CallRow& r) {
  for (const char* table : {"participants", "streams", "metadata_snapshots"}) {
    Params p;
    const std::string id = p.Add(r.call_id);
    Exec(sql, p, std::string("DELETE FROM ") + table + " WHERE call_id = " + id);
  }
  for (size_t i = 0; i < r.participants.size(); ++i) {
    const ParticipantRow& x = r.participants[i];
    Params p;
    const std::string q =
        "INSERT INTO participants (call_id, ordinal, participant_id, name, aor, number, channel) "
        "VALUES (" +
        p.Add(r.call_id) + ", " + p.Add(int64_t(i)) + ", " + p.Add(x.participant_id) + ", " +
        p.Add(x.name) + ", " + p.Add(x.aor) + ", " + p.Add(x.number) + ", " + p.Add(x.channel) +
        ")";
    Exec(sql, p, q);
  }
  for (size_t i = 0; i < r.streams.size(); ++i) {
    const StreamRow& x = r.streams[i];
    Params p;
    const std::string q =
        "INSERT INTO streams (call_id, ordinal, stream_id, label, channel, mixed, codec, packets, "
        "bytes, lost, duplicates, reordered, late, bad, detail) VALUES (" +
        p.Add(r.call_id) + ", " + p.Add(int64_t(i)) + ", " + p.Add(x.stream_id) + ", " +
        p.Add(x.label) + ", " + p.Add(x.channel) + ", " + p.Add(int64_t(x.mixed ? 1 : 0)) + ", " +
        p.Add(x.codec) + ", " + p.Add(x.packets) + ", " + p.Add(x.bytes) + ", " + p.Add(x.lost) +
        ", " + p.Add(x.duplicates) + ", " + p.Add(x.reordered) + ", " + p.Add(x.late) + ", " +
        p.Add(x.bad) + ", " + p.Add(x.json) + ")";
    Exec(sql, p, q);
  }
  for (size_t i = 0; i < r.snapshots.size(); ++i) {
    const SnapshotRow& x = r.snapshots[i];
    Params p;
    const std::string q =
        "INSERT INTO metadata_snapshots (call_id, ordinal, at_ms, source, content_type, raw, "
        "well_formed) VALUES (" +
        p.Add(r.call_id) + ", " + p.Add(int64_t(i)) + ", " + p.Add(x.at_ms) + ", " +
        p.Add(x.source) + ", " + p.Add(x.content_type) + ", " + p.Add(x.raw) + ", " +
        p.Add(x.well_formed) + ")";
    Exec(sql, p, q);
  }
}

}  // namespace

bool SqlCatalog::WriteCall(soci::session& sql, const CallRow& r, const char* replace_where) {
  const int64_t now = NowMs();
  Params p;
  const std::vector<std::pair<const char*, std::string>> columns = {
      {"call_id", p.Add(r.call_id)},
      {"node_id", p.Add(r.node_id)},
      {"tenant", p.Add(r.tenant)},
      {"state", p.Add(std::string(CallStateName(r.state)))},
      {"end_reason", p.Add(r.end_reason)},
      {"sip_call_id", p.Add(r.sip_call_id)},
      {"siprec_session_id", p.Add(r.siprec_session_id)},
      {"started_ms", p.Add(r.started_ms)},
      {"answered_ms", p.Add(r.answered_ms)},
      {"ended_ms", p.Add(r.ended_ms)},
      {"duration_ms", p.Add(r.duration_ms)},
      {"caller_name", p.Add(r.caller_name)},
      {"caller_aor", p.Add(r.caller_aor)},
      {"caller_number", p.Add(r.caller_number)},
      {"callee_name", p.Add(r.callee_name)},
      {"callee_aor", p.Add(r.callee_aor)},
      {"callee_number", p.Add(r.callee_number)},
      {"src_address", p.Add(r.src_address)},
      {"from_uri", p.Add(r.from_uri)},
      {"to_uri", p.Add(r.to_uri)},
      {"audio_file", p.Add(r.audio_file)},
      {"audio_format", p.Add(r.audio_format)},
      {"audio_bytes", p.Add(r.audio_bytes)},
      {"audio_sha256", p.Add(r.audio_sha256)},
      {"finalized", p.AddText(r.finalized, r.finalized.empty())},
      {"version_ms", p.Add(r.version_ms)},
      {"participants", p.Add(r.participants_json)},
      {"manifest", p.AddText(r.manifest_json, r.manifest_json.empty())},
      {"search_text", p.Add(r.search_text)},
      {"updated_ms", p.Add(now)},
  };
  std::string names, values, updates;
  for (const auto& [name, placeholder] : columns) {
    if (!names.empty()) {
      names += ", ";
      values += ", ";
    }
    names += name;
    values += placeholder;
    if (std::string_view(name) == "call_id") continue;
    if (!updates.empty()) updates += ", ";
    updates += std::string(name) + " = excluded." + name;
  }
  const std::string query = "INSERT INTO calls (" + names + ") VALUES (" + values +
                            ") ON CONFLICT (call_id) DO UPDATE SET " + updates + " WHERE " +
                            replace_where + " RETURNING call_id";
  std::string returned;
  soci::indicator ind = soci::i_null;
  soci::statement st(sql);
  st.exchange(soci::into(returned, ind));
  p.Prepare(st, query);
  if (!st.execute(true) || ind != soci::i_ok) return false;
  st.clean_up();
  ReplaceChildren(sql, r);
  if (!r.tenant.empty()) {
    Params t;
    const std::string q = "INSERT INTO tenants (name, created_ms) VALUES (" + t.Add(r.tenant) +
                          ", " + t.Add(now) + ") ON CONFLICT (name) DO NOTHING";
    Exec(sql, t, q);
  }
  return true;
}

Status SqlCatalog::IngestManifests(const std::vector<nlohmann::json>& manifests) {
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
    written = 0;
    return InWriteTransaction(sql, pool_->dialect(), [&] {
      for (const CallRow& row : rows) written += WriteCall(sql, row, kManifestReplaces) ? 1 : 0;
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
      for (const CallRow& row : rows) WriteCall(sql, row, kActiveReplaces);
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

#include "catalog/internal/call_writer.h"

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "catalog/internal/change_body.h"
#include "catalog/internal/change_log.h"
#include "catalog/internal/params.h"

namespace callvault::catalog::internal {
namespace {

// The existing row `calls` is replaced by the new one `excluded` when this holds.
constexpr char kManifestReplaces[] =
    "calls.deleted_ms IS NULL AND "
    "(calls.version_ms IS NULL OR calls.version_ms < excluded.version_ms)";
constexpr char kActiveReplaces[] = "calls.deleted_ms IS NULL AND calls.state = 'active'";

constexpr const char* kCallColumns[] = {
    "call_id",     "node_id",           "tenant",       "state",           "end_reason",
    "sip_call_id", "siprec_session_id", "started_ms",   "answered_ms",     "ended_ms",
    "duration_ms", "caller_name",       "caller_aor",   "caller_number",   "callee_name",
    "callee_aor",  "callee_number",     "src_address",  "from_uri",        "to_uri",
    "audio_file",  "audio_format",      "audio_bytes",  "audio_sha256",    "finalized",
    "version_ms",  "participants",      "manifest",     "search_text",     "numbers_text",
    "names_text",  "updated_ms",        "capture_mode", "primary_node_id",
};
constexpr size_t kCallParams = std::size(kCallColumns);

// Adds the values of `r` in the order of kCallColumns.
std::string CallTuple(Params& p, const CallRow& r, int64_t now_ms) {
  return Tuple({
      p.Add(r.call_id),
      p.Add(r.node_id),
      p.Add(r.tenant),
      p.Add(std::string(CallStateName(r.state))),
      p.Add(r.end_reason),
      p.Add(r.sip_call_id),
      p.Add(r.siprec_session_id),
      p.Add(r.started_ms),
      p.Add(r.answered_ms),
      p.Add(r.ended_ms),
      p.Add(r.duration_ms),
      p.Add(r.caller_name),
      p.Add(r.caller_aor),
      p.Add(r.caller_number),
      p.Add(r.callee_name),
      p.Add(r.callee_aor),
      p.Add(r.callee_number),
      p.Add(r.src_address),
      p.Add(r.from_uri),
      p.Add(r.to_uri),
      p.Add(r.audio_file),
      p.Add(r.audio_format),
      p.Add(r.audio_bytes),
      p.Add(r.audio_sha256),
      p.AddText(r.finalized, r.finalized.empty()),
      p.Add(r.version_ms),
      p.Add(r.participants_json),
      p.AddText(r.manifest_json, r.manifest_json.empty()),
      p.Add(r.search_text),
      p.Add(r.numbers_text),
      p.Add(r.names_text),
      p.Add(now_ms),
      p.Add(r.capture_mode),
      p.Add(r.primary_node_id),
  });
}

std::string UpsertTail(WriteMode mode) {
  std::string updates;
  for (std::string_view name : kCallColumns) {
    if (name == "call_id") continue;
    if (!updates.empty()) updates += ", ";
    updates += std::string(name) + " = excluded." + std::string(name);
  }
  return " ON CONFLICT (call_id) DO UPDATE SET " + updates + " WHERE " +
         (mode == WriteMode::kManifest ? kManifestReplaces : kActiveReplaces) +
         " RETURNING call_id";
}

// One row per call, as if the rows were applied one after the other (PostgreSQL refuses an
// upsert that touches a row twice), ordered by call id so that concurrent writers lock rows in
// the same order.
std::vector<const CallRow*> OnePerCall(const std::vector<CallRow>& rows, WriteMode mode) {
  std::vector<const CallRow*> out;
  std::unordered_map<std::string_view, size_t> index;
  for (const CallRow& r : rows) {
    const auto [it, inserted] = index.try_emplace(r.call_id, out.size());
    if (inserted) {
      out.push_back(&r);
      continue;
    }
    const CallRow*& kept = out[it->second];
    // A later active row refreshes an earlier one; a later manifest replaces an earlier one
    // only when it is newer (kManifestReplaces).
    if (mode == WriteMode::kActive ||
        (r.version_ms && (!kept->version_ms || *kept->version_ms < *r.version_ms))) {
      kept = &r;
    }
  }
  std::sort(out.begin(), out.end(),
            [](const CallRow* a, const CallRow* b) { return a->call_id < b->call_id; });
  return out;
}

// Executes one statement with the parameters `p`; appends the first column of each returned
// row to `returned` when given.
void Execute(soci::session& sql, Params& p, const std::string& query,
             std::vector<std::string>* returned) {
  soci::statement st(sql);
  std::string value;
  soci::indicator ind = soci::i_null;
  if (returned != nullptr) st.exchange(soci::into(value, ind));
  p.Prepare(st, query);
  const bool got_row = st.execute(true);
  if (returned == nullptr || !got_row) return;
  do {
    if (ind == soci::i_ok) returned->push_back(value);
  } while (st.fetch());
}

// Runs `head` VALUES <tuples> `tail` over items [0, n), as few statements as the dialect's
// parameter limit allows; `tuple(p, i)` adds item i's `per_item` values and returns its tuple.
void InsertMany(soci::session& sql, const Dialect& dialect, size_t n, size_t per_item,
                const std::string& head, const std::string& tail,
                const std::function<std::string(Params&, size_t)>& tuple,
                std::vector<std::string>* returned = nullptr) {
  const size_t chunk = std::max<size_t>(1, static_cast<size_t>(dialect.max_params) / per_item);
  for (size_t begin = 0; begin < n; begin += chunk) {
    const size_t end = std::min(n, begin + chunk);
    Params p = Params::ByPosition(dialect);
    std::string query = head + " VALUES ";
    for (size_t i = begin; i < end; ++i) {
      if (i > begin) query += ", ";
      query += tuple(p, i);
    }
    Execute(sql, p, query + tail, returned);
  }
}

// Deletes the rows of `table` whose call_id is one of `ids`.
void DeleteWhereCallIn(soci::session& sql, const Dialect& dialect, const char* table,
                       const std::vector<std::string>& ids) {
  const size_t chunk = static_cast<size_t>(dialect.max_params);
  for (size_t begin = 0; begin < ids.size(); begin += chunk) {
    const size_t end = std::min(ids.size(), begin + chunk);
    Params p = Params::ByPosition(dialect);
    std::string query = std::string("DELETE FROM ") + table + " WHERE call_id IN (";
    for (size_t i = begin; i < end; ++i) {
      if (i > begin) query += ", ";
      query += p.Add(ids[i]);
    }
    Execute(sql, p, query + ")", nullptr);
  }
}

// (call, ordinal) of every child row of one table over the written calls.
template <typename Child>
std::vector<std::pair<const CallRow*, size_t>> Children(const std::vector<const CallRow*>& calls,
                                                        std::vector<Child> CallRow::*member) {
  std::vector<std::pair<const CallRow*, size_t>> out;
  for (const CallRow* c : calls) {
    for (size_t i = 0; i < (c->*member).size(); ++i) out.emplace_back(c, i);
  }
  return out;
}

void InsertChildren(soci::session& sql, const Dialect& dialect,
                    const std::vector<const CallRow*>& calls) {
  const auto participants = Children(calls, &CallRow::participants);
  InsertMany(sql, dialect, participants.size(), 7,
             "INSERT INTO participants (call_id, ordinal, participant_id, name, aor, number, "
             "channel)",
             "", [&](Params& p, size_t k) {
               const auto& [c, i] = participants[k];
               const ParticipantRow& x = c->participants[i];
               return Tuple({p.Add(c->call_id), p.Add(int64_t(i)), p.Add(x.participant_id),
                             p.Add(x.name), p.Add(x.aor), p.Add(x.number), p.Add(x.channel)});
             });
  const auto streams = Children(calls, &CallRow::streams);
  InsertMany(
      sql, dialect, streams.size(), 15,
      "INSERT INTO streams (call_id, ordinal, stream_id, label, channel, mixed, codec, "
      "packets, bytes, lost, duplicates, reordered, late, bad, detail)",
      "", [&](Params& p, size_t k) {
        const auto& [c, i] = streams[k];
        const StreamRow& x = c->streams[i];
        return Tuple({p.Add(c->call_id), p.Add(int64_t(i)), p.Add(x.stream_id), p.Add(x.label),
                      p.Add(x.channel), p.Add(int64_t(x.mixed ? 1 : 0)), p.Add(x.codec),
                      p.Add(x.packets), p.Add(x.bytes), p.Add(x.lost), p.Add(x.duplicates),
                      p.Add(x.reordered), p.Add(x.late), p.Add(x.bad), p.Add(x.json)});
      });
  const auto snapshots = Children(calls, &CallRow::snapshots);
  InsertMany(sql, dialect, snapshots.size(), 7,
             "INSERT INTO metadata_snapshots (call_id, ordinal, at_ms, source, content_type, "
             "raw, well_formed)",
             "", [&](Params& p, size_t k) {
               const auto& [c, i] = snapshots[k];
               const SnapshotRow& x = c->snapshots[i];
               return Tuple({p.Add(c->call_id), p.Add(int64_t(i)), p.Add(x.at_ms), p.Add(x.source),
                             p.Add(x.content_type), p.Add(x.raw), p.Add(x.well_formed)});
             });
}

// Tags that peers set on calls before the calls reached this node wait as live versions in
// entity_versions (ApplyTagChange): the calls written now get them (created now). One range
// scan of the (entity, entity_key) key per call; entity_key compares bytes (binary_text), and
// '0' follows '/', so "<id>/" < key < "<id>0" holds the keys "<id>/<tag>".
void RestoreReplicatedTags(soci::session& sql, const Dialect& dialect,
                           const std::vector<std::string>& call_ids, int64_t now_ms) {
  constexpr size_t kCallsPerQuery = 200;
  std::vector<std::string> keys;
  for (size_t begin = 0; begin < call_ids.size(); begin += kCallsPerQuery) {
    const size_t end = std::min(call_ids.size(), begin + kCallsPerQuery);
    Params p = Params::ByPosition(dialect);
    std::string query = "SELECT entity_key FROM entity_versions WHERE entity = '" +
                        std::string(kEntityTag) + "' AND deleted = 0 AND (";
    for (size_t i = begin; i < end; ++i) {
      if (i > begin) query += " OR ";
      const std::string low = p.Add(call_ids[i] + "/");
      const std::string high = p.Add(call_ids[i] + "0");
      query += "(entity_key > " + low + " AND entity_key < " + high + ")";
    }
    Execute(sql, p, query + ")", &keys);
  }
  std::vector<TagRow> tags;
  for (const std::string& key : keys) {
    TagRow t{.created_ms = now_ms};
    if (SplitTagKey(key, &t.call_id, &t.tag)) tags.push_back(std::move(t));
  }
  InsertMany(sql, dialect, tags.size(), 3, "INSERT INTO tags (call_id, tag, created_ms)",
             " ON CONFLICT (call_id, tag) DO NOTHING", [&](Params& p, size_t i) {
               return Tuple({p.Add(tags[i].call_id), p.Add(tags[i].tag), p.Add(now_ms)});
             });
}

}  // namespace

size_t WriteCalls(soci::session& sql, const Dialect& dialect, const std::vector<CallRow>& rows,
                  WriteMode mode, int64_t now_ms) {
  const std::vector<const CallRow*> calls = OnePerCall(rows, mode);
  if (calls.empty()) return 0;

  std::string head = "INSERT INTO calls (";
  for (size_t i = 0; i < kCallParams; ++i) head += std::string(i ? ", " : "") + kCallColumns[i];
  head += ")";
  std::vector<std::string> written_ids;
  InsertMany(
      sql, dialect, calls.size(), kCallParams, head, UpsertTail(mode),
      [&](Params& p, size_t i) { return CallTuple(p, *calls[i], now_ms); }, &written_ids);
  if (written_ids.empty()) return 0;

  // The old children of every written call go, whether the call existed before or not: which
  // of them existed is not known race-free on PostgreSQL (a concurrent ingest may have inserted
  // the call after this transaction's snapshot; the upsert then waited for it and replaced it),
  // and the DELETE costs one round trip per table either way.
  for (const char* table : {"participants", "streams", "metadata_snapshots"}) {
    DeleteWhereCallIn(sql, dialect, table, written_ids);
  }
  const std::unordered_set<std::string_view> written(written_ids.begin(), written_ids.end());
  std::vector<const CallRow*> written_calls;
  std::set<std::string> tenants;
  for (const CallRow* c : calls) {
    if (written.count(c->call_id) == 0) continue;
    written_calls.push_back(c);
    if (!c->tenant.empty()) tenants.insert(c->tenant);
  }
  InsertChildren(sql, dialect, written_calls);
  RestoreReplicatedTags(sql, dialect, written_ids, now_ms);

  const std::vector<std::string> names(tenants.begin(), tenants.end());
  InsertMany(sql, dialect, names.size(), 2, "INSERT INTO tenants (name, created_ms)",
             " ON CONFLICT (name) DO NOTHING", [&](Params& p, size_t i) {
               return Tuple({p.Add(names[i]), p.Add(now_ms)});
             });
  return written_ids.size();
}

}  // namespace callvault::catalog::internal

// SqlCatalog: call queries and retention candidates (catalog.h §queries, §retention); tags
// and deletion are in sql_catalog_tags.cc.
#include <map>
#include <string>
#include <vector>

#include "catalog/internal/cursor.h"
#include "catalog/internal/params.h"
#include "catalog/internal/text.h"
#include "catalog/sql_catalog.h"

namespace callvault::catalog::internal {
namespace {

constexpr char kSummaryColumns[] =
    "c.call_id, c.node_id, c.tenant, c.state, c.end_reason, c.started_ms, c.answered_ms, "
    "c.ended_ms, c.duration_ms, c.caller_name, c.caller_aor, c.caller_number, c.callee_name, "
    "c.callee_aor, c.callee_number, c.audio_format, c.audio_bytes";

// The into() targets of kSummaryColumns.
struct SummaryInto {
  CallSummary s;
  std::string state;
  long long started = 0, answered = 0, ended = 0, duration = 0, audio_bytes = 0;
  soci::indicator answered_ind = soci::i_ok, ended_ind = soci::i_ok;

  void Exchange(soci::statement& st) {
    st.exchange(soci::into(s.call_id));
    st.exchange(soci::into(s.node_id));
    st.exchange(soci::into(s.tenant));
    st.exchange(soci::into(state));
    st.exchange(soci::into(s.end_reason));
    st.exchange(soci::into(started));
    st.exchange(soci::into(answered, answered_ind));
    st.exchange(soci::into(ended, ended_ind));
    st.exchange(soci::into(duration));
    st.exchange(soci::into(s.caller_name));
    st.exchange(soci::into(s.caller_aor));
    st.exchange(soci::into(s.caller_number));
    st.exchange(soci::into(s.callee_name));
    st.exchange(soci::into(s.callee_aor));
    st.exchange(soci::into(s.callee_number));
    st.exchange(soci::into(s.audio_format));
    st.exchange(soci::into(audio_bytes));
  }
  CallSummary Take() const {
    CallSummary out = s;
    out.state = ParseCallState(state).value_or(CallState::kActive);
    out.started_ms = started;
    out.answered_ms = answered_ind == soci::i_ok ? std::optional<int64_t>(answered) : std::nullopt;
    out.ended_ms = ended_ind == soci::i_ok ? std::optional<int64_t>(ended) : std::nullopt;
    out.duration_ms = duration;
    out.audio_bytes = static_cast<uint64_t>(audio_bytes);
    return out;
  }
};

bool ValidTag(const std::string& tag) {
  if (tag.empty() || tag.size() > 64) return false;
  for (char c : tag) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Fills the tags of `calls` (one query).
void LoadTags(soci::session& sql, std::vector<CallSummary*> calls) {
  if (calls.empty()) return;
  Params p;
  std::string in;
  std::map<std::string, CallSummary*> by_id;
  for (CallSummary* c : calls) {
    if (!in.empty()) in += ", ";
    in += p.Add(c->call_id);
    by_id[c->call_id] = c;
  }
  std::string call_id, tag;
  soci::statement st(sql);
  st.exchange(soci::into(call_id));
  st.exchange(soci::into(tag));
  p.Prepare(st, "SELECT call_id, tag FROM tags WHERE call_id IN (" + in + ") ORDER BY tag");
  if (!st.execute(true)) return;
  do {
    if (auto it = by_id.find(call_id); it != by_id.end()) it->second->tags.push_back(tag);
  } while (st.fetch());
}

// SQLite: the contains filters are narrowed by the trigram index only when it yields fewer
// calls than this (read first, up to this bound): those calls are then fetched by row id and
// sorted (none: the page is empty at once), which beats walking the sort index only while they
// are few; a common string (e.g. a country code) walks the sort index and fills the page early,
// as without the index.
constexpr int kTrigramDriveLimit = 2000;

// The query of ListCalls. `trigram_rows` (SQLite): when set, the row ids of calls_trgm's
// matches of the contains filters, the only calls that may match them.
std::string ListQuery(const Dialect& d, const CallFilter& f, const PageRequest& page,
                      const std::optional<CursorKey>& after,
                      const std::vector<long long>* trigram_rows, Params& p) {
  const std::string like = " " + std::string(d.like) + " ";
  const bool pg = d.backend == Backend::kPostgresql;
  std::string where = "c.deleted_ms IS NULL";
  auto And = [&](const std::string& term) { where += " AND " + term; };
  auto Contains = [&](const char* column, const std::string& pattern) {
    return std::string(column) + like + p.Add(pattern) + " ESCAPE '\\'";
  };
  // PostgreSQL: the trigram-indexed column holding every value the filter matches contains the
  // string too (a necessary condition the planner may answer from calls_*_trgm).
  auto Narrow = [&](const char* column, const std::string& needle, const std::string& pat) {
    if (pg && TrigramIndexable(needle)) And(Contains(column, pat));
  };
  if (f.started_from_ms) And("c.started_ms >= " + p.Add(*f.started_from_ms));
  if (f.started_to_ms) And("c.started_ms < " + p.Add(*f.started_to_ms));
  if (!f.caller.empty()) {
    const std::string pat = ContainsPattern(f.caller);
    Narrow("c.numbers_text", f.caller, pat);
    And("(" + Contains("c.caller_number", pat) + " OR " + Contains("c.caller_aor", pat) + ")");
  }
  if (!f.callee.empty()) {
    const std::string pat = ContainsPattern(f.callee);
    Narrow("c.numbers_text", f.callee, pat);
    And("(" + Contains("c.callee_number", pat) + " OR " + Contains("c.callee_aor", pat) + ")");
  }
  if (!f.number.empty()) {
    const std::string pat = ContainsPattern(f.number);
    Narrow("c.numbers_text", f.number, pat);
    And("(" + Contains("c.caller_number", pat) + " OR " + Contains("c.caller_aor", pat) + " OR " +
        Contains("c.callee_number", pat) + " OR " + Contains("c.callee_aor", pat) +
        " OR EXISTS (SELECT 1 FROM participants p WHERE p.call_id = c.call_id AND (" +
        Contains("p.number", pat) + " OR " + Contains("p.aor", pat) + ")))");
  }
  if (!f.participant.empty()) {
    const std::string pat = ContainsPattern(f.participant);
    Narrow("c.names_text", f.participant, pat);
    And("(" + Contains("c.caller_name", pat) + " OR " + Contains("c.callee_name", pat) +
        " OR EXISTS (SELECT 1 FROM participants p WHERE p.call_id = c.call_id AND " +
        Contains("p.name", pat) + "))");
  }
  if (trigram_rows != nullptr) {
    std::string ids;  // integers read from the database: literals, not parameters
    for (long long id : *trigram_rows) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    And("c.id IN (" + ids + ")");
  }
  if (f.min_duration_ms) And("c.duration_ms >= " + p.Add(*f.min_duration_ms));
  if (f.max_duration_ms) And("c.duration_ms <= " + p.Add(*f.max_duration_ms));
  if (!f.states.empty()) {
    std::string in;
    for (CallState s : f.states) {
      if (!in.empty()) in += ", ";
      in += p.Add(std::string(CallStateName(s)));
    }
    And("c.state IN (" + in + ")");
  }
  if (!f.node_id.empty()) And("c.node_id = " + p.Add(f.node_id));
  if (f.tenant) And("c.tenant = " + p.Add(*f.tenant));
  if (!f.tag.empty()) {
    And("EXISTS (SELECT 1 FROM tags t WHERE t.call_id = c.call_id AND t.tag = " + p.Add(f.tag) +
        ")");
  }
  if (!f.text.empty()) {
    const std::string param = p.Add(d.TextQuery(SearchTokens(f.text)));
    And(d.TextMatch(param.substr(1)));
  }
  const char* key = page.sort == SortKey::kStarted ? "c.started_ms" : "c.duration_ms";
  const char* dir = page.descending ? "DESC" : "ASC";
  if (after) {
    And(std::string("(") + key + ", c.call_id) " + (page.descending ? "<" : ">") + " (" +
        p.Add(after->key) + ", " + p.Add(after->call_id) + ")");
  }
  return std::string("SELECT ") + kSummaryColumns + " FROM calls c WHERE " + where + " ORDER BY " +
         key + " " + dir + ", c.call_id " + dir + " LIMIT " + std::to_string(page.limit + 1);
}

// SQLite: the calls_trgm MATCH expression of the contains filters that the index can narrow
// (every one must hold), "" = none.
std::string TrigramMatch(const CallFilter& f) {
  std::string q;
  auto Add = [&](const char* column, const std::string& needle) {
    if (needle.empty() || !TrigramIndexable(needle)) return;
    if (!q.empty()) q += " AND ";
    q += std::string(column) + " : " + Fts5Phrase(needle);
  };
  Add("numbers_text", f.caller);
  Add("numbers_text", f.callee);
  Add("numbers_text", f.number);
  Add("names_text", f.participant);
  return q;
}

}  // namespace

Status CheckTag(const std::string& tag) {
  if (ValidTag(tag)) return Status::Ok();
  return InvalidArgumentError("tags: \"" + tag.substr(0, 80) +
                              "\" is not 1-64 characters of [A-Za-z0-9_.:-]");
}

Result<CallPage> SqlCatalog::ListCalls(const CallFilter& f, const PageRequest& page) {
  if (page.limit < 1 || page.limit > 1000) {
    return InvalidArgumentError("list calls: limit must be 1..1000, not " +
                                std::to_string(page.limit));
  }
  std::optional<CursorKey> after;
  if (!page.cursor.empty()) {
    CV_ASSIGN_OR_RETURN(after, DecodeCursor(page.cursor, page.sort, page.descending));
  }
  if (!f.text.empty() && SearchTokens(f.text).empty()) {
    return InvalidArgumentError("list calls: the text filter has no letters or digits");
  }
  const Dialect& d = pool_->dialect();
  const std::string trigram_match = d.backend == Backend::kSqlite ? TrigramMatch(f) : "";

  CallPage out;
  CV_RETURN_IF_ERROR(pool_->Run("list calls", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    out = CallPage();
    std::vector<long long> rows;
    bool narrow = false;
    if (!trigram_match.empty()) {
      long long id = 0;
      soci::statement probe = (sql.prepare << "SELECT rowid FROM calls_trgm "
                                              "WHERE calls_trgm MATCH :q LIMIT " +
                                                  std::to_string(kTrigramDriveLimit),
                               soci::use(trigram_match, "q"), soci::into(id));
      if (probe.execute(true)) {
        do {
          rows.push_back(id);
        } while (probe.fetch());
      }
      if (rows.empty()) return Status::Ok();  // no call contains the string(s)
      narrow = rows.size() < static_cast<size_t>(kTrigramDriveLimit);
    }
    Params p;
    const std::string query = ListQuery(d, f, page, after, narrow ? &rows : nullptr, p);
    SummaryInto row;
    soci::statement st(sql);
    row.Exchange(st);
    p.Prepare(st, query);
    if (st.execute(true)) {
      do {
        out.calls.push_back(row.Take());
      } while (st.fetch());
    }
    if (out.calls.size() > static_cast<size_t>(page.limit)) {
      out.calls.resize(static_cast<size_t>(page.limit));
      const CallSummary& last = out.calls.back();
      out.next_cursor = EncodeCursor(
          page.sort, page.descending,
          {page.sort == SortKey::kStarted ? last.started_ms : last.duration_ms, last.call_id});
    }
    std::vector<CallSummary*> ptrs;
    for (CallSummary& c : out.calls) ptrs.push_back(&c);
    LoadTags(sql, ptrs);
    return Status::Ok();
  }));
  return out;
}

Result<CallDetail> SqlCatalog::GetCall(const std::string& call_id) {
  CallDetail out;
  CV_RETURN_IF_ERROR(pool_->Run("get call", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    SummaryInto row;
    std::string participants, manifest;
    soci::indicator manifest_ind = soci::i_null;
    soci::statement st(sql);
    row.Exchange(st);
    st.exchange(soci::into(out.sip_call_id));
    st.exchange(soci::into(out.siprec_session_id));
    st.exchange(soci::into(out.audio_file));
    st.exchange(soci::into(out.audio_sha256));
    st.exchange(soci::into(participants));
    st.exchange(soci::into(manifest, manifest_ind));
    st.exchange(soci::use(call_id, "id"));
    st.alloc();
    st.prepare(std::string("SELECT ") + kSummaryColumns +
                   ", c.sip_call_id, c.siprec_session_id, c.audio_file, c.audio_sha256, "
                   "c.participants, c.manifest FROM calls c "
                   "WHERE c.call_id = :id AND c.deleted_ms IS NULL",
               soci::details::st_one_time_query);
    st.define_and_bind();
    if (!st.execute(true)) return NotFoundError("get call: no call " + call_id);
    out.summary = row.Take();
    out.participants = nlohmann::json::parse(participants, nullptr, false);
    if (!out.participants.is_array()) out.participants = nlohmann::json::array();
    if (manifest_ind == soci::i_ok) {
      out.manifest = nlohmann::json::parse(manifest, nullptr, false);
      if (out.manifest.is_discarded()) {
        return DataLossError("get call: the stored manifest of " + call_id + " is not JSON");
      }
      if (auto it = out.manifest.find("streams"); it != out.manifest.end() && it->is_array()) {
        out.streams = *it;
      }
      if (auto it = out.manifest.find("metadata"); it != out.manifest.end() && it->is_array()) {
        out.metadata = *it;
      }
    }
    LoadTags(sql, {&out.summary});
    LoadLifecycle(sql, &out);
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<CallSummary>> SqlCatalog::FindRetentionCandidates(
    const RetentionQuery& query, const std::string& after_call_id, int limit) {
  if (limit < 1 || limit > 10000) {
    return InvalidArgumentError("retention: limit must be 1..10000, not " + std::to_string(limit));
  }
  for (const std::string& tag : query.tags) CV_RETURN_IF_ERROR(CheckTag(tag));
  std::vector<CallSummary> out;
  CV_RETURN_IF_ERROR(
      pool_->Run("find retention candidates", SessionPool::Retry::kOnce, [&](soci::session& sql) {
        out.clear();
        Params p;
        std::string where = "c.deleted_ms IS NULL AND c.state <> 'active' AND c.started_ms < " +
                            p.Add(query.started_before_ms) + " AND c.call_id > " +
                            p.Add(after_call_id);
        if (query.tenant) where += " AND c.tenant = " + p.Add(*query.tenant);
        if (!query.states.empty()) {
          std::string in;
          for (CallState state : query.states) {
            if (!in.empty()) in += ", ";
            in += p.Add(std::string(CallStateName(state)));
          }
          where += " AND c.state IN (" + in + ")";
        }
        if (!query.tags.empty()) {
          std::string in;
          for (const std::string& tag : query.tags) {
            if (!in.empty()) in += ", ";
            in += p.Add(tag);
          }
          where += " AND EXISTS (SELECT 1 FROM tags t WHERE t.call_id = c.call_id AND t.tag IN (" +
                   in + "))";
        }
        where += " AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.call_id = c.call_id)";
        SummaryInto row;
        soci::statement st(sql);
        row.Exchange(st);
        p.Prepare(st, std::string("SELECT ") + kSummaryColumns + " FROM calls c WHERE " + where +
                          " ORDER BY c.call_id LIMIT " + std::to_string(limit));
        if (st.execute(true)) {
          do {
            out.push_back(row.Take());
          } while (st.fetch());
        }
        std::vector<CallSummary*> ptrs;
        for (CallSummary& c : out) ptrs.push_back(&c);
        LoadTags(sql, ptrs);
        return Status::Ok();
      }));
  return out;
}

Result<std::vector<RecordingCopy>> SqlCatalog::FindCopies(const std::string& sip_call_id) {
  if (sip_call_id.empty()) return InvalidArgumentError("find copies: no SIP Call-ID");
  std::vector<RecordingCopy> out;
  CV_RETURN_IF_ERROR(pool_->Run("find copies", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    out.clear();
    RecordingCopy c;
    std::string state;
    long long started = 0, ended = 0, duration = 0;
    soci::indicator ended_ind = soci::i_null;
    soci::statement st =
        (sql.prepare << "SELECT call_id, node_id, state, capture_mode, primary_node_id, "
                        "started_ms, ended_ms, duration_ms FROM calls "
                        "WHERE sip_call_id = :s AND deleted_ms IS NULL AND state <> 'active' "
                        "ORDER BY call_id",
         soci::use(sip_call_id), soci::into(c.call_id), soci::into(c.node_id), soci::into(state),
         soci::into(c.capture_mode), soci::into(c.primary_node_id), soci::into(started),
         soci::into(ended, ended_ind), soci::into(duration));
    if (st.execute(true)) {
      do {
        std::optional<CallState> parsed = ParseCallState(state);
        c.state = parsed.value_or(CallState::kPartial);
        c.started_ms = started;
        c.ended_ms = ended_ind == soci::i_ok ? std::optional<int64_t>(ended) : std::nullopt;
        c.duration_ms = duration;
        out.push_back(c);
      } while (st.fetch());
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<std::string>> SqlCatalog::FindUnreconciledCopies(int64_t since_ms, int limit) {
  if (limit < 1 || limit > 10000) {
    return InvalidArgumentError("find unreconciled copies: limit must be 1..10000, not " +
                                std::to_string(limit));
  }
  std::vector<std::string> out;
  CV_RETURN_IF_ERROR(
      pool_->Run("find unreconciled copies", SessionPool::Retry::kOnce, [&](soci::session& sql) {
        out.clear();
        const long long since = since_ms;
        std::string id;
        soci::statement st =
            (sql.prepare << "SELECT DISTINCT p.sip_call_id FROM calls p "
                            "WHERE p.deleted_ms IS NULL AND p.capture_mode = 'passive' "
                            "AND p.started_ms >= :since AND p.state <> 'active' "
                            "AND p.sip_call_id <> '' AND EXISTS (SELECT 1 FROM calls o "
                            "WHERE o.sip_call_id = p.sip_call_id AND o.deleted_ms IS NULL "
                            "AND o.state <> 'active' AND o.call_id <> p.call_id) "
                            "AND NOT EXISTS (SELECT 1 FROM calls h JOIN legal_holds l ON "
                            "l.call_id = h.call_id WHERE h.sip_call_id = p.sip_call_id "
                            "AND h.deleted_ms IS NULL) "
                            "ORDER BY p.sip_call_id LIMIT " +
                                std::to_string(limit),
             soci::use(since), soci::into(id));
        if (st.execute(true)) {
          do {
            out.push_back(id);
          } while (st.fetch());
        }
        return Status::Ok();
      }));
  return out;
}

}  // namespace callvault::catalog::internal

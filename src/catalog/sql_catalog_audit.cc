// SqlCatalog: the audit log — appending to this node's hash chain, applying a peer's entries,
// the filtered listing, chain heads and the chain-order scan of `callvault audit verify`
// (catalog.h §audit log; docs/formats/catalog-schema.md §audit_log, §Audit chains).
#include <string>
#include <vector>

#include "catalog/internal/audit_chain.h"
#include "catalog/internal/change_body.h"
#include "catalog/internal/params.h"
#include "catalog/sql_catalog.h"

namespace callvault::catalog::internal {
namespace {

constexpr char kAuditColumns[] =
    "SELECT id, uid, at_ms, actor, action, target, detail, remote, tenant, origin, origin_seq, "
    "prev_hash, hash FROM audit_log";

// One audit_log row of kAuditColumns.
struct AuditInto {
  AuditEntry e;
  long long id = 0, at = 0, seq = 0;
  std::string detail;
  soci::indicator uid_ind = soci::i_null;
  void Exchange(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(e.uid, uid_ind));
    st.exchange(soci::into(at));
    st.exchange(soci::into(e.actor));
    st.exchange(soci::into(e.action));
    st.exchange(soci::into(e.target));
    st.exchange(soci::into(detail));
    st.exchange(soci::into(e.remote));
    st.exchange(soci::into(e.tenant));
    st.exchange(soci::into(e.origin));
    st.exchange(soci::into(seq));
    st.exchange(soci::into(e.prev_hash));
    st.exchange(soci::into(e.hash));
  }
  // `detail_text` (when given) receives the column's text as stored (the hash covers it).
  AuditEntry Take(std::string* detail_text = nullptr) const {
    AuditEntry out = e;
    out.id = id;
    if (uid_ind != soci::i_ok) out.uid.clear();
    out.at_ms = at;
    out.seq = seq;
    out.detail = nlohmann::json::parse(detail, nullptr, false);
    if (!out.detail.is_object()) out.detail = nlohmann::json::object();
    if (detail_text != nullptr) *detail_text = detail;
    return out;
  }
};

// Runs `query` (kAuditColumns …) and collects its rows.
void CollectAudit(soci::session& sql, Params& p, const std::string& query,
                  std::vector<AuditEntry>* out, std::vector<std::string>* detail_texts = nullptr) {
  AuditInto row;
  soci::statement st(sql);
  row.Exchange(st);
  p.Prepare(st, query);
  if (!st.execute(true)) return;
  do {
    std::string text;
    out->push_back(row.Take(&text));
    if (detail_texts != nullptr) detail_texts->push_back(std::move(text));
  } while (st.fetch());
}

// Inserts `e` with its chain fields as they are; false when an entry with its uid exists.
bool InsertAuditRow(soci::session& sql, const AuditEntry& e, const std::string& detail_text,
                    long long* id) {
  Params p;
  const std::string q =
      "INSERT INTO audit_log (uid, at_ms, actor, action, target, detail, remote, tenant, origin, "
      "origin_seq, prev_hash, hash) VALUES " +
      Tuple({p.Add(e.uid), p.Add(e.at_ms), p.Add(e.actor), p.Add(e.action), p.Add(e.target),
             p.Add(detail_text), p.Add(e.remote), p.Add(e.tenant), p.Add(e.origin), p.Add(e.seq),
             p.Add(e.prev_hash), p.Add(e.hash)}) +
      " ON CONFLICT (uid) DO NOTHING RETURNING id";
  soci::statement st(sql);
  long long row = 0;
  st.exchange(soci::into(row));
  p.Prepare(st, q);
  if (!st.execute(true)) return false;
  if (id != nullptr) *id = row;
  return true;
}

// Moves the head of `origin` to (seq, hash) unless it is already there or further.
void AdvanceHead(soci::session& sql, const std::string& origin, int64_t seq,
                 const std::string& hash) {
  const long long s = seq, now = NowMs();
  sql << "INSERT INTO audit_heads (origin, seq, hash, updated_ms) VALUES (:o, :s, :h, :t) "
         "ON CONFLICT (origin) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
         "updated_ms = excluded.updated_ms WHERE excluded.seq > audit_heads.seq",
      soci::use(origin), soci::use(s), soci::use(hash), soci::use(now);
}

bool IsHexHash(const std::string& h) {
  if (h.size() != 64) return false;
  for (char c : h) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void Clean(AuditEntry* e) {
  for (std::string* s : {&e->uid, &e->actor, &e->action, &e->target, &e->remote, &e->tenant}) {
    *s = CleanText(*s);
  }
  if (!e->detail.is_object()) e->detail = nlohmann::json::object();
}

}  // namespace

Result<int64_t> AppendToChain(soci::session& sql, const Dialect& dialect, const std::string& origin,
                              AuditEntry* e) {
  Clean(e);
  const long long now = NowMs();
  const std::string genesis(kGenesisHash);
  // The head row is the chain's lock: made once, then locked by every append of this origin
  // (PostgreSQL: other nodes and processes on the same database wait here).
  sql << "INSERT INTO audit_heads (origin, seq, hash, updated_ms) VALUES (:o, 0, :h, :t) "
         "ON CONFLICT (origin) DO NOTHING",
      soci::use(origin), soci::use(genesis), soci::use(now);
  long long seq = 0;
  std::string head;
  sql << "SELECT seq, hash FROM audit_heads WHERE origin = :o" + std::string(dialect.for_update),
      soci::use(origin), soci::into(seq), soci::into(head);
  e->origin = origin;
  e->seq = seq + 1;
  e->prev_hash = head;
  const std::string detail = DetailText(e->detail);
  e->hash = ChainHash(e->prev_hash, *e, detail);
  long long id = 0;
  if (!InsertAuditRow(sql, *e, detail, &id)) {
    return AlreadyExistsError("audit: an entry with uid " + e->uid + " exists");
  }
  const long long next = e->seq;
  sql << "UPDATE audit_heads SET seq = :s, hash = :h, updated_ms = :t WHERE origin = :o",
      soci::use(next), soci::use(e->hash), soci::use(now), soci::use(origin);
  return static_cast<int64_t>(id);
}

Result<int64_t> SqlCatalog::AppendLocalAudit(soci::session& sql, AuditEntry* entry) {
  CV_ASSIGN_OR_RETURN(int64_t id, AppendToChain(sql, pool_->dialect(), changes_->origin(), entry));
  changes_->Record(sql, kEntityAudit, entry->uid, kOpInsert, AuditBody(*entry));
  return id;
}

Result<int64_t> SqlCatalog::AppendAudit(const AuditEntry& entry) {
  if (entry.action.empty()) return InvalidArgumentError("audit: an entry needs an action");
  AuditEntry e = entry;
  if (e.uid.empty()) e.uid = changes_->NewId();
  if (e.at_ms == 0) e.at_ms = NowMs();
  int64_t id = 0;
  CV_RETURN_IF_ERROR(Replicated("append audit", SessionPool::Retry::kNo, [&](soci::session& sql) {
    AuditEntry row = e;  // the chain fields are set again if the transaction is retried
    CV_ASSIGN_OR_RETURN(id, AppendLocalAudit(sql, &row));
    return Status::Ok();
  }));
  return id;
}

Result<std::vector<AuditEntry>> SqlCatalog::ListAudit(int64_t after_id, int limit) {
  AuditFilter filter;
  filter.after_id = after_id;
  filter.limit = limit;
  return FindAudit(filter);
}

Result<std::vector<AuditEntry>> SqlCatalog::FindAudit(const AuditFilter& f) {
  if (f.limit < 1 || f.limit > 1000) {
    return InvalidArgumentError("audit: limit must be 1..1000, not " + std::to_string(f.limit));
  }
  std::vector<AuditEntry> entries;
  CV_RETURN_IF_ERROR(pool_->Run("list audit", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    entries.clear();
    Params p;
    std::string where;
    auto add = [&](const std::string& condition) {
      where += (where.empty() ? " WHERE " : " AND ") + condition;
    };
    if (f.descending) {
      if (f.before_id) add("id < " + p.Add(*f.before_id));
    } else {
      add("id > " + p.Add(f.after_id));
    }
    if (!f.actor.empty()) add("actor = " + p.Add(f.actor));
    if (!f.action.empty()) add("action = " + p.Add(f.action));
    if (!f.target.empty()) add("target = " + p.Add(f.target));
    if (!f.call.empty()) {
      add("target = " + p.Add(f.call));
      add("action LIKE 'call.%'");
    }
    if (f.tenant) add("tenant = " + p.Add(*f.tenant));
    if (f.from_ms) add("at_ms >= " + p.Add(*f.from_ms));
    if (f.to_ms) add("at_ms < " + p.Add(*f.to_ms));
    CollectAudit(sql, p,
                 kAuditColumns + where + " ORDER BY id" + (f.descending ? " DESC" : "") +
                     " LIMIT " + std::to_string(f.limit),
                 &entries);
    return Status::Ok();
  }));
  return entries;
}

Result<std::vector<AuditHead>> SqlCatalog::AuditHeads() {
  std::vector<AuditHead> heads;
  CV_RETURN_IF_ERROR(
      pool_->Run("read audit heads", SessionPool::Retry::kOnce, [&](soci::session& sql) {
        heads.clear();
        AuditHead h;
        long long seq = 0, updated = 0;
        soci::statement st =
            (sql.prepare << "SELECT origin, seq, hash, updated_ms FROM "
                            "audit_heads ORDER BY origin",
             soci::into(h.origin), soci::into(seq), soci::into(h.hash), soci::into(updated));
        if (st.execute(true)) {
          do {
            h.seq = seq;
            h.updated_ms = updated;
            heads.push_back(h);
          } while (st.fetch());
        }
        return Status::Ok();
      }));
  return heads;
}

Result<std::vector<AuditChainRow>> SqlCatalog::ScanAuditChains(const std::string& after_origin,
                                                               int64_t after_seq, int64_t after_id,
                                                               int limit) {
  if (limit < 1 || limit > 10000) {
    return InvalidArgumentError("audit scan: limit must be 1..10000, not " + std::to_string(limit));
  }
  std::vector<AuditChainRow> rows;
  CV_RETURN_IF_ERROR(pool_->Run("scan audit", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    std::vector<AuditEntry> entries;
    std::vector<std::string> details;
    Params p;
    const std::string q = std::string(kAuditColumns) + " WHERE (origin, origin_seq, id) > " +
                          Tuple({p.Add(after_origin), p.Add(after_seq), p.Add(after_id)}) +
                          " ORDER BY origin, origin_seq, id LIMIT " + std::to_string(limit);
    CollectAudit(sql, p, q, &entries, &details);
    rows.clear();
    rows.reserve(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      rows.push_back({std::move(entries[i]), std::move(details[i])});
    }
    return Status::Ok();
  }));
  return rows;
}

Status ApplyAuditChange(soci::session& sql, const Dialect& dialect, const Change& c,
                        const nlohmann::json& body, const std::string& node) {
  CV_ASSIGN_OR_RETURN(AuditEntry e, ReadAuditBody(body));
  if (e.uid != c.key || e.action.empty()) {
    return InvalidArgumentError("audit " + c.key + ": the body's uid or action is wrong");
  }
  int here = 0;
  sql << "SELECT COUNT(*) FROM audit_log WHERE uid = :u", soci::use(e.uid), soci::into(here);
  if (here > 0) return AlreadyExistsError("audit " + c.key + " is here");
  if (e.hash.empty()) {
    // From a peer older than schema version 5: no chain of its origin; this node keeps it in
    // its local chain.
    CV_ASSIGN_OR_RETURN(int64_t id, AppendToChain(sql, dialect, LocalChain(node), &e));
    (void)id;
    return Status::Ok();
  }
  if (e.origin != c.origin || IsLocalChain(e.origin) || e.seq < 1 || !IsHexHash(e.prev_hash) ||
      !IsHexHash(e.hash)) {
    return InvalidArgumentError("audit " + c.key + ": bad chain fields (origin \"" + e.origin +
                                "\", seq " + std::to_string(e.seq) + ")");
  }
  const std::string detail = DetailText(e.detail);
  if (ChainHash(e.prev_hash, e, detail) != e.hash) {
    return InvalidArgumentError("audit " + c.key +
                                ": its hash does not match its content (origin " + e.origin +
                                " seq " + std::to_string(e.seq) + ")");
  }
  if (!InsertAuditRow(sql, e, detail, nullptr)) {
    return AlreadyExistsError("audit " + c.key + " is here");
  }
  AdvanceHead(sql, e.origin, e.seq, e.hash);
  return Status::Ok();
}

}  // namespace callvault::catalog::internal

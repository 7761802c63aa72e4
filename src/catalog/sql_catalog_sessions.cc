// SqlCatalog: the web portal's browser sessions (catalog.h §web sessions, table web_sessions,
// schema version 4). Node-local: nothing here enters the change log.
#include <string>

#include "catalog/sql_catalog.h"

namespace callvault::catalog::internal {

Status SqlCatalog::CreateSession(const WebSession& s) {
  if (s.id_hash.empty() || s.csrf_token.empty()) {
    return InvalidArgumentError("create session: empty hash or CSRF token");
  }
  return pool_->Run("create session", SessionPool::Retry::kNo, [&](soci::session& sql) {
    return InWriteTransaction(sql, pool_->dialect(), [&]() -> Status {
      const long long now = s.created_ms;
      sql << "DELETE FROM web_sessions WHERE expires_ms < :n", soci::use(now);
      int users = 0;
      const long long user_id = s.user_id;
      sql << "SELECT COUNT(*) FROM users WHERE id = :id", soci::use(user_id), soci::into(users);
      if (users == 0) {
        return NotFoundError("create session: no user with id " + std::to_string(s.user_id));
      }
      int taken = 0;
      sql << "SELECT COUNT(*) FROM web_sessions WHERE id_hash = :h", soci::use(s.id_hash),
          soci::into(taken);
      if (taken > 0) return AlreadyExistsError("create session: hash taken");
      const long long created = s.created_ms, seen = s.last_seen_ms, expires = s.expires_ms;
      sql << "INSERT INTO web_sessions (id_hash, user_id, csrf_token, credential, created_ms, "
             "last_seen_ms, expires_ms, remote, user_agent) "
             "VALUES (:h, :u, :c, :cr, :cm, :ls, :e, :r, :ua)",
          soci::use(s.id_hash), soci::use(user_id), soci::use(s.csrf_token),
          soci::use(s.credential), soci::use(created), soci::use(seen), soci::use(expires),
          soci::use(s.remote), soci::use(s.user_agent);
      return Status::Ok();
    });
  });
}

Result<WebSession> SqlCatalog::GetSession(const std::string& id_hash) {
  WebSession out;
  bool found = false;
  CV_RETURN_IF_ERROR(pool_->Run("get session", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    long long user_id = 0, created = 0, seen = 0, expires = 0;
    soci::indicator ind = soci::i_null;
    out.id_hash = id_hash;
    sql << "SELECT user_id, csrf_token, credential, created_ms, last_seen_ms, expires_ms, "
           "remote, user_agent FROM web_sessions WHERE id_hash = :h",
        soci::use(id_hash), soci::into(user_id, ind), soci::into(out.csrf_token),
        soci::into(out.credential), soci::into(created), soci::into(seen), soci::into(expires),
        soci::into(out.remote), soci::into(out.user_agent);
    found = ind == soci::i_ok;
    out.user_id = user_id;
    out.created_ms = created;
    out.last_seen_ms = seen;
    out.expires_ms = expires;
    return Status::Ok();
  }));
  if (!found) return NotFoundError("sessions: no such session");
  return out;
}

Status SqlCatalog::TouchSession(const std::string& id_hash, int64_t at_ms) {
  bool found = false;
  CV_RETURN_IF_ERROR(
      pool_->Run("touch session", SessionPool::Retry::kOnce, [&](soci::session& sql) {
        const long long at = at_ms;
        soci::statement st = (sql.prepare << "UPDATE web_sessions SET last_seen_ms = :t "
                                             "WHERE id_hash = :h AND last_seen_ms < :t2",
                              soci::use(at), soci::use(id_hash), soci::use(at));
        st.execute(true);
        found = st.get_affected_rows() > 0;
        if (!found) {
          int n = 0;
          sql << "SELECT COUNT(*) FROM web_sessions WHERE id_hash = :h", soci::use(id_hash),
              soci::into(n);
          found = n > 0;
        }
        return Status::Ok();
      }));
  if (!found) return NotFoundError("sessions: no such session");
  return Status::Ok();
}

Status SqlCatalog::DeleteSession(const std::string& id_hash) {
  return pool_->Run("delete session", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    sql << "DELETE FROM web_sessions WHERE id_hash = :h", soci::use(id_hash);
    return Status::Ok();
  });
}

}  // namespace callvault::catalog::internal

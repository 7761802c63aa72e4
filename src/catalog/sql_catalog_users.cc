// SqlCatalog: roles, users, API tokens and the audit log (catalog.h §users, §audit log).
#include <map>
#include <string>
#include <vector>

#include "catalog/internal/params.h"
#include "catalog/sql_catalog.h"

namespace callvault::catalog::internal {
namespace {

constexpr char kUserColumns[] =
    "SELECT id, username, password_hash, role, tenant, disabled, created_ms FROM users ";
constexpr char kTokenColumns[] =
    "SELECT id, user_id, name, token_hash, created_ms, expires_ms, last_used_ms FROM api_tokens ";

struct UserInto {
  User u;
  long long id = 0, disabled = 0, created = 0;
  void Exchange(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(u.username));
    st.exchange(soci::into(u.password_hash));
    st.exchange(soci::into(u.role));
    st.exchange(soci::into(u.tenant));
    st.exchange(soci::into(disabled));
    st.exchange(soci::into(created));
  }
  User Take() const {
    User out = u;
    out.id = id;
    out.disabled = disabled != 0;
    out.created_ms = created;
    return out;
  }
};

struct TokenInto {
  ApiToken t;
  long long id = 0, user_id = 0, created = 0, expires = 0, last_used = 0;
  soci::indicator expires_ind = soci::i_null, last_used_ind = soci::i_null;
  void Exchange(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(user_id));
    st.exchange(soci::into(t.name));
    st.exchange(soci::into(t.token_hash));
    st.exchange(soci::into(created));
    st.exchange(soci::into(expires, expires_ind));
    st.exchange(soci::into(last_used, last_used_ind));
  }
  ApiToken Take() const {
    ApiToken out = t;
    out.id = id;
    out.user_id = user_id;
    out.created_ms = created;
    out.expires_ms = expires_ind == soci::i_ok ? std::optional<int64_t>(expires) : std::nullopt;
    out.last_used_ms =
        last_used_ind == soci::i_ok ? std::optional<int64_t>(last_used) : std::nullopt;
    return out;
  }
};

// Runs a one-row-per-fetch query built from `p` and collects Take() of each row.
template <typename Into, typename T>
void Collect(soci::session& sql, Params& p, const std::string& query, std::vector<T>* out) {
  Into row;
  soci::statement st(sql);
  row.Exchange(st);
  p.Prepare(st, query);
  if (!st.execute(true)) return;
  do {
    out->push_back(row.Take());
  } while (st.fetch());
}

bool RoleExists(soci::session& sql, const std::string& role) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM roles WHERE name = :r", soci::use(role), soci::into(n);
  return n > 0;
}

Status CheckUsername(const std::string& username) {
  if (username.empty() || username.size() > 128) {
    return InvalidArgumentError("users: a username is 1-128 bytes");
  }
  for (unsigned char c : username) {
    if (c < 0x21 || c == 0x7f) {
      return InvalidArgumentError("users: a username has no spaces or control characters");
    }
  }
  return Status::Ok();
}

// The affected rows of a one-statement write.
long long Affected(soci::session& sql, Params& p, const std::string& query) {
  soci::statement st(sql);
  p.Prepare(st, query);
  st.execute(true);
  return st.get_affected_rows();
}

}  // namespace

Result<std::vector<Role>> SqlCatalog::ListRoles() {
  std::vector<Role> roles;
  CV_RETURN_IF_ERROR(pool_->Run("list roles", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    roles.clear();
    std::string name, permission;
    soci::indicator perm_ind = soci::i_null;
    soci::statement st = (sql.prepare << "SELECT r.name, p.permission FROM roles r "
                                         "LEFT JOIN role_permissions p ON p.role = r.name "
                                         "ORDER BY r.name, p.permission",
                          soci::into(name), soci::into(permission, perm_ind));
    if (st.execute(true)) {
      do {
        if (roles.empty() || roles.back().name != name) roles.push_back(Role{name, {}});
        if (perm_ind == soci::i_ok) roles.back().permissions.push_back(permission);
      } while (st.fetch());
    }
    return Status::Ok();
  }));
  return roles;
}

Result<int64_t> SqlCatalog::CreateUser(const User& user) {
  CV_RETURN_IF_ERROR(CheckUsername(user.username));
  long long id = 0;
  Status status = pool_->Run("create user", SessionPool::Retry::kNo, [&](soci::session& sql) {
    return InWriteTransaction(sql, pool_->dialect(), [&]() -> Status {
      if (!RoleExists(sql, user.role)) {
        return InvalidArgumentError("create user: no role \"" + user.role + "\"");
      }
      int taken = 0;
      sql << "SELECT COUNT(*) FROM users WHERE username = :u", soci::use(user.username),
          soci::into(taken);
      if (taken > 0) return AlreadyExistsError("create user: \"" + user.username + "\" is taken");
      const long long disabled = user.disabled ? 1 : 0;
      const long long created = user.created_ms != 0 ? user.created_ms : NowMs();
      sql << "INSERT INTO users (username, password_hash, role, tenant, disabled, created_ms) "
             "VALUES (:u, :h, :r, :t, :d, :c) RETURNING id",
          soci::use(user.username), soci::use(user.password_hash), soci::use(user.role),
          soci::use(user.tenant), soci::use(disabled), soci::use(created), soci::into(id);
      return Status::Ok();
    });
  });
  // A concurrent insert of the same name loses on the unique constraint.
  if (status.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("create user: \"" + user.username + "\" is taken");
  }
  CV_RETURN_IF_ERROR(status);
  return static_cast<int64_t>(id);
}

Result<std::vector<User>> SqlCatalog::QueryUsers(const std::string& where, const std::string& key,
                                                 int64_t id) {
  std::vector<User> users;
  CV_RETURN_IF_ERROR(pool_->Run("read users", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    users.clear();
    Params p;
    std::string q = kUserColumns;
    if (where == "username") q += "WHERE username = " + p.Add(key);
    if (where == "id") q += "WHERE id = " + p.Add(id);
    Collect<UserInto>(sql, p, q + " ORDER BY username", &users);
    return Status::Ok();
  }));
  return users;
}

Result<User> SqlCatalog::GetUser(const std::string& username) {
  CV_ASSIGN_OR_RETURN(std::vector<User> users, QueryUsers("username", username, 0));
  if (users.empty()) return NotFoundError("users: no user \"" + username + "\"");
  return users.front();
}

Result<User> SqlCatalog::GetUserById(int64_t id) {
  CV_ASSIGN_OR_RETURN(std::vector<User> users, QueryUsers("id", "", id));
  if (users.empty()) return NotFoundError("users: no user with id " + std::to_string(id));
  return users.front();
}

Result<std::vector<User>> SqlCatalog::ListUsers() { return QueryUsers("", "", 0); }

Status SqlCatalog::UpdateUser(const User& user) {
  return pool_->Run("update user", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    return InWriteTransaction(sql, pool_->dialect(), [&]() -> Status {
      if (!RoleExists(sql, user.role)) {
        return InvalidArgumentError("update user: no role \"" + user.role + "\"");
      }
      Params p;
      const std::string q = "UPDATE users SET password_hash = " + p.Add(user.password_hash) +
                            ", role = " + p.Add(user.role) + ", tenant = " + p.Add(user.tenant) +
                            ", disabled = " + p.Add(int64_t(user.disabled ? 1 : 0)) +
                            " WHERE id = " + p.Add(user.id);
      if (Affected(sql, p, q) == 0) {
        return NotFoundError("update user: no user with id " + std::to_string(user.id));
      }
      return Status::Ok();
    });
  });
}

Status SqlCatalog::DeleteUser(int64_t id) {
  return pool_->Run("delete user", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    return InWriteTransaction(sql, pool_->dialect(), [&]() -> Status {
      Params t;
      Affected(sql, t, "DELETE FROM api_tokens WHERE user_id = " + t.Add(id));
      Params p;
      if (Affected(sql, p, "DELETE FROM users WHERE id = " + p.Add(id)) == 0) {
        return NotFoundError("delete user: no user with id " + std::to_string(id));
      }
      return Status::Ok();
    });
  });
}

Result<int64_t> SqlCatalog::CreateToken(const ApiToken& token) {
  if (token.token_hash.empty()) return InvalidArgumentError("create token: empty token hash");
  long long id = 0;
  CV_RETURN_IF_ERROR(pool_->Run("create token", SessionPool::Retry::kNo, [&](soci::session& sql) {
    return InWriteTransaction(sql, pool_->dialect(), [&]() -> Status {
      int users = 0;
      sql << "SELECT COUNT(*) FROM users WHERE id = :id", soci::use(token.user_id),
          soci::into(users);
      if (users == 0) {
        return NotFoundError("create token: no user with id " + std::to_string(token.user_id));
      }
      Params p;
      const std::string q =
          "INSERT INTO api_tokens (user_id, name, token_hash, created_ms, expires_ms, "
          "last_used_ms) VALUES (" +
          p.Add(token.user_id) + ", " + p.Add(token.name) + ", " + p.Add(token.token_hash) + ", " +
          p.Add(token.created_ms != 0 ? token.created_ms : NowMs()) + ", " +
          p.Add(token.expires_ms) + ", " + p.Add(token.last_used_ms) + ") RETURNING id";
      soci::statement st(sql);
      st.exchange(soci::into(id));
      p.Prepare(st, q);
      st.execute(true);
      return Status::Ok();
    });
  }));
  return static_cast<int64_t>(id);
}

Result<ApiToken> SqlCatalog::FindToken(const std::string& token_hash) {
  std::vector<ApiToken> tokens;
  CV_RETURN_IF_ERROR(pool_->Run("find token", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    tokens.clear();
    Params p;
    Collect<TokenInto>(sql, p, kTokenColumns + ("WHERE token_hash = " + p.Add(token_hash)),
                       &tokens);
    return Status::Ok();
  }));
  if (tokens.empty()) return NotFoundError("tokens: no such token");
  return tokens.front();
}

Result<std::vector<ApiToken>> SqlCatalog::ListTokens(int64_t user_id) {
  std::vector<ApiToken> tokens;
  CV_RETURN_IF_ERROR(pool_->Run("list tokens", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    tokens.clear();
    Params p;
    Collect<TokenInto>(
        sql, p, kTokenColumns + ("WHERE user_id = " + p.Add(user_id)) + " ORDER BY id", &tokens);
    return Status::Ok();
  }));
  return tokens;
}

Status SqlCatalog::DeleteToken(int64_t id) {
  return pool_->Run("delete token", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    Params p;
    if (Affected(sql, p, "DELETE FROM api_tokens WHERE id = " + p.Add(id)) == 0) {
      return NotFoundError("delete token: no token with id " + std::to_string(id));
    }
    return Status::Ok();
  });
}

Status SqlCatalog::TouchToken(int64_t id, int64_t at_ms) {
  return pool_->Run("touch token", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    Params p;
    const std::string q =
        "UPDATE api_tokens SET last_used_ms = " + p.Add(at_ms) + " WHERE id = " + p.Add(id);
    if (Affected(sql, p, q) == 0) {
      return NotFoundError("touch token: no token with id " + std::to_string(id));
    }
    return Status::Ok();
  });
}

Result<int64_t> SqlCatalog::AppendAudit(const AuditEntry& e) {
  if (e.action.empty()) return InvalidArgumentError("audit: an entry needs an action");
  long long id = 0;
  CV_RETURN_IF_ERROR(pool_->Run("append audit", SessionPool::Retry::kNo, [&](soci::session& sql) {
    Params p;
    const std::string q =
        "INSERT INTO audit_log (at_ms, actor, action, target, detail, remote) VALUES (" +
        p.Add(e.at_ms != 0 ? e.at_ms : NowMs()) + ", " + p.Add(e.actor) + ", " + p.Add(e.action) +
        ", " + p.Add(e.target) + ", " + p.Add(e.detail.is_null() ? "{}" : e.detail.dump()) + ", " +
        p.Add(e.remote) + ") RETURNING id";
    soci::statement st(sql);
    st.exchange(soci::into(id));
    p.Prepare(st, q);
    st.execute(true);
    return Status::Ok();
  }));
  return static_cast<int64_t>(id);
}

Result<std::vector<AuditEntry>> SqlCatalog::ListAudit(int64_t after_id, int limit) {
  if (limit < 1 || limit > 1000) {
    return InvalidArgumentError("audit: limit must be 1..1000, not " + std::to_string(limit));
  }
  std::vector<AuditEntry> entries;
  CV_RETURN_IF_ERROR(pool_->Run("list audit", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    entries.clear();
    AuditEntry e;
    long long id = 0, at = 0;
    std::string detail;
    Params p;
    soci::statement st(sql);
    st.exchange(soci::into(id));
    st.exchange(soci::into(at));
    st.exchange(soci::into(e.actor));
    st.exchange(soci::into(e.action));
    st.exchange(soci::into(e.target));
    st.exchange(soci::into(detail));
    st.exchange(soci::into(e.remote));
    p.Prepare(st,
              "SELECT id, at_ms, actor, action, target, detail, remote FROM audit_log "
              "WHERE id > " +
                  p.Add(after_id) + " ORDER BY id LIMIT " + std::to_string(limit));
    if (st.execute(true)) {
      do {
        AuditEntry out = e;
        out.id = id;
        out.at_ms = at;
        out.detail = nlohmann::json::parse(detail, nullptr, false);
        if (out.detail.is_discarded()) out.detail = nlohmann::json::object();
        entries.push_back(std::move(out));
      } while (st.fetch());
    }
    return Status::Ok();
  }));
  return entries;
}

}  // namespace callvault::catalog::internal

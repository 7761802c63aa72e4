// SqlCatalog: roles, users and API tokens (catalog.h §users), and the appliers of peers' user
// and token changes (docs/formats/catalog-schema.md §change_log). The audit log:
// sql_catalog_audit.cc.
#include <map>
#include <string>
#include <vector>

#include "catalog/internal/change_body.h"
#include "catalog/internal/params.h"
#include "catalog/sql_catalog.h"

namespace callvault::catalog::internal {
namespace {

constexpr char kUserColumns[] =
    "SELECT id, username, password_hash, role, tenant, disabled, created_ms FROM users ";
constexpr char kTokenColumns[] =
    "SELECT id, api_id, user_id, name, token_hash, created_ms, expires_ms, last_used_ms "
    "FROM api_tokens ";

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
  soci::indicator api_id_ind = soci::i_null, expires_ind = soci::i_null,
                  last_used_ind = soci::i_null;
  void Exchange(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(t.api_id, api_id_ind));
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
    if (api_id_ind != soci::i_ok) out.api_id.clear();
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

// The row id of user `username`; nullopt when there is none.
std::optional<int64_t> UserId(soci::session& sql, const std::string& username) {
  long long id = 0;
  soci::indicator ind = soci::i_null;
  sql << "SELECT id FROM users WHERE username = :u", soci::use(username), soci::into(id, ind);
  if (ind != soci::i_ok) return std::nullopt;
  return id;
}

// The user row `id` as replicated (UserBody); nullopt when there is none.
std::optional<User> ReadUserRow(soci::session& sql, int64_t id) {
  std::vector<User> users;
  Params p;
  Collect<UserInto>(sql, p, kUserColumns + ("WHERE id = " + p.Add(id)), &users);
  if (users.empty()) return std::nullopt;
  return users.front();
}

// Inserts user `u.username` or updates every field of it but the local row id. A new password
// hash or disabling the user ends its web sessions (here and for changes applied from peers).
void WriteUserRow(soci::session& sql, const User& u) {
  {
    long long id = 0, was_disabled = 0;
    std::string old_hash;
    soci::indicator ind = soci::i_null;
    sql << "SELECT id, password_hash, disabled FROM users WHERE username = :u",
        soci::use(u.username), soci::into(id, ind), soci::into(old_hash), soci::into(was_disabled);
    if (ind == soci::i_ok && (old_hash != u.password_hash || (u.disabled && !was_disabled))) {
      sql << "DELETE FROM web_sessions WHERE user_id = :id", soci::use(id);
    }
  }
  const long long disabled = u.disabled ? 1 : 0;
  const long long created = u.created_ms;
  soci::statement up =
      (sql.prepare << "UPDATE users SET password_hash = :h, role = :r, tenant = :t, "
                      "disabled = :d, created_ms = :c WHERE username = :u",
       soci::use(u.password_hash), soci::use(u.role), soci::use(u.tenant), soci::use(disabled),
       soci::use(created), soci::use(u.username));
  up.execute(true);
  if (up.get_affected_rows() > 0) return;
  sql << "INSERT INTO users (username, password_hash, role, tenant, disabled, created_ms) "
         "VALUES (:u, :h, :r, :t, :d, :c)",
      soci::use(u.username), soci::use(u.password_hash), soci::use(u.role), soci::use(u.tenant),
      soci::use(disabled), soci::use(created);
}

// Deletes user row `id` and its tokens; false when there was no such user.
bool DeleteUserRows(soci::session& sql, int64_t id) {
  Params w;
  Affected(sql, w, "DELETE FROM web_sessions WHERE user_id = " + w.Add(id));
  Params t;
  Affected(sql, t, "DELETE FROM api_tokens WHERE user_id = " + t.Add(id));
  Params p;
  return Affected(sql, p, "DELETE FROM users WHERE id = " + p.Add(id)) > 0;
}

// Inserts token `t.api_id` (of user row `t.user_id`) or updates every field of it but
// last_used_ms, which stays this node's.
void WriteTokenRow(soci::session& sql, const ApiToken& t) {
  Params u;
  const std::string update =
      "UPDATE api_tokens SET user_id = " + u.Add(t.user_id) + ", name = " + u.Add(t.name) +
      ", token_hash = " + u.Add(t.token_hash) + ", created_ms = " + u.Add(t.created_ms) +
      ", expires_ms = " + u.Add(t.expires_ms) + " WHERE api_id = " + u.Add(t.api_id);
  if (Affected(sql, u, update) > 0) return;
  Params p;
  const std::string insert =
      "INSERT INTO api_tokens (api_id, user_id, name, token_hash, created_ms, expires_ms, "
      "last_used_ms) VALUES (" +
      p.Add(t.api_id) + ", " + p.Add(t.user_id) + ", " + p.Add(t.name) + ", " +
      p.Add(t.token_hash) + ", " + p.Add(t.created_ms) + ", " + p.Add(t.expires_ms) + ", " +
      p.Add(t.last_used_ms) + ")";
  Affected(sql, p, insert);
}

}  // namespace

Result<std::vector<Role>> SqlCatalog::ListRoles() {
  std::vector<Role> roles;
  CV_RETURN_IF_ERROR(pool_->Run("list roles", SessionPool::Retry::kOnce, [&](soci::session& sql) {
    roles.clear();
    std::string name, permission, description;
    soci::indicator perm_ind = soci::i_null;
    soci::statement st =
        (sql.prepare << "SELECT r.name, r.description, p.permission FROM roles r "
                        "LEFT JOIN role_permissions p ON p.role = r.name "
                        "ORDER BY r.name, p.permission",
         soci::into(name), soci::into(description), soci::into(permission, perm_ind));
    if (st.execute(true)) {
      do {
        if (roles.empty() || roles.back().name != name) {
          roles.push_back(Role{name, {}, description});
        }
        if (perm_ind == soci::i_ok) roles.back().permissions.push_back(permission);
      } while (st.fetch());
    }
    return Status::Ok();
  }));
  return roles;
}

Result<int64_t> SqlCatalog::CreateUser(const User& user) {
  CV_RETURN_IF_ERROR(CheckUsername(user.username));
  std::optional<int64_t> id;
  Status status = Replicated("create user", SessionPool::Retry::kNo, [&](soci::session& sql) {
    if (!RoleExists(sql, user.role)) {
      return InvalidArgumentError("create user: no role \"" + user.role + "\"");
    }
    if (UserId(sql, user.username)) {
      return AlreadyExistsError("create user: \"" + user.username + "\" is taken");
    }
    User row = user;
    row.created_ms = user.created_ms != 0 ? user.created_ms : NowMs();
    WriteUserRow(sql, row);
    id = UserId(sql, user.username);
    changes_->Record(sql, kEntityUser, row.username, kOpUpsert, UserBody(row));
    return Status::Ok();
  });
  // A concurrent insert of the same name loses on the unique constraint.
  if (status.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("create user: \"" + user.username + "\" is taken");
  }
  CV_RETURN_IF_ERROR(status);
  if (!id) return InternalError("create user: the new row is not there");
  return *id;
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
  return Replicated("update user", SessionPool::Retry::kOnce, [&](soci::session& sql) -> Status {
    if (!RoleExists(sql, user.role)) {
      return InvalidArgumentError("update user: no role \"" + user.role + "\"");
    }
    std::optional<User> row = ReadUserRow(sql, user.id);
    if (!row) return NotFoundError("update user: no user with id " + std::to_string(user.id));
    row->password_hash = user.password_hash;
    row->role = user.role;
    row->tenant = user.tenant;
    row->disabled = user.disabled;
    WriteUserRow(sql, *row);
    changes_->Record(sql, kEntityUser, row->username, kOpUpsert, UserBody(*row));
    return Status::Ok();
  });
}

Status SqlCatalog::DeleteUser(int64_t id) {
  return Replicated("delete user", SessionPool::Retry::kOnce, [&](soci::session& sql) -> Status {
    std::optional<User> row = ReadUserRow(sql, id);
    if (!row || !DeleteUserRows(sql, id)) {
      return NotFoundError("delete user: no user with id " + std::to_string(id));
    }
    changes_->Record(sql, kEntityUser, row->username, kOpDelete, DeleteBody());
    return Status::Ok();
  });
}

Result<std::string> SqlCatalog::CreateToken(const ApiToken& token) {
  if (token.token_hash.empty()) return InvalidArgumentError("create token: empty token hash");
  ApiToken row = token;
  if (row.api_id.empty()) row.api_id = changes_->NewId();
  if (row.created_ms == 0) row.created_ms = NowMs();
  CV_RETURN_IF_ERROR(
      Replicated("create token", SessionPool::Retry::kNo, [&](soci::session& sql) -> Status {
        std::optional<User> user = ReadUserRow(sql, row.user_id);
        if (!user) {
          return NotFoundError("create token: no user with id " + std::to_string(row.user_id));
        }
        int taken = 0;
        sql << "SELECT COUNT(*) FROM api_tokens WHERE api_id = :a", soci::use(row.api_id),
            soci::into(taken);
        if (taken > 0) return AlreadyExistsError("create token: api id " + row.api_id + " taken");
        WriteTokenRow(sql, row);
        changes_->Record(sql, kEntityToken, row.api_id, kOpUpsert,
                         WriteTokenBody(row, user->username));
        return Status::Ok();
      }));
  return row.api_id;
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

Status SqlCatalog::DeleteToken(const std::string& api_id) {
  return Replicated("delete token", SessionPool::Retry::kOnce, [&](soci::session& sql) -> Status {
    Params p;
    if (Affected(sql, p, "DELETE FROM api_tokens WHERE api_id = " + p.Add(api_id)) == 0) {
      return NotFoundError("delete token: no token " + api_id);
    }
    changes_->Record(sql, kEntityToken, api_id, kOpDelete, DeleteBody());
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

}  // namespace callvault::catalog::internal

namespace callvault::catalog::internal {

Status ApplyUserChange(soci::session& sql, const Change& c, const nlohmann::json& body) {
  if (c.op == kOpDelete) {
    if (std::optional<int64_t> id = UserId(sql, c.key)) DeleteUserRows(sql, *id);
    return Status::Ok();
  }
  CV_ASSIGN_OR_RETURN(User u, ReadUserBody(body));
  if (u.username != c.key) {
    return InvalidArgumentError("user: the body names \"" + u.username + "\", the key \"" + c.key +
                                "\"");
  }
  CV_RETURN_IF_ERROR(CheckUsername(u.username));
  if (!RoleExists(sql, u.role)) {
    return InvalidArgumentError("user " + u.username + ": no role \"" + u.role + "\" here");
  }
  WriteUserRow(sql, u);
  return Status::Ok();
}

Status ApplyTokenChange(soci::session& sql, const Change& c, const nlohmann::json& body) {
  if (c.op == kOpDelete) {
    Params p;
    Affected(sql, p, "DELETE FROM api_tokens WHERE api_id = " + p.Add(c.key));
    return Status::Ok();
  }
  CV_ASSIGN_OR_RETURN(TokenBody t, ReadTokenBody(body));
  if (t.token.api_id != c.key || t.token.token_hash.empty()) {
    return InvalidArgumentError("token " + c.key + ": the body's api_id or token_hash is wrong");
  }
  std::optional<int64_t> user = UserId(sql, t.username);
  if (!user) {
    return FailedPreconditionError("token " + c.key + ": its user \"" + t.username +
                                   "\" does not exist here");
  }
  t.token.user_id = *user;
  WriteTokenRow(sql, t.token);
  return Status::Ok();
}

}  // namespace callvault::catalog::internal

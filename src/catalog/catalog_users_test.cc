// Roles, users, API tokens and the audit log on both backends.
#include <gtest/gtest.h>

#include "base/uuid.h"
#include "catalog/catalog.h"
#include "catalog/testing/catalog_fixture.h"

namespace callvault::catalog {
namespace {

using testing::CatalogTest;

class CatalogUsersTest : public CatalogTest {
 protected:
  User MakeUser(const std::string& name, const std::string& role = "viewer") {
    User u;
    u.username = name;
    u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
    u.role = role;
    u.created_ms = 1795593600000;
    return u;
  }
};

TEST_P(CatalogUsersTest, SeededRoles) {
  Result<std::vector<Role>> roles = catalog_->ListRoles();
  ASSERT_TRUE(roles.ok()) << roles.status().ToString();
  ASSERT_EQ(roles->size(), 3u);
  EXPECT_EQ((*roles)[0].name, "admin");
  EXPECT_EQ((*roles)[0].permissions,
            (std::vector<std::string>{"audio:read", "audit:read", "calls:delete", "calls:hold",
                                      "calls:read", "calls:tag", "metrics:read", "node:manage",
                                      "retention:run", "system:read", "tenants:manage",
                                      "users:manage"}));
  EXPECT_EQ((*roles)[1].name, "supervisor");
  EXPECT_EQ((*roles)[1].permissions,
            (std::vector<std::string>{"audio:read", "audit:read", "calls:delete", "calls:hold",
                                      "calls:read", "calls:tag"}));
  EXPECT_EQ((*roles)[2].name, "viewer");
  EXPECT_EQ((*roles)[2].permissions, (std::vector<std::string>{"audio:read", "calls:read"}));
}

TEST_P(CatalogUsersTest, UserCrud) {
  Result<int64_t> alice = catalog_->CreateUser(MakeUser("alice", "admin"));
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  User bob_in = MakeUser("bob");
  bob_in.tenant = "acme";
  Result<int64_t> bob = catalog_->CreateUser(bob_in);
  ASSERT_TRUE(bob.ok());
  EXPECT_NE(*alice, *bob);

  Result<User> got = catalog_->GetUser("bob");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, *bob);
  EXPECT_EQ(got->role, "viewer");
  EXPECT_EQ(got->tenant, "acme");
  EXPECT_EQ(got->password_hash, bob_in.password_hash);
  EXPECT_EQ(got->created_ms, 1795593600000);
  EXPECT_FALSE(got->disabled);
  EXPECT_EQ(catalog_->GetUserById(*alice)->username, "alice");

  EXPECT_EQ(catalog_->CreateUser(MakeUser("bob", "admin")).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(catalog_->CreateUser(MakeUser("carol", "root")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->CreateUser(MakeUser("")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->CreateUser(MakeUser("has space")).status().code(),
            StatusCode::kInvalidArgument);

  User changed = *got;
  changed.role = "supervisor";
  changed.disabled = true;
  changed.tenant = "";
  changed.password_hash = "new";
  ASSERT_TRUE(catalog_->UpdateUser(changed).ok());
  got = catalog_->GetUser("bob");
  EXPECT_EQ(got->role, "supervisor");
  EXPECT_TRUE(got->disabled);
  EXPECT_EQ(got->tenant, "");
  EXPECT_EQ(got->password_hash, "new");
  changed.role = "nope";
  EXPECT_EQ(catalog_->UpdateUser(changed).code(), StatusCode::kInvalidArgument);
  changed.role = "viewer";
  changed.id = 999999;
  EXPECT_EQ(catalog_->UpdateUser(changed).code(), StatusCode::kNotFound);

  Result<std::vector<User>> users = catalog_->ListUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].username, "alice");
  EXPECT_EQ((*users)[1].username, "bob");

  ASSERT_TRUE(catalog_->DeleteUser(*bob).ok());
  EXPECT_EQ(catalog_->GetUser("bob").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->GetUserById(*bob).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->DeleteUser(*bob).code(), StatusCode::kNotFound);
  // The name is free again.
  EXPECT_TRUE(catalog_->CreateUser(MakeUser("bob")).ok());
}

TEST_P(CatalogUsersTest, Tokens) {
  Result<int64_t> uid = catalog_->CreateUser(MakeUser("alice"));
  ASSERT_TRUE(uid.ok());
  ApiToken t;
  t.user_id = *uid;
  t.name = "ci";
  t.token_hash = std::string(64, 'c');
  t.created_ms = 1000;
  t.expires_ms = 5000;
  Result<std::string> tid = catalog_->CreateToken(t);
  ASSERT_TRUE(tid.ok()) << tid.status().ToString();
  EXPECT_TRUE(IsUuid(*tid)) << *tid;
  t.name = "second";
  t.token_hash = std::string(64, 'd');
  t.expires_ms.reset();
  Result<std::string> tid2 = catalog_->CreateToken(t);
  ASSERT_TRUE(tid2.ok());
  EXPECT_NE(*tid, *tid2);

  Result<ApiToken> found = catalog_->FindToken(std::string(64, 'c'));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->api_id, *tid);
  EXPECT_GT(found->id, 0);
  EXPECT_EQ(found->user_id, *uid);
  EXPECT_EQ(found->name, "ci");
  EXPECT_EQ(found->created_ms, 1000);
  EXPECT_EQ(found->expires_ms, 5000);
  EXPECT_EQ(found->last_used_ms, std::nullopt);
  EXPECT_EQ(catalog_->FindToken("unknown").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->CreateToken(t).status().code(), StatusCode::kAlreadyExists);  // same hash
  t.token_hash = "f";
  t.api_id = *tid;
  EXPECT_EQ(catalog_->CreateToken(t).status().code(), StatusCode::kAlreadyExists);  // same id
  t.api_id.clear();
  t.user_id = 424242;
  t.token_hash = "e";
  EXPECT_EQ(catalog_->CreateToken(t).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(catalog_->TouchToken(found->id, 7777).ok());
  EXPECT_EQ(catalog_->FindToken(std::string(64, 'c'))->last_used_ms, 7777);
  EXPECT_EQ(catalog_->TouchToken(999999, 1).code(), StatusCode::kNotFound);

  Result<std::vector<ApiToken>> list = catalog_->ListTokens(*uid);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "ci");
  EXPECT_EQ((*list)[1].expires_ms, std::nullopt);

  ASSERT_TRUE(catalog_->DeleteToken(*tid).ok());
  EXPECT_EQ(catalog_->DeleteToken(*tid).code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->FindToken(std::string(64, 'c')).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->ListTokens(*uid)->size(), 1u);
  // Deleting the user deletes its tokens.
  ASSERT_TRUE(catalog_->DeleteUser(*uid).ok());
  EXPECT_EQ(catalog_->FindToken(std::string(64, 'd')).status().code(), StatusCode::kNotFound);
}

TEST_P(CatalogUsersTest, AuditLogAppendsAndPages) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    AuditEntry e;
    e.at_ms = 1000 + i;
    e.actor = "alice";
    e.action = i % 2 ? "call.delete" : "user.create";
    e.target = "t" + std::to_string(i);
    e.detail = {{"i", i}, {"why", "test"}};
    e.remote = "127.0.0.1";
    Result<int64_t> id = catalog_->AppendAudit(e);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    if (!ids.empty()) {
      EXPECT_GT(*id, ids.back());
    }
    ids.push_back(*id);
  }
  Result<std::vector<AuditEntry>> all = catalog_->ListAudit(0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[3].id, ids[3]);
  EXPECT_EQ((*all)[3].at_ms, 1003);
  EXPECT_EQ((*all)[3].actor, "alice");
  EXPECT_EQ((*all)[3].action, "call.delete");
  EXPECT_EQ((*all)[3].target, "t3");
  EXPECT_EQ((*all)[3].detail, (nlohmann::json{{"i", 3}, {"why", "test"}}));
  EXPECT_EQ((*all)[3].remote, "127.0.0.1");
  EXPECT_TRUE(IsUuid((*all)[3].uid)) << (*all)[3].uid;
  EXPECT_NE((*all)[3].uid, (*all)[2].uid);
  Result<std::vector<AuditEntry>> page = catalog_->ListAudit(ids[1], 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, ids[2]);
  EXPECT_EQ((*page)[1].id, ids[3]);
  EXPECT_EQ(catalog_->ListAudit(0, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->AppendAudit(AuditEntry()).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(CatalogUsersTest, AuditFilters) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) {
    AuditEntry e;
    e.at_ms = 1000 + i * 10;
    e.actor = i < 3 ? "alice" : "bob";
    e.action = i % 2 ? "call.delete" : "call.tag";
    e.target = i == 4 ? "call-x" : "call-" + std::to_string(i);
    Result<int64_t> id = catalog_->AppendAudit(e);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ids.push_back(*id);
  }
  auto find = [&](AuditFilter f) {
    std::vector<int64_t> out;
    Result<std::vector<AuditEntry>> got = catalog_->FindAudit(f);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (got.ok()) {
      for (const AuditEntry& e : *got) out.push_back(e.id);
    }
    return out;
  };
  AuditFilter f;
  f.actor = "bob";
  EXPECT_EQ(find(f), (std::vector<int64_t>{ids[3], ids[4], ids[5]}));
  f.action = "call.delete";
  EXPECT_EQ(find(f), (std::vector<int64_t>{ids[3], ids[5]}));
  f = AuditFilter{};
  f.target = "call-x";
  EXPECT_EQ(find(f), (std::vector<int64_t>{ids[4]}));
  f = AuditFilter{};
  f.from_ms = 1010;
  f.to_ms = 1030;
  EXPECT_EQ(find(f), (std::vector<int64_t>{ids[1], ids[2]}));
  f = AuditFilter{};
  f.descending = true;
  f.limit = 2;
  EXPECT_EQ(find(f), (std::vector<int64_t>{ids[5], ids[4]}));
  f.before_id = ids[4];
  EXPECT_EQ(find(f), (std::vector<int64_t>{ids[3], ids[2]}));
  f.actor = "alice";
  f.before_id = ids[1];
  f.limit = 10;
  EXPECT_EQ(find(f), (std::vector<int64_t>{ids[0]}));
  f = AuditFilter{};
  f.limit = 1001;
  EXPECT_EQ(catalog_->FindAudit(f).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(CatalogUsersTest, WebSessions) {
  Result<int64_t> alice = catalog_->CreateUser(MakeUser("alice", "admin"));
  ASSERT_TRUE(alice.ok());
  WebSession s;
  s.id_hash = std::string(64, 'a');
  s.user_id = *alice;
  s.csrf_token = "csrf";
  s.credential = "cred";
  s.created_ms = s.last_seen_ms = 1000;
  s.expires_ms = 5000;
  s.remote = "127.0.0.1";
  s.user_agent = "test";
  ASSERT_TRUE(catalog_->CreateSession(s).ok());
  EXPECT_EQ(catalog_->CreateSession(s).code(), StatusCode::kAlreadyExists);
  Result<WebSession> got = catalog_->GetSession(s.id_hash);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->user_id, *alice);
  EXPECT_EQ(got->csrf_token, "csrf");
  EXPECT_EQ(got->credential, "cred");
  EXPECT_EQ(got->expires_ms, 5000);
  EXPECT_EQ(got->user_agent, "test");
  ASSERT_TRUE(catalog_->TouchSession(s.id_hash, 2000).ok());
  EXPECT_EQ(catalog_->GetSession(s.id_hash)->last_seen_ms, 2000);
  ASSERT_TRUE(catalog_->TouchSession(s.id_hash, 1500).ok());  // never backwards
  EXPECT_EQ(catalog_->GetSession(s.id_hash)->last_seen_ms, 2000);
  EXPECT_EQ(catalog_->TouchSession(std::string(64, 'b'), 1).code(), StatusCode::kNotFound);
  WebSession orphan = s;
  orphan.id_hash = std::string(64, 'c');
  orphan.user_id = *alice + 100;
  EXPECT_EQ(catalog_->CreateSession(orphan).code(), StatusCode::kNotFound);

  // A later session prunes the expired one.
  WebSession later = s;
  later.id_hash = std::string(64, 'd');
  later.created_ms = later.last_seen_ms = 6000;
  later.expires_ms = 9000;
  ASSERT_TRUE(catalog_->CreateSession(later).ok());
  EXPECT_EQ(catalog_->GetSession(s.id_hash).status().code(), StatusCode::kNotFound);

  // Role and tenant changes keep the session; a new password or disabling ends it.
  User u = *catalog_->GetUser("alice");
  u.role = "viewer";
  ASSERT_TRUE(catalog_->UpdateUser(u).ok());
  EXPECT_TRUE(catalog_->GetSession(later.id_hash).ok());
  u.password_hash += "x";
  ASSERT_TRUE(catalog_->UpdateUser(u).ok());
  EXPECT_EQ(catalog_->GetSession(later.id_hash).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(catalog_->CreateSession(later).ok());
  u.disabled = true;
  ASSERT_TRUE(catalog_->UpdateUser(u).ok());
  EXPECT_EQ(catalog_->GetSession(later.id_hash).status().code(), StatusCode::kNotFound);
  u.disabled = false;
  ASSERT_TRUE(catalog_->UpdateUser(u).ok());
  ASSERT_TRUE(catalog_->CreateSession(later).ok());
  ASSERT_TRUE(catalog_->DeleteUser(u.id).ok());
  EXPECT_EQ(catalog_->GetSession(later.id_hash).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(catalog_->DeleteSession(later.id_hash).ok());  // absent: OK
}

CV_CATALOG_TEST_SUITE(CatalogUsersTest);

}  // namespace
}  // namespace callvault::catalog

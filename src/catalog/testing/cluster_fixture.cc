#include "catalog/testing/cluster_fixture.h"

namespace callvault::catalog::testing {

std::unique_ptr<Catalog> ClusterTest::OpenNode(const std::string& node_id, const Clock* clock) {
  CatalogOptions options = options_;
  options.url = FreshUrl();
  options.node_id = node_id;
  options.clock = clock;
  Result<std::unique_ptr<Catalog>> node = OpenCatalog(options);
  EXPECT_TRUE(node.ok()) << node_id << ": " << node.status().ToString();
  return node.ok() ? std::move(node).value() : nullptr;
}

ApplyResult ClusterTest::Pull(Catalog& to, Catalog& from, const std::string& from_id,
                              std::chrono::milliseconds max_skew) {
  Result<int64_t> cursor = to.GetCursor(from_id);
  EXPECT_TRUE(cursor.ok()) << cursor.status().ToString();
  Result<std::vector<Change>> changes = from.ChangesAfter(cursor.ok() ? *cursor : 0, 10000);
  EXPECT_TRUE(changes.ok()) << changes.status().ToString();
  if (!changes.ok()) return {};
  Result<ApplyResult> applied = to.ApplyChanges(*changes, max_skew);
  EXPECT_TRUE(applied.ok()) << applied.status().ToString();
  if (applied.ok() && applied->first_refused_seq > 0) {
    EXPECT_TRUE(to.SetCursor(from_id, applied->first_refused_seq - 1).ok());
  } else if (!changes->empty()) {
    EXPECT_TRUE(to.SetCursor(from_id, changes->back().seq).ok());
  }
  return applied.ok() ? *applied : ApplyResult{};
}

std::vector<Change> ClusterTest::Log(Catalog& node) {
  Result<std::vector<Change>> changes = node.ChangesAfter(0, 10000);
  EXPECT_TRUE(changes.ok()) << changes.status().ToString();
  return changes.ok() ? *changes : std::vector<Change>{};
}

std::vector<std::string> ClusterTest::Users(Catalog& node) {
  Result<std::vector<User>> users = node.ListUsers();
  EXPECT_TRUE(users.ok()) << users.status().ToString();
  std::vector<std::string> out;
  if (!users.ok()) return out;
  for (const User& u : *users) {
    out.push_back(u.username + "|" + u.password_hash + "|" + u.role + "|" + u.tenant + "|" +
                  (u.disabled ? "1" : "0") + "|" + std::to_string(u.created_ms));
  }
  return out;
}

}  // namespace callvault::catalog::testing

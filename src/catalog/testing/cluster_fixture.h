// A test cluster of catalogs for the change-log tests: every node has its own database on the
// fixture's backend (SQLite file or PostgreSQL database), its own node id and clock, and pulls
// a peer's log the way replication/ does (cursor → ChangesAfter → ApplyChanges → SetCursor).
//
// Test-only. Thread-safety: gtest's (one test at a time).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "catalog/catalog.h"
#include "catalog/testing/catalog_fixture.h"

namespace callvault::catalog::testing {

class ClusterTest : public CatalogTest {
 protected:
  static constexpr std::chrono::milliseconds kMaxSkew = std::chrono::seconds(60);

  // A new node `node_id` on a fresh database; `clock` null = the real clock. Null (and a test
  // failure) when it does not open.
  std::unique_ptr<Catalog> OpenNode(const std::string& node_id, const Clock* clock = nullptr);

  // `to` pulls `from`'s log after its cursor for `from_id`, applies it and moves the cursor
  // (below the first refused change, if any).
  ApplyResult Pull(Catalog& to, Catalog& from, const std::string& from_id,
                   std::chrono::milliseconds max_skew = kMaxSkew);

  // Every change in `node`'s log.
  std::vector<Change> Log(Catalog& node);

  // Each user as "username|hash|role|tenant|disabled|created_ms" (row ids differ by node).
  std::vector<std::string> Users(Catalog& node);
};

}  // namespace callvault::catalog::testing

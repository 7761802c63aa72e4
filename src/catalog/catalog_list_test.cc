// ListCalls on both backends: every filter, both sorts in both directions, keyset pagination
// over a few thousand calls, cursor and limit validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "catalog/catalog.h"
#include "catalog/testing/catalog_fixture.h"
#include "catalog/testing/manifests.h"

namespace callvault::catalog {
namespace {

using testing::CatalogTest;
using testing::MakeManifest;
using testing::ManifestSpec;
using testing::TestCallId;

constexpr int64_t kT = 1795593600000;

class CatalogListTest : public CatalogTest {
 protected:
  // c0..c3 finished, c4 active; see each spec for what the filters match.
  void AddFixtureCalls() {
    std::vector<recording::Manifest> ms;
    ManifestSpec c0;  // acme, rec-a, completed, 60 s
    c0.call_id = Id(0);
    c0.started_ms = kT;
    c0.duration_ms = 60000;
    c0.tenant = "acme";
    c0.participants = {{"Alice Smith", "sip:+15551230001@example.com", 0},
                       {"Bob", "sip:bob@voip.test", 1}};
    ms.push_back(MakeManifest(c0));
    ManifestSpec c1;  // no tenant, rec-b, timed_out, 120 s
    c1.call_id = Id(1);
    c1.started_ms = kT + 1000;
    c1.duration_ms = 120000;
    c1.node_id = "rec-b";
    c1.state = "timed_out";
    c1.sip_call_id = "a84b4c76e66710@10.0.0.1";
    c1.participants = {{"Carol", "sip:carol@voip.test", 0}, {"Dave", "tel:+4930999", 1}};
    ms.push_back(MakeManifest(c1));
    ManifestSpec c2;  // globex, rec-a, partial, 30 s, a third participant, metadata text
    c2.call_id = Id(2);
    c2.started_ms = kT + 2000;
    c2.duration_ms = 30000;
    c2.tenant = "globex";
    c2.state = "partial";
    c2.participants = {{"Erin", "sip:erin@voip.test", 0},
                       {"Frank", "sip:frank@voip.test", 1},
                       {"Zed Third", "sip:zed@third.example.org", std::nullopt}};
    c2.metadata_raw = std::vector<std::string>{
        testing::MetadataXml(c2.participants, "c2"),
        "<extra><!-- not indexed: 4711 --><note>escalation ticket 8812</note>"
        "<note lang=\"de\">Überweisung</note></extra>"};
    ms.push_back(MakeManifest(c2));
    ManifestSpec c3;  // no tenant, rec-b, completed, 60 s, no participants (From/To only)
    c3.call_id = Id(3);
    c3.started_ms = kT + 3000;
    c3.duration_ms = 60000;
    c3.node_id = "rec-b";
    c3.participants.clear();
    c3.metadata_raw = std::vector<std::string>{};
    c3.from = "\"Gina\" <sip:gina@example.com>;tag=1";
    c3.to = "<sip:5550100@pbx.test>";
    ms.push_back(MakeManifest(c3));
    ASSERT_TRUE(catalog_->IngestManifests(ms).ok());
    ASSERT_TRUE(catalog_->AddTags(Id(3), {"vip"}).ok());
    ActiveCall c4;
    c4.call_id = Id(4);
    c4.node_id = "rec-a";
    c4.started_ms = kT + 4000;
    c4.from = "<sip:henry@example.net>";
    c4.to = "<sip:ivy@example.net>";
    ASSERT_TRUE(catalog_->UpsertActive({c4}).ok());
  }
  static std::string Id(int i) { return TestCallId(kT + i * 1000, 0); }

  // Indexes (into Id()) of the calls `filter` lists, sorted by started descending.
  std::vector<int> Match(const CallFilter& filter) {
    Result<CallPage> page = catalog_->ListCalls(filter, {.limit = 100});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<int> out;
    if (!page.ok()) return out;
    for (const CallSummary& c : page->calls) {
      for (int i = 0; i < 5; ++i) {
        if (c.call_id == Id(i)) out.push_back(i);
      }
    }
    return out;
  }
  std::vector<int> Order(SortKey sort, bool descending) {
    Result<CallPage> page = catalog_->ListCalls({}, {.sort = sort, .descending = descending});
    EXPECT_TRUE(page.ok());
    std::vector<int> out;
    for (const CallSummary& c : page->calls) {
      for (int i = 0; i < 5; ++i) {
        if (c.call_id == Id(i)) out.push_back(i);
      }
    }
    return out;
  }
  using V = std::vector<int>;
};

TEST_P(CatalogListTest, EachFilter) {
  AddFixtureCalls();
  EXPECT_EQ(Match({}), (V{4, 3, 2, 1, 0}));
  EXPECT_EQ(Match({.started_from_ms = kT + 1000, .started_to_ms = kT + 3000}), (V{2, 1}));
  EXPECT_EQ(Match({.started_from_ms = kT + 3000}), (V{4, 3}));
  EXPECT_EQ(Match({.caller = "5551230"}), (V{0}));
  EXPECT_EQ(Match({.caller = "EXAMPLE.COM"}), (V{3, 0}));
  EXPECT_EQ(Match({.caller = "henry"}), (V{4}));
  EXPECT_EQ(Match({.callee = "+4930"}), (V{1}));
  EXPECT_EQ(Match({.callee = "5550100"}), (V{3}));
  EXPECT_EQ(Match({.callee = "%"}), (V{}));           // wildcards are literal
  EXPECT_EQ(Match({.number = "zed@third"}), (V{2}));  // third participant (not caller/callee)
  EXPECT_EQ(Match({.number = "voip.test"}), (V{2, 1, 0}));
  EXPECT_EQ(Match({.number = "gina"}), (V{3}));  // From-derived caller
  EXPECT_EQ(Match({.participant = "zed THIRD"}), (V{2}));
  EXPECT_EQ(Match({.participant = "smith"}), (V{0}));
  EXPECT_EQ(Match({.participant = "gina"}), (V{3}));
  EXPECT_EQ(Match({.min_duration_ms = 60000}), (V{3, 1, 0}));
  EXPECT_EQ(Match({.max_duration_ms = 60000}), (V{4, 3, 2, 0}));
  EXPECT_EQ(Match({.min_duration_ms = 31000, .max_duration_ms = 119999}), (V{3, 0}));
  EXPECT_EQ(Match({.states = {CallState::kTimedOut, CallState::kPartial}}), (V{2, 1}));
  EXPECT_EQ(Match({.states = {CallState::kActive}}), (V{4}));
  EXPECT_EQ(Match({.node_id = "rec-b"}), (V{3, 1}));
  EXPECT_EQ(Match({.tenant = std::string("acme")}), (V{0}));
  EXPECT_EQ(Match({.tenant = std::string("")}), (V{4, 3, 1}));
  EXPECT_EQ(Match({.tag = "vip"}), (V{3}));
  EXPECT_EQ(Match({.tag = "VIP"}), (V{}));  // tags are exact
  EXPECT_EQ(Match({.text = "8812"}), (V{2}));
  EXPECT_EQ(Match({.text = "Escalat"}), (V{2}));      // word prefix, any case
  EXPECT_EQ(Match({.text = "Überweisung"}), (V{2}));  // non-ASCII: see catalog.h
  EXPECT_EQ(Match({.text = "a84b4c76e66710@10.0.0.1"}), (V{1}));
  EXPECT_EQ(Match({.text = "alice smith"}), (V{0}));
  EXPECT_EQ(Match({.text = "smith carol"}), (V{}));  // every word must match
  EXPECT_EQ(Match({.text = "4711"}), (V{}));         // XML comments are not text
  EXPECT_EQ(Match({.text = "nosuchword"}), (V{}));
  EXPECT_EQ(Match({.text = "lice"}), (V{}));  // prefixes of words, not infixes
  EXPECT_EQ(catalog_->ListCalls({.text = "@@ !!"}, {}).status().code(),
            StatusCode::kInvalidArgument);
  // AND-combined.
  EXPECT_EQ(Match({.min_duration_ms = 60000, .states = {CallState::kCompleted}}), (V{3, 0}));
  EXPECT_EQ(
      Match({.min_duration_ms = 60000, .states = {CallState::kCompleted}, .node_id = "rec-a"}),
      (V{0}));
  EXPECT_EQ(Match({.started_from_ms = kT,
                   .caller = "example",
                   .states = {CallState::kCompleted},
                   .text = "gina"}),
            (V{3}));
}

// The contains filters are narrowed by the trigram indexes (calls_trgm on SQLite, pg_trgm on
// PostgreSQL) for needles of 3 characters or more; the result is the same as the plain scan,
// and the index follows re-ingest, active upserts and deletion.
TEST_P(CatalogListTest, ContainsFiltersFollowTheTrigramIndex) {
  AddFixtureCalls();
  EXPECT_EQ(Match({.number = "+4"}), (V{1}));               // 2 characters: no index, still found
  EXPECT_EQ(Match({.participant = "zE"}), (V{2}));          // idem, any case
  EXPECT_EQ(Match({.number = "example.com\nsip"}), (V{}));  // never across two values
  EXPECT_EQ(Match({.participant = "Al\"ce"}), (V{}));       // quotes are literal
  EXPECT_EQ(Match({.caller = "55_123"}), (V{}));            // wildcards are literal
  EXPECT_EQ(Match({.callee = "bob@VOIP"}), (V{0}));
  EXPECT_EQ(Match({.caller = "bob@voip"}), (V{}));  // Bob is the callee
  EXPECT_EQ(Match({.number = "bob", .participant = "alice"}), (V{0}));
  EXPECT_EQ(Match({.number = "bob", .participant = "carol"}), (V{}));

  // A newer manifest of c1 replaces its participants in the index.
  ManifestSpec c1;
  c1.call_id = Id(1);
  c1.started_ms = kT + 1000;
  c1.duration_ms = 120000;
  c1.node_id = "rec-b";
  c1.state = "timed_out";
  c1.finalized_ms = kT + 1000 + 12 + 120000 + 5000;
  c1.participants = {{"Xavier", "sip:xavier@voip.test", 0}, {"Dave", "tel:+4930999", 1}};
  ASSERT_TRUE(catalog_->IngestManifests({MakeManifest(c1)}).ok());
  EXPECT_EQ(Match({.participant = "xavier"}), (V{1}));
  EXPECT_EQ(Match({.participant = "carol"}), (V{}));
  EXPECT_EQ(Match({.number = "carol@"}), (V{}));

  // An active call's participants are indexed, and refreshed.
  ActiveCall c4;
  c4.call_id = Id(4);
  c4.node_id = "rec-a";
  c4.started_ms = kT + 4000;
  c4.from = "<sip:henry@example.net>";
  c4.to = "<sip:ivy@example.net>";
  c4.participants = nlohmann::json::array(
      {{{"id", "p1"}, {"name", "Jürgen Groß"}, {"aor", "sip:juergen@example.net"}}});
  ASSERT_TRUE(catalog_->UpsertActive({c4}).ok());
  EXPECT_EQ(Match({.participant = "ürgen g"}), (V{4}));
  EXPECT_EQ(Match({.number = "juergen@"}), (V{4}));

  // A deleted call leaves the index.
  ASSERT_TRUE(catalog_->MarkDeleted(Id(2), "test", kT + 10000).ok());
  EXPECT_EQ(Match({.participant = "zed third"}), (V{}));
  EXPECT_EQ(Match({.number = "voip.test"}), (V{1, 0}));
}

TEST_P(CatalogListTest, SortsBothWays) {
  AddFixtureCalls();
  EXPECT_EQ(Order(SortKey::kStarted, true), (V{4, 3, 2, 1, 0}));
  EXPECT_EQ(Order(SortKey::kStarted, false), (V{0, 1, 2, 3, 4}));
  // c0 and c3 both last 60 s: the call id breaks the tie.
  EXPECT_EQ(Order(SortKey::kDuration, false), (V{4, 2, 0, 3, 1}));
  EXPECT_EQ(Order(SortKey::kDuration, true), (V{1, 3, 0, 2, 4}));
}

TEST_P(CatalogListTest, PaginatesThousandsWithoutDuplicatesOrGaps) {
  constexpr int kCalls = 2500;
  std::vector<recording::Manifest> batch;
  for (int i = 0; i < kCalls; ++i) {
    ManifestSpec s;
    s.started_ms = kT + (i / 7) * 1000;  // runs of equal start times
    s.call_id = TestCallId(s.started_ms, static_cast<uint64_t>(i));
    s.duration_ms = (i * 7919) % 13 * 1000;  // many equal durations
    s.state = i % 5 == 0 ? "partial" : "completed";
    batch.push_back(MakeManifest(s));
    if (batch.size() == 250) {
      ASSERT_TRUE(catalog_->IngestManifests(batch).ok());
      batch.clear();
    }
  }
  for (SortKey sort : {SortKey::kStarted, SortKey::kDuration}) {
    for (bool descending : {true, false}) {
      for (const CallFilter& filter : {CallFilter{}, CallFilter{.states = {CallState::kPartial}}}) {
        std::set<std::string> seen;
        std::vector<std::pair<int64_t, std::string>> keys;
        PageRequest req{.sort = sort, .descending = descending, .limit = 97};
        int pages = 0;
        do {
          Result<CallPage> page = catalog_->ListCalls(filter, req);
          ASSERT_TRUE(page.ok()) << page.status().ToString();
          ASSERT_LE(page->calls.size(), 97u);
          for (const CallSummary& c : page->calls) {
            EXPECT_TRUE(seen.insert(c.call_id).second) << "duplicate " << c.call_id;
            keys.emplace_back(sort == SortKey::kStarted ? c.started_ms : c.duration_ms, c.call_id);
          }
          req.cursor = page->next_cursor;
          ASSERT_LT(++pages, 100);
        } while (!req.cursor.empty());
        const size_t expected = filter.states.empty() ? kCalls : kCalls / 5;
        EXPECT_EQ(seen.size(), expected);
        std::vector<std::pair<int64_t, std::string>> sorted = keys;
        std::sort(sorted.begin(), sorted.end());
        if (descending) std::reverse(sorted.begin(), sorted.end());
        EXPECT_EQ(keys, sorted) << "sort " << int(sort) << " descending " << descending;
      }
    }
  }
}

TEST_P(CatalogListTest, RejectsBadCursorsAndLimits) {
  AddFixtureCalls();
  Result<CallPage> first = catalog_->ListCalls({}, {.limit = 2});
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->next_cursor.empty());
  const std::string cursor = first->next_cursor;
  Result<CallPage> second = catalog_->ListCalls({}, {.cursor = cursor, .limit = 2});
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->calls.size(), 2u);
  EXPECT_EQ(second->calls[0].call_id, Id(2));

  std::string tampered = cursor;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {tampered, std::string("garbage!"), cursor.substr(1), std::string("AAAA")}) {
    EXPECT_EQ(catalog_->ListCalls({}, {.cursor = bad}).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(catalog_->ListCalls({}, {.sort = SortKey::kDuration, .cursor = cursor}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->ListCalls({}, {.descending = false, .cursor = cursor}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->ListCalls({}, {.limit = 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->ListCalls({}, {.limit = 1001}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(catalog_->ListCalls({}, {.limit = 1000}).ok());
  EXPECT_TRUE(catalog_->ListCalls({}, {.limit = 1}).ok());
}

CV_CATALOG_TEST_SUITE(CatalogListTest);

}  // namespace
}  // namespace callvault::catalog

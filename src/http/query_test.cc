#include "http/query.h"

#include <gtest/gtest.h>

#include "base/time_format.h"
#include "http/response.h"

namespace callvault::http {
namespace {

Result<CallQuery> Parse(QueryParams p) { return ParseCallQuery(p); }

void ExpectBad(QueryParams p, std::string_view param) {
  Result<CallQuery> q = ParseCallQuery(p);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(q.status().message().find(param), std::string_view::npos) << q.status().message();
}

TEST(QueryTest, DefaultsWhenEmpty) {
  Result<CallQuery> q = Parse({});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->page.limit, 50);
  EXPECT_TRUE(q->page.descending);
  EXPECT_EQ(q->page.sort, catalog::SortKey::kStarted);
  EXPECT_FALSE(q->filter.tenant.has_value());
  EXPECT_FALSE(q->filter.started_from_ms.has_value());
}

TEST(QueryTest, EveryFilterField) {
  Result<CallQuery> q = Parse({{"from", "2026-11-25T08:00:00Z"},
                               {"to", "1795600800000"},
                               {"caller", "alice"},
                               {"callee", "+4930"},
                               {"number", "555"},
                               {"participant", "Bob"},
                               {"min_duration", "30"},
                               {"max_duration", "90000ms"},
                               {"state", "completed,partial"},
                               {"node", "rec-a"},
                               {"tenant", "acme"},
                               {"tag", "vip"},
                               {"q", "hello world"},
                               {"sort", "duration"},
                               {"order", "asc"},
                               {"limit", "1000"},
                               {"cursor", "abc123"}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  const catalog::CallFilter& f = q->filter;
  EXPECT_EQ(*f.started_from_ms, 1795593600000);
  EXPECT_EQ(*f.started_to_ms, 1795600800000);  // epoch ms as given
  EXPECT_EQ(f.caller, "alice");
  EXPECT_EQ(f.callee, "+4930");
  EXPECT_EQ(f.number, "555");
  EXPECT_EQ(f.participant, "Bob");
  EXPECT_EQ(*f.min_duration_ms, 30000);
  EXPECT_EQ(*f.max_duration_ms, 90000);
  ASSERT_EQ(f.states.size(), 2u);
  EXPECT_EQ(f.states[0], CallState::kCompleted);
  EXPECT_EQ(f.states[1], CallState::kPartial);
  EXPECT_EQ(f.node_id, "rec-a");
  EXPECT_EQ(*f.tenant, "acme");
  EXPECT_EQ(f.tag, "vip");
  EXPECT_EQ(f.text, "hello world");
  EXPECT_EQ(q->page.sort, catalog::SortKey::kDuration);
  EXPECT_FALSE(q->page.descending);
  EXPECT_EQ(q->page.limit, 1000);
  EXPECT_EQ(q->page.cursor, "abc123");
}

TEST(QueryTest, BadValuesNameTheParameter) {
  ExpectBad({{"limit", "0"}}, "limit");
  ExpectBad({{"limit", "1001"}}, "limit");
  ExpectBad({{"limit", "ten"}}, "limit");
  ExpectBad({{"from", "yesterday"}}, "from");
  ExpectBad({{"to", "2026-02-30T00:00:00Z"}}, "to");
  ExpectBad({{"from", "99999999999999999999"}}, "from");
  ExpectBad({{"state", "completed,done"}}, "state");
  ExpectBad({{"state", ""}}, "state");
  ExpectBad({{"sort", "caller"}}, "sort");
  ExpectBad({{"order", "up"}}, "order");
  ExpectBad({{"min_duration", "-5"}}, "min_duration");
  ExpectBad({{"max_duration", "1h"}}, "max_duration");
  ExpectBad({{"caller", std::string(257, 'a')}}, "caller");
  ExpectBad({{"q", "a\nb"}}, "q");
  ExpectBad({{"cursor", "has space"}}, "cursor");
  ExpectBad({{"from", "2026-11-26"}, {"to", "2026-11-25"}}, "from");
  ExpectBad({{"min_duration", "60"}, {"max_duration", "30"}}, "min_duration");
}

TEST(QueryTest, UnknownAndRepeatedParametersAreErrors) {
  ExpectBad({{"calller", "x"}}, "calller");
  ExpectBad({{"limit", "5"}, {"limit", "6"}}, "limit");
}

TEST(QueryTest, Durations) {
  EXPECT_EQ(*ParseDurationMs("90"), 90000);
  EXPECT_EQ(*ParseDurationMs("90s"), 90000);
  EXPECT_EQ(*ParseDurationMs("1500ms"), 1500);
  EXPECT_FALSE(ParseDurationMs("").ok());
  EXPECT_FALSE(ParseDurationMs("ms").ok());
  EXPECT_FALSE(ParseDurationMs("1.5").ok());
}

TEST(TimeTest, Rfc3339Forms) {
  EXPECT_EQ(*ParseTimeMs("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTimeMs("2026-11-25T08:00:00.123Z"), 1795593600123);
  EXPECT_EQ(*ParseTimeMs("2026-11-25t09:00:00.5+01:00"), 1795593600500);
  EXPECT_EQ(*ParseTimeMs("2026-11-25 03:00:00-05:00"), 1795593600000);
  EXPECT_EQ(*ParseTimeMs("2026-11-25"), 1795564800000);
  EXPECT_EQ(*ParseTimeMs("2024-02-29T00:00:00Z"), 1709164800000);
  for (std::string_view bad :
       {"", "2026", "2026-13-01", "2025-02-29", "2026-11-25T24:00:00Z", "2026-11-25T08:00:00",
        "2026-11-25T08:00:00.Z", "2026-11-25T08:00:00Zjunk", "2026-11-25T08:00:00+0100"}) {
    EXPECT_FALSE(ParseTimeMs(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatRfc3339Ms(1795593600123), "2026-11-25T08:00:00.123Z");
  EXPECT_EQ(FormatRfc3339Ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(JsonBodyTest, ObjectsOnlyAndBoundedDepth) {
  EXPECT_TRUE(ParseJsonObject(R"({"tags":["a","b"]})").ok());
  EXPECT_FALSE(ParseJsonObject("").ok());
  EXPECT_FALSE(ParseJsonObject("[1,2]").ok());
  EXPECT_FALSE(ParseJsonObject("{\"a\":").ok());
  EXPECT_FALSE(ParseJsonObject(std::string(10000, '[')).ok());
  std::string deep = "{\"a\":" + std::string(20, '[') + std::string(20, ']') + "}";
  EXPECT_FALSE(ParseJsonObject(deep).ok());
  EXPECT_TRUE(ParseJsonObject(R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[["})").ok());  // in a string
  EXPECT_TRUE(IsJsonContentType("Application/JSON; charset=utf-8"));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType(""));
}

}  // namespace
}  // namespace callvault::http

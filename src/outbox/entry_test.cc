#include "outbox/entry.h"

#include <gtest/gtest.h>

namespace callvault::outbox {
namespace {

constexpr char kId[] = "01936b2e-7c4a-7d1e-9b0a-4f1e2d3c4b5a";

TEST(EntryTest, RoundTripsAndMatchesTheDocumentedExample) {
  const Entry e{.call_id = kId,
                .manifest = "2026/11/25/080000_01936b2e.wav.json",
                .state = "completed",
                .finalized = "2026-11-25T08:05:00.840Z"};
  const std::string text = SerializeEntry(e);
  EXPECT_EQ(
      text,
      "{\"call_id\":\"01936b2e-7c4a-7d1e-9b0a-4f1e2d3c4b5a\",\"finalized\":\"2026-11-25T08:05:"
      "00.840Z\",\"format\":\"callvault-outbox\",\"manifest\":\"2026/11/25/"
      "080000_01936b2e.wav.json\",\"state\":\"completed\",\"version\":1}\n");
  Result<Entry> back = ParseEntry(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, e);
}

TEST(EntryTest, CarriesAnOptionalLocation) {
  Entry e{.call_id = kId, .manifest = "a/b.wav.json", .state = "completed", .finalized = "x"};
  EXPECT_EQ(SerializeEntry(e).find("location"), std::string::npos);  // absent when empty
  e.location = "s3://calls/rec/a/b.wav";
  Result<Entry> back = ParseEntry(SerializeEntry(e));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->location, "s3://calls/rec/a/b.wav");
}

TEST(EntryTest, RejectsWhatItCannotUseWithTheReason) {
  auto why = [](std::string_view text) {
    Result<Entry> r = ParseEntry(text);
    return r.ok() ? std::string("ok") : std::string(r.status().message());
  };
  const std::string good_tail =
      std::string(",\"call_id\":\"") + kId + "\",\"manifest\":\"a/b.json\"}";
  EXPECT_EQ(why("{\"format\":\"callvault-outbox\",\"version\":1" + good_tail), "ok");
  EXPECT_EQ(why("not json"), "outbox entry: not a JSON object");
  EXPECT_EQ(why("{\"format\":\"other\",\"version\":1" + good_tail),
            "outbox entry: format is not \"callvault-outbox\"");
  EXPECT_EQ(why("{\"format\":\"callvault-outbox\",\"version\":2" + good_tail),
            "outbox entry: version 2 (this build reads version 1)");
  EXPECT_EQ(why("{\"format\":\"callvault-outbox\",\"version\":\"1\"" + good_tail),
            "outbox entry: no integer version");
  EXPECT_EQ(why("{\"format\":\"callvault-outbox\",\"version\":1,\"call_id\":\"x\","
                "\"manifest\":\"a.json\"}"),
            "outbox entry: call_id is not a UUID");
  for (const char* bad : {"/etc/passwd", "../x.json", "a/../../x", "a//b", ""}) {
    EXPECT_NE(why(std::string("{\"format\":\"callvault-outbox\",\"version\":1,\"call_id\":\"") +
                  kId + "\",\"manifest\":\"" + bad + "\"}"),
              "ok")
        << bad;
  }
}

TEST(EntryTest, CallIdsAreLowercaseCanonicalUuids) {
  EXPECT_TRUE(IsValidCallId(kId));
  EXPECT_FALSE(IsValidCallId("01936B2E-7C4A-7D1E-9B0A-4F1E2D3C4B5A"));
  EXPECT_FALSE(IsValidCallId("01936b2e7c4a7d1e9b0a4f1e2d3c4b5a"));
  EXPECT_FALSE(IsValidCallId("01936b2e-7c4a-7d1e-9b0a-4f1e2d3c4b5"));
  EXPECT_FALSE(IsValidCallId("../../../etc/passwd-0000-0000-000000"));
}

}  // namespace
}  // namespace callvault::outbox

// Path checks, ETags and the delete journal's format (docs/formats/delete-journal.md).
#include "storage/recording_store.h"

#include <gtest/gtest.h>

#include "storage/internal/delete_journal.h"

namespace callvault::storage {
namespace {

TEST(CheckRelativePathTest, AcceptsPathsInsideTheDirectory) {
  for (const char* ok : {"a.wav", "2026/11/25/080000_01936b2e.wav", "x/.hidden", "a..b/c...wav"}) {
    EXPECT_TRUE(CheckRelativePath(ok).ok()) << ok;
  }
}

TEST(CheckRelativePathTest, RefusesPathsThatLeaveIt) {
  struct Case {
    std::string path, message;
  };
  for (const Case& c :
       std::vector<Case>{{"", "audio file path '' is not relative"},
                         {"/etc/passwd", "audio file path '/etc/passwd' is not relative"},
                         {std::string("a\0b", 3),
                          "audio file path '" + std::string("a\0b", 3) + "' is not relative"},
                         {"../x.wav", "audio file path '../x.wav' leaves the directory"},
                         {"a/../../x.wav", "audio file path 'a/../../x.wav' leaves the directory"},
                         {"./a.wav", "audio file path './a.wav' leaves the directory"},
                         {"a/.", "audio file path 'a/.' leaves the directory"},
                         {"a//b.wav", "audio file path 'a//b.wav' leaves the directory"},
                         {"a/", "audio file path 'a/' leaves the directory"},
                         {"..", "audio file path '..' leaves the directory"}}) {
    Status s = CheckRelativePath(c.path);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.path;
    EXPECT_EQ(s.message(), c.message);
  }
}

TEST(QuotedEtagTest, QuotesTheHashOrIsEmpty) {
  EXPECT_EQ(QuotedEtag("ab12"), "\"ab12\"");
  EXPECT_EQ(QuotedEtag(""), "");
}

TEST(DeleteJournalTest, EncodeParseRoundTrip) {
  const internal::DeleteIntent in{.call_id = "01936b2e-7c4a-7d1e-9b0a-4f1e2d3c4b5a",
                                  .audio_file = "2026/11/25/080000_01936b2e.wav"};
  const std::string text = internal::EncodeDeleteIntent(in);
  EXPECT_EQ(text, R"({"audio":"2026/11/25/080000_01936b2e.wav","call_id":"01936b2e-7c4a-7d1e-9b0a-)"
                  R"(4f1e2d3c4b5a","format":"callvault-delete","version":1})"
                  "\n");
  Result<internal::DeleteIntent> out = internal::ParseDeleteIntent(text);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->call_id, in.call_id);
  EXPECT_EQ(out->audio_file, in.audio_file);
}

TEST(DeleteJournalTest, BadEntriesAreDataLoss) {
  for (const char* bad :
       {"", "{", "[]", R"({"format":"callvault-outbox","version":1,"call_id":"c","audio":"a"})",
        R"({"format":"callvault-delete","version":2,"call_id":"c","audio":"a"})",
        R"({"format":"callvault-delete","version":"1","call_id":"c","audio":"a"})",
        R"({"format":"callvault-delete","version":1,"audio":"a"})",
        R"({"format":"callvault-delete","version":1,"call_id":"../c","audio":"a"})",
        R"({"format":"callvault-delete","version":1,"call_id":"c","audio":"../a"})",
        R"({"format":"callvault-delete","version":1,"call_id":"c"})"}) {
    Result<internal::DeleteIntent> r = internal::ParseDeleteIntent(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << bad;
    EXPECT_TRUE(r.status().message().starts_with("delete journal entry: ")) << bad;
  }
}

TEST(DeleteJournalTest, CallIdsMustBeFileNames) {
  for (const char* ok : {"01936b2e-7c4a-7d1e-9b0a-4f1e2d3c4b5a", "c1", "a.b_c-d"}) {
    EXPECT_TRUE(internal::CheckCallId(ok).ok()) << ok;
  }
  for (const std::string& bad : {std::string(""), std::string(".hidden"), std::string("a/b"),
                                 std::string(".."), std::string("a b"), std::string(129, 'a')}) {
    EXPECT_EQ(internal::CheckCallId(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace callvault::storage

#include "catalog/internal/text.h"

#include <gtest/gtest.h>

namespace callvault::catalog::internal {
namespace {

// RFC 3339 times: base/time_format_test.cc.

TEST(ParseNameAddrTest, Forms) {
  NameAddr a =
      ParseNameAddr("\"Alice \\\"A\\\" Smith\" <sip:alice@example.com;transport=tcp>;tag=1");
  EXPECT_EQ(a.display_name, "Alice \"A\" Smith");
  EXPECT_EQ(a.uri, "sip:alice@example.com;transport=tcp");
  a = ParseNameAddr("Bob <sip:+15551234567@gw;user=phone>");
  EXPECT_EQ(a.display_name, "Bob");
  EXPECT_EQ(a.uri, "sip:+15551234567@gw;user=phone");
  a = ParseNameAddr("sip:carol@example.com;tag=9");
  EXPECT_EQ(a.display_name, "");
  EXPECT_EQ(a.uri, "sip:carol@example.com");
  a = ParseNameAddr("<tel:+4930123>");
  EXPECT_EQ(a.uri, "tel:+4930123");
}

TEST(AorUserTest, SipSipsTel) {
  EXPECT_EQ(AorUser("sip:alice@example.com"), "alice");
  EXPECT_EQ(AorUser("SIP:+15551234567@gw;user=phone"), "+15551234567");
  EXPECT_EQ(AorUser("sips:bob:secret@example.com"), "bob");
  EXPECT_EQ(AorUser("sip:1001;npdi@pbx"), "1001");
  EXPECT_EQ(AorUser("tel:+1-555-123;phone-context=example.com"), "+1-555-123");
  EXPECT_EQ(AorUser("sip:example.com"), "");
  EXPECT_EQ(AorUser("mailto:a@b"), "");
  EXPECT_EQ(AorUser(""), "");
}

TEST(SearchTokensTest, LowercasedAlnumRuns) {
  EXPECT_EQ(SearchTokens("Alice <sip:+1555@Example.COM>; a84b@10.0.0.1"),
            (std::vector<std::string>{"alice", "sip", "1555", "example", "com", "a84b", "10", "0",
                                      "0", "1"}));
  EXPECT_EQ(SearchTokens("Jürgen Müller"), (std::vector<std::string>{"jürgen", "müller"}));
  EXPECT_TRUE(SearchTokens("@@ -- !!").empty());
  EXPECT_EQ(SearchTokens(std::string(100, 'x'))[0].size(), 64u);
}

TEST(BuildSearchTextTest, XmlTextAndAttributesNotMarkup) {
  const std::string xml =
      "<?xml version=\"1.0\"?><recording xmlns=\"urn:x\"><participant participant_id=\"cDE=\">"
      "<nameID aor=\"sip:alice@example.com\"><name>Alice Smith</name></nameID></participant>"
      "</recording>";
  const std::string text = BuildSearchText({"Alice", xml});
  EXPECT_EQ(text, "alice 1 0 urn x cde sip example com smith");
  EXPECT_EQ(text.find("participant"), std::string::npos);
  EXPECT_EQ(text.find("nameid"), std::string::npos);
}

TEST(ContainsPatternTest, EscapesWildcards) {
  EXPECT_EQ(ContainsPattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
  EXPECT_EQ(ContainsPattern("555"), "%555%");
}

TEST(ContainsTextTest, DistinctValuesOnePerLine) {
  EXPECT_EQ(ContainsText({"+1555", "sip:+1555@h", "", "+1555", "4711"}), "sip:+1555@h\n4711");
  EXPECT_EQ(ContainsText({"Bob", "Ann", "Bob"}), "Bob\nAnn");
  EXPECT_EQ(ContainsText({"", ""}), "");
}

TEST(TrigramTest, IndexableNeedlesAndPhrases) {
  EXPECT_FALSE(TrigramIndexable("ab"));
  EXPECT_TRUE(TrigramIndexable("abc"));
  EXPECT_FALSE(TrigramIndexable("\xc3\xbc\xc3\x9f"));  // "üß": 2 characters
  EXPECT_TRUE(
      TrigramIndexable("\xc3\xbc\xc3\x9f"
                       "e"));
  EXPECT_FALSE(TrigramIndexable("ab\xc3"));  // truncated UTF-8
  EXPECT_FALSE(
      TrigramIndexable("a\xc0\xaf"
                       "b"));  // overlong
  EXPECT_FALSE(TrigramIndexable(std::string_view("a\0bc", 4)));
  EXPECT_EQ(Fts5Phrase("a\"b c"), "\"a\"\"b c\"");
}

}  // namespace
}  // namespace callvault::catalog::internal

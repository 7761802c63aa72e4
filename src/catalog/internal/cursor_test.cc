#include "catalog/internal/cursor.h"

#include <gtest/gtest.h>

namespace callvault::catalog::internal {
namespace {

TEST(Base64UrlTest, RoundTripsAllLengths) {
  std::string bytes;
  for (int n = 0; n < 20; ++n) {
    const std::string encoded = Base64UrlEncode(bytes);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    std::string decoded;
    ASSERT_TRUE(Base64UrlDecode(encoded, &decoded)) << n;
    EXPECT_EQ(decoded, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 200));
  }
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("a", &out));
  EXPECT_FALSE(Base64UrlDecode("ab+c", &out));
  EXPECT_FALSE(Base64UrlDecode("ab=", &out));
}

TEST(CursorTest, RoundTrip) {
  const CursorKey key{1795593600012, "01936b2e-7c4a-7d1e-9b0a-4f1e2d3c4b5a"};
  const std::string c = EncodeCursor(SortKey::kDuration, false, key);
  Result<CursorKey> back = DecodeCursor(c, SortKey::kDuration, false);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->key, key.key);
  EXPECT_EQ(back->call_id, key.call_id);

  const CursorKey odd{-5, "a|b|c"};
  back = DecodeCursor(EncodeCursor(SortKey::kStarted, true, odd), SortKey::kStarted, true);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->key, -5);
  EXPECT_EQ(back->call_id, "a|b|c");
}

TEST(CursorTest, OtherSortOrderIsInvalid) {
  const std::string c = EncodeCursor(SortKey::kStarted, true, {1, "x"});
  EXPECT_EQ(DecodeCursor(c, SortKey::kStarted, false).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeCursor(c, SortKey::kDuration, true).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CursorTest, EveryChangedCharacterIsRejected) {
  const std::string c = EncodeCursor(SortKey::kStarted, true, {1795593600012, "0193-abc"});
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < c.size(); ++i) {
    for (char r : {'A', 'z', '5', '_'}) {
      if (c[i] == r) continue;
      std::string t = c;
      t[i] = r;
      EXPECT_EQ(DecodeCursor(t, SortKey::kStarted, true).status().code(),
                StatusCode::kInvalidArgument)
          << "position " << i;
    }
  }
  EXPECT_FALSE(DecodeCursor(c.substr(0, c.size() - 4), SortKey::kStarted, true).ok());
  EXPECT_FALSE(DecodeCursor(c + "AAAA", SortKey::kStarted, true).ok());
  EXPECT_FALSE(DecodeCursor("not a cursor", SortKey::kStarted, true).ok());
  EXPECT_FALSE(DecodeCursor(Base64UrlEncode("1|s|d|5|x"), SortKey::kStarted, true).ok());
}

}  // namespace
}  // namespace callvault::catalog::internal

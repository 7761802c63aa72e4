#include "http/auth.h"

#include <gtest/gtest.h>

#include <set>

namespace callvault::http {
namespace {

TEST(PasswordTest, HashVerifiesOnlyTheSamePassword) {
  Result<std::string> hash = HashPassword("correct horse");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horsE"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  // Salted: the same password hashes differently each time.
  EXPECT_NE(*hash, *HashPassword("correct horse"));
}

TEST(PasswordTest, LengthLimits) {
  EXPECT_EQ(HashPassword("short").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword(std::string(kMaxPasswordLength + 1, 'x')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(HashPassword(std::string(kMinPasswordLength, 'x')).ok());
}

TEST(PasswordTest, MalformedHashesNeverVerify) {
  EXPECT_FALSE(VerifyPassword("", "password1"));
  EXPECT_FALSE(VerifyPassword("$argon2id$v=19$m=65536,t=2,p=1$garbage", "password1"));
  EXPECT_FALSE(VerifyPassword(std::string(500, '$'), "password1"));
}

TEST(TokenTest, ShapeAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    NewApiToken t = GenerateApiToken();
    ASSERT_TRUE(t.secret.starts_with("cvt_")) << t.secret;
    ASSERT_EQ(t.secret.size(), 4u + 43u) << t.secret;  // 32 bytes base64url, no padding
    for (char c : t.secret.substr(4)) {
      ASSERT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << t.secret;
    }
    EXPECT_EQ(t.hash, TokenHash(t.secret));
    EXPECT_EQ(t.hash.size(), 64u);
    EXPECT_TRUE(seen.insert(t.secret).second);
  }
}

TEST(TokenTest, HashIsHexSha256) {
  EXPECT_EQ(TokenHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(PrincipalTest, CanChecksExactPermission) {
  Principal p;
  p.permissions = {"calls:read", "audio:read"};
  EXPECT_TRUE(p.Can("calls:read"));
  EXPECT_FALSE(p.Can("calls:delete"));
  EXPECT_FALSE(p.Can("calls"));
}

}  // namespace
}  // namespace callvault::http

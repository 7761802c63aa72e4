#include "http/cookie.h"

#include <gtest/gtest.h>

namespace callvault::http {
namespace {

TEST(CookieTest, ParsesWhatBrowsersSend) {
  Result<Cookies> c = ParseCookieHeader("cv_session=abc123; theme=dark;other=\"q-v\"");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ(FindCookie(*c, "cv_session"), "abc123");
  EXPECT_EQ(FindCookie(*c, "theme"), "dark");
  EXPECT_EQ(FindCookie(*c, "other"), "q-v");  // the DQUOTEs are not part of the value
  EXPECT_EQ(FindCookie(*c, "missing"), std::nullopt);
  EXPECT_EQ(FindCookie(*ParseCookieHeader("a=1; a=2"), "a"), "1");  // the first one
  EXPECT_TRUE(ParseCookieHeader("")->empty());
  EXPECT_EQ(FindCookie(*ParseCookieHeader("  a=  ;b=x "), "a"), "");  // empty value
}

TEST(CookieTest, MalformedPairsAreSkippedNotFatal) {
  Result<Cookies> c = ParseCookieHeader(
      "novalue; =nameless; bad name=x; ok=1; quote=a\"b; semi=\\x; ctl=\x01; ok2=2;;");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0], (std::pair<std::string, std::string>("ok", "1")));
  EXPECT_EQ((*c)[1], (std::pair<std::string, std::string>("ok2", "2")));
}

TEST(CookieTest, OversizedHeadersAreRefused) {
  EXPECT_EQ(ParseCookieHeader(std::string(kMaxCookieHeader + 1, 'a')).status().code(),
            StatusCode::kInvalidArgument);
  std::string many;
  for (size_t i = 0; i <= kMaxCookies; ++i) many += "c" + std::to_string(i) + "=v; ";
  EXPECT_EQ(ParseCookieHeader(many).status().code(), StatusCode::kInvalidArgument);
}

TEST(CookieTest, TheSessionCookieCarriesItsFlags) {
  EXPECT_EQ(SessionCookieName(false), "cv_session");
  EXPECT_EQ(SessionCookieName(true), "__Host-cv_session");
  EXPECT_EQ(SessionSetCookie("cv_session", "tok", false, -1),
            "cv_session=tok; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SessionSetCookie("__Host-cv_session", "tok", true, 0),
            "__Host-cv_session=tok; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0");
  EXPECT_TRUE(IsCookieName("__Host-cv_session"));
  EXPECT_FALSE(IsCookieName("a b"));
  EXPECT_TRUE(IsCookieValue("AbC-_.~09"));
  EXPECT_FALSE(IsCookieValue("a;b"));
}

}  // namespace
}  // namespace callvault::http

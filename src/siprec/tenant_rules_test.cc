#include "siprec/tenant_rules.h"

#include <gtest/gtest.h>

#include <map>

namespace callvault::siprec {
namespace {

Cidr Block(std::string_view s) { return Cidr::Parse(s).value(); }

CallFacts Invite() {
  CallFacts f;
  f.src = "127.0.0.2:5060";
  f.request_uri = "sip:srs@rec.example.net:5060;transport=udp";
  f.from = "\"SBC\" <sip:sbc@acme.example.com>;tag=1";
  f.to = "<sip:srs@Rec.Example.NET>";
  f.headers = {{"X-Tenant", "beta"},
               {"P-Asserted-Identity",
                "\"Alice\" <sip:+44 20-7946.0000@pai.example.org>, "
                "<tel:+442079460000>"}};
  f.participant_aors = {"sip:alice@customer.example", "2249888500@172.16.198.55",
                        "tel:+1-212-555-0100"};
  return f;
}

TenantRule Rule(std::string tenant) {
  TenantRule r;
  r.tenant = std::move(tenant);
  return r;
}

TEST(TenantRulesTest, FirstMatchingRuleWins) {
  TenantRule a = Rule("a");
  a.src = {Block("127.0.0.3")};
  TenantRule b = Rule("b");
  b.src = {Block("127.0.0.0/30")};
  b.where = "cv.toml:9:1";
  TenantRule c = Rule("c");
  c.src = {Block("127.0.0.0/8")};
  TenantRules rules({a, b, c}, {});
  TenantDecision d = rules.Decide(Invite(), nullptr);
  EXPECT_EQ(d.tenant, "b");
  EXPECT_EQ(d.matched, "rule 2 (cv.toml:9:1)");
  EXPECT_FALSE(d.refused);
  EXPECT_EQ(d.problem, "");
}

TEST(TenantRulesTest, NoMatchGivesTheDefaultOrNone) {
  TenantRule a = Rule("a");
  a.src = {Block("10.0.0.0/8")};
  EXPECT_EQ(TenantRules({a}, {}).Decide(Invite(), nullptr).tenant, "");
  EXPECT_EQ(TenantRules({a}, {}).Decide(Invite(), nullptr).matched, "none");
  TenantDecision d = TenantRules({a}, {.default_tenant = "house"}).Decide(Invite(), nullptr);
  EXPECT_EQ(d.tenant, "house");
  EXPECT_EQ(d.matched, "default");
}

TEST(TenantRulesTest, EveryConditionOfARuleMustHold) {
  TenantRule r = Rule("x");
  r.src = {Block("127.0.0.2")};
  r.from_domain = {"other.example"};
  EXPECT_EQ(TenantRules({r}, {}).Decide(Invite(), nullptr).tenant, "");
  r.from_domain = {"*.example.com"};
  EXPECT_EQ(TenantRules({r}, {}).Decide(Invite(), nullptr).tenant, "x");
}

TEST(TenantRulesTest, DomainsOfRequestUriToAndFrom) {
  TenantRule ru = Rule("ru");
  ru.request_uri_domain = {"REC.example.net"};  // case-insensitive
  TenantRule to = Rule("to");
  to.to_domain = {"rec.*.net"};
  TenantRule from = Rule("from");
  from.from_domain = {"acme.example.com"};
  EXPECT_EQ(TenantRules({ru}, {}).Decide(Invite(), nullptr).tenant, "ru");
  EXPECT_EQ(TenantRules({to}, {}).Decide(Invite(), nullptr).tenant, "to");
  EXPECT_EQ(TenantRules({from}, {}).Decide(Invite(), nullptr).tenant, "from");
  CallFacts bad = Invite();
  bad.request_uri = "not a uri";
  bad.from = "garbage <";
  EXPECT_EQ(TenantRules({ru, from}, {}).Decide(bad, nullptr).tenant, "");
}

TEST(TenantRulesTest, HeaderValueAndItsParts) {
  TenantRule value = Rule("v");
  value.header = "x-tenant";  // names compare case-insensitively
  value.header_value = {"be*"};
  EXPECT_EQ(TenantRules({value}, {}).Decide(Invite(), nullptr).tenant, "v");
  value.header_value = {"gamma"};
  EXPECT_EQ(TenantRules({value}, {}).Decide(Invite(), nullptr).tenant, "");

  TenantRule domain = Rule("d");
  domain.header = "P-Asserted-Identity";
  domain.header_part = HeaderPart::kDomain;
  domain.header_value = {"pai.example.org"};
  EXPECT_EQ(TenantRules({domain}, {}).Decide(Invite(), nullptr).tenant, "d");

  TenantRule user = Rule("u");
  user.header = "P-Asserted-Identity";
  user.header_part = HeaderPart::kUser;
  user.header_value = {"+4420*"};  // visual separators dropped
  EXPECT_EQ(TenantRules({user}, {}).Decide(Invite(), nullptr).tenant, "u");

  TenantRule absent = Rule("a");
  absent.header = "X-Missing";
  EXPECT_EQ(TenantRules({absent}, {}).Decide(Invite(), nullptr).tenant, "");
}

TEST(TenantRulesTest, TenantFromTheHeaderValue) {
  TenantRule r = Rule(std::string(kTenantFromValue));
  r.header = "X-Tenant";
  EXPECT_EQ(TenantRules({r}, {}).Decide(Invite(), nullptr).tenant, "beta");
  TenantRule pai = Rule(std::string(kTenantFromValue));
  pai.header = "P-Asserted-Identity";
  pai.header_part = HeaderPart::kDomain;
  EXPECT_EQ(TenantRules({pai}, {}).Decide(Invite(), nullptr).tenant, "pai.example.org");
  // A value no tenant can be named: the fallback, with the reason.
  CallFacts f = Invite();
  f.headers = {{"X-Tenant", "{evil}"}};
  TenantDecision d = TenantRules({r}, {.default_tenant = "house"}).Decide(f, nullptr);
  EXPECT_EQ(d.tenant, "house");
  EXPECT_NE(d.problem.find("invalid tenant name"), std::string::npos) << d.problem;
}

TEST(TenantRulesTest, ParticipantDomainAndNumberPrefix) {
  TenantRule domain = Rule("d");
  domain.participant_domain = {"customer.example"};
  EXPECT_EQ(TenantRules({domain}, {}).Decide(Invite(), nullptr).tenant, "d");
  TenantRule schemeless = Rule("s");
  schemeless.participant_number = {"2249"};
  schemeless.participant_domain = {"172.16.198.*"};  // both on the same AOR
  EXPECT_EQ(TenantRules({schemeless}, {}).Decide(Invite(), nullptr).tenant, "s");
  TenantRule tel = Rule("t");
  tel.participant_number = {"+1212"};
  EXPECT_EQ(TenantRules({tel}, {}).Decide(Invite(), nullptr).tenant, "t");
  TenantRule split = Rule("no");
  split.participant_number = {"2249"};
  split.participant_domain = {"customer.example"};  // no single AOR has both
  EXPECT_EQ(TenantRules({split}, {}).Decide(Invite(), nullptr).tenant, "");
  CallFacts none = Invite();
  none.participant_aors.clear();
  EXPECT_EQ(TenantRules({domain}, {}).Decide(none, nullptr).tenant, "");
}

TEST(TenantRulesTest, UnknownOrDisabledTenantFallsBackOrRefuses) {
  TenantRule r = Rule("ghost");
  r.src = {Block("127.0.0.0/8")};
  std::map<std::string, TenantState, std::less<>> known = {{"house", TenantState::kActive},
                                                           {"ghost", TenantState::kUnknown},
                                                           {"off", TenantState::kDisabled}};
  TenantStateFn state = [&](std::string_view t) {
    auto it = known.find(t);
    return it == known.end() ? TenantState::kUnknown : it->second;
  };
  TenantDecision fallback = TenantRules({r}, {.default_tenant = "house"}).Decide(Invite(), state);
  EXPECT_FALSE(fallback.refused);
  EXPECT_EQ(fallback.tenant, "house");
  EXPECT_NE(fallback.problem.find("\"ghost\" (rule 1) is not a tenant of this recorder"),
            std::string::npos)
      << fallback.problem;
  EXPECT_NE(fallback.problem.find("default tenant \"house\""), std::string::npos);

  TenantDecision refused =
      TenantRules({r}, {.default_tenant = "house", .refuse_unknown = true}).Decide(Invite(), state);
  EXPECT_TRUE(refused.refused);
  EXPECT_NE(refused.problem.find("ghost"), std::string::npos);

  r.tenant = "off";
  TenantDecision disabled = TenantRules({r}, {.default_tenant = "off"}).Decide(Invite(), state);
  EXPECT_FALSE(disabled.refused);
  EXPECT_EQ(disabled.tenant, "");  // the default is disabled too: no tenant
  EXPECT_NE(disabled.problem.find("disabled; recorded without a tenant"), std::string::npos);

  // The catalog's list not read yet: the rule's tenant stands.
  TenantDecision unchecked = TenantRules({r}, {}).Decide(
      Invite(), [](std::string_view) { return TenantState::kUnchecked; });
  EXPECT_EQ(unchecked.tenant, "off");
  EXPECT_EQ(unchecked.problem, "");
}

TEST(TenantRulesTest, GlobMatching) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*c", "abbbc"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_TRUE(GlobMatch("*.EXAMPLE.com", "sip.example.COM"));
  EXPECT_FALSE(GlobMatch("*.example.com", "example.com"));
  EXPECT_TRUE(GlobMatch("**a", "a"));
  // Linear-ish on a hostile input (no exponential backtracking).
  std::string text(100000, 'a');
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*b", text));
}

TEST(TenantRulesTest, ConfiguredValuesAreChecked) {
  EXPECT_EQ(CheckDomainPattern("*.example.com"), "");
  EXPECT_NE(CheckDomainPattern("exa mple.com"), "");
  EXPECT_NE(CheckDomainPattern(""), "");
  EXPECT_EQ(CheckNumberPrefix("+4420"), "");
  EXPECT_NE(CheckNumberPrefix("44+20"), "");
  EXPECT_NE(CheckNumberPrefix("+44 20"), "");
  EXPECT_EQ(CheckHeaderName("X-Tenant"), "");
  EXPECT_NE(CheckHeaderName("X Tenant"), "");
  EXPECT_NE(CheckHeaderName("X-Tenant:"), "");
  EXPECT_EQ(CheckValuePattern("acme*"), "");
  EXPECT_NE(CheckValuePattern("a\tb"), "");
  EXPECT_EQ(CheckTenantName("acme"), "");
  EXPECT_NE(CheckTenantName("(no tenant)"), "");
  EXPECT_NE(CheckTenantName(std::string(129, 'a')), "");
  EXPECT_NE(CheckTenantName("a{b}"), "");
}

TEST(TenantRulesTest, NamedTenantsListsLiteralsOnce) {
  TenantRule a = Rule("acme");
  TenantRule v = Rule(std::string(kTenantFromValue));
  TenantRule again = Rule("acme");
  EXPECT_EQ(TenantRules({a, v, again}, {.default_tenant = "house"}).NamedTenants(),
            (std::vector<std::string>{"acme", "house"}));
}

}  // namespace
}  // namespace callvault::siprec

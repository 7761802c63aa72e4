// libFuzzer target for the tenant rules (siprec/tenant_rules.h): hostile SIP values — the
// Request-URI, From, To, header values and metadata AORs, split from the input at '\n' — against
// one rule of every kind. Checks the contract: Decide never crashes or hangs (globs are linear),
// a decided tenant is a valid tenant name, and a refusal or fallback always says why.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "siprec/tenant_rules.h"

using namespace callvault;
using namespace callvault::siprec;

namespace {

const TenantRules& Rules() {
  static const TenantRules* rules = [] {
    std::vector<TenantRule> r(7);
    r[0].tenant = std::string(kTenantFromValue);
    r[0].header = "X-Tenant";
    r[1].tenant = std::string(kTenantFromValue);
    r[1].header = "P-Asserted-Identity";
    r[1].header_part = HeaderPart::kDomain;
    r[1].header_value = {"*.*.example*", "a?c*"};
    r[2].tenant = "users";
    r[2].header = "P-Asserted-Identity";
    r[2].header_part = HeaderPart::kUser;
    r[2].header_value = {"+44*", "*#*"};
    r[3].tenant = "ru";
    r[3].request_uri_domain = {"*rec*", "[2001:db8::1]"};
    r[4].tenant = "tofrom";
    r[4].to_domain = {"*.to.example"};
    r[4].from_domain = {"*"};
    r[5].tenant = "parts";
    r[5].participant_domain = {"*.customer.*"};
    r[5].participant_number = {"+1212", "0800"};
    r[6].tenant = "src";
    r[6].src = {Cidr::Parse("10.0.0.0/8").value(), Cidr::Parse("2001:db8::/32").value()};
    return new TenantRules(std::move(r), {.default_tenant = "house"});
  }();
  return *rules;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty() && parts.size() < 16) {
    const size_t nl = in.find('\n');
    parts.emplace_back(in.substr(0, nl));
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  }
  auto part = [&](size_t i) { return i < parts.size() ? parts[i] : std::string(); };
  CallFacts facts;
  facts.src = part(0);
  facts.request_uri = part(1);
  facts.from = part(2);
  facts.to = part(3);
  facts.headers = {{"X-Tenant", part(4)}, {"P-Asserted-Identity", part(5)}, {"Subject", part(6)}};
  for (size_t i = 7; i < parts.size(); ++i) facts.participant_aors.push_back(parts[i]);
  const bool unknown = size > 0 && data[0] % 2 == 1;
  for (bool refuse : {false, true}) {
    TenantRules rules(Rules().rules(), {.default_tenant = "house", .refuse_unknown = refuse});
    TenantDecision d = rules.Decide(facts, [&](std::string_view t) {
      return unknown && t != "house" ? TenantState::kUnknown : TenantState::kActive;
    });
    if (!d.tenant.empty() && !CheckTenantName(d.tenant).empty()) abort();
    if (d.refused && (!refuse || d.problem.empty())) abort();
    if (d.matched.empty()) abort();
  }
  return 0;
}

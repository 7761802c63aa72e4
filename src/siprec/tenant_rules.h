// Which tenant a new SIPREC call belongs to: the operator's `[[tenants.rule]]` list
// (docs/configuration.md §tenants), first matching rule wins, else the default tenant. A rule
// holds when every condition it has holds; a condition with a list holds when any entry does:
//   src                 the SRC's address in one of these CIDR blocks;
//   request_uri_domain / to_domain / from_domain
//                       the host of that URI matches one of these patterns;
//   header (+ part, value)
//                       the header is present and (each value of it, or the user / domain of
//                       the URI in it) matches one of `value` (any value when `value` is empty);
//   participant_domain / participant_number
//                       some participant of the SIPREC metadata has an AOR whose host matches /
//                       whose user part (visual separators dropped) starts with one of these.
// Patterns are case-insensitive globs ('*' any run, '?' one character); no regular
// expressions, so matching is linear and cannot be made slow by a hostile request.
// A rule's tenant is a name, or "{value}": the header value the rule matched (hosted setups
// where the SBC names the tenant in X-Tenant). The decided tenant then goes through the
// catalog's tenant list: an unknown or disabled tenant refuses the call (403 + Warning) or
// falls back to the default, as `tenants.unknown` says.
//
// Called by: app/ (builds the rules from the config, checks them for `check-config`), siprec/
// CallSession (through RecorderOptions::assign_tenant, before the 200 OK).
// Thread-safety: TenantRules is immutable after construction; Decide is safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/cidr.h"
#include "base/status.h"

namespace callvault::siprec {

// What of a header's value a rule compares.
enum class HeaderPart : uint8_t {
  kValue,   // the whole value (each occurrence of the header)
  kUser,    // the user part of the URI in it (name-addr or addr-spec; each list item)
  kDomain,  // the host of the URI in it (each list item)
};

// The tenant name a rule may give to mean "the value the header condition matched".
inline constexpr std::string_view kTenantFromValue = "{value}";

struct TenantRule {
  std::string tenant;  // a tenant name or kTenantFromValue
  std::vector<Cidr> src;
  std::vector<std::string> request_uri_domain, to_domain, from_domain;  // host patterns
  std::string header;  // canonical name when SIP knows it ("Subject"), else as configured
  HeaderPart header_part = HeaderPart::kValue;
  std::vector<std::string> header_value;        // patterns; empty = any non-empty value
  std::vector<std::string> participant_domain;  // AOR host patterns
  std::vector<std::string> participant_number;  // AOR user prefixes ("+4420", "0800")
  std::string where;                            // "callvault.toml:12:1", for logs
};

// Checks of one configured value; "" when fine, else what is wrong (config errors).
std::string CheckDomainPattern(std::string_view pattern);
std::string CheckValuePattern(std::string_view pattern);
std::string CheckNumberPrefix(std::string_view prefix);
std::string CheckHeaderName(std::string_view name);
std::string CheckTenantName(std::string_view name);  // also used for the default tenant

// Glob match, ASCII case-insensitive: '*' any run (also empty), '?' one character.
bool GlobMatch(std::string_view pattern, std::string_view text);

// What the rules look at, copied from the INVITE and its metadata.
struct CallFacts {
  std::string src;  // "ip:port" of the SRC (as sip::SocketAddress prints it)
  std::string request_uri, from, to;
  std::vector<std::pair<std::string, std::string>> headers;  // name (canonical if known), value
  std::vector<std::string> participant_aors;                 // every AOR of the metadata
};

// The catalog's view of a tenant name.
enum class TenantState : uint8_t {
  kActive,
  kDisabled,
  kUnknown,    // no such tenant in the catalog
  kUnchecked,  // the catalog's tenant list could not be read yet: the name is taken as is
};
using TenantStateFn = std::function<TenantState(std::string_view tenant)>;

struct TenantPolicy {
  std::string default_tenant;   // "" = calls no rule matches have no tenant
  bool refuse_unknown = false;  // an unknown/disabled tenant: 403 (true) or the default (false)
};

struct TenantDecision {
  bool refused = false;
  std::string tenant;   // "" = none
  std::string matched;  // "rule 2 (callvault.toml:14:1)", "default", "none"
  // Why the call was refused (403 Warning) or fell back (a manifest warning), else "".
  std::string problem;
};

class TenantRules {
 public:
  TenantRules() = default;
  TenantRules(std::vector<TenantRule> rules, TenantPolicy policy);

  // `state` may be empty: every tenant is then taken as active.
  TenantDecision Decide(const CallFacts& facts, const TenantStateFn& state) const;

  const std::vector<TenantRule>& rules() const { return rules_; }
  const TenantPolicy& policy() const { return policy_; }
  // Literal tenant names the rules and the default give (to warn about unknown ones).
  std::vector<std::string> NamedTenants() const;

 private:
  // The tenant the rule gives when it holds ("" when it does not).
  std::string Match(const TenantRule& rule, const CallFacts& facts) const;

  std::vector<TenantRule> rules_;
  TenantPolicy policy_;
};

}  // namespace callvault::siprec

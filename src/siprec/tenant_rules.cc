#include "siprec/tenant_rules.h"

#include <algorithm>

#include "base/strings.h"
#include "sip/message.h"

namespace callvault::siprec {
namespace {

constexpr size_t kMaxPatternBytes = 256;
constexpr std::string_view kNoTenantKeyName = "(no tenant)";  // recording/audio_key.h

bool IsSipTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

bool AnyMatch(const std::vector<std::string>& patterns, std::string_view text) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return GlobMatch(p, text); });
}

bool HasScheme(std::string_view s) {
  for (std::string_view scheme : {"sip:", "sips:", "tel:"}) {
    if (s.size() >= scheme.size() && EqualsIgnoreCase(s.substr(0, scheme.size()), scheme)) {
      return true;
    }
  }
  return false;
}

// The URI of a header value (name-addr or addr-spec) or of a bare AOR ("2249888500@10.0.0.1",
// written without a scheme by some SRCs); nullopt when it is none.
std::optional<sip::Uri> UriOf(std::string_view text, std::string* storage) {
  text = text.substr(0, std::min(text.size(), size_t{4096}));
  Result<sip::NameAddr> na = sip::ParseNameAddr(text);
  if (na.ok()) return na->uri;
  *storage = "sip:" + std::string(text);
  if (!HasScheme(text)) {
    Result<sip::Uri> u = sip::ParseUri(*storage);
    if (u.ok()) return *u;
  }
  return std::nullopt;
}

// The user part of a URI without visual separators (RFC 3966 §5.1.1) or user parameters.
std::string NumberOf(const sip::Uri& uri) {
  std::string_view user = uri.user.substr(0, uri.user.find(';'));
  std::string out;
  for (char c : user) {
    if (c == '-' || c == '.' || c == '(' || c == ')' || c == ' ') continue;
    out.push_back(c);
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// The values of `name` in the request: every occurrence; for a URI part, every list item.
template <typename F>
bool AnyHeaderValue(const CallFacts& facts, const TenantRule& rule, F&& f) {
  for (const auto& [name, value] : facts.headers) {
    if (!EqualsIgnoreCase(name, rule.header)) continue;
    if (rule.header_part == HeaderPart::kValue) {
      if (f(std::string_view(value))) return true;
      continue;
    }
    bool found = false;
    sip::ForEachListItem(value, [&](std::string_view item) {
      if (found) return;
      std::string storage;
      std::optional<sip::Uri> uri = UriOf(item, &storage);
      if (!uri) return;
      const std::string part =
          rule.header_part == HeaderPart::kUser ? NumberOf(*uri) : std::string(uri->host);
      if (!part.empty() && f(std::string_view(part))) found = true;
    });
    if (found) return true;
  }
  return false;
}

std::string HostOfHeader(std::string_view value) {
  std::string storage;
  std::optional<sip::Uri> uri = UriOf(value, &storage);
  return uri ? std::string(uri->host) : std::string();
}

std::string CheckPattern(std::string_view p, std::string_view what) {
  if (p.empty()) return std::string(what) + " must not be empty";
  if (p.size() > kMaxPatternBytes) {
    return std::string(what) + " is longer than " + std::to_string(kMaxPatternBytes) + " bytes";
  }
  return "";
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point: O(|pattern| × |text|) at worst.
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '?' || AsciiLower(pattern[p]) == AsciiLower(text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string CheckDomainPattern(std::string_view p) {
  if (std::string e = CheckPattern(p, "a domain pattern"); !e.empty()) return e;
  for (char c : p) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view(".-_*?:[]").find(c) != std::string_view::npos;
    if (!ok) {
      return "\"" + std::string(p) +
             "\" is not a domain pattern (letters, digits, '.', '-', '_', ':', '[', ']' and the "
             "wildcards '*' '?')";
    }
  }
  return "";
}

std::string CheckValuePattern(std::string_view p) {
  if (std::string e = CheckPattern(p, "a value pattern"); !e.empty()) return e;
  for (unsigned char c : p) {
    if (c < 0x20 || c == 0x7f) return "a value pattern must not contain control characters";
  }
  return "";
}

std::string CheckNumberPrefix(std::string_view p) {
  if (std::string e = CheckPattern(p, "a number prefix"); !e.empty()) return e;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if ((c >= '0' && c <= '9') || c == '*' || c == '#' || (c == '+' && i == 0)) continue;
    return "\"" + std::string(p) +
           "\" is not a number prefix (digits, '*', '#', an optional leading '+')";
  }
  return "";
}

std::string CheckHeaderName(std::string_view name) {
  if (name.empty()) return "a header name must not be empty";
  for (char c : name) {
    if (!IsSipTokenChar(c)) return "\"" + std::string(name) + "\" is not a SIP header name";
  }
  return "";
}

std::string CheckTenantName(std::string_view name) {
  if (name.empty()) return "a tenant name must not be empty";
  if (name.size() > 128) return "a tenant name is at most 128 bytes";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return "a tenant name must not contain control characters";
  }
  if (name == kNoTenantKeyName) return "\"(no tenant)\" is reserved";
  if (name.find('{') != std::string_view::npos || name.find('}') != std::string_view::npos) {
    return "\"" + std::string(name) + "\": braces are reserved (\"{value}\" alone takes the " +
           "header's value)";
  }
  return "";
}

TenantRules::TenantRules(std::vector<TenantRule> rules, TenantPolicy policy)
    : rules_(std::move(rules)), policy_(std::move(policy)) {}

std::vector<std::string> TenantRules::NamedTenants() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& t) {
    if (!t.empty() && t != kTenantFromValue && std::find(out.begin(), out.end(), t) == out.end()) {
      out.push_back(t);
    }
  };
  for (const TenantRule& r : rules_) add(r.tenant);
  add(policy_.default_tenant);
  return out;
}

std::string TenantRules::Match(const TenantRule& rule, const CallFacts& facts) const {
  if (!rule.src.empty()) {
    std::optional<IpAddress> ip = IpAddress::ParseHostOf(facts.src);
    if (!ip || std::none_of(rule.src.begin(), rule.src.end(),
                            [&](const Cidr& c) { return c.Contains(*ip); })) {
      return "";
    }
  }
  if (!rule.request_uri_domain.empty()) {
    Result<sip::Uri> u = sip::ParseUri(facts.request_uri);
    if (!u.ok() || !AnyMatch(rule.request_uri_domain, u->host)) return "";
  }
  if (!rule.to_domain.empty() && !AnyMatch(rule.to_domain, HostOfHeader(facts.to))) return "";
  if (!rule.from_domain.empty() && !AnyMatch(rule.from_domain, HostOfHeader(facts.from))) {
    return "";
  }
  if (!rule.participant_domain.empty() || !rule.participant_number.empty()) {
    const bool any = std::any_of(
        facts.participant_aors.begin(), facts.participant_aors.end(), [&](const std::string& a) {
          std::string storage;
          std::optional<sip::Uri> uri = UriOf(a, &storage);
          if (!uri) return false;
          if (!rule.participant_domain.empty() && !AnyMatch(rule.participant_domain, uri->host)) {
            return false;
          }
          if (!rule.participant_number.empty()) {
            const std::string number = NumberOf(*uri);
            return std::any_of(rule.participant_number.begin(), rule.participant_number.end(),
                               [&](const std::string& p) { return StartsWith(number, p); });
          }
          return true;
        });
    if (!any) return "";
  }
  std::string value;
  if (!rule.header.empty()) {
    const bool held = AnyHeaderValue(facts, rule, [&](std::string_view v) {
      if (v.empty() || (!rule.header_value.empty() && !AnyMatch(rule.header_value, v))) {
        return false;
      }
      value = std::string(v);
      return true;
    });
    if (!held) return "";
  }
  return rule.tenant == kTenantFromValue ? value : rule.tenant;
}

TenantDecision TenantRules::Decide(const CallFacts& facts, const TenantStateFn& state) const {
  TenantDecision d;
  d.matched = policy_.default_tenant.empty() ? "none" : "default";
  d.tenant = policy_.default_tenant;
  for (size_t i = 0; i < rules_.size(); ++i) {
    std::string t = Match(rules_[i], facts);
    if (t.empty()) continue;
    d.matched = "rule " + std::to_string(i + 1) +
                (rules_[i].where.empty() ? "" : " (" + rules_[i].where + ")");
    if (std::string bad = CheckTenantName(t); !bad.empty()) {
      // Only "{value}" can produce this: the header named a tenant no catalog can hold.
      d.problem = "the tenant rule's header gave an invalid tenant name: " + bad;
    } else {
      d.tenant = std::move(t);
    }
    break;
  }
  if (d.problem.empty() && !d.tenant.empty() && state) {
    const TenantState s = state(d.tenant);
    if (s == TenantState::kUnknown || s == TenantState::kDisabled) {
      d.problem = "tenant \"" + d.tenant + "\" (" + d.matched + ") is " +
                  (s == TenantState::kUnknown ? "not a tenant of this recorder" : "disabled");
    }
  }
  if (d.problem.empty()) return d;
  if (policy_.refuse_unknown) {
    d.refused = true;
    return d;
  }
  // Fall back to the default tenant — when it is usable itself — else to no tenant.
  d.tenant = policy_.default_tenant;
  if (!d.tenant.empty() && state) {
    const TenantState s = state(d.tenant);
    if (s == TenantState::kUnknown || s == TenantState::kDisabled) d.tenant.clear();
  }
  d.problem += d.tenant.empty() ? "; recorded without a tenant"
                                : "; recorded under the default tenant \"" + d.tenant + "\"";
  return d;
}

}  // namespace callvault::siprec

// The [tenants] section: its two keys in the configuration table (config_schema.cc explains
// how to add a key) and the parser of its `[[tenants.rule]]` tables, which config.cc hands
// every `tenants.rule` node to. How rules match: siprec/tenant_rules.h.
#include "app/config_tenants.h"

#include <fmt/format.h>

#include "app/config_parse.h"
#include "app/config_schema.h"
#include "base/cidr.h"
#include "siprec/tenant_rules.h"

namespace callvault::app {
namespace {

using config_parse::Errors;
using config_parse::OriginOf;
using config_parse::TomlTypeName;

std::string CheckDefaultTenant(const ConfigValue& v) {
  if (Str(v).empty()) return "";
  return siprec::CheckTenantName(Str(v));
}

constexpr std::string_view kRuleKeys =
    "tenant, src, request_uri_domain, to_domain, from_domain, header, part, value, "
    "participant_domain, participant_number";

}  // namespace

void AppendTenantKeys(std::vector<ConfigKey>* keys) {
  std::vector<ConfigKey>& k = *keys;
  k.push_back({.section = "tenants",
               .name = "default",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "Tenant of the calls no `[[tenants.rule]]` matches. Empty = such "
                              "calls have no tenant (only users without a tenant see them).",
               .reloadable = true,
               .check = CheckDefaultTenant,
               .set = [](Config& c, const ConfigValue& v) { c.tenants.default_tenant = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.tenants.default_tenant; }});
  k.push_back({.section = "tenants",
               .name = "unknown",
               .type = ConfigType::kString,
               .default_value = std::string("default"),
               .description =
                   "What happens to a call whose rule names a tenant the catalog does not "
                   "have, or has disabled: `\"default\"` records it under `tenants.default` "
                   "(or without a tenant when that one is unusable too) with a warning in "
                   "its manifest and a log line; `\"refuse\"` answers the INVITE 403 with a "
                   "Warning naming the tenant (the SRC does not record the call here).",
               .reloadable = true,
               .choices = {"default", "refuse"},
               .set = [](Config& c, const ConfigValue& v) { c.tenants.unknown = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.tenants.unknown; }});
}

void ParseTenantRules(const toml::node& node, std::vector<TenantRuleConfig>* out, Errors* errors) {
  if (!node.is_array_of_tables()) {
    errors->Add(
        OriginOf(node.source()), "tenants.rule",
        fmt::format("must be tables ([[tenants.rule]]), got {}", TomlTypeName(node.type())));
    return;
  }
  size_t i = 0;
  for (const toml::node& rule_node : *node.as_array()) {
    const std::string base = fmt::format("tenants.rule[{}]", i++);
    TenantRuleConfig rule;
    rule.where = errors->Where(OriginOf(rule_node.source()));
    bool ok = true;
    auto fail = [&](const toml::node& at, const std::string& key, std::string_view what) {
      errors->Add(OriginOf(at.source()), key, what);
      ok = false;
    };
    // A string or an array of strings, each checked by `check` at its own position.
    auto list = [&](const toml::node& v, const std::string& key, std::vector<std::string>* field,
                    std::string (*check)(std::string_view)) {
      auto one = [&](const toml::node& e) {
        if (!e.is_string()) return fail(e, key, "must contain only strings");
        const std::string& s = e.as_string()->get();
        if (std::string bad = check(s); !bad.empty()) return fail(e, key, bad);
        field->push_back(s);
      };
      if (v.is_string()) return one(v);
      if (!v.is_array()) {
        return fail(
            v, key,
            fmt::format("must be a string or an array of strings, got {}", TomlTypeName(v.type())));
      }
      if (v.as_array()->empty()) return fail(v, key, "must not be empty");
      for (const toml::node& e : *v.as_array()) one(e);
    };
    const toml::node* header_node = nullptr;
    const toml::node* part_node = nullptr;
    const toml::node* value_node = nullptr;
    for (const auto& [k, v] : *rule_node.as_table()) {
      const std::string key = fmt::format("{}.{}", base, k.str());
      const std::string_view name = k.str();
      if (name == "tenant") {
        if (!v.is_string()) {
          fail(v, key, "must be a string");
        } else if (rule.tenant = v.as_string()->get(); rule.tenant != siprec::kTenantFromValue) {
          if (std::string bad = siprec::CheckTenantName(rule.tenant); !bad.empty()) {
            fail(v, key, bad);
          }
        }
      } else if (name == "src") {
        list(v, key, &rule.src, [](std::string_view s) {
          Result<Cidr> c = Cidr::Parse(s);
          return c.ok() ? std::string() : std::string(c.status().message());
        });
      } else if (name == "request_uri_domain") {
        list(v, key, &rule.request_uri_domain, siprec::CheckDomainPattern);
      } else if (name == "to_domain") {
        list(v, key, &rule.to_domain, siprec::CheckDomainPattern);
      } else if (name == "from_domain") {
        list(v, key, &rule.from_domain, siprec::CheckDomainPattern);
      } else if (name == "participant_domain") {
        list(v, key, &rule.participant_domain, siprec::CheckDomainPattern);
      } else if (name == "participant_number") {
        list(v, key, &rule.participant_number, siprec::CheckNumberPrefix);
      } else if (name == "header") {
        header_node = &v;
        if (!v.is_string()) {
          fail(v, key, "must be a string");
        } else if (rule.header = v.as_string()->get();
                   !siprec::CheckHeaderName(rule.header).empty()) {
          fail(v, key, siprec::CheckHeaderName(rule.header));
        }
      } else if (name == "part") {
        part_node = &v;
        if (!v.is_string() || (v.as_string()->get() != "value" && v.as_string()->get() != "user" &&
                               v.as_string()->get() != "domain")) {
          fail(v, key, "must be one of value, user, domain");
        } else {
          rule.header_part = v.as_string()->get();
        }
      } else if (name == "value") {
        value_node = &v;
        list(v, key, &rule.header_value, siprec::CheckValuePattern);
      } else {
        errors->Add(OriginOf(k.source()), key,
                    fmt::format("unknown key (a rule has {})", kRuleKeys));
        ok = false;
      }
    }
    if (rule.header.empty() && (part_node != nullptr || value_node != nullptr)) {
      fail(part_node != nullptr ? *part_node : *value_node, base,
           "part and value need header (the header they look at)");
    }
    if (ok && rule.tenant.empty()) {
      fail(rule_node, base, "needs tenant (a tenant name, or \"{value}\" for the header's value)");
    }
    if (ok && rule.tenant == siprec::kTenantFromValue && header_node == nullptr) {
      fail(rule_node, base + ".tenant", "\"{value}\" needs header (the value it takes)");
    }
    const bool has_condition = !rule.src.empty() || !rule.request_uri_domain.empty() ||
                               !rule.to_domain.empty() || !rule.from_domain.empty() ||
                               !rule.header.empty() || !rule.participant_domain.empty() ||
                               !rule.participant_number.empty();
    if (ok && !has_condition) {
      fail(rule_node, base,
           "has no condition (src, *_domain, header, participant_*); calls no rule matches "
           "get tenants.default");
    }
    if (ok) out->push_back(std::move(rule));
  }
}

Result<std::vector<siprec::TenantRule>> BuildTenantRules(const TenantsConfig& config) {
  std::vector<siprec::TenantRule> rules;
  for (const TenantRuleConfig& c : config.rules) {
    siprec::TenantRule r;
    r.tenant = c.tenant;
    for (const std::string& s : c.src) {
      CV_ASSIGN_OR_RETURN(Cidr block, Cidr::Parse(s));
      r.src.push_back(block);
    }
    r.request_uri_domain = c.request_uri_domain;
    r.to_domain = c.to_domain;
    r.from_domain = c.from_domain;
    r.header = c.header;
    r.header_part = c.header_part == "user"     ? siprec::HeaderPart::kUser
                    : c.header_part == "domain" ? siprec::HeaderPart::kDomain
                                                : siprec::HeaderPart::kValue;
    r.header_value = c.header_value;
    r.participant_domain = c.participant_domain;
    r.participant_number = c.participant_number;
    r.where = c.where;
    rules.push_back(std::move(r));
  }
  return rules;
}

}  // namespace callvault::app

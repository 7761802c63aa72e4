// The [tenants] section of the configuration: its keys (AppendTenantKeys, part of the key
// table), the parser of `[[tenants.rule]]` tables (config.cc calls it for every `tenants.rule`
// node, so errors carry file:line:col) and the conversion of the parsed rules into the matcher
// siprec/ runs (siprec/tenant_rules.h).
//
// Called by: app/config*.cc (parsing), app/server.cc (BuildTenantRules at start and SIGHUP).
// Thread-safety: pure functions.
#pragma once

#include <toml++/toml.h>

#include <vector>

#include "app/config.h"
#include "app/config_parse.h"
#include "base/status.h"
#include "siprec/tenant_rules.h"

namespace callvault::app {

struct ConfigKey;
void AppendTenantKeys(std::vector<ConfigKey>* keys);

void ParseTenantRules(const toml::node& node, std::vector<TenantRuleConfig>* out,
                      config_parse::Errors* errors);

// The matcher's rules (REQUIRES: `config` passed ParseTenantRules; the error is only for a
// hand-built config).
Result<std::vector<siprec::TenantRule>> BuildTenantRules(const TenantsConfig& config);

}  // namespace callvault::app

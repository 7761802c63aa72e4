// Parsing and validation of the config file, driven by the key table (config_schema.cc).
#include "app/config.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "app/config_parse.h"
#include "app/config_schema.h"
#include "app/config_tenants.h"
#include "app/version.h"
#include "replication/protocol.h"
#include "replication/schedule.h"

namespace callvault::app {
namespace {

using config_parse::Errors;
using config_parse::Origin;
using config_parse::OriginOf;
using config_parse::TomlTypeName;

constexpr std::string_view kDefaultsName = "(embedded defaults)";

struct GivenValue {
  ConfigValue value;
  Origin origin;
  std::vector<Origin> elements;  // kStringList: per element
};

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// " (did you mean sip.min_se_s?)" or "".
std::string Suggest(std::string_view section, std::string_view name) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
  for (const auto& k : ConfigKeys()) {
    size_t d = EditDistance(name, k.name);
    if (k.section != section) d = (d == 0) ? 1 : d + 2;  // right name in another section
    if (d < best_distance) {
      best_distance = d;
      best = k.FullName();
    }
  }
  return best.empty() ? "" : fmt::format(" (did you mean {}?)", best);
}

std::string SuggestSection(std::string_view name) {
  for (const auto& s : ConfigSections()) {
    if (EditDistance(name, s.name) <= 2) return fmt::format(" (did you mean [{}]?)", s.name);
  }
  return "";
}

// Converts a TOML node to a value of the key's type, or says why it cannot.
std::optional<GivenValue> Convert(const ConfigKey& key, const toml::node& node, Errors* errors) {
  Origin at = OriginOf(node.source());
  std::string name = key.FullName();
  auto wrong = [&](const toml::node& n, std::string_view n_name, std::string_view want) {
    errors->Add(OriginOf(n.source()), n_name,
                fmt::format("must be {}, got {}", want, TomlTypeName(n.type())));
    return std::nullopt;
  };
  switch (key.type) {
    case ConfigType::kBool:
      if (!node.is_boolean()) return wrong(node, name, "a boolean (true or false)");
      return GivenValue{node.as_boolean()->get(), at, {}};
    case ConfigType::kInt:
      if (!node.is_integer()) return wrong(node, name, "an integer");
      return GivenValue{node.as_integer()->get(), at, {}};
    case ConfigType::kString:
      if (!node.is_string()) return wrong(node, name, "a string");
      return GivenValue{node.as_string()->get(), at, {}};
    case ConfigType::kStringList: {
      if (!node.is_array()) return wrong(node, name, "an array of strings");
      GivenValue given{std::vector<std::string>{}, at, {}};
      auto& list = std::get<std::vector<std::string>>(given.value);
      bool ok = true;
      size_t i = 0;
      for (const toml::node& e : *node.as_array()) {
        if (!e.is_string()) {
          wrong(e, fmt::format("{}[{}]", name, i), "a string");
          ok = false;
        } else {
          list.push_back(e.as_string()->get());
          given.elements.push_back(OriginOf(e.source()));
        }
        ++i;
      }
      if (!ok) return std::nullopt;
      return given;
    }
  }
  return std::nullopt;
}

// Checks one value of the right type against the key's range, choices and check function.
bool Validate(const ConfigKey& key, const GivenValue& given, Errors* errors) {
  std::string name = key.FullName();
  std::string note = key.range_note.empty() ? "" : fmt::format(" ({})", key.range_note);
  bool ok = true;
  if (key.type == ConfigType::kInt) {
    int64_t v = std::get<int64_t>(given.value);
    if (v < key.min) {
      errors->Add(given.origin, name, fmt::format("must be >= {}{}, got {}", key.min, note, v));
      ok = false;
    } else if (v > key.max) {
      errors->Add(given.origin, name, fmt::format("must be <= {}{}, got {}", key.max, note, v));
      ok = false;
    }
  }
  if (key.type == ConfigType::kString && !key.choices.empty()) {
    const std::string& v = std::get<std::string>(given.value);
    if (std::find(key.choices.begin(), key.choices.end(), v) == key.choices.end()) {
      errors->Add(given.origin, name,
                  fmt::format("must be one of {}, got \"{}\"", fmt::join(key.choices, ", "), v));
      ok = false;
    }
  }
  if (key.type == ConfigType::kStringList && name == "sip.listen") {
    const auto& list = std::get<std::vector<std::string>>(given.value);
    for (size_t i = 0; i < list.size(); ++i) {
      auto spec = ParseListenSpec(list[i]);
      if (!spec.ok()) {
        const Origin& at = i < given.elements.size() ? given.elements[i] : given.origin;
        errors->Add(at, fmt::format("{}[{}]", name, i), spec.status().message());
        ok = false;
      }
    }
  }
  if (ok && key.check != nullptr) {
    std::string what = key.check(given.value);
    if (!what.empty()) {
      errors->Add(given.origin, name, what);
      ok = false;
    }
  }
  return ok;
}

// [retention.policies.<name>] tables → policies, reporting every problem with its position.
void ParseRetentionPolicies(const toml::node& node, std::vector<RetentionPolicy>* out,
                            Errors* errors) {
  if (!node.is_table()) {
    errors->Add(OriginOf(node.source()), "retention.policies",
                fmt::format("must be a table of policies ([retention.policies.<name>]), got {}",
                            TomlTypeName(node.type())));
    return;
  }
  for (const auto& [name_key, policy_node] : *node.as_table()) {
    const std::string base = fmt::format("retention.policies.{}", name_key.str());
    if (!policy_node.is_table()) {
      errors->Add(OriginOf(name_key.source()), base,
                  fmt::format("must be a table, got {}", TomlTypeName(policy_node.type())));
      continue;
    }
    RetentionPolicy policy;
    policy.name = std::string(name_key.str());
    bool ok = true, has_age = false;
    auto strings = [&](const toml::node& n, const std::string& key,
                       std::vector<std::string>* list) {
      if (!n.is_array()) {
        errors->Add(OriginOf(n.source()), key,
                    fmt::format("must be an array of strings, got {}", TomlTypeName(n.type())));
        ok = false;
        return;
      }
      for (const toml::node& e : *n.as_array()) {
        if (!e.is_string()) {
          errors->Add(OriginOf(e.source()), key, "must contain only strings");
          ok = false;
          return;
        }
        list->push_back(e.as_string()->get());
      }
    };
    for (const auto& [k, v] : *policy_node.as_table()) {
      const std::string key = fmt::format("{}.{}", base, k.str());
      if (k.str() == "older_than_days") {
        if (!v.is_integer() || v.as_integer()->get() < 1 || v.as_integer()->get() > 36500) {
          errors->Add(OriginOf(v.source()), key, "must be an integer from 1 to 36500");
          ok = false;
        } else {
          policy.older_than_days = static_cast<int>(v.as_integer()->get());
          has_age = true;
        }
      } else if (k.str() == "tenant") {
        if (!v.is_string()) {
          errors->Add(OriginOf(v.source()), key, "must be a string");
          ok = false;
        } else {
          policy.tenant = v.as_string()->get();
        }
      } else if (k.str() == "tags") {
        strings(v, key, &policy.tags);
      } else if (k.str() == "states") {
        strings(v, key, &policy.states);
        for (const std::string& st : policy.states) {
          if (st != "completed" && st != "timed_out" && st != "partial") {
            errors->Add(OriginOf(v.source()), key,
                        fmt::format("must name states completed, timed_out or partial, got "
                                    "\"{}\"",
                                    st));
            ok = false;
          }
        }
      } else {
        errors->Add(OriginOf(k.source()), key,
                    "unknown key (a policy has older_than_days, tenant, tags, states)");
        ok = false;
      }
    }
    if (!has_age && ok) {
      errors->Add(OriginOf(name_key.source()), base, "needs older_than_days");
      ok = false;
    }
    if (ok) out->push_back(std::move(policy));
  }
}

// [[cluster.peers]] tables → peers, reporting every problem with its position.
void ParseClusterPeers(const toml::node& node, std::vector<PeerConfig>* out, Errors* errors) {
  if (!node.is_array_of_tables()) {
    errors->Add(OriginOf(node.source()), "cluster.peers",
                fmt::format("must be tables ([[cluster.peers]]), got {}",
                            TomlTypeName(node.type())));
    return;
  }
  size_t i = 0;
  for (const toml::node& peer_node : *node.as_array()) {
    const std::string base = fmt::format("cluster.peers[{}]", i++);
    PeerConfig peer;
    bool ok = true;
    auto str = [&](const toml::node& v, const std::string& key, std::string* field) {
      if (!v.is_string()) {
        errors->Add(OriginOf(v.source()), key, "must be a string");
        ok = false;
      } else {
        *field = v.as_string()->get();
      }
    };
    for (const auto& [k, v] : *peer_node.as_table()) {
      const std::string key = fmt::format("{}.{}", base, k.str());
      if (k.str() == "id") {
        str(v, key, &peer.id);
      } else if (k.str() == "url") {
        str(v, key, &peer.url);
        if (ok && peer.url.rfind("https://", 0) != 0) {
          errors->Add(OriginOf(v.source()), key,
                      fmt::format("must be https://host:port (mutual TLS), got \"{}\"", peer.url));
          ok = false;
        }
        while (ok && !peer.url.empty() && peer.url.back() == '/') peer.url.pop_back();
      } else if (k.str() == "schedule") {
        str(v, key, &peer.schedule);
        if (ok) {
          Result<replication::Schedule> sched = replication::Schedule::Parse(peer.schedule);
          if (!sched.ok()) {
            errors->Add(OriginOf(v.source()), key, std::string(sched.status().message()));
            ok = false;
          }
        }
      } else if (k.str() == "relay" || k.str() == "shared_bucket") {
        if (!v.is_boolean()) {
          errors->Add(OriginOf(v.source()), key, "must be true or false");
          ok = false;
        } else {
          (k.str() == "relay" ? peer.relay : peer.shared_bucket) = v.as_boolean()->get();
        }
      } else if (k.str() == "max_mbps") {
        if (!v.is_integer() || v.as_integer()->get() < 0 || v.as_integer()->get() > 100000) {
          errors->Add(OriginOf(v.source()), key, "must be an integer from 0 (no cap) to 100000");
          ok = false;
        } else {
          peer.max_mbps = static_cast<int>(v.as_integer()->get());
        }
      } else {
        errors->Add(OriginOf(k.source()), key,
                    "unknown key (a peer has id, url, schedule, relay, max_mbps, shared_bucket)");
        ok = false;
      }
    }
    if (ok && peer.id.empty()) {
      errors->Add(OriginOf(peer_node.source()), base, "needs id (the peer's node.id)");
      ok = false;
    }
    if (ok) {
      if (Status s = replication::ValidateNodeId(peer.id); !s.ok()) {
        errors->Add(OriginOf(peer_node.source()), base + ".id", std::string(s.message()));
        ok = false;
      }
    }
    if (ok && peer.url.empty()) {
      errors->Add(OriginOf(peer_node.source()), base, "needs url (https://host:port)");
      ok = false;
    }
    for (const PeerConfig& other : *out) {
      if (ok && other.id == peer.id) {
        errors->Add(OriginOf(peer_node.source()), base + ".id",
                    fmt::format("peer \"{}\" is configured twice", peer.id));
        ok = false;
      }
    }
    if (ok) out->push_back(std::move(peer));
  }
}

// Reads the TOML tree into key → value, reporting unknown sections/keys and wrong types.
void Collect(const toml::table& root, std::map<std::string, GivenValue>* given,
             std::vector<RetentionPolicy>* policies, std::vector<PeerConfig>* peers,
             std::vector<TenantRuleConfig>* tenant_rules, Errors* errors) {
  for (const auto& [section_key, section_node] : root) {
    std::string_view section = section_key.str();
    bool known = std::any_of(ConfigSections().begin(), ConfigSections().end(),
                             [&](const ConfigSection& s) { return s.name == section; });
    if (!known) {
      errors->Add(OriginOf(section_key.source()), section,
                  section_node.is_table()
                      ? "unknown section" + SuggestSection(section)
                      : "unknown key (every key belongs to a section such as [sip])" +
                            Suggest("", section));
      continue;
    }
    if (!section_node.is_table()) {
      errors->Add(OriginOf(section_key.source()), section,
                  fmt::format("must be a table ([{}]), got {}", section,
                              TomlTypeName(section_node.type())));
      continue;
    }
    for (const auto& [key_key, node] : *section_node.as_table()) {
      std::string full = fmt::format("{}.{}", section, key_key.str());
      if (full == "retention.policies") {
        ParseRetentionPolicies(node, policies, errors);
        continue;
      }
      if (full == "cluster.peers") {
        ParseClusterPeers(node, peers, errors);
        continue;
      }
      if (full == "tenants.rule") {
        ParseTenantRules(node, tenant_rules, errors);
        continue;
      }
      const ConfigKey* key = FindConfigKey(full);
      if (key == nullptr) {
        errors->Add(OriginOf(key_key.source()), full,
                    "unknown key" + Suggest(section, key_key.str()));
        continue;
      }
      std::optional<GivenValue> v = Convert(*key, node, errors);
      if (v) {
        // Errors point at the key, where a reader looks first; array elements keep their own.
        v->origin = OriginOf(key_key.source());
        given->emplace(full, std::move(*v));
      }
    }
  }
}

std::string Hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "callvault";
  return buf;
}

// Checks between keys, once each key is valid on its own.
void CrossValidate(const Config& c, const std::map<std::string, Origin>& origins,
                   const std::vector<std::string>& invalid, Errors* errors) {
  auto at = [&](const std::string& key) {
    auto it = origins.find(key);
    return it == origins.end() ? Origin{} : it->second;
  };
  auto valid = [&](std::initializer_list<std::string> keys) {
    for (const auto& k : keys) {
      if (std::find(invalid.begin(), invalid.end(), k) != invalid.end()) return false;
    }
    return true;
  };
  const auto& core = c.sip.core;
  if (valid({"sip.t1_ms", "sip.t2_ms"}) && core.timers.t2 < core.timers.t1) {
    errors->Add(at("sip.t2_ms"), "sip.t2_ms",
                fmt::format("must be >= sip.t1_ms ({}) (RFC 3261), got {}", core.timers.t1.count(),
                            core.timers.t2.count()));
  }
  if (valid({"sip.session_expires_s", "sip.min_se_s"}) && core.session_expires_s < core.min_se_s) {
    errors->Add(at("sip.session_expires_s"), "sip.session_expires_s",
                fmt::format("must be >= sip.min_se_s ({}) (RFC 4028), got {}", core.min_se_s,
                            core.session_expires_s));
  }
  if (valid({"media.port_min", "media.port_max"}) && c.media.port_max < c.media.port_min + 3) {
    errors->Add(at("media.port_max"), "media.port_max",
                fmt::format("must be >= media.port_min + 3 (room for two RTP/RTCP pairs), got "
                            "{} with port_min {}",
                            c.media.port_max, c.media.port_min));
  }
  if (c.storage.backend == "s3") {
    for (const char* key : {"s3.endpoint", "s3.bucket", "s3.access_key_id",
                            "s3.secret_access_key_file"}) {
      const ConfigKey* k = FindConfigKey(key);
      if (std::get<std::string>(k->get(c)).empty() && valid({key})) {
        errors->Add(at("storage.backend"), key, "must be set when storage.backend = \"s3\"");
      }
    }
  }
  if (valid({"s3.part_size_mb", "s3.multipart_threshold_mb"}) &&
      c.s3.part_size_mb > c.s3.multipart_threshold_mb) {
    errors->Add(at("s3.part_size_mb"), "s3.part_size_mb",
                fmt::format("must be <= s3.multipart_threshold_mb ({}), got {}",
                            c.s3.multipart_threshold_mb, c.s3.part_size_mb));
  }
  if (!c.cluster.peers.empty()) {
    if (!c.node_id_given) {
      errors->Add(at("node.id"), "node.id",
                  fmt::format("must be set when [[cluster.peers]] are configured (the hostname "
                              "default \"{}\" would change with the machine)",
                              c.node.id));
    } else if (Status s = replication::ValidateNodeId(c.node.id); !s.ok() && valid({"node.id"})) {
      errors->Add(at("node.id"), "node.id",
                  std::string(s.message()) + " (it names certificates and queues)");
    }
    for (const char* key : {"cluster.listen", "cluster.cert_file", "cluster.key_file",
                            "cluster.ca_file"}) {
      const ConfigKey* k = FindConfigKey(key);
      if (std::get<std::string>(k->get(c)).empty() && valid({key}))
        errors->Add(at(key), key, "must be set when [[cluster.peers]] are configured");
    }
    for (const PeerConfig& p : c.cluster.peers) {
      if (p.id == c.node.id)
        errors->Add(at("node.id"), "cluster.peers",
                    fmt::format("peer \"{}\" is this node (node.id)", p.id));
      if (p.shared_bucket && c.storage.backend != "s3")
        errors->Add(at("storage.backend"), "cluster.peers",
                    fmt::format("peer \"{}\" has shared_bucket = true: it needs storage.backend "
                                "= \"s3\" (the bucket both nodes use)",
                                p.id));
    }
  }
  if (!c.encryption.tenants.empty() && c.encryption.master_key_file.empty() &&
      valid({"encryption.tenants"})) {
    errors->Add(at("encryption.tenants"), "encryption.master_key_file",
                "must be set when encryption.tenants names tenants");
  }
  const auto& t = c.sip.transport;
  if (valid({"sip.listen", "sip.tls_certificate", "sip.tls_private_key"})) {
    for (const auto& l : c.sip.listen) {
      if (l.transport == "tls" &&
          (t.tls_certificate_file.empty() || t.tls_private_key_file.empty())) {
        errors->Add(at("sip.listen"), "sip.listen",
                    fmt::format("listener \"{}\" needs sip.tls_certificate and "
                                "sip.tls_private_key",
                                l.ToString()));
        break;
      }
    }
    if (t.tls_certificate_file.empty() != t.tls_private_key_file.empty()) {
      const char* missing =
          t.tls_certificate_file.empty() ? "sip.tls_certificate" : "sip.tls_private_key";
      const char* given =
          t.tls_certificate_file.empty() ? "sip.tls_private_key" : "sip.tls_certificate";
      errors->Add(at(given), given, fmt::format("is set but {} is not", missing));
    }
    if (t.tls_verify_peer && t.tls_ca_file.empty() &&
        valid({"sip.tls_verify_peer", "sip.tls_ca"})) {
      errors->Add(at("sip.tls_verify_peer"), "sip.tls_verify_peer",
                  "needs sip.tls_ca (the CAs client certificates are verified against)");
    }
    for (size_t i = 0; i < c.sip.listen.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (c.sip.listen[i] == c.sip.listen[j] && c.sip.listen[i].port != 0) {
          errors->Add(at("sip.listen"), "sip.listen",
                      fmt::format("\"{}\" is listed twice", c.sip.listen[i].ToString()));
        }
      }
    }
  }
}

}  // namespace

std::string ListenSpec::ToString() const {
  bool v6 = host.find(':') != std::string::npos;
  return v6 ? fmt::format("{}:[{}]:{}", transport, host, port)
            : fmt::format("{}:{}:{}", transport, host, port);
}

Result<ListenSpec> ParseListenSpec(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(
        fmt::format("\"{}\": {} (want udp|tcp|tls:ADDRESS:PORT, e.g. \"udp:0.0.0.0:5060\" or "
                    "\"tcp:[::]:5060\")",
                    text, why));
  };
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad("no transport");
  ListenSpec spec;
  spec.transport = std::string(text.substr(0, colon));
  if (spec.transport != "udp" && spec.transport != "tcp" && spec.transport != "tls") {
    return bad(fmt::format("unknown transport \"{}\"", spec.transport));
  }
  std::string_view rest = text.substr(colon + 1);
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return bad("IPv6 address must be written [ADDRESS]:PORT");
    }
    spec.host = std::string(rest.substr(1, close - 1));
    port_text = rest.substr(close + 2);
    in6_addr a6;
    if (inet_pton(AF_INET6, spec.host.c_str(), &a6) != 1) return bad("not an IPv6 address");
  } else {
    size_t last = rest.rfind(':');
    if (last == std::string_view::npos) return bad("no port");
    spec.host = std::string(rest.substr(0, last));
    port_text = rest.substr(last + 1);
    in_addr a4;
    if (spec.host.find(':') != std::string::npos) return bad("IPv6 address must be in brackets");
    if (inet_pton(AF_INET, spec.host.c_str(), &a4) != 1) return bad("not an IPv4 address");
  }
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return bad("port must be a number 0-65535");
  }
  int port = std::stoi(std::string(port_text));
  if (port > 65535) return bad("port must be a number 0-65535");
  spec.port = static_cast<uint16_t>(port);
  return spec;
}

std::string DefaultUserAgent() { return std::string("callvault/") + kVersion; }

Result<Config> ParseConfig(std::string_view text, std::string_view source_name,
                           const std::vector<ConfigOverride>& overrides) {
  Errors errors(source_name);
  std::map<std::string, GivenValue> given;
  std::vector<RetentionPolicy> policies;
  std::vector<PeerConfig> peers;
  std::vector<TenantRuleConfig> tenant_rules;
  try {
    toml::table root = toml::parse(text, source_name);
    Collect(root, &given, &policies, &peers, &tenant_rules, &errors);
  } catch (const toml::parse_error& e) {
    errors.Add(OriginOf(e.source()), "", fmt::format("TOML syntax: {}", e.description()));
    return InvalidArgumentError(errors.Join());
  }
  for (const auto& o : overrides) {
    const ConfigKey* key = FindConfigKey(o.key);
    CV_CHECK_MSG(key != nullptr, "override of an unknown key " + o.key);
    given[o.key] = GivenValue{o.value, Origin{0, 0, o.origin}, {}};
  }

  Config config;
  config.source = std::string(source_name);
  std::map<std::string, Origin> origins;
  std::vector<std::string> invalid;
  for (const auto& key : ConfigKeys()) {
    std::string name = key.FullName();
    auto it = given.find(name);
    if (it == given.end()) {
      key.set(config, key.default_value);
      continue;
    }
    origins[name] = it->second.origin;
    if (Validate(key, it->second, &errors)) {
      key.set(config, it->second.value);
    } else {
      invalid.push_back(name);
      key.set(config, key.default_value);
    }
  }
  config.retention.policies = std::move(policies);
  config.cluster.peers = std::move(peers);
  config.tenants.rules = std::move(tenant_rules);
  config.node_id_given = !config.node.id.empty();
  if (config.node.id.empty()) config.node.id = Hostname();
  if (config.sip.core.user_agent.empty()) config.sip.core.user_agent = DefaultUserAgent();
  CrossValidate(config, origins, invalid, &errors);
  if (!errors.empty()) return InvalidArgumentError(errors.Join());
  return config;
}

Result<Config> LoadConfig(const std::string& path, const std::vector<ConfigOverride>& overrides) {
  if (path.empty()) return ParseConfig("", kDefaultsName, overrides);
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(fmt::format("reading config file {}", path), errno);
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return IoError(fmt::format("reading config file {}", path), errno);
  return ParseConfig(buf.str(), path, overrides);
}

Config DefaultConfig() {
  Result<Config> c = ParseConfig("", kDefaultsName);
  CV_CHECK_MSG(c.ok(), c.status().ToString());
  return std::move(c).value();
}

std::vector<std::string> ChangedKeys(const Config& a, const Config& b) {
  std::vector<std::string> out;
  for (const auto& key : ConfigKeys()) {
    if (key.get(a) != key.get(b)) out.push_back(key.FullName());
  }
  return out;
}

bool IsReloadable(std::string_view name) {
  const ConfigKey* key = FindConfigKey(name);
  return key != nullptr && key->reloadable;
}

void ApplyReloadable(const Config& from, Config* to) {
  for (const auto& key : ConfigKeys()) {
    if (key.reloadable) key.set(*to, key.get(from));
  }
}

}  // namespace callvault::app

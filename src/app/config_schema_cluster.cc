// The [cluster] rows of the configuration table (config_schema.cc explains how to add a key).
// Peers are tables of their own (`[[cluster.peers]]`), read by config.cc's ParseClusterPeers.
#include <fmt/format.h>

#include "app/config_schema.h"

namespace callvault::app {
namespace {

std::string CheckHostPort(const ConfigValue& v) {
  const std::string& s = Str(v);
  if (s.empty()) return "";
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    return fmt::format("must be \"host:port\" (\"[::]:5443\" for IPv6), got \"{}\"", s);
  for (size_t i = colon + 1; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return fmt::format("port must be a number, got \"{}\"", s);
  if (std::stol(s.substr(colon + 1)) > 65535) return "port must be 0-65535";
  return "";
}

}  // namespace

void AppendClusterKeys(std::vector<ConfigKey>* keys) {
  std::vector<ConfigKey>& k = *keys;
  k.push_back({.section = "cluster",
               .name = "listen",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "Address of the peer endpoint, `host:port` (`[::]:5443` for IPv6): "
                              "HTTP/1.1 over mutual TLS, for peers only. Empty = no cluster "
                              "(required once `[[cluster.peers]]` are configured).",
               .check = CheckHostPort,
               .set = [](Config& c, const ConfigValue& v) { c.cluster.listen = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.cluster.listen; }});
  k.push_back({.section = "cluster",
               .name = "cert_file",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "PEM certificate (chain) of this node, signed by the cluster CA; "
                              "its subject CN or a DNS subjectAltName is the node id, and it "
                              "names the host peers reach it at. Used as server and client "
                              "certificate.",
               .set = [](Config& c, const ConfigValue& v) { c.cluster.cert_file = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.cluster.cert_file; }});
  k.push_back({.section = "cluster",
               .name = "key_file",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "PEM private key of `cert_file`.",
               .set = [](Config& c, const ConfigValue& v) { c.cluster.key_file = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.cluster.key_file; }});
  k.push_back({.section = "cluster",
               .name = "ca_file",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "PEM CA certificate(s) peer certificates must chain to.",
               .set = [](Config& c, const ConfigValue& v) { c.cluster.ca_file = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.cluster.ca_file; }});
  k.push_back({.section = "cluster",
               .name = "threads",
               .type = ConfigType::kInt,
               .default_value = int64_t{8},
               .description = "Worker threads of the peer endpoint (one per connection).",
               .min = 1,
               .max = 256,
               .set = [](Config& c, const ConfigValue& v) { c.cluster.threads = int(Int(v)); },
               .get = [](const Config& c) -> ConfigValue { return int64_t{c.cluster.threads}; }});
  k.push_back(
      {.section = "cluster",
       .name = "transfers_per_peer",
       .type = ConfigType::kInt,
       .default_value = int64_t{2},
       .description = "Calls sent to one peer at once (threads, at a lower CPU priority "
                      "than recording).",
       .min = 1,
       .max = 32,
       .set = [](Config& c, const ConfigValue& v) { c.cluster.transfers_per_peer = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue {
         return int64_t{c.cluster.transfers_per_peer};
       }});
  k.push_back(
      {.section = "cluster",
       .name = "sync_interval_ms",
       .type = ConfigType::kInt,
       .default_value = int64_t{2000},
       .description = "How often each peer's change log (users, tokens, roles, tenants, "
                      "tags, settings, audit, deletions) is pulled. Schedules do not "
                      "apply to it.",
       .reloadable = true,
       .min = 200,
       .max = 60000,
       .set = [](Config& c, const ConfigValue& v) { c.cluster.sync_interval_ms = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.cluster.sync_interval_ms}; }});
  k.push_back(
      {.section = "cluster",
       .name = "max_clock_skew_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{60},
       .description = "A change stamped more than this ahead of this node's clock is "
                      "refused and counted (`callvault_cluster_changes_refused_total`): "
                      "a peer with a wrong clock would otherwise win every conflict.",
       .reloadable = true,
       .min = 1,
       .max = 86400,
       .set = [](Config& c, const ConfigValue& v) { c.cluster.max_clock_skew_s = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.cluster.max_clock_skew_s}; }});
  k.push_back(
      {.section = "cluster",
       .name = "min_free_disk_mb",
       .type = ConfigType::kInt,
       .default_value = int64_t{2048},
       .description = "A call from a peer that would leave less free space than this "
                      "on the recordings' filesystem is refused (HTTP 507; the peer "
                      "keeps it queued): the recorder's own spool needs the room.",
       .min = 0,
       .set = [](Config& c, const ConfigValue& v) { c.cluster.min_free_disk_mb = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.cluster.min_free_disk_mb}; }});
}

}  // namespace callvault::app

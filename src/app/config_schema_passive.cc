// The [passive] rows of the configuration table (config_schema.cc explains how to add a key).
#include <fmt/format.h>

#include <charconv>

#include "app/config_schema.h"
#include "sip/transport.h"

namespace callvault::app {
namespace {

using List = std::vector<std::string>;
const List& StrList(const ConfigValue& v) { return std::get<List>(v); }

std::string CheckPorts(const ConfigValue& v) {
  for (const std::string& p : StrList(v)) {
    int n = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
    if (ec != std::errc() || ptr != p.data() + p.size() || n < 1 || n > 65535)
      return fmt::format("must list ports 1-65535 as strings, got \"{}\"", p);
  }
  return "";
}

std::string CheckEndpoints(const ConfigValue& v) {
  for (const std::string& e : StrList(v)) {
    auto a = sip::SocketAddress::Parse(e);
    if (!a.ok() || a->port() == 0)
      return fmt::format("must list \"ip:port\" addresses (\"[v6]:port\" for IPv6), got \"{}\"", e);
  }
  return "";
}

}  // namespace

void AppendPassiveKeys(std::vector<ConfigKey>* keys) {
  std::vector<ConfigKey>& k = *keys;
  k.push_back({.section = "passive",
               .name = "enabled",
               .type = ConfigType::kBool,
               .default_value = false,
               .description = "Record the sessions seen in captured traffic (a hot spare).",
               .set = [](Config& c, const ConfigValue& v) { c.passive.enabled = Bool(v); },
               .get = [](const Config& c) -> ConfigValue { return c.passive.enabled; }});
  k.push_back({.section = "passive",
               .name = "interface",
               .type = ConfigType::kString,
               .default_value = std::string("any"),
               .description = "Interface to capture on (the one the mirrored traffic arrives "
                              "on), or `any`.",
               .set = [](Config& c, const ConfigValue& v) { c.passive.interface = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.passive.interface; }});
  k.push_back({.section = "passive",
               .name = "filter",
               .type = ConfigType::kString,
               .default_value = std::string(""),
               .description = "BPF filter (pcap-filter(7)) of what to capture, e.g. `host "
                              "192.0.2.20` (the primary). Empty: everything the interface "
                              "sees; SIP is recognised on `sip_ports` and by its start line, "
                              "RTP by the ports the primary's SDP announces.",
               .set = [](Config& c, const ConfigValue& v) { c.passive.filter = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.passive.filter; }});
  k.push_back({.section = "passive",
               .name = "sip_ports",
               .type = ConfigType::kStringList,
               .default_value = List{"5060"},
               .description = "Ports whose UDP datagrams and TCP streams are SIP (either end). "
                              "SIP over TLS cannot be followed.",
               .check = CheckPorts,
               .set = [](Config& c, const ConfigValue& v) { c.passive.sip_ports = StrList(v); },
               .get = [](const Config& c) -> ConfigValue { return c.passive.sip_ports; }});
  k.push_back({.section = "passive",
               .name = "primary",
               .type = ConfigType::kStringList,
               .default_value = List{},
               .description = "The primary recorder's SIP listeners (`\"ip:port\"`): only "
                              "sessions whose INVITE goes to one of them are followed. Empty: "
                              "every SIP dialog seen, its INVITE's receiver taken as the "
                              "primary.",
               .check = CheckEndpoints,
               .set = [](Config& c, const ConfigValue& v) { c.passive.primary = StrList(v); },
               .get = [](const Config& c) -> ConfigValue { return c.passive.primary; }});
  k.push_back({.section = "passive",
               .name = "primary_node_id",
               .type = ConfigType::kString,
               .default_value = std::string(""),
               .description = "The primary's `node.id`, written into passive manifests "
                              "(`capture.primary_node_id`) so the two copies of a call can be "
                              "reconciled.",
               .set = [](Config& c, const ConfigValue& v) { c.passive.primary_node_id = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.passive.primary_node_id; }});
  k.push_back({.section = "passive",
               .name = "buffer_mb",
               .type = ConfigType::kInt,
               .default_value = int64_t{64},
               .description = "Kernel capture ring (libpcap buffer, TPACKET_V3: packets packed "
                              "in blocks, so 64 MiB holds about 200,000 RTP packets, 1 s of "
                              "2,000 calls). Packets beyond it while the capture thread is "
                              "behind are dropped by the kernel: counted in "
                              "`callvault_passive_capture_dropped_total` and in the warnings "
                              "of the calls recording at the time.",
               .min = 1,
               .max = 4096,
               .set = [](Config& c, const ConfigValue& v) { c.passive.buffer_mb = int(Int(v)); },
               .get = [](const Config& c) -> ConfigValue { return int64_t{c.passive.buffer_mb}; }});
  k.push_back(
      {.section = "passive",
       .name = "rtp_timeout_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{60},
       .description = "A followed session whose RTP stopped this long ago ends `timed_out` "
                      "(its BYE may never be seen).",
       .min = 5,
       .max = 86400,
       .set = [](Config& c, const ConfigValue& v) { c.passive.rtp_timeout_s = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.passive.rtp_timeout_s}; }});
}

}  // namespace callvault::app

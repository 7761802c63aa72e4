// The [recorder], [media] and [recording] rows of the configuration table (config_schema.cc
// explains how to add a key).
#include <arpa/inet.h>
#include <fmt/format.h>

#include "app/config_schema.h"

namespace callvault::app {
namespace {

std::string CheckIpv4OrEmpty(const ConfigValue& v) {
  in_addr a{};
  if (Str(v).empty() || inet_pton(AF_INET, Str(v).c_str(), &a) == 1) return "";
  return fmt::format("must be an IPv4 address, got \"{}\"", Str(v));
}

std::string CheckIpv6OrEmpty(const ConfigValue& v) {
  in6_addr a{};
  if (Str(v).empty() || inet_pton(AF_INET6, Str(v).c_str(), &a) == 1) return "";
  return fmt::format("must be an IPv6 address, got \"{}\"", Str(v));
}

std::string CheckTemplate(const ConfigValue& v) {
  const std::string& t = Str(v);
  if (t.empty()) return "must not be empty";
  if (t.find("{call_id}") == std::string::npos) {
    return "must contain {call_id} (names must be unique per call)";
  }
  if (t.front() == '/' || t.find("..") != std::string::npos) {
    return "must be a relative path without '..'";
  }
  return "";
}

}  // namespace

void AppendRecordingKeys(std::vector<ConfigKey>* keys) {
  std::vector<ConfigKey>& k = *keys;
  // [recorder]
  k.push_back({.section = "recorder",
               .name = "workers",
               .type = ConfigType::kInt,
               .default_value = int64_t{2},
               .description = "Recorder threads handling recording sessions (spool creation, "
                              "SDP answers, syncs before each 200 OK); a call always stays on "
                              "one of them.",
               .min = 1,
               .max = 64,
               .set = [](Config& c, const ConfigValue& v) { c.recorder.workers = int(Int(v)); },
               .get = [](const Config& c) -> ConfigValue { return int64_t{c.recorder.workers}; }});
  k.push_back(
      {.section = "recorder",
       .name = "accept_without_metadata",
       .type = ConfigType::kBool,
       .default_value = false,
       .description = "Record an INVITE whose body has SDP but no recording metadata "
                      "part. When false it is refused with 488 \"not a SIPREC "
                      "session\".",
       .set = [](Config& c, const ConfigValue& v) { c.recorder.accept_without_metadata = Bool(v); },
       .get = [](const Config& c) -> ConfigValue { return c.recorder.accept_without_metadata; }});
  k.push_back(
      {.section = "recorder",
       .name = "min_free_streams",
       .type = ConfigType::kInt,
       .default_value = int64_t{4},
       .description = "New calls get 503 + Retry-After (the SRC fails over) when fewer "
                      "RTP port pairs than this are free.",
       .min = 1,
       .max = 10000,
       .set = [](Config& c, const ConfigValue& v) { c.recorder.min_free_streams = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.recorder.min_free_streams}; }});
  k.push_back(
      {.section = "recorder",
       .name = "disk_full_horizon_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{300},
       .description = "New calls get 503 + Retry-After + Warning (and `/readyz?role=recorder` "
                      "is not ready: check `disk_headroom`) when the spool's filesystem would "
                      "be full sooner than this at the rate the node writes now (spool demand "
                      "+ finalized audio, over the last 10 s), so the calls already answered "
                      "can finish; accepted again above 1.25 × this. 0 = off (only "
                      "`http.min_free_disk_mb` applies).",
       .min = 0,
       .max = 86400,
       .set = [](Config& c, const ConfigValue& v) { c.recorder.disk_full_horizon_s = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue {
         return int64_t{c.recorder.disk_full_horizon_s};
       }});
  // [media]
  k.push_back({.section = "media",
               .name = "ipv4_address",
               .type = ConfigType::kString,
               .default_value = std::string("0.0.0.0"),
               .description = "Local IPv4 address the RTP sockets bind to.",
               .check = CheckIpv4OrEmpty,
               .set = [](Config& c, const ConfigValue& v) { c.media.ipv4_address = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.media.ipv4_address; }});
  k.push_back({.section = "media",
               .name = "ipv6_address",
               .type = ConfigType::kString,
               .default_value = std::string("::"),
               .description = "Local IPv6 address the RTP sockets of IPv6 streams bind to; "
                              "empty = IPv6 media is refused.",
               .check = CheckIpv6OrEmpty,
               .set = [](Config& c, const ConfigValue& v) { c.media.ipv6_address = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.media.ipv6_address; }});
  k.push_back({.section = "media",
               .name = "advertise_ipv4",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "IPv4 address written in the `c=` line of SDP answers (where the "
                              "SRC sends RTP). Empty = `ipv4_address` when it is not 0.0.0.0, "
                              "else the first non-loopback IPv4 address of the host.",
               .default_doc = "detected",
               .check = CheckIpv4OrEmpty,
               .set = [](Config& c, const ConfigValue& v) { c.media.advertise_ipv4 = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.media.advertise_ipv4; }});
  k.push_back({.section = "media",
               .name = "advertise_ipv6",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "IPv6 address written in SDP answers to IPv6 offers. Empty = "
                              "`ipv6_address` when it is not ::, else the first global IPv6 "
                              "address of the host.",
               .default_doc = "detected",
               .check = CheckIpv6OrEmpty,
               .set = [](Config& c, const ConfigValue& v) { c.media.advertise_ipv6 = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.media.advertise_ipv6; }});
  k.push_back({.section = "media",
               .name = "port_min",
               .type = ConfigType::kInt,
               .default_value = int64_t{20000},
               .description = "Lowest RTP port (RTP on even ports, RTCP on the next odd one).",
               .min = 1024,
               .max = 65534,
               .set = [](Config& c, const ConfigValue& v) { c.media.port_min = int(Int(v)); },
               .get = [](const Config& c) -> ConfigValue { return int64_t{c.media.port_min}; }});
  k.push_back({.section = "media",
               .name = "port_max",
               .type = ConfigType::kInt,
               .default_value = int64_t{39999},
               .description = "Highest RTP/RTCP port; must leave room for at least one pair "
                              "above `port_min`.",
               .min = 1025,
               .max = 65535,
               .set = [](Config& c, const ConfigValue& v) { c.media.port_max = int(Int(v)); },
               .get = [](const Config& c) -> ConfigValue { return int64_t{c.media.port_max}; }});
  k.push_back({.section = "media",
               .name = "io_threads",
               .type = ConfigType::kInt,
               .default_value = int64_t{0},
               .description = "RTP receive threads; 0 = one per CPU core.",
               .min = 0,
               .max = 256,
               .set = [](Config& c, const ConfigValue& v) { c.media.io_threads = int(Int(v)); },
               .get = [](const Config& c) -> ConfigValue { return int64_t{c.media.io_threads}; }});
  k.push_back(
      {.section = "media",
       .name = "rtp_timeout_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{60},
       .description = "A call whose streams (those not on hold) received no RTP for this "
                      "long is ended with a BYE and recorded as `timed_out`.",
       .min = 2,
       .max = 86400,
       .set = [](Config& c,
                 const ConfigValue& v) { c.media.rtp_timeout = std::chrono::seconds(Int(v)); },
       .get = [](const Config& c) { return Count(c.media.rtp_timeout); }});
  k.push_back(
      {.section = "media",
       .name = "spool_flush_ms",
       .type = ConfigType::kInt,
       .default_value = int64_t{200},
       .description = "Received packets are written to the spool at least this often: "
                      "the most audio a `kill -9` can lose.",
       .min = 10,
       .max = 1000,
       .range_note = "no more than 1 s of audio may be lost by a crash",
       .set = [](Config& c,
                 const ConfigValue& v) { c.media.spool_flush = std::chrono::milliseconds(Int(v)); },
       .get = [](const Config& c) { return Count(c.media.spool_flush); }});
  k.push_back(
      {.section = "media",
       .name = "spool_sync_ms",
       .type = ConfigType::kInt,
       .default_value = int64_t{1000},
       .description = "Spool files are fdatasync'ed this often (the most audio a power "
                      "loss can lose, on top of `spool_flush_ms`).",
       .min = 100,
       .max = 60000,
       .set = [](Config& c,
                 const ConfigValue& v) { c.media.spool_sync = std::chrono::milliseconds(Int(v)); },
       .get = [](const Config& c) { return Count(c.media.spool_sync); }});
  k.push_back(
      {.section = "media",
       .name = "spool_batch_sync_min",
       .type = ConfigType::kInt,
       .default_value = int64_t{8},
       .description = "When at least this many spool files need syncing in a round, one "
                      "`syncfs` of the spool's filesystem replaces their per-file "
                      "`fdatasync`s (much cheaper with thousands of streams); 0 = always "
                      "per file.",
       .min = 0,
       .max = 1000000,
       .set = [](Config& c, const ConfigValue& v) { c.media.spool_batch_sync_min = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue {
         return int64_t{c.media.spool_batch_sync_min};
       }});
  k.push_back(
      {.section = "media",
       .name = "spool_memory_budget_mb",
       .type = ConfigType::kInt,
       .default_value = int64_t{256},
       .description = "Spool records all calls together may hold in memory (MiB): buffered "
                      "between writes, kept while the disk refuses writes (full), and kept for "
                      "calls that ended before the disk took them (their finalization waits). "
                      "Past it, new records are dropped and counted per stream with their time "
                      "span (manifest `gaps` with `reason`, a call warning, "
                      "`callvault_media_spool_unwritten_records_total`). 100 calls at 10,000 "
                      "packets/s hold ~2 MB per second of full disk.",
       .min = 1,
       .max = 1048576,
       .set = [](Config& c, const ConfigValue& v) { c.media.spool_memory_budget_mb = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue {
         return int64_t{c.media.spool_memory_budget_mb};
       }});
  k.push_back(
      {.section = "media",
       .name = "rtcp_sockets",
       .type = ConfigType::kBool,
       .default_value = false,
       .description = "Also bind a socket on RTP + 1 for each stream, to store RTCP sent "
                      "there (one more file descriptor per stream). Off: the port stays "
                      "reserved but unbound, RTCP sent to it is refused by the kernel (ICMP "
                      "port unreachable, harmless to the SRC), and RTCP multiplexed on the "
                      "RTP port (`a=rtcp-mux`, answered when offered) is still stored. "
                      "Recording never needs RTCP.",
       .set = [](Config& c, const ConfigValue& v) { c.media.rtcp_sockets = Bool(v); },
       .get = [](const Config& c) -> ConfigValue { return c.media.rtcp_sockets; }});
  // [recording]
  k.push_back({.section = "recording",
               .name = "dir",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "Directory of the finished recordings (audio + `.json` manifest). "
                              "Empty = `<data_dir>/recordings`.",
               .default_doc = "`<data_dir>/recordings`",
               .set = [](Config& c, const ConfigValue& v) { c.recording.dir = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.recording.dir; }});
  k.push_back({.section = "recording",
               .name = "name_template",
               .type = ConfigType::kString,
               .default_value = std::string("{date}/{time}_{call_id}"),
               .description = "Path of each recording under `dir`, without extension: "
                              "`{date}` (YYYY/MM/DD), `{time}` (HHMMSS), `{call_id}`, `{caller}`, "
                              "`{callee}`, `{tenant}`, `{node}`; must contain `{call_id}`. A "
                              "name already taken gets `_2`, `_3`… appended.",
               .check = CheckTemplate,
               .set = [](Config& c, const ConfigValue& v) { c.recording.name_template = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.recording.name_template; }});
  k.push_back({.section = "recording",
               .name = "format",
               .type = ConfigType::kString,
               .default_value = std::string("wav"),
               .description = "Audio format: `wav` (PCM16, one party per channel) or `opus` "
                              "(Ogg/Opus, about 14 MB per call-hour).",
               .choices = {"wav", "opus"},
               .set = [](Config& c, const ConfigValue& v) { c.recording.format = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.recording.format; }});
  k.push_back(
      {.section = "recording",
       .name = "finalize_workers",
       .type = ConfigType::kInt,
       .default_value = int64_t{0},
       .description = "Threads turning ended calls' spools into recordings, also at start-up "
                      "for a crash backlog. Finalizing waits mostly on fsync, so more threads "
                      "than cores help; one call is never finalized by two at once. 0 = 4 per "
                      "core, at least 4, at most 16.",
       .min = 0,
       .max = 64,
       .set = [](Config& c, const ConfigValue& v) { c.recording.finalize_workers = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue {
         return int64_t{c.recording.finalize_workers};
       }});
}

}  // namespace callvault::app

// The table of every configuration key. To add a key: add a field to the typed options, a row
// here, then regenerate the reference: `callvault config-reference > docs/configuration.md`
// (app_config_test fails until you do).
#include "app/config_schema.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace callvault::app {
namespace {

std::string CheckNodeId(const ConfigValue& v) {
  const std::string& id = Str(v);
  if (id.size() > 64) return "must be at most 64 characters";
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return fmt::format("may contain only letters, digits, '.', '-' and '_', got \"{}\"", id);
    }
  }
  return "";
}

std::string CheckNotEmpty(const ConfigValue& v) {
  return Str(v).empty() ? "must not be empty" : "";
}

std::string CheckListen(const ConfigValue& v) {
  const auto& list = std::get<std::vector<std::string>>(v);
  if (list.empty()) return "must name at least one listener";
  return "";  // each entry is checked by ParseListenSpec() with the entry's own position
}

std::string CheckReadableFile(const ConfigValue& v) {
  const std::string& path = Str(v);
  if (path.empty()) return "";
  if (::access(path.c_str(), R_OK) != 0) {
    return fmt::format("cannot read \"{}\": {}", path, std::strerror(errno));
  }
  return "";
}

std::string CheckHeaderValue(const ConfigValue& v) {
  for (char c : Str(v)) {
    if (c == '\r' || c == '\n' || static_cast<unsigned char>(c) < 0x20) {
      return "must not contain control characters (it is written into SIP headers)";
    }
  }
  return "";
}

}  // namespace

// config_schema_recording.cc: the [recorder], [media] and [recording] rows.
void AppendRecordingKeys(std::vector<ConfigKey>* keys);
// config_schema_passive.cc: the [passive] rows.
void AppendPassiveKeys(std::vector<ConfigKey>* keys);
void AppendServiceKeys(std::vector<ConfigKey>* keys);
// config_schema_storage.cc: the [storage], [s3], [retention] and [encryption] rows.
void AppendStorageKeys(std::vector<ConfigKey>* keys);
void AppendClusterKeys(std::vector<ConfigKey>* keys);
// config_tenants.cc: the [tenants] rows.
void AppendTenantKeys(std::vector<ConfigKey>* keys);

namespace {

std::vector<ConfigSection> MakeSections() {
  return {
      {"node", "Identity and storage of this node."},
      {"sip",
       "The SIP signalling core: listeners, RFC 3261 timers, RFC 4028 session timers, limits. "
       "SIPREC clients (SBCs, PBXs) send their INVITEs to one of the `listen` addresses."},
      {"log",
       "Log lines: one line per event (`event=name key=value…`), to standard error or a "
       "file."},
      {"server", "Lifecycle of the `callvault serve` process."},
      {"recorder",
       "SIPREC recording sessions (RFC 7866): which INVITEs are recorded and how the work is "
       "spread."},
      {"passive",
       "Passive recording (a hot spare): capture the traffic mirrored to this node (switch SPAN "
       "port, TAP) with libpcap, follow the SIPREC, Cisco BiB and CUBE NBR sessions the primary "
       "recorder accepts, and record them the same way from the captured RTP. Runs beside "
       "active recording; needs root or CAP_NET_RAW (else `serve` fails to start, saying so). "
       "Manifests say `capture.mode = \"passive\"`. docs/deployment.md explains reconciling "
       "the spare's copies with the primary's."},
      {"media",
       "RTP reception: the port range SDP answers offer, where packets are spooled, and when a "
       "silent call is ended."},
      {"recording",
       "Finished recordings: where the audio files and their manifests are written, their "
       "names and their format."},
      {"catalog",
       "The SQL catalog of calls, users and the audit log: SQLite in the data directory by "
       "default, PostgreSQL when `url` says so. Recording never waits for it: finished calls "
       "wait in `<data_dir>/outbox/catalog` while the database is down."},
      {"http",
       "The HTTP server: REST API `/api/v1` (docs/api.md), `/healthz`, `/readyz`, `/metrics`. "
       "It speaks plain HTTP: put a TLS reverse proxy in front for remote clients."},
      {"storage",
       "Where finished recordings end up. `local` keeps them in the recordings directory; "
       "`s3` moves each one to the `[s3]` bucket `relocate_after_s` after it is finalized "
       "(upload, verify, catalog, then the local copy is removed) through the durable queue "
       "`<data_dir>/outbox/relocation`; playback reads from wherever the audio lives."},
      {"s3",
       "The S3-compatible bucket of `storage.backend = \"s3\"` (AWS S3, MinIO, Ceph RGW): "
       "requests are signed with AWS Signature Version 4. A crash (kill -9, power loss) during "
       "a multipart upload leaves that upload's parts in the bucket, unlisted and billed; the "
       "retry starts a new upload. Give the bucket a lifecycle rule that aborts incomplete "
       "multipart uploads (`AbortIncompleteMultipartUpload`, e.g. after 1 day)."},
      {"retention",
       "Deletion by policy. Each `[retention.policies.<name>]` table selects calls (all of its "
       "conditions hold): `older_than_days` (required, started more than that many days ago), "
       "`tenant` (exact; absent = any), `tags` (any of), `states` (any of `completed`, "
       "`timed_out`, `partial`). Calls under legal hold are never deleted. A deletion writes "
       "the tombstone, an audit entry and a pending purge in one transaction, then removes the "
       "bytes wherever they are; `callvault retention run [--dry-run]` runs the policies on "
       "demand."},
      {"encryption",
       "Encryption at rest, per tenant (docs/formats/encrypted-audio.md): AES-256-GCM with one "
       "data key per file, wrapped by the tenant's key, itself wrapped by the master key. The "
       "spool of a call being recorded is plaintext until the call is finalized."},
      {"cluster",
       "Multi-master replication (docs/deployment.md): every finished call recorded here is "
       "pushed to each peer (audio + manifest, resumable, durable there before it leaves the "
       "queue here), and users, tokens, roles, tenants, tags, settings, the audit log and "
       "deletions replicate through the catalog's change log, last writer wins. Each peer is a "
       "`[[cluster.peers]]` table: `id` (its node.id, named by its certificate), `url` "
       "(`https://host:port` of its `cluster.listen`), `schedule` (`\"continuous\"`, or windows "
       "in local time such as `\"22:00-06:00\"` or `\"12:00-13:00,22:00-06:00\"`), `relay` (also "
       "pass on calls received from other peers: chains, DR sites), `max_mbps` (per "
       "transfer; 0 = no cap) and `shared_bucket` (both nodes use the same S3 bucket, "
       "`storage.backend = \"s3\"`: a call goes to that peer as its manifest alone once the "
       "relocator has moved its audio into the bucket). SIGHUP reloads a peer's url, schedule, "
       "relay and max_mbps; adding or removing a peer, or changing shared_bucket, needs a "
       "restart. With peers, `node.id` must be set explicitly."},
      {"tenants",
       "Which tenant each recorded call belongs to, decided before its 200 OK and written with "
       "its first durable record (so a crash-recovered partial keeps it). Each "
       "`[[tenants.rule]]` table is a rule; the first rule whose conditions all hold gives the "
       "call's tenant, else `tenants.default`. A rule has `tenant` (a tenant name, or "
       "`\"{value}\"` = the value its header condition matched) and at least one condition; a "
       "condition given a list holds when any entry does (a single string is a list of one): "
       "`src` (the SRC's address in a CIDR block: `\"10.1.0.0/16\"`, `\"2001:db8::/32\"`, a bare "
       "address), `request_uri_domain`, `to_domain`, `from_domain` (the host of that URI "
       "matches a pattern), `header` (a SIP header that is present) with `part` (`\"value\"`, "
       "the whole value; `\"user\"` or `\"domain\"` of the URI in it, e.g. the domain of "
       "P-Asserted-Identity) and `value` (patterns the part must match; absent = any), "
       "`participant_domain` / `participant_number` (some participant of the SIPREC metadata "
       "has an AOR with that host / whose user part, visual separators dropped, starts with "
       "that prefix). Patterns are case-insensitive globs (`*` any run, `?` one character), not "
       "regular expressions. The tenant a rule gives must exist in the catalog and be enabled "
       "(`PUT /api/v1/tenants/{name}`), else `tenants.unknown` decides. SIGHUP reloads the "
       "rules and both keys; they apply to calls that start afterwards. Example: "
       "`[[tenants.rule]]` `tenant = \"acme\"` `src = [\"192.0.2.0/24\"]`, then "
       "`[[tenants.rule]]` `tenant = \"{value}\"` `header = \"X-Tenant\"`."},
  };
}

std::vector<ConfigKey> MakeKeys() {
  std::vector<ConfigKey> k;
  // [node]
  k.push_back({.section = "node",
               .name = "id",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "Unique id of this node in a cluster: letters, digits, `.`, `-`, "
                              "`_`, at most 64 characters. Empty = the machine's hostname.",
               .default_doc = "the machine's hostname",
               .check = CheckNodeId,
               .set = [](Config& c, const ConfigValue& v) { c.node.id = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.node.id; }});
  k.push_back({.section = "node",
               .name = "data_dir",
               .type = ConfigType::kString,
               .default_value = std::string("./data"),
               .description = "Directory of the spool, the recordings and node-local state; "
                              "created at start-up if missing. A relative path is relative to "
                              "the working directory.",
               .check = CheckNotEmpty,
               .set = [](Config& c, const ConfigValue& v) { c.node.data_dir = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.node.data_dir; }});
  // [sip]
  k.push_back({.section = "sip",
               .name = "listen",
               .type = ConfigType::kStringList,
               .default_value = std::vector<std::string>{"udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"},
               .description =
                   "Addresses SIP is accepted on: `udp:`, `tcp:` or `tls:` followed by an IP "
                   "address and a port (`tcp:[::]:5060`, `tls:0.0.0.0:5061`). Port 0 takes "
                   "any free port; the bound ports are logged in the `server.ready` line. A "
                   "`tls:` listener needs `tls_certificate` and `tls_private_key`.",
               .check = CheckListen,
               .set =
                   [](Config& c, const ConfigValue& v) {
                     c.sip.listen.clear();
                     for (const auto& s : std::get<std::vector<std::string>>(v)) {
                       auto spec = ParseListenSpec(s);
                       if (spec.ok()) c.sip.listen.push_back(*spec);
                     }
                   },
               .get = [](const Config& c) -> ConfigValue {
                 std::vector<std::string> out;
                 for (const auto& l : c.sip.listen) out.push_back(l.ToString());
                 return out;
               }});
  k.push_back({.section = "sip",
               .name = "workers",
               .type = ConfigType::kInt,
               .default_value = int64_t{0},
               .description = "SIP worker threads (shards) owning transactions and dialogs; "
                              "0 = one per CPU core.",
               .min = 0,
               .max = 1024,
               .set = [](Config& c, const ConfigValue& v) { c.sip.workers = int(Int(v)); },
               .get = [](const Config& c) -> ConfigValue { return int64_t{c.sip.workers}; }});
  k.push_back({.section = "sip",
               .name = "public_host",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "Host written into Contact and Warning headers. Empty = the "
                              "address the request arrived on (the Request-URI host on a "
                              "wildcard listener).",
               .check = CheckHeaderValue,
               .set = [](Config& c, const ConfigValue& v) { c.sip.core.public_host = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.sip.core.public_host; }});
  k.push_back({.section = "sip",
               .name = "user_agent",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "Value of the Server header. Empty = `callvault/<version>`.",
               .default_doc = "`callvault/<version>`",
               .check = CheckHeaderValue,
               .set = [](Config& c, const ConfigValue& v) { c.sip.core.user_agent = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.sip.core.user_agent; }});
  k.push_back(
      {.section = "sip",
       .name = "t1_ms",
       .type = ConfigType::kInt,
       .default_value = int64_t{500},
       .description = "RFC 3261 timer T1, the round-trip estimate, in milliseconds.",
       .min = 1,
       .max = 60000,
       .set = [](Config& c, const ConfigValue& v) { c.sip.core.timers.t1 = sip::Millis(Int(v)); },
       .get = [](const Config& c) { return Count(c.sip.core.timers.t1); }});
  k.push_back(
      {.section = "sip",
       .name = "t2_ms",
       .type = ConfigType::kInt,
       .default_value = int64_t{4000},
       .description = "RFC 3261 timer T2, the longest retransmission interval, in "
                      "milliseconds; at least `t1_ms`.",
       .min = 1,
       .max = 600000,
       .set = [](Config& c, const ConfigValue& v) { c.sip.core.timers.t2 = sip::Millis(Int(v)); },
       .get = [](const Config& c) { return Count(c.sip.core.timers.t2); }});
  k.push_back(
      {.section = "sip",
       .name = "t4_ms",
       .type = ConfigType::kInt,
       .default_value = int64_t{5000},
       .description = "RFC 3261 timer T4, the longest time a message stays in the "
                      "network, in milliseconds.",
       .min = 1,
       .max = 600000,
       .set = [](Config& c, const ConfigValue& v) { c.sip.core.timers.t4 = sip::Millis(Int(v)); },
       .get = [](const Config& c) { return Count(c.sip.core.timers.t4); }});
  k.push_back({.section = "sip",
               .name = "session_expires_s",
               .type = ConfigType::kInt,
               .default_value = int64_t{1800},
               .description = "RFC 4028 session interval, in seconds, offered when the client "
                              "supports session timers but asked for none; at least "
                              "`min_se_s`.",
               .min = 90,
               .max = 86400,
               .range_note = "RFC 4028",
               .set = [](Config& c,
                         const ConfigValue& v) { c.sip.core.session_expires_s = uint32_t(Int(v)); },
               .get = [](const Config& c) -> ConfigValue {
                 return int64_t{c.sip.core.session_expires_s};
               }});
  k.push_back(
      {.section = "sip",
       .name = "min_se_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{90},
       .description = "RFC 4028 Min-SE, in seconds: a smaller Session-Expires gets 422.",
       .min = 90,
       .max = 86400,
       .range_note = "RFC 4028",
       .set = [](Config& c, const ConfigValue& v) { c.sip.core.min_se_s = uint32_t(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.sip.core.min_se_s}; }});
  k.push_back(
      {.section = "sip",
       .name = "max_message_bytes",
       .type = ConfigType::kInt,
       .default_value = int64_t{65536},
       .description = "Largest SIP message accepted over TCP or TLS, in bytes; a larger "
                      "one closes the connection.",
       .min = 1024,
       .max = 16 << 20,
       .set = [](Config& c,
                 const ConfigValue& v) { c.sip.transport.max_message_bytes = size_t(Int(v)); },
       .get = [](const Config& c) -> ConfigValue {
         return int64_t(c.sip.transport.max_message_bytes);
       }});
  k.push_back({.section = "sip",
               .name = "tcp_idle_timeout_s",
               .type = ConfigType::kInt,
               .default_value = int64_t{300},
               .description = "A TCP or TLS connection without traffic for this many seconds "
                              "is closed (CRLF keep-alives count as traffic).",
               .min = 1,
               .max = 86400,
               .set =
                   [](Config& c, const ConfigValue& v) {
                     c.sip.transport.idle_timeout = std::chrono::seconds(Int(v));
                   },
               .get = [](const Config& c) { return Count(c.sip.transport.idle_timeout); }});
  k.push_back({.section = "sip",
               .name = "tcp_header_timeout_s",
               .type = ConfigType::kInt,
               .default_value = int64_t{30},
               .description = "Longest time, in seconds, a TCP or TLS client may take to send "
                              "a whole message once it has started one, before the connection "
                              "is closed (slow-sender protection).",
               .min = 1,
               .max = 3600,
               .set =
                   [](Config& c, const ConfigValue& v) {
                     c.sip.transport.header_timeout = std::chrono::seconds(Int(v));
                   },
               .get = [](const Config& c) { return Count(c.sip.transport.header_timeout); }});
  k.push_back(
      {.section = "sip",
       .name = "max_connections",
       .type = ConfigType::kInt,
       .default_value = int64_t{10000},
       .description = "Most TCP and TLS connections open at once; further ones are "
                      "refused.",
       .min = 1,
       .max = 1000000,
       .set = [](Config& c,
                 const ConfigValue& v) { c.sip.transport.max_connections = size_t(Int(v)); },
       .get = [](const Config& c) -> ConfigValue {
         return int64_t(c.sip.transport.max_connections);
       }});
  k.push_back(
      {.section = "sip",
       .name = "tls_certificate",
       .type = ConfigType::kString,
       .default_value = std::string(),
       .description = "PEM file with the certificate (chain) of the `tls:` listeners.",
       .check = CheckReadableFile,
       .set = [](Config& c,
                 const ConfigValue& v) { c.sip.transport.tls_certificate_file = Str(v); },
       .get = [](const Config& c) -> ConfigValue { return c.sip.transport.tls_certificate_file; }});
  k.push_back(
      {.section = "sip",
       .name = "tls_private_key",
       .type = ConfigType::kString,
       .default_value = std::string(),
       .description = "PEM file with the private key of `tls_certificate`.",
       .check = CheckReadableFile,
       .set = [](Config& c,
                 const ConfigValue& v) { c.sip.transport.tls_private_key_file = Str(v); },
       .get = [](const Config& c) -> ConfigValue { return c.sip.transport.tls_private_key_file; }});
  k.push_back({.section = "sip",
               .name = "tls_ca",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "PEM file of the CA certificates that TLS clients' certificates "
                              "are verified against (with `tls_verify_peer`).",
               .check = CheckReadableFile,
               .set = [](Config& c, const ConfigValue& v) { c.sip.transport.tls_ca_file = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.sip.transport.tls_ca_file; }});
  k.push_back(
      {.section = "sip",
       .name = "tls_verify_peer",
       .type = ConfigType::kBool,
       .default_value = false,
       .description = "Require a certificate from TLS clients and verify it against "
                      "`tls_ca` (mutual TLS); needs `tls_ca`.",
       .set = [](Config& c, const ConfigValue& v) { c.sip.transport.tls_verify_peer = Bool(v); },
       .get = [](const Config& c) -> ConfigValue { return c.sip.transport.tls_verify_peer; }});
  k.push_back(
      {.section = "sip",
       .name = "max_queue",
       .type = ConfigType::kInt,
       .default_value = int64_t{20000},
       .description = "Inbound messages queued per worker; when full, new INVITEs get "
                      "503 + Retry-After and other requests are dropped (their senders "
                      "retransmit).",
       .min = 1,
       .max = 10000000,
       .set = [](Config& c, const ConfigValue& v) { c.sip.core.max_queue = size_t(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t(c.sip.core.max_queue); }});
  // [log]
  k.push_back({.section = "log",
               .name = "level",
               .type = ConfigType::kString,
               .default_value = std::string("info"),
               .description = "Least severe level logged.",
               .reloadable = true,
               .choices = {"trace", "debug", "info", "warn", "error"},
               .set = [](Config& c, const ConfigValue& v) { c.log.level = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.log.level; }});
  k.push_back({.section = "log",
               .name = "format",
               .type = ConfigType::kString,
               .default_value = std::string("text"),
               .description = "`text` (`event=name key=value…`) or `json` (one object per line).",
               .reloadable = true,
               .choices = {"text", "json"},
               .set = [](Config& c, const ConfigValue& v) { c.log.format = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.log.format; }});
  k.push_back({.section = "log",
               .name = "file",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "File the lines are appended to. Empty = standard error.",
               .reloadable = true,
               .set = [](Config& c, const ConfigValue& v) { c.log.file = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.log.file; }});
  k.push_back({.section = "log",
               .name = "mask_numbers",
               .type = ConfigType::kBool,
               .default_value = false,
               .description = "Mask the digits of phone numbers in the SIP URIs written to log "
                              "lines (the last 4, and the first 4 of long numbers, stay "
                              "readable).",
               .reloadable = true,
               .set = [](Config& c, const ConfigValue& v) { c.log.mask_numbers = Bool(v); },
               .get = [](const Config& c) -> ConfigValue { return c.log.mask_numbers; }});
  // [server]
  k.push_back(
      {.section = "server",
       .name = "drain_timeout_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{30},
       .description = "On SIGTERM or SIGINT, how many seconds to wait for active calls "
                      "to end (new calls and OPTIONS get 503 meanwhile) before ending "
                      "the rest with BYE. A second signal stops the wait.",
       .reloadable = true,
       .min = 0,
       .max = 86400,
       .set = [](Config& c,
                 const ConfigValue& v) { c.server.drain_timeout = std::chrono::seconds(Int(v)); },
       .get = [](const Config& c) { return Count(c.server.drain_timeout); }});
  k.push_back(
      {.section = "server",
       .name = "fd_reserve",
       .type = ConfigType::kInt,
       .default_value = int64_t{1024},
       .description = "File descriptors kept for what is not a call (HTTP and SIP TCP/TLS "
                      "connections, the catalog, the finalizer's files, logs). New calls are "
                      "refused (503, `/readyz?role=recorder` not ready) when one more would "
                      "leave fewer than this free below the process's limit (RLIMIT_NOFILE, "
                      "raised to the hard limit at start). A two-stream call takes 4.",
       .min = 64,
       .max = 1000000,
       .set = [](Config& c, const ConfigValue& v) { c.server.fd_reserve = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.server.fd_reserve}; }});
  AppendRecordingKeys(&k);
  AppendPassiveKeys(&k);
  AppendServiceKeys(&k);
  AppendStorageKeys(&k);
  AppendClusterKeys(&k);
  AppendTenantKeys(&k);
  return k;
}

}  // namespace

std::string_view ConfigTypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kBool:
      return "boolean";
    case ConfigType::kInt:
      return "integer";
    case ConfigType::kString:
      return "string";
    case ConfigType::kStringList:
      return "array of strings";
  }
  return "?";
}

std::string ConfigKey::FullName() const { return fmt::format("{}.{}", section, name); }

const std::vector<ConfigSection>& ConfigSections() {
  static const auto* sections = new std::vector<ConfigSection>(MakeSections());
  return *sections;
}

const std::vector<ConfigKey>& ConfigKeys() {
  static const auto* keys = new std::vector<ConfigKey>(MakeKeys());
  return *keys;
}

const ConfigKey* FindConfigKey(std::string_view full_name) {
  for (const auto& k : ConfigKeys()) {
    if (full_name.size() == k.section.size() + 1 + k.name.size() &&
        full_name.substr(0, k.section.size()) == k.section && full_name[k.section.size()] == '.' &&
        full_name.substr(k.section.size() + 1) == k.name) {
      return &k;
    }
  }
  return nullptr;
}

std::string ConfigValueToToml(const ConfigValue& v) {
  auto quote = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const int64_t* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const std::string* s = std::get_if<std::string>(&v)) return quote(*s);
  std::string out = "[";
  for (const auto& s : std::get<std::vector<std::string>>(v)) {
    if (out.size() > 1) out += ", ";
    out += quote(s);
  }
  return out + "]";
}

}  // namespace callvault::app

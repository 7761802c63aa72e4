// The node's configuration: one TOML file parsed into typed options, validated once.
//
// Every key, its type, default, meaning and whether SIGHUP reloads it is declared in ONE table
// (config_schema.cc, `ConfigKeys()`); parsing, defaults, validation, the reload diff and
// docs/configuration.md (`callvault config-reference`) are all driven by that table, so they
// cannot disagree. `callvault check-config` and `callvault serve` call the same LoadConfig().
//
// Errors name where the problem is, one line per problem:
//   config.toml:12:3: sip.min_se_s: must be >= 90 (RFC 4028), got 30
//
// Called by: app/ only (main.cc, server.cc). Thread-safety: values and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/log.h"
#include "base/status.h"
#include "sip/core_options.h"
#include "sip/transport.h"

namespace callvault::app {

// [node]
struct NodeOptions {
  // Unique id of the node in a cluster. Default: the machine's hostname.
  std::string id;
  // Directory of the spool, recordings and node-local state (created if missing).
  // Default: "./data".
  std::string data_dir = "./data";
};

// One `sip.listen` entry: "udp:0.0.0.0:5060", "tcp:[::]:5060", "tls:127.0.0.1:0" (port 0 = any
// free port; the bound port is logged in `server.ready`).
struct ListenSpec {
  std::string transport;  // "udp", "tcp" or "tls"
  std::string host;       // an IPv4 or IPv6 literal, without brackets
  uint16_t port = 0;

  // Back to the "udp:1.2.3.4:5060" / "tcp:[::1]:5060" form.
  std::string ToString() const;
  friend bool operator==(const ListenSpec&, const ListenSpec&) = default;
};

// Parses one `sip.listen` entry; the error says what is wrong with it.
Result<ListenSpec> ParseListenSpec(std::string_view text);

// [sip]
struct SipConfig {
  std::vector<ListenSpec> listen;
  int workers = 0;  // 0 = one per CPU core
  sip::CoreOptions core;
  // Its `framing` keeps ParseOptions' defaults; the other fields come from [sip].
  sip::TransportOptions transport;
};

// [server]
struct ServerOptions {
  // How long SIGTERM waits for active calls to end before BYE-ing them.
  std::chrono::seconds drain_timeout{30};
  int fd_reserve = 1024;  // descriptors kept for what is not a call (admission)
};

// [media] — RTP reception (media::MediaOptions is filled from it).
struct MediaConfig {
  std::string ipv4_address = "0.0.0.0";  // RTP sockets bind here
  std::string ipv6_address = "::";       // "" = no IPv6 streams
  std::string advertise_ipv4;            // c= address in answers; "" = first non-loopback IPv4
  std::string advertise_ipv6;            // "" = first global IPv6, else none
  int port_min = 20000, port_max = 39999;
  int io_threads = 0;  // 0 = one per core
  std::chrono::seconds rtp_timeout{60};
  std::chrono::milliseconds spool_flush{200};
  std::chrono::milliseconds spool_sync{1000};
  int spool_batch_sync_min = 8;  // files to sync in a round from which one syncfs is used
  bool rtcp_sockets = false;     // bind RTP + 1 for RTCP too (one more descriptor per stream)
  // Spool records held in memory by all calls (a full disk keeps them), MiB.
  int spool_memory_budget_mb = 256;
};

// [recording] — finalizing calls into audio files + manifests.
struct RecordingConfig {
  std::string dir;  // "" = <data_dir>/recordings
  std::string name_template = "{date}/{time}_{call_id}";
  std::string format = "wav";  // "wav" | "opus"
  int finalize_workers = 0;    // 0 = recording::DefaultFinalizeWorkers()
};

// [recorder] — SIPREC sessions.
struct RecorderConfig {
  int workers = 2;
  bool accept_without_metadata = false;
  int min_free_streams = 4;
  int disk_full_horizon_s = 300;  // refuse new calls when the disk would be full sooner; 0 = off
};

// [passive] — a hot spare recording from mirrored traffic (passive/, capture/).
struct PassiveConfig {
  bool enabled = false;
  std::string interface = "any";
  std::string filter;                              // BPF; "" = everything
  std::vector<std::string> sip_ports = {"5060"};  // decimal ports
  std::vector<std::string> primary;                // "ip:port" of the primary's SIP listeners
  std::string primary_node_id;
  int buffer_mb = 64;
  int rtp_timeout_s = 60;
};

// [catalog] — the SQL catalog and its ingest of finished calls.
struct CatalogConfig {
  std::string url;  // "" = "sqlite:<data_dir>/catalog.db"
  int pool_size = 4;
  int ingest_batch = 200;
};

// [http] — REST API, health, metrics (http::HttpOptions is filled from it).
struct HttpConfig {
  bool enabled = true;
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 16;
  int max_body_bytes = 64 * 1024;
  int read_timeout_s = 10;
  int write_timeout_s = 30;
  int keep_alive_timeout_s = 5;
  bool public_metrics = false;
  int auth_cache_ttl_s = 60;
  int min_free_disk_mb = 512;  // /readyz?role=recorder fails below this
  std::string public_url;      // the portal's URL behind a proxy ("" = http://<Host>)
  int session_idle_timeout_s = 1800;
  int session_max_age_s = 43200;
  int login_max_failures = 5;
  int login_lock_s = 60;
  std::vector<std::string> trusted_proxies;
};

// [s3]: the S3-compatible bucket recordings move to when storage.backend = "s3".
struct S3Config {
  std::string endpoint;  // "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string bucket;
  std::string prefix;  // object key = prefix + the manifest's audio.file
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key_file;  // re-read on SIGHUP
  bool path_style = true;              // false = virtual-host style (<bucket>.<host>)
  std::string sse;                     // "" | "AES256" | "aws:kms"
  std::string sse_kms_key_id;
  int multipart_threshold_mb = 64;
  int part_size_mb = 16;
  int parts_in_flight = 4;
  int timeout_s = 60;
  std::string ca_file;
  bool verify_tls = true;
};

// [storage]: where finished recordings end up.
struct StorageConfig {
  std::string backend = "local";  // "local" | "s3" (relocate after finalizing)
  int relocate_after_s = 0;
  std::string verify = "size_and_hash";  // "size_and_hash" | "read_back"
  int relocate_workers = 4;              // uploads at once
};

// One [retention.policies.<name>] table: calls it selects are deleted (all conditions hold).
struct RetentionPolicy {
  std::string name;
  int older_than_days = 0;           // started more than this many days ago (required, ≥ 1)
  std::string tenant;                // "" = any tenant
  std::vector<std::string> tags;     // any of; empty = any
  std::vector<std::string> states;   // any of ("completed", "timed_out", "partial"); empty = any
};

// [retention]
struct RetentionConfig {
  int interval_s = 3600;  // 0 = only on demand (CLI / API)
  int batch = 500;        // calls deleted per round
  std::vector<RetentionPolicy> policies;
};

// [encryption]: encryption at rest, per tenant.
struct EncryptionConfig {
  std::string master_key_file;       // "" = off; outside the data directory, mode 0600/0400
  std::vector<std::string> tenants;  // whose recordings are encrypted; "*" = all, "" = no tenant
};

// One [[cluster.peers]] table: a node this one replicates to (and accepts calls from).
struct PeerConfig {
  std::string id;                       // the peer's node.id; its certificate names it
  std::string url;                      // "https://host:port" of its cluster.listen
  std::string schedule = "continuous";  // or windows "22:00-06:00[,…]" (local time)
  bool relay = false;                   // also pass on calls received from other peers
  int max_mbps = 0;                     // per transfer; 0 = no cap
  // Both nodes use the same S3 bucket (storage.backend = "s3"): calls go as manifests once
  // their audio is in the bucket.
  bool shared_bucket = false;
  friend bool operator==(const PeerConfig&, const PeerConfig&) = default;
};

// [cluster]: multi-master replication (docs/deployment.md).
struct ClusterConfig {
  std::string listen;  // "host:port" of the peer endpoint; "" = no cluster
  std::string cert_file, key_file, ca_file;
  int threads = 8;
  int transfers_per_peer = 2;
  int sync_interval_ms = 2000;
  int max_clock_skew_s = 60;
  int min_free_disk_mb = 2048;
  std::vector<PeerConfig> peers;
};

// One [[tenants.rule]] table (siprec/tenant_rules.h says how rules match). Kept as written
// (strings) so a reload can compare it; app/tenant_assigner.cc builds the matcher.
struct TenantRuleConfig {
  std::string tenant;  // a tenant name or "{value}"
  std::vector<std::string> src;  // CIDR blocks
  std::vector<std::string> request_uri_domain, to_domain, from_domain;
  std::string header;
  std::string header_part = "value";  // "value" | "user" | "domain"
  std::vector<std::string> header_value;
  std::vector<std::string> participant_domain, participant_number;
  std::string where;  // "callvault.toml:12:1": the rule's table, for logs
  friend bool operator==(const TenantRuleConfig&, const TenantRuleConfig&) = default;
};

// [tenants]: which tenant each recorded call belongs to.
struct TenantsConfig {
  std::string default_tenant;      // `tenants.default`; "" = none
  std::string unknown = "default";  // "default" | "refuse"
  std::vector<TenantRuleConfig> rules;
};

struct Config {
  NodeOptions node;
  SipConfig sip;
  LogOptions log;
  ServerOptions server;
  MediaConfig media;
  RecordingConfig recording;
  RecorderConfig recorder;
  PassiveConfig passive;
  CatalogConfig catalog;
  HttpConfig http;
  StorageConfig storage;
  S3Config s3;
  RetentionConfig retention;
  EncryptionConfig encryption;
  ClusterConfig cluster;
  TenantsConfig tenants;
  // Where it was read from: the file name, or "" for the embedded defaults.
  std::string source;
  // Whether node.id was given (file or override) rather than defaulted to the hostname.
  bool node_id_given = false;
};

// A value of a key, as written in TOML.
using ConfigValue = std::variant<bool, int64_t, std::string, std::vector<std::string>>;

// A value given outside the file (a command-line flag) that overrides one key.
struct ConfigOverride {
  std::string key;     // "log.level"
  ConfigValue value;   //
  std::string origin;  // where it came from, for errors: "--log-level"
};

// Parses and validates `text` (TOML). `source_name` is used in error messages. Every problem
// found is reported, one per line, in the InvalidArgument message.
Result<Config> ParseConfig(std::string_view text, std::string_view source_name,
                           const std::vector<ConfigOverride>& overrides = {});

// Reads `path` and ParseConfig()s it; an empty `path` means the embedded defaults (+overrides).
// This is what both `callvault check-config` and `callvault serve` (and SIGHUP) run.
Result<Config> LoadConfig(const std::string& path,
                          const std::vector<ConfigOverride>& overrides = {});

// The embedded defaults (what `callvault serve` runs with no config file).
Config DefaultConfig();

// Names ("sip.workers") of the keys whose values differ between `a` and `b`, in table order.
std::vector<std::string> ChangedKeys(const Config& a, const Config& b);

// Whether SIGHUP applies `key` ("log.level") without a restart.
bool IsReloadable(std::string_view key);

// Copies the values of the reloadable keys of `from` into `to`.
void ApplyReloadable(const Config& from, Config* to);

// The whole of docs/configuration.md, rendered from the key table.
std::string RenderConfigReference();

// "callvault/<version>".
std::string DefaultUserAgent();

}  // namespace callvault::app

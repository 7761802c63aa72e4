// The [catalog] and [http] rows of the configuration table (config_schema.cc explains how to
// add a key).
#include <arpa/inet.h>
#include <fmt/format.h>

#include "app/config_schema.h"
#include "http/client_address.h"
#include "http/http_options.h"

namespace callvault::app {
namespace {

std::string CheckCatalogUrl(const ConfigValue& v) {
  const std::string& url = Str(v);
  if (url.empty() || url.rfind("sqlite:", 0) == 0 || url.rfind("postgresql://", 0) == 0 ||
      url.rfind("postgres://", 0) == 0)
    return "";
  return fmt::format(
      "must be \"sqlite:<path>\" or \"postgresql://user:password@host:port/db\", got \"{}\"",
      url.substr(0, url.find(':')));  // never echo a password
}

std::string CheckIpAddress(const ConfigValue& v) {
  in_addr a{};
  in6_addr a6{};
  if (inet_pton(AF_INET, Str(v).c_str(), &a) == 1 || inet_pton(AF_INET6, Str(v).c_str(), &a6) == 1)
    return "";
  return fmt::format("must be an IPv4 or IPv6 address, got \"{}\"", Str(v));
}

std::string CheckPublicUrl(const ConfigValue& v) {
  if (Str(v).empty()) return "";
  Result<std::string> origin = http::PublicOrigin(Str(v));
  return origin.ok() ? "" : std::string(origin.status().message());
}

std::string CheckTrustedProxies(const ConfigValue& v) {
  Status s = http::ValidateTrustedProxies(std::get<std::vector<std::string>>(v));
  return s.ok() ? "" : std::string(s.message());
}

}  // namespace

void AppendServiceKeys(std::vector<ConfigKey>* keys) {
  std::vector<ConfigKey>& k = *keys;
  // [catalog]
  k.push_back({.section = "catalog",
               .name = "url",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "Where the catalog lives: `sqlite:<path>` or a PostgreSQL URI "
                              "`postgresql://user:password@host:5432/callvault` (libpq syntax; "
                              "`?sslmode=require` etc. pass through). Empty = SQLite in "
                              "`<data_dir>/catalog.db`.",
               .default_doc = "`sqlite:<data_dir>/catalog.db`",
               .check = CheckCatalogUrl,
               .set = [](Config& c, const ConfigValue& v) { c.catalog.url = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.catalog.url; }});
  k.push_back({.section = "catalog",
               .name = "pool_size",
               .type = ConfigType::kInt,
               .default_value = int64_t{4},
               .description = "Database connections (concurrent API queries plus ingest).",
               .min = 1,
               .max = 64,
               .set = [](Config& c, const ConfigValue& v) { c.catalog.pool_size = int(Int(v)); },
               .get = [](const Config& c) -> ConfigValue { return int64_t{c.catalog.pool_size}; }});
  k.push_back(
      {.section = "catalog",
       .name = "ingest_batch",
       .type = ConfigType::kInt,
       .default_value = int64_t{200},
       .description = "Finished calls applied per database transaction when catching up.",
       .min = 1,
       .max = 10000,
       .set = [](Config& c, const ConfigValue& v) { c.catalog.ingest_batch = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.catalog.ingest_batch}; }});
  // [http]
  k.push_back({.section = "http",
               .name = "enabled",
               .type = ConfigType::kBool,
               .default_value = true,
               .description = "Serve HTTP. A recorder-only node may turn it off (it then has "
                              "no health endpoint).",
               .set = [](Config& c, const ConfigValue& v) { c.http.enabled = Bool(v); },
               .get = [](const Config& c) -> ConfigValue { return c.http.enabled; }});
  k.push_back({.section = "http",
               .name = "host",
               .type = ConfigType::kString,
               .default_value = std::string("127.0.0.1"),
               .description = "Address the HTTP server listens on (`0.0.0.0` / `::` for all).",
               .check = CheckIpAddress,
               .set = [](Config& c, const ConfigValue& v) { c.http.host = Str(v); },
               .get = [](const Config& c) -> ConfigValue { return c.http.host; }});
  k.push_back({.section = "http",
               .name = "port",
               .type = ConfigType::kInt,
               .default_value = int64_t{8080},
               .description = "TCP port; 0 = any free port (logged in `http.listening`).",
               .min = 0,
               .max = 65535,
               .set = [](Config& c, const ConfigValue& v) { c.http.port = int(Int(v)); },
               .get = [](const Config& c) -> ConfigValue { return int64_t{c.http.port}; }});
  k.push_back({.section = "http",
               .name = "threads",
               .type = ConfigType::kInt,
               .default_value = int64_t{16},
               .description = "Worker threads; each holds one open connection, so this is also "
                              "the number of connections served at once.",
               .min = 1,
               .max = 1024,
               .set = [](Config& c, const ConfigValue& v) { c.http.threads = int(Int(v)); },
               .get = [](const Config& c) -> ConfigValue { return int64_t{c.http.threads}; }});
  k.push_back(
      {.section = "http",
       .name = "max_body_bytes",
       .type = ConfigType::kInt,
       .default_value = int64_t{64 * 1024},
       .description = "Largest request body accepted; larger ones get 413.",
       .min = 1024,
       .max = 64 * 1024 * 1024,
       .set = [](Config& c, const ConfigValue& v) { c.http.max_body_bytes = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.http.max_body_bytes}; }});
  k.push_back(
      {.section = "http",
       .name = "read_timeout_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{10},
       .description = "A client that sends nothing for this long is disconnected.",
       .min = 1,
       .max = 3600,
       .set = [](Config& c, const ConfigValue& v) { c.http.read_timeout_s = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.http.read_timeout_s}; }});
  k.push_back(
      {.section = "http",
       .name = "write_timeout_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{30},
       .description = "A client that reads nothing of a response for this long is "
                      "disconnected.",
       .min = 1,
       .max = 3600,
       .set = [](Config& c, const ConfigValue& v) { c.http.write_timeout_s = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.http.write_timeout_s}; }});
  k.push_back(
      {.section = "http",
       .name = "keep_alive_timeout_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{5},
       .description = "An idle keep-alive connection is closed after this many seconds.",
       .min = 1,
       .max = 3600,
       .set = [](Config& c, const ConfigValue& v) { c.http.keep_alive_timeout_s = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.http.keep_alive_timeout_s}; }});
  k.push_back({.section = "http",
               .name = "public_metrics",
               .type = ConfigType::kBool,
               .default_value = false,
               .description = "Serve `/metrics` without authentication (a Prometheus on a "
                              "trusted network). When false it needs a token with the "
                              "`metrics:read` permission.",
               .set = [](Config& c, const ConfigValue& v) { c.http.public_metrics = Bool(v); },
               .get = [](const Config& c) -> ConfigValue { return c.http.public_metrics; }});
  k.push_back(
      {.section = "http",
       .name = "auth_cache_ttl_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{60},
       .description = "How long a verified password (HTTP Basic) is remembered so that not "
                      "every request pays for Argon2id; 0 = verify every time.",
       .min = 0,
       .max = 3600,
       .set = [](Config& c, const ConfigValue& v) { c.http.auth_cache_ttl_s = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.http.auth_cache_ttl_s}; }});
  k.push_back(
      {.section = "http",
       .name = "public_url",
       .type = ConfigType::kString,
       .default_value = std::string(),
       .description = "The URL users open the web portal at, when a reverse proxy in front "
                      "ends TLS: `https://rec.example.com` (no path). With https the session "
                      "cookie is `__Host-cv_session` and `Secure`; changes made from the portal "
                      "must come from this origin (CSRF check). Empty = `http://<Host header>`.",
       .check = CheckPublicUrl,
       .set = [](Config& c, const ConfigValue& v) { c.http.public_url = Str(v); },
       .get = [](const Config& c) -> ConfigValue { return c.http.public_url; }});
  k.push_back(
      {.section = "http",
       .name = "session_idle_timeout_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{1800},
       .description = "A web portal session ends after this long without a request (checked "
                      "to the minute).",
       .min = 60,
       .max = 7 * 86400,
       .set = [](Config& c, const ConfigValue& v) { c.http.session_idle_timeout_s = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue {
         return int64_t{c.http.session_idle_timeout_s};
       }});
  k.push_back(
      {.section = "http",
       .name = "session_max_age_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{43200},
       .description = "A web portal session ends this long after the login, used or not.",
       .min = 60,
       .max = 30 * 86400,
       .set = [](Config& c, const ConfigValue& v) { c.http.session_max_age_s = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.http.session_max_age_s}; }});
  k.push_back(
      {.section = "http",
       .name = "trusted_proxies",
       .type = ConfigType::kStringList,
       .default_value = std::vector<std::string>{},
       .description = "IP addresses of reverse proxies in front of the HTTP server. A request "
                      "from one of them is attributed to the client its `X-Forwarded-For` "
                      "names (the rightmost address that is not a trusted proxy): the login "
                      "back-off, the audit log and the request log use that address. Without "
                      "it, every client behind a proxy shares the proxy's address (and its "
                      "login lock).",
       .check = CheckTrustedProxies,
       .set =
           [](Config& c, const ConfigValue& v) {
             c.http.trusted_proxies = std::get<std::vector<std::string>>(v);
           },
       .get = [](const Config& c) -> ConfigValue { return c.http.trusted_proxies; }});
  k.push_back(
      {.section = "http",
       .name = "login_max_failures",
       .type = ConfigType::kInt,
       .default_value = int64_t{5},
       .description = "Failed logins (HTTP Basic or the portal) within 15 minutes, per user "
                      "name and per client address, after which that name or address gets 429 "
                      "+ Retry-After — even with the right password — for `login_lock_s`, "
                      "doubling with each further lock up to 15 minutes. Checked before the "
                      "password hash is computed; unknown users count the same.",
       .min = 1,
       .max = 1000000,
       .set = [](Config& c, const ConfigValue& v) { c.http.login_max_failures = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.http.login_max_failures}; }});
  k.push_back(
      {.section = "http",
       .name = "login_lock_s",
       .type = ConfigType::kInt,
       .default_value = int64_t{60},
       .description = "The first lock after `login_max_failures` failures (seconds).",
       .min = 1,
       .max = 900,
       .set = [](Config& c, const ConfigValue& v) { c.http.login_lock_s = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.http.login_lock_s}; }});
  k.push_back(
      {.section = "http",
       .name = "min_free_disk_mb",
       .type = ConfigType::kInt,
       .default_value = int64_t{512},
       .description = "`/readyz?role=recorder` reports not ready when the data directory's "
                      "filesystem has less free space than this (MiB).",
       .min = 0,
       .max = 100 * 1024 * 1024,
       .set = [](Config& c, const ConfigValue& v) { c.http.min_free_disk_mb = int(Int(v)); },
       .get = [](const Config& c) -> ConfigValue { return int64_t{c.http.min_free_disk_mb}; }});
}

}  // namespace callvault::app

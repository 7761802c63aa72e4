// The [storage], [s3], [retention] and [encryption] rows of the configuration table
// (config_schema.cc explains how to add a key). Retention policies are tables of their own
// (`[retention.policies.<name>]`), read by config.cc's ParseRetentionPolicies.
#include <fmt/format.h>

#include "app/config_schema.h"

namespace callvault::app {
namespace {

// Reads and writes `(config.*Section).*Field`, so that each row needs no lambdas of its own.
template <auto Section, auto Field>
void SetString(Config& c, const ConfigValue& v) {
  (c.*Section).*Field = Str(v);
}
template <auto Section, auto Field>
ConfigValue GetString(const Config& c) {
  return (c.*Section).*Field;
}
template <auto Section, auto Field>
void SetInt(Config& c, const ConfigValue& v) {
  (c.*Section).*Field = static_cast<int>(Int(v));
}
template <auto Section, auto Field>
ConfigValue GetInt(const Config& c) {
  return static_cast<int64_t>((c.*Section).*Field);
}
template <auto Section, auto Field>
void SetBool(Config& c, const ConfigValue& v) {
  (c.*Section).*Field = Bool(v);
}
template <auto Section, auto Field>
ConfigValue GetBool(const Config& c) {
  return (c.*Section).*Field;
}
template <auto Section, auto Field>
void SetList(Config& c, const ConfigValue& v) {
  (c.*Section).*Field = std::get<std::vector<std::string>>(v);
}
template <auto Section, auto Field>
ConfigValue GetList(const Config& c) {
  return (c.*Section).*Field;
}

std::string CheckEndpoint(const ConfigValue& v) {
  const std::string& url = Str(v);
  if (url.empty()) return "";
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return fmt::format("must start with http:// or https://, got \"{}\"", url);
  if (url.find_first_of(" \t\r\n") != std::string::npos) return "must not contain spaces";
  return "";
}

std::string CheckPrefix(const ConfigValue& v) {
  const std::string& p = Str(v);
  if (!p.empty() && p.front() == '/') return "must not start with '/' (keys are relative)";
  for (char c : p) {
    if (static_cast<unsigned char>(c) < 0x20) return "must not contain control characters";
  }
  return "";
}

std::string CheckBucket(const ConfigValue& v) {
  const std::string& b = Str(v);
  if (b.empty()) return "";
  if (b.size() < 3 || b.size() > 63) return "must be 3 to 63 characters (S3 bucket naming)";
  for (char c : b) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
      return fmt::format("may contain only a-z, 0-9, '-' and '.', got \"{}\"", b);
  }
  return "";
}

std::string CheckTenants(const ConfigValue& v) {
  for (const std::string& t : std::get<std::vector<std::string>>(v)) {
    if (t.size() > 128) return "a tenant name must be at most 128 characters";
  }
  return "";
}

}  // namespace

void AppendStorageKeys(std::vector<ConfigKey>* keys) {
  std::vector<ConfigKey>& k = *keys;
  using C = Config;
  // [storage]
  k.push_back({.section = "storage",
               .name = "backend",
               .type = ConfigType::kString,
               .default_value = std::string("local"),
               .description = "`local`: recordings stay in the recordings directory. `s3`: each "
                              "finished recording moves to the `[s3]` bucket.",
               .choices = {"local", "s3"},
               .set = SetString<&C::storage, &StorageConfig::backend>,
               .get = GetString<&C::storage, &StorageConfig::backend>});
  k.push_back({.section = "storage",
               .name = "relocate_after_s",
               .type = ConfigType::kInt,
               .default_value = int64_t{0},
               .description = "Seconds after finalizing before a recording moves to S3 (fast "
                              "local playback of recent calls meanwhile). 0 = at once.",
               .min = 0,
               .max = 90 * 86400,
               .set = SetInt<&C::storage, &StorageConfig::relocate_after_s>,
               .get = GetInt<&C::storage, &StorageConfig::relocate_after_s>});
  k.push_back({.section = "storage",
               .name = "verify",
               .type = ConfigType::kString,
               .default_value = std::string("size_and_hash"),
               .description = "How an upload is verified before the local copy is removed: "
                              "`size_and_hash` (the object's size equals the manifest's and the "
                              "SHA-256 of what was sent equals the manifest's; the server checks "
                              "the signed payload hash of a single PUT) or `read_back` (also "
                              "reads the whole object back and hashes it).",
               .choices = {"size_and_hash", "read_back"},
               .set = SetString<&C::storage, &StorageConfig::verify>,
               .get = GetString<&C::storage, &StorageConfig::verify>});
  k.push_back({.section = "storage",
               .name = "relocate_workers",
               .type = ConfigType::kInt,
               .default_value = int64_t{4},
               .description = "Recordings uploaded at once.",
               .min = 1,
               .max = 64,
               .set = SetInt<&C::storage, &StorageConfig::relocate_workers>,
               .get = GetInt<&C::storage, &StorageConfig::relocate_workers>});
  // [s3]
  k.push_back({.section = "s3",
               .name = "endpoint",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "Base URL of the S3 service: `https://s3.<region>.amazonaws.com`, "
                              "`http://127.0.0.1:9000` (MinIO), an RGW URL.",
               .check = CheckEndpoint,
               .set = SetString<&C::s3, &S3Config::endpoint>,
               .get = GetString<&C::s3, &S3Config::endpoint>});
  k.push_back({.section = "s3",
               .name = "bucket",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "The bucket (it must exist).",
               .check = CheckBucket,
               .set = SetString<&C::s3, &S3Config::bucket>,
               .get = GetString<&C::s3, &S3Config::bucket>});
  k.push_back({.section = "s3",
               .name = "prefix",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "Prepended to every object key (`recordings/`); the key is the "
                              "prefix followed by the manifest's `audio.file`.",
               .check = CheckPrefix,
               .set = SetString<&C::s3, &S3Config::prefix>,
               .get = GetString<&C::s3, &S3Config::prefix>});
  k.push_back({.section = "s3",
               .name = "region",
               .type = ConfigType::kString,
               .default_value = std::string("us-east-1"),
               .description = "Signing region (SigV4 credential scope).",
               .set = SetString<&C::s3, &S3Config::region>,
               .get = GetString<&C::s3, &S3Config::region>});
  k.push_back({.section = "s3",
               .name = "access_key_id",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "Access key id.",
               .reloadable = true,
               .set = SetString<&C::s3, &S3Config::access_key_id>,
               .get = GetString<&C::s3, &S3Config::access_key_id>});
  k.push_back({.section = "s3",
               .name = "secret_access_key_file",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "File holding the secret access key (one line). Read at start and "
                              "again on SIGHUP, so a rotated or corrected secret applies without "
                              "a restart.",
               .reloadable = true,
               .set = SetString<&C::s3, &S3Config::secret_access_key_file>,
               .get = GetString<&C::s3, &S3Config::secret_access_key_file>});
  k.push_back({.section = "s3",
               .name = "path_style",
               .type = ConfigType::kBool,
               .default_value = true,
               .description = "Path-style URLs (`<endpoint>/<bucket>/<key>`, MinIO, RGW, local "
                              "servers); false = virtual-host style (`<bucket>.<host>/<key>`).",
               .set = SetBool<&C::s3, &S3Config::path_style>,
               .get = GetBool<&C::s3, &S3Config::path_style>});
  k.push_back({.section = "s3",
               .name = "sse",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "Server-side encryption requested on upload "
                              "(`x-amz-server-side-encryption`): `AES256`, `aws:kms`, or empty.",
               .choices = {"", "AES256", "aws:kms"},
               .set = SetString<&C::s3, &S3Config::sse>,
               .get = GetString<&C::s3, &S3Config::sse>});
  k.push_back({.section = "s3",
               .name = "sse_kms_key_id",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "KMS key for `sse = \"aws:kms\"` (empty = the bucket's default).",
               .set = SetString<&C::s3, &S3Config::sse_kms_key_id>,
               .get = GetString<&C::s3, &S3Config::sse_kms_key_id>});
  k.push_back({.section = "s3",
               .name = "multipart_threshold_mb",
               .type = ConfigType::kInt,
               .default_value = int64_t{64},
               .description = "Recordings larger than this are uploaded in parts.",
               .min = 5,
               .max = 5 * 1024,
               .set = SetInt<&C::s3, &S3Config::multipart_threshold_mb>,
               .get = GetInt<&C::s3, &S3Config::multipart_threshold_mb>});
  k.push_back({.section = "s3",
               .name = "part_size_mb",
               .type = ConfigType::kInt,
               .default_value = int64_t{16},
               .description = "Size of one part of a multipart upload (S3: at least 5 MiB).",
               .min = 5,
               .max = 512,
               .set = SetInt<&C::s3, &S3Config::part_size_mb>,
               .get = GetInt<&C::s3, &S3Config::part_size_mb>});
  k.push_back({.section = "s3",
               .name = "parts_in_flight",
               .type = ConfigType::kInt,
               .default_value = int64_t{4},
               .description = "Parts of one upload in memory and on the wire at once; memory "
                              "per upload is at most this × `part_size_mb`.",
               .min = 1,
               .max = 32,
               .set = SetInt<&C::s3, &S3Config::parts_in_flight>,
               .get = GetInt<&C::s3, &S3Config::parts_in_flight>});
  k.push_back({.section = "s3",
               .name = "timeout_s",
               .type = ConfigType::kInt,
               .default_value = int64_t{60},
               .description = "Longest one request may take (a PUT, one part of a multipart "
                              "upload, one ranged GET); it fails after that and is retried with "
                              "backoff.",
               .min = 1,
               .max = 3600,
               .set = SetInt<&C::s3, &S3Config::timeout_s>,
               .get = GetInt<&C::s3, &S3Config::timeout_s>});
  k.push_back({.section = "s3",
               .name = "ca_file",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "CA bundle for an endpoint with a private certificate (empty = "
                              "the system's).",
               .set = SetString<&C::s3, &S3Config::ca_file>,
               .get = GetString<&C::s3, &S3Config::ca_file>});
  k.push_back({.section = "s3",
               .name = "verify_tls",
               .type = ConfigType::kBool,
               .default_value = true,
               .description = "Verify the endpoint's TLS certificate.",
               .set = SetBool<&C::s3, &S3Config::verify_tls>,
               .get = GetBool<&C::s3, &S3Config::verify_tls>});
  // [retention]
  k.push_back({.section = "retention",
               .name = "interval_s",
               .type = ConfigType::kInt,
               .default_value = int64_t{3600},
               .description = "How often the policies run. 0 = only on demand (`callvault "
                              "retention run`, `POST /api/v1/retention/run`).",
               .min = 0,
               .max = 7 * 86400,
               .set = SetInt<&C::retention, &RetentionConfig::interval_s>,
               .get = GetInt<&C::retention, &RetentionConfig::interval_s>});
  k.push_back({.section = "retention",
               .name = "batch",
               .type = ConfigType::kInt,
               .default_value = int64_t{500},
               .description = "Calls looked at per query while a policy runs.",
               .min = 1,
               .max = 10000,
               .set = SetInt<&C::retention, &RetentionConfig::batch>,
               .get = GetInt<&C::retention, &RetentionConfig::batch>});
  // [encryption]
  k.push_back({.section = "encryption",
               .name = "master_key_file",
               .type = ConfigType::kString,
               .default_value = std::string(),
               .description = "File of the master key: 32 raw bytes or 64 hex digits "
                              "(`callvault encryption init-master-key FILE` makes one). It wraps "
                              "the tenant keys in `<data_dir>/keys`. It must lie outside the data "
                              "and recordings directories and have no group/other permission "
                              "(mode 0600 or 0400): else the server refuses to start. Empty = "
                              "nothing is encrypted (encrypted recordings already stored are "
                              "then refused, never served as audio).",
               .set = SetString<&C::encryption, &EncryptionConfig::master_key_file>,
               .get = GetString<&C::encryption, &EncryptionConfig::master_key_file>});
  k.push_back({.section = "encryption",
               .name = "tenants",
               .type = ConfigType::kStringList,
               .default_value = std::vector<std::string>{},
               .description = "Tenants whose recordings are encrypted at rest (`\"*\"` = every "
                              "tenant, `\"\"` = calls without a tenant, keyed as `(no tenant)`). "
                              "Each gets its own key on its first recording; their manifests are "
                              "version 2. Needs `master_key_file`.",
               .check = CheckTenants,
               .set = SetList<&C::encryption, &EncryptionConfig::tenants>,
               .get = GetList<&C::encryption, &EncryptionConfig::tenants>});
}

}  // namespace callvault::app

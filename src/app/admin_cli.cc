#include "app/admin_cli.h"

#include <openssl/crypto.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "app/encryption.h"
#include "app/server.h"
#include "base/fs.h"
#include "base/time_format.h"
#include "crypto/secret_key.h"
#include "http/auth.h"
#include "recording/audio_key.h"

namespace callvault::app {
namespace {

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "callvault: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The config, with logging to stderr for problems only (stdout carries the result).
Result<Config> LoadQuietly(const AdminArgs& args) {
  CV_ASSIGN_OR_RETURN(Config config, LoadConfig(args.config_path, args.overrides));
  LogOptions quiet = config.log;
  quiet.level = "warn";
  quiet.file.clear();
  CV_RETURN_IF_ERROR(InitLogging(quiet));
  return config;
}

Result<std::unique_ptr<catalog::Catalog>> OpenQuietly(const AdminArgs& args) {
  CV_ASSIGN_OR_RETURN(Config config, LoadQuietly(args));
  // The SQLite file lives in the data directory, maybe not made yet.
  CV_RETURN_IF_ERROR(
      DefaultFs()->CreateDirs(config.node.data_dir).Annotate("creating the data directory"));
  catalog::CatalogOptions o = CatalogOptionsFromConfig(config);
  o.pool_size = 1;
  return catalog::OpenCatalog(o);
}

// `tenant`: whose entry it is (the user's, the tenant's own; docs/api.md §Audit).
Status TryAudit(catalog::Catalog& c, std::string action, std::string target, std::string tenant,
                nlohmann::json detail) {
  catalog::AuditEntry e;
  e.tenant = std::move(tenant);
  e.at_ms = NowMs();
  e.actor = "cli";
  e.action = std::move(action);
  e.target = std::move(target);
  e.detail = std::move(detail);
  e.remote = "local";
  return c.AppendAudit(e).status();
}

void Audit(catalog::Catalog& c, std::string action, std::string target, std::string tenant,
           nlohmann::json detail) {
  if (Status s =
          TryAudit(c, std::move(action), std::move(target), std::move(tenant), std::move(detail));
      !s.ok())
    std::fprintf(stderr, "callvault: warning: audit log: %s\n", s.ToString().c_str());
}

std::string Hex(const uint8_t* data, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

}  // namespace

int UserAdd(const AdminArgs& args) {
  std::string password;
  if (!std::getline(std::cin, password)) {
    std::fprintf(stderr, "callvault: user add reads the password from standard input\n");
    return 1;
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  Result<std::string> hash = http::HashPassword(password);
  if (!hash.ok()) return Fail("password", hash.status());
  Result<std::unique_ptr<catalog::Catalog>> c = OpenQuietly(args);
  if (!c.ok()) return Fail("opening the catalog", c.status());
  catalog::User u;
  u.username = args.username;
  u.password_hash = *hash;
  u.role = args.role;
  u.tenant = args.tenant;
  u.created_ms = NowMs();
  Result<int64_t> id = (*c)->CreateUser(u);
  if (!id.ok()) return Fail("adding user " + args.username, id.status());
  Audit(**c, "user.create", args.username, args.tenant,
        {{"role", args.role}, {"tenant", args.tenant}});
  std::printf("user %s added (id %lld, role %s)\n", args.username.c_str(),
              static_cast<long long>(*id), args.role.c_str());
  return 0;
}

int TokenCreate(const AdminArgs& args) {
  Result<std::unique_ptr<catalog::Catalog>> c = OpenQuietly(args);
  if (!c.ok()) return Fail("opening the catalog", c.status());
  Result<catalog::User> user = (*c)->GetUser(args.username);
  if (!user.ok()) return Fail("user " + args.username, user.status());
  http::NewApiToken t = http::GenerateApiToken();
  catalog::ApiToken row;
  row.user_id = user->id;
  row.name = args.token_name.empty() ? "cli" : args.token_name;
  row.token_hash = t.hash;
  row.created_ms = NowMs();
  if (args.expires_days > 0)
    row.expires_ms = row.created_ms + int64_t{args.expires_days} * 86400000;
  Result<std::string> api_id = (*c)->CreateToken(row);
  if (!api_id.ok()) return Fail("creating the token", api_id.status());
  Audit(**c, "token.create", args.username, user->tenant,
        {{"token_id", *api_id}, {"name", row.name}});
  // The secret goes to stdout alone (scripts capture it); it is shown this once.
  std::printf("%s\n", t.secret.c_str());
  return 0;
}

int InitMasterKey(const AdminArgs& args) {
  Result<crypto::SecretKey> key = crypto::SecretKey::Random();
  if (!key.ok()) return Fail("making a master key", key.status());
  // 64 hex digits and a newline (crypto/master_key.h reads them): safe to copy as text.
  std::string text = Hex(key->data(), key->size()) + "\n";
  Status s = DefaultFs()->CreateFileExclusive(args.file, text, 0600);
  OPENSSL_cleanse(text.data(), text.size());
  if (!s.ok()) {
    if (s.code() == StatusCode::kAlreadyExists) {
      std::fprintf(stderr,
                   "callvault: %s already exists: a master key is never overwritten (it would "
                   "make every tenant key wrapped by the old one unreadable)\n",
                   args.file.c_str());
      return 1;
    }
    return Fail("writing the master key", s);
  }
  std::printf(
      "master key written to %s (mode 0600)\n"
      "set encryption.master_key_file = \"%s\" (outside the data directory) and keep a copy "
      "of the file somewhere safe: without it no encrypted recording can be played\n",
      args.file.c_str(), args.file.c_str());
  return 0;
}

int TenantKeyList(const AdminArgs& args) {
  Result<Config> config = LoadQuietly(args);
  if (!config.ok()) return Fail("configuration", config.status());
  Result<std::unique_ptr<crypto::KeyStore>> keys = OpenKeyStore(*config, DefaultFs());
  if (!keys.ok()) return Fail("opening the tenant keys", keys.status());
  std::printf("%-24s %-36s %-24s %s\n", "TENANT", "KEY ID", "CREATED", "STATE");
  for (const crypto::TenantKeyInfo& k : (*keys)->List()) {
    const std::string state =
        k.destroyed ? "destroyed " + (k.destroyed_ms != 0 ? FormatRfc3339Ms(k.destroyed_ms)
                                                          : std::string("(time unknown)"))
        : k.active  ? "active"
                    : "live";
    std::printf("%-24s %-36s %-24s %s\n", k.tenant.c_str(), k.key_id.c_str(),
                k.created_ms != 0 ? FormatRfc3339Ms(k.created_ms).c_str() : "-", state.c_str());
  }
  return 0;
}

int TenantKeyDestroy(const AdminArgs& args) {
  // Calls without a tenant have their keys under recording::kNoTenantKeyName.
  const std::string tenant = recording::KeyTenantOf(args.tenant);
  Result<Config> config = LoadQuietly(args);
  if (!config.ok()) return Fail("configuration", config.status());
  Result<std::unique_ptr<crypto::KeyStore>> keys = OpenKeyStore(*config, DefaultFs());
  if (!keys.ok()) return Fail("opening the tenant keys", keys.status());
  std::vector<std::string> ids;
  for (const crypto::TenantKeyInfo& k : (*keys)->List())
    if (k.tenant == tenant && !k.destroyed) ids.push_back(k.key_id);
  if (ids.empty()) {
    std::fprintf(stderr, "callvault: tenant \"%s\" has no live key to destroy\n", tenant.c_str());
    return 1;
  }
  if (!args.yes) {
    std::fprintf(stderr,
                 "This destroys %zu key(s) of tenant \"%s\": every recording encrypted under "
                 "them becomes unreadable, for ever. Type the tenant name to confirm: ",
                 ids.size(), tenant.c_str());
    std::string answer;
    if (!std::getline(std::cin, answer) || answer != tenant) {
      std::fprintf(stderr, "callvault: not confirmed; nothing was destroyed\n");
      return 1;
    }
  }
  if (Status s = (*keys)->Destroy(tenant); !s.ok()) return Fail("destroying the keys", s);
  std::string list;
  for (const std::string& id : ids) list += (list.empty() ? "" : ",") + id;
  std::printf("destroyed %zu key(s) of tenant \"%s\": %s\n", ids.size(), tenant.c_str(),
              list.c_str());
  // The audit entry; the keys are gone whatever happens here, so a failure is reported loudly.
  const nlohmann::json detail = {{"key_ids", ids}, {"tenant", tenant}};
  Result<std::unique_ptr<catalog::Catalog>> c = OpenQuietly(args);
  Status audited =
      c.ok() ? TryAudit(**c, "tenant_key.destroy", tenant, tenant, detail) : c.status();
  if (!audited.ok()) {
    std::fprintf(stderr,
                 "callvault: WARNING: the keys were destroyed but the audit entry could not be "
                 "written (%s); record it by hand: action=tenant_key.destroy actor=cli "
                 "target=\"%s\" detail=%s\n",
                 audited.ToString().c_str(), tenant.c_str(), detail.dump().c_str());
    return kExitNotAudited;
  }
  return 0;
}

Result<std::unique_ptr<catalog::Catalog>> OpenAdminCatalog(const AdminArgs& args) {
  return OpenQuietly(args);
}

}  // namespace callvault::app

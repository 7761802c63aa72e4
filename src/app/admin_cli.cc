#include "app/admin_cli.h"

#include <chrono>
#include <cstdio>
#include <iostream>

#include "app/server.h"
#include "base/fs.h"
#include "http/auth.h"

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

Result<std::unique_ptr<catalog::Catalog>> Open(const AdminArgs& args) {
  CV_ASSIGN_OR_RETURN(Config config, LoadConfig(args.config_path, args.overrides));
  LogOptions quiet = config.log;  // stderr, problems only: stdout carries the result
  quiet.level = "warn";
  quiet.file.clear();
  CV_RETURN_IF_ERROR(InitLogging(quiet));
  // The SQLite file lives in the data directory, maybe not made yet.
  CV_RETURN_IF_ERROR(
      DefaultFs()->CreateDirs(config.node.data_dir).Annotate("creating the data directory"));
  catalog::CatalogOptions o = CatalogOptionsFromConfig(config);
  o.pool_size = 1;
  return catalog::OpenCatalog(o);
}

void Audit(catalog::Catalog& c, std::string action, std::string target, nlohmann::json detail) {
  catalog::AuditEntry e;
  e.at_ms = NowMs();
  e.actor = "cli";
  e.action = std::move(action);
  e.target = std::move(target);
  e.detail = std::move(detail);
  e.remote = "local";
  if (Result<int64_t> r = c.AppendAudit(e); !r.ok())
    std::fprintf(stderr, "callvault: warning: audit log: %s\n", r.status().ToString().c_str());
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
  Result<std::unique_ptr<catalog::Catalog>> c = Open(args);
  if (!c.ok()) return Fail("opening the catalog", c.status());
  catalog::User u;
  u.username = args.username;
  u.password_hash = *hash;
  u.role = args.role;
  u.tenant = args.tenant;
  u.created_ms = NowMs();
  Result<int64_t> id = (*c)->CreateUser(u);
  if (!id.ok()) return Fail("adding user " + args.username, id.status());
  Audit(**c, "user.create", args.username, {{"role", args.role}, {"tenant", args.tenant}});
  std::printf("user %s added (id %lld, role %s)\n", args.username.c_str(),
              static_cast<long long>(*id), args.role.c_str());
  return 0;
}

int TokenCreate(const AdminArgs& args) {
  Result<std::unique_ptr<catalog::Catalog>> c = Open(args);
  if (!c.ok()) return Fail("opening the catalog", c.status());
  Result<catalog::User> user = (*c)->GetUser(args.username);
  if (!user.ok()) return Fail("user " + args.username, user.status());
  http::NewApiToken t = http::GenerateApiToken();
  catalog::ApiToken row;
  row.user_id = user->id;
  row.name = args.token_name.empty() ? "cli" : args.token_name;
  row.token_hash = t.hash;
  row.created_ms = NowMs();
  if (args.expires_days > 0) row.expires_ms = row.created_ms + int64_t{args.expires_days} * 86400000;
  Result<int64_t> id = (*c)->CreateToken(row);
  if (!id.ok()) return Fail("creating the token", id.status());
  Audit(**c, "token.create", args.username, {{"token_id", *id}, {"name", row.name}});
  // The secret goes to stdout alone (scripts capture it); it is shown this once.
  std::printf("%s\n", t.secret.c_str());
  return 0;
}

}  // namespace callvault::app

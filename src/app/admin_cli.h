// Admin subcommands of `callvault` that work on the catalog directly (no server needed):
//   callvault user add --name N --role R [--tenant T] [-c FILE]   password on stdin
//   callvault token create --user N [--name LABEL] [--expires-days D] [-c FILE]
//   callvault encryption init-master-key FILE                    new master key, mode 0600
//   callvault tenant-key list [-c FILE]
//   callvault tenant-key destroy --tenant T [--yes] [-c FILE]    crypto-shreds T's keys
// There are no default credentials: the first admin is made with `user add`. Every change is
// written to the audit log with actor "cli".
//
// Exit codes: 0 done; 1 error (nothing changed, message on stderr); for `tenant-key destroy`
// also 3: the keys WERE destroyed but the audit entry could not be written (the catalog is
// unreachable) — the warning on stderr says what to record by hand.
//
// Called by: app/main.cc. Thread-safety: single-threaded, one call per process.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/config.h"
#include "catalog/catalog.h"

namespace callvault::app {

struct AdminArgs {
  std::string config_path;  // "" = embedded defaults
  std::vector<ConfigOverride> overrides;
  std::string username, role, tenant;  // user add
  std::string token_name;              // token create
  int expires_days = 0;                // token create; 0 = never
  std::string file;                    // encryption init-master-key
  bool yes = false;                    // tenant-key destroy: no confirmation prompt
};

// Exit code of `tenant-key destroy` when the keys were destroyed but not audited.
inline constexpr int kExitNotAudited = 3;

// Each returns the process exit code (0 ok, 1 error printed to stderr).
int UserAdd(const AdminArgs& args);
int TokenCreate(const AdminArgs& args);
int InitMasterKey(const AdminArgs& args);
int TenantKeyList(const AdminArgs& args);
int TenantKeyDestroy(const AdminArgs& args);

// The catalog of args' config (logging kept quiet), for the other CLIs (cluster verify…).
Result<std::unique_ptr<catalog::Catalog>> OpenAdminCatalog(const AdminArgs& args);

}  // namespace callvault::app

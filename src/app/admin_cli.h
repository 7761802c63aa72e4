// Admin subcommands of `callvault` that work on the catalog directly (no server needed):
//   callvault user add --name N --role R [--tenant T] [-c FILE]   password on stdin
//   callvault token create --user N [--name LABEL] [--expires-days D] [-c FILE]
// There are no default credentials: the first admin is made with `user add`. Every change is
// written to the audit log with actor "cli".
//
// Called by: app/main.cc. Thread-safety: single-threaded, one call per process.
#pragma once

#include <string>
#include <vector>

#include "app/config.h"

namespace callvault::app {

struct AdminArgs {
  std::string config_path;  // "" = embedded defaults
  std::vector<ConfigOverride> overrides;
  std::string username, role, tenant;  // user add
  std::string token_name;              // token create
  int expires_days = 0;                // token create; 0 = never
};

// Each returns the process exit code (0 ok, 1 error printed to stderr).
int UserAdd(const AdminArgs& args);
int TokenCreate(const AdminArgs& args);

}  // namespace callvault::app

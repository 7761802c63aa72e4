// callvault: the command line.
//
//   callvault serve [-c FILE] [--data-dir DIR] [--log-level LEVEL]
//   callvault check-config FILE        prints OK (exit 0) or every problem (exit 1)
//   callvault version
//   callvault config-reference [--format markdown|toml|man5|man8] [--set KEY=VALUE]…
//                                      prints docs/configuration.md, the packaged config file
//                                      or a man page (app/manual.h)
//   callvault user add --name N --role R [--tenant T] [-c FILE]     password on stdin
//   callvault token create --user N [--name L] [--expires-days D] [-c FILE]
//   callvault encryption init-master-key FILE
//   callvault tenant-key list [-c FILE]
//   callvault tenant-key destroy --tenant T [--yes] [-c FILE]
//   callvault audit verify [--anchor ORIGIN:SEQ:HASH]… [-c FILE]
//
// Exit codes: 0 success, 1 invalid config or failed start, 2 bad command line, 3 (tenant-key
// destroy only) the keys were destroyed but the audit entry could not be written. `audit
// verify`: 0 intact, 1 a chain is broken, 2 could not verify (app/audit_cli.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <vector>
#include <string>

#include "app/admin_cli.h"
#include "app/audit_cli.h"
#include "app/cluster_cli.h"
#include "app/retention_cli.h"
#include "app/config.h"
#include "app/config_schema.h"
#include "app/manual.h"
#include "app/server.h"
#include "app/version.h"

namespace {

using namespace callvault::app;

int CheckConfig(const std::string& path) {
  auto loaded = LoadServeConfig(path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", std::string(loaded.status().message()).c_str());
    return 1;
  }
  std::printf("OK\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "callvault: SIPREC (RFC 7865/7866) call recording server.\n"
      "Configuration reference: docs/configuration.md (callvault config-reference).",
      "callvault");
  app.require_subcommand(1);
  app.fallthrough(false);

  ServeArgs serve_args;
  std::string data_dir, log_level;
  CLI::App* serve =
      app.add_subcommand("serve", "Run the recording server (embedded defaults without -c)");
  serve->footer(
      "Signals: SIGHUP re-reads the config file and applies the reloadable keys; SIGTERM or "
      "SIGINT drains (new calls get 503, active calls get up to server.drain_timeout_s to end, "
      "then BYE) and exits 0; a second SIGTERM skips the wait.");
  serve->add_option("-c,--config", serve_args.config_path, "TOML config file");
  serve->add_option("--data-dir", data_dir, "Overrides node.data_dir");
  serve->add_option("--log-level", log_level, "Overrides log.level (trace|debug|info|warn|error)");

  std::string check_path;
  CLI::App* check = app.add_subcommand(
      "check-config", "Validate a config file as serve does; print OK or the problems");
  check->footer(
      "Exit 0 and OK when valid; exit 1 with one line per problem otherwise: "
      "FILE:LINE:COLUMN: KEY: what is wrong.");
  check->add_option("FILE", check_path, "TOML config file")->required();

  CLI::App* version = app.add_subcommand("version", "Print the version");
  CLI::App* reference = app.add_subcommand(
      "config-reference", "Print docs/configuration.md (generated from the table of keys)");
  std::string reference_format = "markdown";
  std::vector<std::string> reference_set;
  reference
      ->add_option("--format", reference_format,
                   "markdown (docs/configuration.md), toml (the packaged callvault.toml), man5 "
                   "(callvault.toml(5)) or man8 (callvault(8))")
      ->check(CLI::IsMember({"markdown", "toml", "man5", "man8"}));
  reference->add_option("--set", reference_set,
                        "KEY=TOML_VALUE written uncommented into the toml format (repeatable)");

  AdminArgs admin;
  std::string admin_data_dir;
  CLI::App* user = app.add_subcommand("user", "Manage users of the API and portal");
  user->require_subcommand(1);
  CLI::App* user_add = user->add_subcommand(
      "add", "Add a user; reads the password (at least 8 characters) from standard input");
  user_add->add_option("--name", admin.username, "User name")->required();
  user_add->add_option("--role", admin.role, "admin | supervisor | viewer")->required();
  user_add->add_option("--tenant", admin.tenant, "Restrict the user to one tenant's calls");
  CLI::App* token = app.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  CLI::App* token_create = token->add_subcommand(
      "create", "Create an API token for a user and print it (shown only this once)");
  token_create->add_option("--user", admin.username, "User name")->required();
  token_create->add_option("--name", admin.token_name, "A label for the token");
  token_create->add_option("--expires-days", admin.expires_days,
                           "Days until it expires (0 = never)");
  CLI::App* encryption = app.add_subcommand("encryption", "Encryption at rest");
  encryption->require_subcommand(1);
  CLI::App* init_master_key = encryption->add_subcommand(
      "init-master-key",
      "Write a new random master key (64 hex digits) to FILE with mode 0600; never overwrites");
  init_master_key->add_option("FILE", admin.file, "Where to write it (outside the data directory)")
      ->required();
  CLI::App* tenant_key = app.add_subcommand("tenant-key", "Manage the tenant encryption keys");
  tenant_key->require_subcommand(1);
  CLI::App* tenant_key_list =
      tenant_key->add_subcommand("list", "List the tenant keys (live and destroyed)");
  CLI::App* tenant_key_destroy = tenant_key->add_subcommand(
      "destroy",
      "Crypto-shred a tenant: destroy its keys so its encrypted recordings can never be played "
      "again (audited); new recordings get a new key");
  tenant_key_destroy
      ->add_option("--tenant", admin.tenant, "The tenant (\"\" = calls without a tenant)")
      ->required();
  tenant_key_destroy->add_flag("--yes", admin.yes, "Do not ask for confirmation");
  tenant_key_destroy->footer(
      "Exit 0 when destroyed and audited; 1 when nothing was destroyed; 3 when the keys were "
      "destroyed but the audit entry could not be written (the catalog is unreachable): the "
      "warning on stderr gives the entry to record by hand.");
  bool dry_run = false;
  CLI::App* retention = app.add_subcommand("retention", "Deletion by policy");
  retention->require_subcommand(1);
  CLI::App* retention_run = retention->add_subcommand(
      "run", "Run the [retention.policies] once: delete (tombstone, audit, purge) what they "
             "select; with --dry-run only list it");
  retention_run->add_flag("--dry-run", dry_run,
                          "List the calls that would be deleted; change nothing");
  std::string peer;
  CLI::App* cluster = app.add_subcommand("cluster", "Multi-master replication");
  cluster->require_subcommand(1);
  CLI::App* cluster_status = cluster->add_subcommand(
      "status", "Per peer: schedule, backlog and lag of its queue, whether it answers");
  CLI::App* cluster_backfill = cluster->add_subcommand(
      "backfill", "Queue every recording of this node for PEER (the running server sends them; "
                  "the peer skips what it has)");
  cluster_backfill->add_option("PEER", peer, "A [[cluster.peers]] id")->required();
  CLI::App* cluster_verify = cluster->add_subcommand(
      "verify", "Compare this node's finished calls with PEER's: missing there (queued or not), "
                "missing here; exit 1 when calls are missing and not queued");
  cluster_verify->add_option("PEER", peer, "A [[cluster.peers]] id")->required();
  std::vector<std::string> anchors;
  CLI::App* audit = app.add_subcommand("audit", "The audit log");
  audit->require_subcommand(1);
  CLI::App* audit_verify = audit->add_subcommand(
      "verify", "Check the audit log's hash chains (read-only): name the first entry changed, "
                "removed or reordered; exit 0 intact, 1 broken, 2 could not verify");
  audit_verify->add_option("--anchor", anchors,
                           "ORIGIN:SEQ:HASH recorded elsewhere (metrics, the hourly "
                           "catalog.audit_head log line) that the chain must still hold");
  for (CLI::App* sub : {user_add, token_create, tenant_key_list, tenant_key_destroy,
                        retention_run, cluster_status, cluster_backfill, cluster_verify,
                        audit_verify}) {
    sub->add_option("-c,--config", admin.config_path, "TOML config file (for catalog.url)");
    sub->add_option("--data-dir", admin_data_dir, "Overrides node.data_dir");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (*serve) {
    if (!data_dir.empty())
      serve_args.overrides.push_back({"node.data_dir", data_dir, "--data-dir"});
    if (!log_level.empty()) {
      serve_args.overrides.push_back({"log.level", log_level, "--log-level"});
    }
    return Serve(serve_args);
  }
  if (*check) return CheckConfig(check_path);
  if (!admin_data_dir.empty())
    admin.overrides.push_back({"node.data_dir", admin_data_dir, "--data-dir"});
  if (*user_add) return UserAdd(admin);
  if (*token_create) return TokenCreate(admin);
  if (*init_master_key) return InitMasterKey(admin);
  if (*tenant_key_list) return TenantKeyList(admin);
  if (*tenant_key_destroy) return TenantKeyDestroy(admin);
  if (*retention_run) return RetentionRun(admin, dry_run);
  if (*cluster_status) return ClusterStatus(admin);
  if (*cluster_backfill) return ClusterBackfill(admin, peer);
  if (*cluster_verify) return ClusterVerify(admin, peer);
  if (*audit_verify) return AuditVerify(admin, anchors);
  if (*version) {
    std::printf("callvault %s (%s)\n", kVersion, kGitDescribe);
    return 0;
  }
  if (*reference) {
    if (reference_format == "toml") {
      std::map<std::string, std::string> reference_active;
      for (const std::string& set : reference_set) {
        size_t eq = set.find('=');
        std::string key = set.substr(0, eq);
        if (eq == std::string::npos || FindConfigKey(key) == nullptr) {
          std::fprintf(stderr, "config-reference: --set %s: expected KEY=VALUE of a known key\n",
                       set.c_str());
          return 2;
        }
        reference_active[key] = set.substr(eq + 1);
      }
      std::cout << RenderConfigSample(reference_active);
    } else if (reference_format == "man5") {
      std::cout << RenderConfigManPage(kVersion);
    } else if (reference_format == "man8") {
      std::cout << RenderCommandManPage(app, kVersion);
    } else {
      std::cout << RenderConfigReference();
    }
    return std::cout.good() ? 0 : 1;
  }
  return 2;
}

// callvault: the command line.
//
//   callvault serve [-c FILE] [--data-dir DIR] [--log-level LEVEL]
//   callvault check-config FILE        prints OK (exit 0) or every problem (exit 1)
//   callvault version
//   callvault config-reference         prints docs/configuration.md
//
// Exit codes: 0 success, 1 invalid config or failed start, 2 bad command line.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "app/config.h"
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
  if (*version) {
    std::printf("callvault %s (%s)\n", kVersion, kGitDescribe);
    return 0;
  }
  if (*reference) {
    std::cout << RenderConfigReference();
    return std::cout.good() ? 0 : 1;
  }
  return 2;
}

// `callvault serve`: the lifecycle of a node process.
//
//   start    load + validate the config, init logging, create the data dir, raise
//            RLIMIT_NOFILE to the hard limit, start the media engine, finalize what a previous
//            run left in the spool (crash recovery), start the finalizer, the recorder and the
//            SIP stack, log `server.ready`
//   SIGHUP   re-read and validate the file; keep the running config on error; apply the
//            reloadable keys (log.*, server.drain_timeout_s) and log which changes need a restart
//   SIGTERM  drain: OPTIONS/INVITE get 503, wait for active calls to end (at most
//   SIGINT   server.drain_timeout_s; a second signal skips the wait), BYE the rest, stop the
//            stack, end what still records, let the finalizer finish (bounded), exit 0
//
// The node's data flow: sip::Stack → siprec::Recorder → LocalBackend (media::MediaEngine +
// session log) → FinalizeQueue (recording::FinalizeCall) → data/outbox/catalog →
// catalog::Ingester → the catalog (catalog::DeferredCatalog) ← http::HttpServer.
//
// Called by: app/main.cc. Thread-safety: Serve() runs on the main thread and must be called
// before any other thread is started (signals are blocked for all threads).
#pragma once

#include <string>
#include <vector>

#include "app/config.h"
#include "base/status.h"
#include "catalog/catalog.h"
#include "sip/stack.h"

namespace callvault::app {

struct ServeArgs {
  std::string config_path;                // "" = embedded defaults
  std::vector<ConfigOverride> overrides;  // --data-dir, --log-level
};

// A config ready to run: validated, and mapped onto the modules' options.
struct ServeConfig {
  Config config;
  sip::StackOptions stack;
};

// Everything `serve` validates before starting (LoadConfig + the mapping onto module options).
// `callvault check-config` runs exactly this.
Result<ServeConfig> LoadServeConfig(const std::string& path,
                                    const std::vector<ConfigOverride>& overrides = {});

// Maps [sip] onto the SIP stack's options.
Result<sip::StackOptions> StackOptionsFromConfig(const Config& config);

// [catalog] onto the catalog's options (url "" = SQLite in the data directory).
catalog::CatalogOptions CatalogOptionsFromConfig(const Config& config);

// Runs the server until SIGTERM/SIGINT; returns the process exit code (0 after a drain).
int Serve(const ServeArgs& args);

}  // namespace callvault::app

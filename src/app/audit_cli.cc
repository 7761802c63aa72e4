#include "app/audit_cli.h"

#include <chrono>
#include <cstdio>

#include "app/server.h"
#include "catalog/audit_verify.h"

namespace callvault::app {
namespace {

int NotVerified(const std::string& what, const Status& s) {
  std::fprintf(stderr, "callvault: audit verify: %s: %s\n", what.c_str(), s.ToString().c_str());
  return kExitAuditNotVerified;
}

}  // namespace

int AuditVerify(const AdminArgs& args, const std::vector<std::string>& anchor_texts) {
  catalog::AuditVerifyOptions options;
  for (const std::string& text : anchor_texts) {
    Result<catalog::AuditAnchor> anchor = catalog::ParseAuditAnchor(text);
    if (!anchor.ok()) return NotVerified("--anchor", anchor.status());
    options.anchors.push_back(*anchor);
  }
  Result<Config> config = LoadConfig(args.config_path, args.overrides);
  if (!config.ok()) return NotVerified("config", config.status());
  LogOptions quiet = config->log;  // stdout carries the report
  quiet.level = "warn";
  quiet.file.clear();
  if (Status s = InitLogging(quiet); !s.ok()) return NotVerified("logging", s);
  catalog::CatalogOptions o = CatalogOptionsFromConfig(*config);
  o.pool_size = 1;
  o.read_only = true;
  Result<std::unique_ptr<catalog::Catalog>> c = catalog::OpenCatalog(o);
  if (!c.ok()) return NotVerified("opening the catalog", c.status());
  if ((*c)->SchemaVersion() < 5) {
    return NotVerified("catalog", FailedPreconditionError(
                                      "schema version " + std::to_string((*c)->SchemaVersion()) +
                                      " has no audit chains; they come with version 5 (start "
                                      "callvault serve once to upgrade the catalog)"));
  }

  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;
  options.progress = [&](int64_t checked, int64_t expected) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_progress < std::chrono::seconds(2)) return;
    last_progress = now;
    std::fprintf(stderr, "audit verify: %lld of about %lld entries checked\n",
                 static_cast<long long>(checked), static_cast<long long>(expected));
  };
  Result<catalog::AuditVerifyReport> report = catalog::VerifyAuditLog(**c, options);
  if (!report.ok()) return NotVerified("reading the audit log", report.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  int broken = 0;
  for (const catalog::AuditChainReport& chain : report->chains) {
    std::printf("chain %s: %lld entries, head seq %lld %s: %s\n", chain.origin.c_str(),
                static_cast<long long>(chain.entries), static_cast<long long>(chain.head.seq),
                chain.head.hash.c_str(), chain.problem.empty() ? "intact" : "BROKEN");
    if (!chain.problem.empty()) {
      ++broken;
      std::fprintf(stderr, "audit verify: chain %s: %s\n", chain.origin.c_str(),
                   chain.problem.c_str());
    }
  }
  for (const std::string& problem : report->problems) {
    ++broken;
    std::fprintf(stderr, "audit verify: %s\n", problem.c_str());
  }
  if (broken > 0) {
    std::printf("audit log NOT intact: %d problem%s (%lld entries, %zu chain%s, %.1f s)\n", broken,
                broken == 1 ? "" : "s", static_cast<long long>(report->entries),
                report->chains.size(), report->chains.size() == 1 ? "" : "s", seconds);
    return kExitAuditBroken;
  }
  std::printf("audit log intact: %lld entries in %zu chain%s (%.1f s)\n",
              static_cast<long long>(report->entries), report->chains.size(),
              report->chains.size() == 1 ? "" : "s", seconds);
  return 0;
}

}  // namespace callvault::app

#include "app/retention_cli.h"

#include <cstdio>

#include "app/data_dir.h"
#include "app/server.h"
#include "app/storage_stack.h"
#include "base/time_format.h"

namespace callvault::app {

int RetentionRun(const AdminArgs& args, bool dry_run) {
  auto fail = [](const char* what, const Status& s) {
    std::fprintf(stderr, "callvault: %s: %s\n", what, s.ToString().c_str());
    return 1;
  };
  Result<Config> config = LoadConfig(args.config_path, args.overrides);
  if (!config.ok()) return fail("config", config.status());
  LogOptions quiet = config->log;  // stderr, problems only: stdout carries the listing
  quiet.level = "warn";
  quiet.file.clear();
  if (Status s = InitLogging(quiet); !s.ok()) return fail("logging", s);
  catalog::CatalogOptions co = CatalogOptionsFromConfig(*config);
  co.pool_size = 2;
  Result<std::unique_ptr<catalog::Catalog>> catalog = catalog::OpenCatalog(co);
  if (!catalog.ok()) return fail("opening the catalog", catalog.status());
  storage::LocalRecordingStore local(DefaultFs(), DataDirOf(*config).recordings());
  if (Status s = local.Recover(); !s.ok()) return fail("finishing interrupted deletes", s);
  Result<std::unique_ptr<StorageStack>> stack =
      StorageStack::Create(*config, DefaultFs(), RealClock(), nullptr, nullptr, &local,
                           catalog->get(), {.relocate = false});
  if (!stack.ok()) return fail("storage", stack.status());
  if ((*stack)->retention()->policies().empty()) {
    std::fprintf(stderr, "callvault: no retention policies are configured "
                         "([retention.policies.<name>])\n");
    return 0;
  }
  Result<retention::RunReport> report = (*stack)->retention()->Run(
      {.dry_run = dry_run,
       .batch = config->retention.batch,
       .actor = "cli",
       .progress = [dry_run](const retention::PolicyReport& p) {
         std::fprintf(stderr, "retention: policy %s: %llu selected, %llu %s\n", p.policy.c_str(),
                      static_cast<unsigned long long>(p.selected),
                      static_cast<unsigned long long>(dry_run ? p.selected : p.deleted),
                      dry_run ? "would be deleted" : "deleted");
       }});
  if (!report.ok()) return fail("retention", report.status());
  if (dry_run) {
    for (const retention::Selected& s : report->selected) {
      std::printf("%s %s %s %s\n", s.call_id.c_str(), s.policy.c_str(),
                  s.tenant.empty() ? "-" : s.tenant.c_str(), FormatRfc3339Ms(s.started_ms).c_str());
    }
    std::fprintf(stderr, "retention: dry run: %zu calls would be deleted; nothing changed\n",
                 report->selected.size());
    return 0;
  }
  // The bytes of what was deleted (and of earlier deletions still pending).
  uint64_t purged = 0;
  Status purge_error;
  for (int round = 0; round < 100000; ++round) {
    Result<int> n = (*stack)->purger()->RunOnce();
    if (!n.ok()) {
      purge_error = n.status();
      break;
    }
    purged += static_cast<uint64_t>(*n);
    if (*n > 0) std::fprintf(stderr, "retention: %llu recordings removed\n",
                             static_cast<unsigned long long>(purged));
    if (*n == 0) break;
  }
  std::printf("deleted %llu calls, removed %llu recordings, %llu failed\n",
              static_cast<unsigned long long>(report->deleted()),
              static_cast<unsigned long long>(purged),
              static_cast<unsigned long long>(report->failed()));
  if (!purge_error.ok()) {
    std::fprintf(stderr,
                 "callvault: some recordings could not be removed yet (%s); their purge stays "
                 "pending and is retried\n",
                 purge_error.ToString().c_str());
    return 3;
  }
  return report->failed() > 0 ? 3 : 0;
}

}  // namespace callvault::app

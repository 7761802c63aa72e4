// `callvault retention run [--dry-run] [-c FILE]`: runs the configured retention policies once
// against the catalog and the recordings (local and S3), without a server. A dry run prints the
// calls the policies select (one line each: call id, policy, tenant, start) and changes
// nothing; a run deletes them (tombstone + audit entry + pending purge, as the API does) and
// then removes their bytes, printing progress to stderr. A purge that fails stays pending and
// is finished by the server's purger (or the next run).
//
// Called by: app/main.cc. Thread-safety: single-threaded, one call per process.
#pragma once

#include "app/admin_cli.h"

namespace callvault::app {

// Exit code: 0 done, 1 error (printed), 3 done but some calls or purges failed (retried later).
int RetentionRun(const AdminArgs& args, bool dry_run);

}  // namespace callvault::app

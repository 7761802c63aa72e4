// Metrics for operating the node (issue 20: contrib/prometheus alert rules and the Grafana
// dashboard): SIP traffic and admission (is the node answering 503 to new calls?), the spool
// filesystem's free space beside the readiness threshold, and when the TLS certificates the
// node presents expire.
//
//   callvault_sip_accepting_calls            1, or 0 while OPTIONS and new INVITEs get 503
//   callvault_sip_requests_total             SIP requests received
//   callvault_sip_responses_total            SIP responses sent
//   callvault_sip_stateless_answers_total    400/505/513/503 sent without a transaction
//   callvault_sip_overload_drops_total       requests dropped or refused: a shard queue was full
//   callvault_sip_malformed_total            messages that did not parse
//   callvault_disk_free_bytes                free bytes on the spool's filesystem
//   callvault_disk_min_free_bytes            below this /readyz?role=recorder fails (503s)
//   callvault_tls_certificate_expiry_timestamp_seconds{certificate="sip"|"cluster"}
//
// Called by: app/server.cc (RegisterMetrics, before HTTP serves). Thread-safety: the sources'
// functions are called from scrape threads and must be thread-safe; registration is not.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/fs.h"
#include "base/metrics.h"
#include "base/status.h"
#include "sip/stack.h"

namespace callvault::app {

struct OpsMetricSources {
  std::function<sip::StackStats()> sip_stats;
  std::function<bool()> accepting_calls;
  std::string spool_dir;        // its filesystem's free space is reported
  uint64_t min_free_bytes = 0;  // http.min_free_disk_mb in bytes
  // Label value ("sip", "cluster") → PEM certificate file; empty paths are skipped.
  std::vector<std::pair<std::string, std::string>> certificates;
};

// Registers the metrics above on `registry`; a certificate that cannot be read is logged
// (`server.certificate_unreadable`) and left out. REQUIRES: `fs` and `registry` outlive the
// scrapes.
void RegisterOpsMetrics(Registry* registry, Fs* fs, OpsMetricSources sources);

// The notAfter time of the first certificate in the PEM file at `path`, in Unix seconds.
Result<int64_t> CertificateNotAfter(Fs* fs, const std::string& path);

}  // namespace callvault::app

#include "app/ops_metrics.h"

#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "base/log.h"

namespace callvault::app {
namespace {

void Warn(std::string_view name, const Status& s) {
  if (!s.ok()) CV_LOG_WARN("server.metric_failed", "metric={} error=\"{}\"", name, s.message());
}

}  // namespace

Result<int64_t> CertificateNotAfter(Fs* fs, const std::string& path) {
  CV_ASSIGN_OR_RETURN(std::string pem, fs->ReadFile(path));
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return InternalError("certificate: BIO_new_mem_buf failed");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return InvalidArgumentError(fmt::format("{}: no PEM certificate", path));
  struct tm when {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &when) != 1) {
    return InvalidArgumentError(fmt::format("{}: unreadable notAfter", path));
  }
  return static_cast<int64_t>(timegm(&when));
}

void RegisterOpsMetrics(Registry* registry, Fs* fs, OpsMetricSources sources) {
  auto stats = std::move(sources.sip_stats);
  auto counter = [&](std::string_view name, std::string_view help,
                     uint64_t sip::StackStats::*field) {
    Warn(name, registry->AddCallbackCounter(
                   name, help, [stats, field] { return static_cast<double>(stats().*field); }));
  };
  counter("callvault_sip_requests_total", "SIP requests received.", &sip::StackStats::requests_in);
  counter("callvault_sip_responses_total", "SIP responses sent.", &sip::StackStats::responses_out);
  counter("callvault_sip_stateless_answers_total",
          "SIP answers sent without a transaction (400, 505, 513, and 503 while not accepting "
          "calls or overloaded).",
          &sip::StackStats::answered_stateless);
  counter("callvault_sip_overload_drops_total",
          "SIP requests dropped or refused because a worker's queue was full.",
          &sip::StackStats::overload_drops);
  counter("callvault_sip_malformed_total", "SIP messages that failed to parse.",
          &sip::StackStats::malformed);
  Warn("callvault_sip_accepting_calls",
       registry->AddCallbackGauge(
           "callvault_sip_accepting_calls",
           "1 while new calls are accepted; 0 while OPTIONS and new INVITEs get 503 (draining, "
           "drained by an operator, or a recorder readiness check failing).",
           [accepting = std::move(sources.accepting_calls)] { return accepting() ? 1.0 : 0.0; }));
  Warn("callvault_disk_free_bytes",
       registry->AddCallbackGauge("callvault_disk_free_bytes",
                                  "Free bytes on the spool's filesystem (node.data_dir).",
                                  [fs, dir = sources.spool_dir] {
                                    Result<uint64_t> free = fs->FreeBytes(dir);
                                    return free.ok() ? static_cast<double>(*free) : -1.0;
                                  }));
  if (Result<Gauge*> g = registry->AddGauge(
          "callvault_disk_min_free_bytes",
          "Free bytes below which /readyz?role=recorder fails and new calls get 503 "
          "(http.min_free_disk_mb).");
      g.ok()) {
    (*g)->Set(static_cast<double>(sources.min_free_bytes));
  }
  for (const auto& [label, path] : sources.certificates) {
    if (path.empty()) continue;
    Result<int64_t> not_after = CertificateNotAfter(fs, path);
    if (!not_after.ok()) {
      CV_LOG_WARN("server.certificate_unreadable", "certificate={} path=\"{}\" error=\"{}\"", label,
                  path, not_after.status().message());
      continue;
    }
    if (Result<Gauge*> g = registry->AddGauge(
            "callvault_tls_certificate_expiry_timestamp_seconds",
            "When the TLS certificate the node presents expires (notAfter, Unix seconds); read "
            "at start.",
            {{"certificate", label}});
        g.ok()) {
      (*g)->Set(static_cast<double>(*not_after));
    }
  }
}

}  // namespace callvault::app

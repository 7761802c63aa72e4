#include "media/internal/engine_metrics.h"

namespace callvault::media::internal {
namespace {

Counter* C(Registry* r, const char* name, const char* help, const MetricLabels& labels = {}) {
  auto c = r->AddCounter(name, help, labels);
  CV_CHECK_MSG(c.ok(), c.status().ToString());
  return *c;
}
Gauge* G(Registry* r, const char* name, const char* help) {
  auto g = r->AddGauge(name, help);
  CV_CHECK_MSG(g.ok(), g.status().ToString());
  return *g;
}

constexpr char kUnwritten[] = "callvault_media_spool_unwritten_records_total";
constexpr char kUnwrittenHelp[] =
    "RTP/RTCP records received but never written to the spool (the disk refused them for "
    "longer than the memory budget holds), by reason.";

}  // namespace

EngineMetrics::EngineMetrics(Registry* r)
    : rtp_packets(C(r, "callvault_media_rtp_packets_total",
                    "RTP and RTCP datagrams received on media ports.")),
      rtp_bytes(C(r, "callvault_media_rtp_bytes_total", "Bytes of those datagrams.")),
      rtp_lost(C(r, "callvault_media_rtp_lost_packets_total",
                 "RTP packets lost (expected - received), added when a stream closes.")),
      srtp_auth_failures(C(r, "callvault_media_srtp_auth_failures_total",
                           "SRTP/SRTCP packets that failed authentication (spooled raw).")),
      socket_drops(C(r, "callvault_media_socket_drops_total",
                     "Datagrams dropped by the kernel on full socket buffers (SO_RXQ_OVFL).")),
      spool_bytes(C(r, "callvault_media_spool_bytes_total", "Bytes written to spool files.")),
      spool_errors(
          C(r, "callvault_media_spool_errors_total", "Failed spool writes and syncs (retried).")),
      rtp_timeouts(C(r, "callvault_media_rtp_timeouts_total", "Calls ended by RTP inactivity.")),
      streams_opened(C(r, "callvault_media_streams_opened_total", "Media streams opened.")),
      open_streams(G(r, "callvault_media_open_streams", "Media streams open now.")),
      free_ports(G(r, "callvault_media_free_ports", "RTP port pairs free for new streams.")),
      unwritten_disk_full(C(r, kUnwritten, kUnwrittenHelp, {{"reason", "disk_full"}})),
      unwritten_write_error(C(r, kUnwritten, kUnwrittenHelp, {{"reason", "write_error"}})),
      unwritten_buffer_full(C(r, kUnwritten, kUnwrittenHelp, {{"reason", "buffer_full"}})),
      spool_buffered_bytes(G(r, "callvault_media_spool_buffered_bytes",
                             "Spool bytes held in memory by all calls (bounded by "
                             "media.spool_memory_budget_mb).")),
      spool_waiting_calls(G(r, "callvault_media_spool_waiting_calls",
                            "Ended calls whose spool records wait for the disk to take them.")) {}

}  // namespace callvault::media::internal

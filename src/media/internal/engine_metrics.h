// The media engine's metrics, declared in one place (STYLE.md §10). Private to media/.
// Thread-safety: the pointers are set once at construction; updates are lock-free.
#pragma once

#include "base/metrics.h"

namespace callvault::media::internal {

struct EngineMetrics {
  // Registers every series in `registry` (a failure there is a bug: the names are constants).
  explicit EngineMetrics(Registry* registry);

  Counter* rtp_packets;         // callvault_media_rtp_packets_total (RTP + RTCP datagrams)
  Counter* rtp_bytes;           // callvault_media_rtp_bytes_total
  Counter* rtp_lost;            // callvault_media_rtp_lost_packets_total (added at close)
  Counter* srtp_auth_failures;  // callvault_media_srtp_auth_failures_total
  Counter* socket_drops;        // callvault_media_socket_drops_total
  Counter* spool_bytes;         // callvault_media_spool_bytes_total
  Counter* spool_errors;        // callvault_media_spool_errors_total
  Counter* rtp_timeouts;        // callvault_media_rtp_timeouts_total
  Counter* streams_opened;      // callvault_media_streams_opened_total
  Gauge* open_streams;          // callvault_media_open_streams
  Gauge* free_ports;            // callvault_media_free_ports
  // callvault_media_spool_unwritten_records_total{reason=disk_full|write_error|buffer_full}
  Counter* unwritten_disk_full;
  Counter* unwritten_write_error;
  Counter* unwritten_buffer_full;
  Gauge* spool_buffered_bytes;  // callvault_media_spool_buffered_bytes
  Gauge* spool_waiting_calls;   // callvault_media_spool_waiting_calls
};

}  // namespace callvault::media::internal

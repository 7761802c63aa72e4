// One open stream, and one call, as their I/O thread sees them. Private to media/.
//
// Thread-safety: owned by one IoThread for its life; touched only on that thread (or, after
// IoThread::RemoveStream / RemoveCall handed it back, by the single caller that closes it).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "media/call_spool_writer.h"
#include "media/media_engine.h"
#include "media/rtp_stats.h"
#include "media/srtp_session.h"

namespace callvault::media::internal {

struct Stream;

// A call on its I/O thread: its streams and its spool file (all streams of a call live on one
// thread, which owns the file's buffer).
struct CallState {
  std::string call_id;
  std::vector<Stream*> streams;
  std::shared_ptr<CallSpoolWriter> writer;  // media.spool (version 2)
  bool fired = false;                       // RTP timeout reported
  bool dirty = false;                       // in the thread's dirty list
  uint64_t spool_bytes_counted = 0;         // spool bytes already added to the metric
};

// What an epoll event points to: one of the stream's sockets (RTP; RTCP when bound).
struct SocketSlot {
  Stream* stream = nullptr;
  bool rtcp = false;
  int fd = -1;
  uint32_t drops_seen = 0;  // last SO_RXQ_OVFL value
};

struct Stream {
  Stream(uint32_t clock_rate) : stats(clock_rate) {}
  ~Stream();  // closes the sockets that are still open

  uint64_t serial = 0;
  std::string call_id, stream_id;
  uint16_t rtp_port = 0;
  SocketSlot rtp, rtcp;  // rtcp.fd < 0: no RTCP socket (MediaOptions::rtcp_sockets off)
  std::shared_ptr<CallSpoolWriter> writer;  // the call's file, shared by its streams
  uint16_t slot = 0;                        // the stream's slot in it
  CallState* call = nullptr;                // on the I/O thread while added
  std::unique_ptr<SrtpSession> srtp;
  RtpStats stats;

  bool paused = false;
  std::chrono::steady_clock::time_point last_rtp;  // or open/resume time

  uint64_t srtp_decrypted = 0, srtp_auth_failures = 0, srtp_replays = 0, srtp_errors = 0;
  uint64_t socket_drops = 0, truncated = 0;
};

// The stream's current stats (spool counters read from its writer).
StreamStats BuildStats(const Stream& s);

}  // namespace callvault::media::internal

// Helpers for media/ tests: RTP packet builder, a UDP sender, temp dirs, bounded waits.
// Test-only (linked into the media test binaries, not into cv_media).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "media/spool_reader.h"

namespace callvault::media::testing {

// A 12-byte RTP header (V=2, PT `pt`) + `payload_bytes` bytes derived from (ssrc, seq), so a
// test can check a spooled payload byte for byte.
std::string MakeRtp(uint16_t seq, uint32_t ts, uint32_t ssrc, size_t payload_bytes = 160,
                    uint8_t pt = 0);
// A minimal RTCP packet of `type` (200 SR, 201 RR...) from `ssrc`.
std::string MakeRtcp(uint8_t type, uint32_t ssrc);

class UdpSender {
 public:
  explicit UdpSender(bool ipv6 = false);
  ~UdpSender();
  void Send(uint16_t port, std::string_view data);  // to 127.0.0.1 / ::1

 private:
  int fd_;
  bool ipv6_;
};

// A fresh directory under $TMPDIR (or /tmp).
std::string MakeTempDir(const std::string& prefix);
// An even base port in [30000, 60000) chosen at random; the engine skips ports in use.
uint16_t RandomPortBase(uint16_t span);
// Polls `pred` every 5 ms until true or `timeout`; returns its last value.
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

struct OwnedRecord {
  spool::RecordKind kind;
  uint8_t flags;
  int64_t arrival_ns;
  std::string payload;
};
// Every valid record of a spool file (empty on a read error); `ignored` gets ignored_bytes.
std::vector<OwnedRecord> ReadSpool(const std::string& path, uint64_t* ignored = nullptr);

// A version-2 record (docs/formats/spool.md §media.spool) as this test parser saw it.
struct V2Record {
  spool::RecordKind kind;
  uint8_t flags;
  uint16_t slot;
  int64_t arrival_ns;
  std::string payload;
  uint64_t offset;  // of the record header in the file
};
// Parses version-2 spool bytes straight from the specification, independently of SpoolReader:
// the header must be version 2 (else `*error` says why and the result is empty), records are
// returned up to the first short one, bad CRC, nonzero reserved field or undeclared slot;
// `ignored` gets the bytes from there to the end.
std::vector<V2Record> ParseCallSpool(std::string_view bytes, uint64_t* ignored = nullptr,
                                     std::string* error = nullptr);
// The records of stream `stream_id` in the version-2 file `path` (every slot declared with that
// id; declarations left out), in file order; empty when the file is unreadable.
std::vector<OwnedRecord> ReadCallSpool(const std::string& path, const std::string& stream_id,
                                       uint64_t* ignored = nullptr);

}  // namespace callvault::media::testing

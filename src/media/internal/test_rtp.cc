#include "media/internal/test_rtp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "base/fs.h"
#include "media/crc32c.h"

namespace callvault::media::testing {

std::string MakeRtp(uint16_t seq, uint32_t ts, uint32_t ssrc, size_t payload_bytes, uint8_t pt) {
  std::string p(12 + payload_bytes, '\0');
  p[0] = static_cast<char>(0x80);
  p[1] = static_cast<char>(pt & 0x7F);
  p[2] = static_cast<char>(seq >> 8);
  p[3] = static_cast<char>(seq);
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<char>(ts >> (24 - 8 * i));
    p[8 + i] = static_cast<char>(ssrc >> (24 - 8 * i));
  }
  for (size_t i = 0; i < payload_bytes; ++i) {
    p[12 + i] = static_cast<char>((seq * 31 + ssrc + i * 7) & 0xFF);
  }
  return p;
}

std::string MakeRtcp(uint8_t type, uint32_t ssrc) {
  std::string p(8, '\0');
  p[0] = static_cast<char>(0x80);
  p[1] = static_cast<char>(type);
  p[3] = 1;  // length in 32-bit words minus one
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<char>(ssrc >> (24 - 8 * i));
  return p;
}

UdpSender::UdpSender(bool ipv6) : ipv6_(ipv6) {
  fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

UdpSender::~UdpSender() { ::close(fd_); }

void UdpSender::Send(uint16_t port, std::string_view data) {
  if (ipv6_) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
}

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  char* d = mkdtemp(tmpl.data());
  return d ? std::string(d) : std::string();
}

uint16_t RandomPortBase(uint16_t span) {
  std::random_device rd;
  std::uniform_int_distribution<int> dist(30000, 60000 - span - 2);
  return static_cast<uint16_t>(dist(rd) & ~1);
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::vector<OwnedRecord> ReadSpool(const std::string& path, uint64_t* ignored) {
  std::vector<OwnedRecord> out;
  auto reader = SpoolReader::Open(*DefaultFs(), path);
  if (!reader.ok()) return out;
  SpoolRecord r;
  while (reader->Next(&r)) {
    out.push_back({r.kind, r.flags, r.arrival_ns, std::string(r.payload)});
  }
  if (ignored) *ignored = reader->ignored_bytes();
  return out;
}

namespace {

uint64_t GetLe(std::string_view b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(b[at + i])} << (8 * i);
  return v;
}

}  // namespace

std::vector<V2Record> ParseCallSpool(std::string_view b, uint64_t* ignored, std::string* error) {
  std::vector<V2Record> out;
  if (ignored) *ignored = 0;
  if (b.size() < spool::kFileHeaderSize || b.substr(0, 8) != spool::kMagic ||
      GetLe(b, 8, 2) != spool::kVersion2 || GetLe(b, 10, 2) != spool::kFileHeaderSize) {
    if (error) *error = "not a version-2 spool file header";
    return out;
  }
  std::vector<bool> declared;
  size_t pos = spool::kFileHeaderSize;
  while (pos + spool::kRecordHeaderSizeV2 <= b.size()) {
    const size_t len = GetLe(b, pos, 2);
    if (pos + spool::kRecordHeaderSizeV2 + len > b.size()) break;
    std::string crc_input(b.substr(pos, spool::kCrcOffsetV2));
    crc_input.append(b.substr(pos + spool::kRecordHeaderSizeV2, len));
    if (Crc32c(crc_input.data(), crc_input.size()) != GetLe(b, pos + spool::kCrcOffsetV2, 4)) break;
    if (GetLe(b, pos + 6, 2) != 0) break;  // reserved
    V2Record r{static_cast<spool::RecordKind>(b[pos + 2]),
               static_cast<uint8_t>(b[pos + 3]),
               static_cast<uint16_t>(GetLe(b, pos + 4, 2)),
               static_cast<int64_t>(GetLe(b, pos + 8, 8)),
               std::string(b.substr(pos + spool::kRecordHeaderSizeV2, len)),
               pos};
    if (r.kind == spool::RecordKind::kStreamDeclaration) {
      if (r.slot != declared.size()) break;  // slots are given in order of first use
      declared.push_back(true);
    } else if (r.slot >= declared.size()) {
      break;  // undeclared slot: corrupt
    }
    out.push_back(std::move(r));
    pos += spool::kRecordHeaderSizeV2 + len;
  }
  if (ignored) *ignored = b.size() - pos;
  return out;
}

std::vector<OwnedRecord> ReadCallSpool(const std::string& path, const std::string& stream_id,
                                       uint64_t* ignored) {
  std::vector<OwnedRecord> out;
  auto bytes = DefaultFs()->ReadFile(path);
  if (!bytes.ok()) return out;
  std::vector<bool> mine;  // by slot
  for (V2Record& r : ParseCallSpool(*bytes, ignored)) {
    if (r.kind == spool::RecordKind::kStreamDeclaration) {
      mine.push_back(r.payload == stream_id);
    } else if (mine[r.slot]) {
      out.push_back({r.kind, r.flags, r.arrival_ns, std::move(r.payload)});
    }
  }
  return out;
}

}  // namespace callvault::media::testing

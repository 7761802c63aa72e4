// Test-only helpers for codec/ tests: tone frequency measurement (Goertzel), a temp directory,
// and a minimal reader of RTP packets from classic pcap files (Ethernet/IPv4/UDP), so tests can
// decode the captures in ../shared/siprec-samples without libpcap.
//
// Callers: src/codec/*_test.cc only. Thread-safety: pure functions.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callvault::codec::testing {

// Power of `freq` in `samples` (Goertzel's recurrence, one DFT bin).
inline double GoertzelPower(const std::vector<int16_t>& samples, size_t begin, size_t n,
                            int sample_rate, double freq) {
  const double coeff = 2.0 * std::cos(2.0 * M_PI * freq / sample_rate);
  double s1 = 0, s2 = 0;
  for (size_t i = begin; i < begin + n && i < samples.size(); ++i) {
    const double s0 = samples[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

// The frequency between lo and hi Hz (1 Hz steps) with the most power in samples[begin, +n).
inline double DominantFrequency(const std::vector<int16_t>& samples, size_t begin, size_t n,
                                int sample_rate, double lo = 500, double hi = 1500) {
  double best = lo, best_power = -1;
  for (double f = lo; f <= hi; f += 1.0) {
    const double p = GoertzelPower(samples, begin, n, sample_rate, f);
    if (p > best_power) best_power = p, best = f;
  }
  return best;
}

inline double Rms(const std::vector<int16_t>& samples, size_t begin = 0, size_t n = SIZE_MAX) {
  double sum = 0;
  size_t count = 0;
  for (size_t i = begin; i < samples.size() && count < n; ++i, ++count) {
    sum += static_cast<double>(samples[i]) * samples[i];
  }
  return count ? std::sqrt(sum / count) : 0;
}

inline std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/codec_test.XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

inline std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct RtpPacket {
  int payload_type = 0;
  bool marker = false;
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  std::string payload;
};

// RTP packets of a little- or big-endian microsecond pcap (LINKTYPE_ETHERNET), IPv4/UDP only;
// anything else (ICMP, ARP, IPv6, truncated records) is skipped. The UDP length bounds the
// payload, so Ethernet padding is excluded; RTP CSRCs, header extension and padding are removed.
inline std::vector<RtpPacket> ReadRtpFromPcap(std::string_view file) {
  std::vector<RtpPacket> packets;
  if (file.size() < 24) return packets;
  const auto u8 = [&](size_t i) { return static_cast<uint8_t>(file[i]); };
  const auto be16 = [&](size_t i) { return static_cast<uint16_t>(u8(i) << 8 | u8(i + 1)); };
  const auto be32 = [&](size_t i) { return uint32_t{be16(i)} << 16 | be16(i + 2); };
  const bool swapped = u8(0) == 0xA1;  // magic written big-endian
  const auto hdr32 = [&](size_t i) {
    return swapped ? be32(i)
                   : uint32_t{u8(i)} | uint32_t{u8(i + 1)} << 8 | uint32_t{u8(i + 2)} << 16 |
                         uint32_t{u8(i + 3)} << 24;
  };
  if (hdr32(20) != 1) return packets;  // not Ethernet
  for (size_t off = 24; off + 16 <= file.size();) {
    const size_t caplen = hdr32(off + 8);
    const size_t p = off + 16;
    off = p + caplen;
    if (off > file.size() || caplen < 14 + 20 + 8 + 12) continue;
    if (be16(p + 12) != 0x0800 || (u8(p + 14) >> 4) != 4 || u8(p + 23) != 17) continue;
    const size_t udp = p + 14 + (u8(p + 14) & 0x0F) * 4;
    const size_t udp_len = udp + 8 <= off ? be16(udp + 4) : 0;
    if (udp_len < 8 + 12 || udp + udp_len > off) continue;
    const size_t rtp = udp + 8, end = udp + udp_len;
    if ((u8(rtp) >> 6) != 2) continue;
    size_t payload = rtp + 12 + (u8(rtp) & 0x0F) * 4;
    if ((u8(rtp) & 0x10) && payload + 4 <= end) payload += 4 + be16(payload + 2) * 4;
    size_t payload_end = end;
    if ((u8(rtp) & 0x20) && payload_end > payload) payload_end -= u8(end - 1);
    if (payload > payload_end) continue;
    RtpPacket pkt;
    pkt.payload_type = u8(rtp + 1) & 0x7F;
    pkt.marker = (u8(rtp + 1) & 0x80) != 0;
    pkt.seq = be16(rtp + 2);
    pkt.timestamp = be32(rtp + 4);
    pkt.payload = std::string(file.substr(payload, payload_end - payload));
    packets.push_back(std::move(pkt));
  }
  return packets;
}

}  // namespace callvault::codec::testing

// srtp_sender: paced SRTP (RFC 3711, SDES keys as in RFC 4568 a=crypto) tone streams for the
// system tests in tests/rtp/ (sipp cannot send SRTP). Encrypts with libsrtp2 directly, not with
// the product's media::SrtpSession, so a bug there cannot cancel itself out.
//
//   srtp_sender --seconds S --stream IP:PORT,PT,FREQ_HZ,SSRC,SUITE,KEY_BASE64 [--stream ...]
//
// PT 0 (PCMU) or 8 (PCMA); SUITE AES_CM_128_HMAC_SHA1_80 or AES_CM_128_HMAC_SHA1_32; KEY is the
// base64 of master key || salt (30 bytes), "inline:" optional. Every stream sends one 20 ms
// packet per tick (160 samples of a sine at FREQ_HZ, amplitude 8000) from its own socket, for S
// seconds. Prints one line per stream: `stream N: packets=P bytes=B first_ns=T last_ns=T`.
// Exit status 0, or 2 on bad arguments / libsrtp errors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <srtp2/srtp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int Search(int val, const int* table) {
  for (int i = 0; i < 8; ++i)
    if (val <= table[i]) return i;
  return 8;
}

// ITU-T G.711 (the Sun reference implementation).
uint8_t LinearToUlaw(int pcm) {
  static const int kSegEnd[8] = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
  int mask;
  pcm >>= 2;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7F;
  } else {
    mask = 0xFF;
  }
  if (pcm > 8159) pcm = 8159;
  pcm += 0x84 >> 2;
  const int seg = Search(pcm, kSegEnd);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  return static_cast<uint8_t>(((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask);
}

uint8_t LinearToAlaw(int pcm) {
  static const int kSegEnd[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
  int mask;
  pcm >>= 3;
  if (pcm >= 0) {
    mask = 0xD5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const int seg = Search(pcm, kSegEnd);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  int aval = seg << 4;
  aval |= (seg < 2 ? (pcm >> 1) : (pcm >> seg)) & 0xF;
  return static_cast<uint8_t>(aval ^ mask);
}

bool Base64Decode(const std::string& in, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) return false;
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

struct Stream {
  sockaddr_in dest{};
  int pt = 0;
  double freq = 1000;
  uint32_t ssrc = 0;
  std::string suite, key;
  int fd = -1;
  srtp_t session = nullptr;
  uint16_t seq = 0;
  uint32_t ts = 0;
  uint64_t packets = 0, bytes = 0;
  int64_t first_ns = 0, last_ns = 0;
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep)
      out.emplace_back();
    else
      out.back().push_back(c);
  }
  return out;
}

bool ParseStream(const std::string& spec, Stream* st) {
  const std::vector<std::string> f = Split(spec, ',');
  if (f.size() != 6) return false;
  const size_t colon = f[0].rfind(':');
  if (colon == std::string::npos) return false;
  st->dest.sin_family = AF_INET;
  st->dest.sin_port = htons(static_cast<uint16_t>(std::atoi(f[0].c_str() + colon + 1)));
  if (inet_pton(AF_INET, f[0].substr(0, colon).c_str(), &st->dest.sin_addr) != 1) return false;
  st->pt = std::atoi(f[1].c_str());
  st->freq = std::atof(f[2].c_str());
  st->ssrc = static_cast<uint32_t>(std::strtoul(f[3].c_str(), nullptr, 0));
  st->suite = f[4];
  std::string key = f[5];
  if (key.rfind("inline:", 0) == 0) key = key.substr(7);
  if (size_t bar = key.find('|'); bar != std::string::npos) key.resize(bar);
  if (!Base64Decode(key, &st->key) || st->key.size() != 30) return false;
  return (st->pt == 0 || st->pt == 8) &&
         (st->suite == "AES_CM_128_HMAC_SHA1_80" || st->suite == "AES_CM_128_HMAC_SHA1_32");
}

int64_t WallNs() {
  timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::vector<Stream> streams;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--stream" && i + 1 < argc) {
      Stream st;
      if (!ParseStream(argv[++i], &st)) {
        std::fprintf(stderr, "bad --stream %s\n", argv[i]);
        return 2;
      }
      streams.push_back(std::move(st));
    } else {
      std::fprintf(stderr,
                   "usage: srtp_sender --seconds S --stream IP:PORT,PT,FREQ,SSRC,SUITE,KEY ...\n");
      return 2;
    }
  }
  if (streams.empty() || seconds <= 0) return 2;
  if (srtp_init() != srtp_err_status_ok) {
    std::fprintf(stderr, "srtp_init failed\n");
    return 2;
  }
  uint32_t seed = static_cast<uint32_t>(WallNs());
  for (Stream& st : streams) {
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof(policy));
    if (st.suite == "AES_CM_128_HMAC_SHA1_32")
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
    else
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    policy.ssrc.type = ssrc_specific;
    policy.ssrc.value = st.ssrc;
    policy.key = reinterpret_cast<unsigned char*>(st.key.data());
    policy.window_size = 1024;
    policy.allow_repeat_tx = 0;
    policy.next = nullptr;
    if (srtp_create(&st.session, &policy) != srtp_err_status_ok) {
      std::fprintf(stderr, "srtp_create failed\n");
      return 2;
    }
    st.fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (st.fd < 0) return 2;
    seed = seed * 1664525u + 1013904223u;
    st.seq = static_cast<uint16_t>(seed >> 16);
    seed = seed * 1664525u + 1013904223u;
    st.ts = seed;
  }
  const int packets = static_cast<int>(std::lround(seconds * 50));
  timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (int k = 0; k < packets; ++k) {
    for (Stream& st : streams) {
      unsigned char buf[12 + 160 + SRTP_MAX_TRAILER_LEN];
      buf[0] = 0x80;
      buf[1] = static_cast<unsigned char>((k == 0 ? 0x80 : 0) | st.pt);
      buf[2] = static_cast<unsigned char>(st.seq >> 8);
      buf[3] = static_cast<unsigned char>(st.seq);
      for (int b = 0; b < 4; ++b) {
        buf[4 + b] = static_cast<unsigned char>(st.ts >> (24 - 8 * b));
        buf[8 + b] = static_cast<unsigned char>(st.ssrc >> (24 - 8 * b));
      }
      for (int n = 0; n < 160; ++n) {
        const double x = 8000.0 * std::sin(2 * M_PI * st.freq * (k * 160 + n) / 8000.0);
        const int pcm = static_cast<int>(std::lround(x));
        buf[12 + n] = st.pt == 0 ? LinearToUlaw(pcm) : LinearToAlaw(pcm);
      }
      int len = 12 + 160;
      if (srtp_protect(st.session, buf, &len) != srtp_err_status_ok) {
        std::fprintf(stderr, "srtp_protect failed\n");
        return 2;
      }
      if (sendto(st.fd, buf, static_cast<size_t>(len), 0, reinterpret_cast<sockaddr*>(&st.dest),
                 sizeof(st.dest)) == len) {
        st.last_ns = WallNs();
        if (st.packets == 0) st.first_ns = st.last_ns;
        ++st.packets;
        st.bytes += static_cast<uint64_t>(len);
      }
      ++st.seq;
      st.ts += 160;
    }
    next.tv_nsec += 20'000'000;
    if (next.tv_nsec >= 1'000'000'000) {
      next.tv_nsec -= 1'000'000'000;
      ++next.tv_sec;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
  }
  for (size_t i = 0; i < streams.size(); ++i) {
    const Stream& st = streams[i];
    std::printf("stream %zu: packets=%llu bytes=%llu first_ns=%lld last_ns=%lld\n", i,
                static_cast<unsigned long long>(st.packets),
                static_cast<unsigned long long>(st.bytes), static_cast<long long>(st.first_ns),
                static_cast<long long>(st.last_ns));
    srtp_dealloc(st.session);
    close(st.fd);
  }
  srtp_shutdown();
  return 0;
}

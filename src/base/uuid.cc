#include "base/uuid.h"

#include <sys/random.h>

#include <cerrno>

namespace callvault {
namespace {

void RandomBytes(uint8_t* buf, size_t n) {
  while (n > 0) {
    ssize_t got = ::getrandom(buf, n, 0);
    if (got < 0 && errno == EINTR) continue;
    // getrandom(2) of a few bytes does not fail on Linux >= 3.17 once the pool is initialized
    // (it blocks until then); a failure means a broken system, not bad input.
    CV_CHECK_MSG(got > 0, "getrandom failed");
    buf += got;
    n -= static_cast<size_t>(got);
  }
}

constexpr char kHex[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string UuidV7Generator::Next(const Clock& clock) {
  auto wall =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.WallNow().time_since_epoch())
          .count();
  int64_t ms = wall < 0 ? 0 : wall;
  uint8_t rnd[10];
  RandomBytes(rnd, sizeof(rnd));
  uint16_t counter;
  {
    MutexLock lock(&mu_);
    if (ms > last_ms_) {
      counter_ = static_cast<uint16_t>(((rnd[8] << 8) | rnd[9]) & 0x7ff);  // room to count up
    } else {
      ms = last_ms_;
      if (++counter_ > 0xfff) {  // 4096 ids in one ms: borrow the next millisecond
        ++ms;
        counter_ = static_cast<uint16_t>(((rnd[8] << 8) | rnd[9]) & 0x7ff);
      }
    }
    last_ms_ = ms;
    counter = counter_;
  }
  uint8_t b[16];
  uint64_t ts = static_cast<uint64_t>(ms) & 0xffffffffffffULL;
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ts >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | (counter >> 8));  // version 7
  b[7] = static_cast<uint8_t>(counter & 0xff);
  b[8] = static_cast<uint8_t>(0x80 | (rnd[0] & 0x3f));  // variant 10
  for (int i = 9; i < 16; ++i) b[i] = rnd[i - 8];
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xf];
  }
  return out;
}

std::string NewUuidV7(const Clock& clock) {
  static UuidV7Generator* const generator = new UuidV7Generator();  // never destroyed
  return generator->Next(clock);
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (HexValue(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

Result<std::chrono::system_clock::time_point> UuidV7Time(std::string_view s) {
  if (!IsUuid(s) || s[14] != '7' || (HexValue(s[19]) & 0xc) != 0x8) {
    return InvalidArgumentError("not a UUIDv7: \"" + std::string(s.substr(0, 64)) + "\"");
  }
  int64_t ms = 0;
  for (size_t i = 0; i < 13; ++i) {
    if (i == 8) continue;  // the '-'
    ms = (ms << 4) | HexValue(s[i]);
  }
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

}  // namespace callvault

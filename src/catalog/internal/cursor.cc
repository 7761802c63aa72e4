#include "catalog/internal/cursor.h"

#include <charconv>
#include <cstdio>
#include <vector>

namespace callvault::catalog::internal {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

uint32_t Fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::string Payload(SortKey sort, bool descending, const CursorKey& key) {
  return std::string("1|") + (sort == SortKey::kStarted ? "s" : "d") + "|" +
         (descending ? "d" : "a") + "|" + std::to_string(key.key) + "|" + key.call_id;
}

std::string Hex32(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v =
        (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

bool Base64UrlDecode(std::string_view text, std::string* out) {
  out->clear();
  if (text.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = DecodeChar(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Unused trailing bits must be zero (one encoding per value).
  return (acc & ((1u << bits) - 1)) == 0;
}

std::string EncodeCursor(SortKey sort, bool descending, const CursorKey& key) {
  const std::string payload = Payload(sort, descending, key);
  return Base64UrlEncode(Hex32(Fnv1a(payload)) + "|" + payload);
}

Result<CursorKey> DecodeCursor(std::string_view cursor, SortKey sort, bool descending) {
  const Status bad = InvalidArgumentError("list calls: malformed page cursor");
  std::string text;
  if (cursor.size() > 512 || !Base64UrlDecode(cursor, &text)) return bad;
  // "<checksum>|1|<sort>|<direction>|<key>|<call id>"; the call id may hold '|'.
  std::vector<std::string_view> fields;
  std::string_view rest = text;
  for (int i = 0; i < 5; ++i) {
    const size_t bar = rest.find('|');
    if (bar == std::string_view::npos) return bad;
    fields.push_back(rest.substr(0, bar));
    rest.remove_prefix(bar + 1);
  }
  fields.push_back(rest);
  const std::string_view payload = std::string_view(text).substr(fields[0].size() + 1);
  if (fields[0] != Hex32(Fnv1a(payload)) || fields[1] != "1") return bad;
  if (fields[2] != (sort == SortKey::kStarted ? "s" : "d") ||
      fields[3] != (descending ? "d" : "a")) {
    return InvalidArgumentError("list calls: the page cursor was made for another sort order");
  }
  CursorKey key;
  auto [ptr, ec] = std::from_chars(fields[4].data(), fields[4].data() + fields[4].size(), key.key);
  if (ec != std::errc() || ptr != fields[4].data() + fields[4].size()) return bad;
  if (fields[5].empty()) return bad;
  key.call_id = std::string(fields[5]);
  return key;
}

}  // namespace callvault::catalog::internal

#include "http/range.h"

#include <optional>
#include <vector>

#include "base/strings.h"

namespace callvault::http {
namespace {

constexpr uint64_t kMaxNumber = 999'999'999'999'999'999ULL;  // 18 digits: no overflow

struct Spec {
  std::optional<uint64_t> first, last;  // first empty = suffix range (last = suffix length)
};

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 1*DIGIT, at most 18 digits.
std::optional<uint64_t> Number(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v <= kMaxNumber ? std::optional<uint64_t>(v) : std::nullopt;
}

// Parses `bytes=<range-set>`; nullopt when malformed or not the bytes unit.
std::optional<std::vector<Spec>> ParseSpecs(std::string_view header) {
  size_t eq = header.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  if (!EqualsIgnoreCase(TrimOws(header.substr(0, eq)), "bytes")) return std::nullopt;
  std::string_view set = header.substr(eq + 1);
  std::vector<Spec> specs;
  while (true) {
    size_t comma = set.find(',');
    std::string_view item = TrimOws(set.substr(0, comma));
    if (!item.empty()) {  // empty list elements are allowed (RFC 9110 §5.6.1)
      if (static_cast<int>(specs.size()) >= kMaxRangeSpecs) return std::nullopt;
      size_t dash = item.find('-');
      if (dash == std::string_view::npos) return std::nullopt;
      std::string_view a = item.substr(0, dash), b = item.substr(dash + 1);
      Spec spec;
      if (a.empty()) {
        spec.last = Number(b);  // suffix-length
        if (!spec.last) return std::nullopt;
      } else {
        spec.first = Number(a);
        if (!spec.first) return std::nullopt;
        if (!b.empty()) {
          spec.last = Number(b);
          if (!spec.last || *spec.last < *spec.first) return std::nullopt;
        }
      }
      specs.push_back(spec);
    }
    if (comma == std::string_view::npos) break;
    set.remove_prefix(comma + 1);
  }
  if (specs.empty()) return std::nullopt;
  return specs;
}

}  // namespace

RangeDecision ResolveRange(std::string_view header, uint64_t size) {
  RangeDecision full{RangeDecision::Kind::kFull, 0, size};
  if (header.empty()) return full;
  std::optional<std::vector<Spec>> specs = ParseSpecs(header);
  if (!specs) return full;
  for (const Spec& spec : *specs) {
    if (!spec.first) {  // suffix: the last n bytes
      uint64_t n = *spec.last;
      if (n == 0 || size == 0) continue;
      if (n > size) n = size;
      return {RangeDecision::Kind::kPartial, size - n, n};
    }
    if (*spec.first >= size) continue;
    uint64_t last = spec.last ? *spec.last : size - 1;
    if (last >= size) last = size - 1;
    return {RangeDecision::Kind::kPartial, *spec.first, last - *spec.first + 1};
  }
  return {RangeDecision::Kind::kNotSatisfiable, 0, 0};
}

std::string ContentRange(const RangeDecision& d, uint64_t size) {
  if (d.kind == RangeDecision::Kind::kNotSatisfiable) return "bytes */" + std::to_string(size);
  return "bytes " + std::to_string(d.start) + "-" + std::to_string(d.start + d.length - 1) + "/" +
         std::to_string(size);
}

}  // namespace callvault::http

// Range: what part of a recording to send for a request's Range header (RFC 9110 §14).
// cpp-httplib 0.11.4 must not do this itself (a start past the end gives a bogus 206, and 100
// overlapping ranges send the file 100 times — DESIGN.md §Dependencies), so HttpServer clears
// httplib's parsed ranges and the audio handler serves what ResolveRange() decides:
//
//   - no header, another unit, or a malformed header (bad syntax, first > last, numbers that
//     overflow, more than kMaxRangeSpecs specs) → the whole file, 200 (§14.2: ignore it);
//   - `bytes=a-b` → a..min(b, size-1); `bytes=a-` → a..end; `bytes=-n` → the last n bytes
//     (all of them when n >= size);
//   - several ranges → only the first satisfiable one, as a single-part 206 (§15.3.7 lets a
//     server send fewer parts than asked; a multipart/byteranges body is never built, so no
//     request can make the server send more than the file once);
//   - no satisfiable range (every start >= size, or a suffix of 0, or an empty file) → 416 with
//     `Content-Range: bytes */size`.
//
// Who calls it: the audio handler (api_audio.cc), the fuzzer. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace callvault::http {

// Headers with more specs than this are treated as malformed (ignored).
inline constexpr int kMaxRangeSpecs = 100;

struct RangeDecision {
  enum class Kind { kFull, kPartial, kNotSatisfiable };
  Kind kind = Kind::kFull;
  // The bytes to send: [start, start + length). For kFull: 0, size. For kNotSatisfiable: 0, 0.
  uint64_t start = 0;
  uint64_t length = 0;
};

// `header` is the Range header's value ("" when absent); `size` the representation's length.
RangeDecision ResolveRange(std::string_view header, uint64_t size);

// "bytes 0-99/1000" for kPartial, "bytes */1000" for kNotSatisfiable.
std::string ContentRange(const RangeDecision& decision, uint64_t size);

}  // namespace callvault::http

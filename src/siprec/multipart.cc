// The multipart body splitter of siprec/multipart.h (RFC 2046 §5.1, RFC 5621).
//
// One forward pass over the body, line by line (memchr for '\n'): a line is a delimiter when it
// starts with "--" + boundary and continues with nothing, "--", or transport padding up to the
// line end. The boundary is at most 70 bytes, so the whole scan is linear in the body size.
#include "siprec/multipart.h"

#include <charconv>
#include <cstring>

#include "base/strings.h"

namespace callvault::siprec {

namespace {

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (IsWsp(s.front()) || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (IsWsp(s.back()) || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// RFC 2045 §5.1 token characters (any CHAR except SPACE, CTLs and tspecials).
bool IsMimeTokenChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  return std::strchr("()<>@,;:\\\"/[]?=", c) == nullptr;
}

bool IsMimeToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsMimeTokenChar(c)) return false;
  }
  return true;
}

// RFC 2046 §5.1.1 bchars := bcharsnospace / " "
bool IsBoundaryChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("'()+_,-./:=? ", c) != nullptr && c != '\0';
}

// "type/subtype" of a Content-Type value, trimmed, without parameters.
std::string_view MediaType(std::string_view value) {
  return Trim(value.substr(0, value.find(';')));
}

std::string Printable(std::string_view s) {
  std::string out(s.substr(0, 60));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out;
}

Status Error(std::string message) { return InvalidArgumentError("multipart: " + message); }

// A line of the body: [begin, content_end) without its line break, next = start of next line.
struct Line {
  size_t begin = 0;
  size_t content_end = 0;
  size_t next = 0;
};

Line LineAt(std::string_view data, size_t from) {
  Line l;
  l.begin = from;
  const void* nl = std::memchr(data.data() + from, '\n', data.size() - from);
  if (nl == nullptr) {
    l.content_end = l.next = data.size();
    return l;
  }
  const size_t i = static_cast<const char*>(nl) - data.data();
  l.content_end = (i > from && data[i - 1] == '\r') ? i - 1 : i;
  l.next = i + 1;
  return l;
}

bool IsBlank(std::string_view data, const Line& l) {
  for (size_t i = l.begin; i < l.content_end; ++i) {
    if (!IsWsp(data[i])) return false;
  }
  return true;
}

enum class Delimiter { kNone, kOpen, kClose };

// Classifies one line (its content, without the line break). `allow_indent` tolerates
// whitespace before the first delimiter (seen in logs of BroadWorks traffic).
Delimiter Classify(std::string_view line, std::string_view boundary, bool allow_indent,
                   bool* indented) {
  size_t i = 0;
  if (allow_indent) {
    while (i < line.size() && IsWsp(line[i])) ++i;
  }
  if (line.size() - i < 2 + boundary.size() || line[i] != '-' || line[i + 1] != '-' ||
      line.compare(i + 2, boundary.size(), boundary) != 0) {
    return Delimiter::kNone;
  }
  *indented = i > 0;
  std::string_view rest = line.substr(i + 2 + boundary.size());
  Delimiter kind = Delimiter::kOpen;
  if (rest.size() >= 2 && rest[0] == '-' && rest[1] == '-') {
    kind = Delimiter::kClose;
    rest.remove_prefix(2);
  }
  for (char c : rest) {  // transport-padding (RFC 2046 §5.1.1) only
    if (!IsWsp(c)) return Delimiter::kNone;
  }
  return kind;
}

// The end of a part's octets: the line break before the delimiter line at `delim_begin`
// belongs to the delimiter (RFC 2046 §5.1.1).
size_t PartEnd(std::string_view data, size_t part_begin, size_t delim_begin) {
  size_t end = delim_begin;
  if (end > part_begin && data[end - 1] == '\n') {
    --end;
    if (end > part_begin && data[end - 1] == '\r') --end;
  }
  return end;
}

// Parses the header block of one part occupying data[begin, end).
Status ParsePart(std::string_view data, size_t begin, size_t end, size_t index, BodyPart* part,
                 std::vector<std::string>* warnings) {
  const std::string_view region = data.substr(begin, end - begin);
  const std::string label = "part " + std::to_string(index + 1);
  size_t pos = 0;
  bool terminated = false;
  while (pos < region.size()) {
    Line line = LineAt(region, pos);
    if (IsBlank(region, line)) {  // the empty line ending the headers
      if (line.content_end != line.begin) {
        warnings->push_back(label + ": whitespace-only line ended the part headers");
      }
      pos = line.next;
      terminated = true;
      break;
    }
    // Folded continuation lines (RFC 5322 §2.2.3) extend the value.
    while (line.next < region.size() && IsWsp(region[line.next])) {
      const Line more = LineAt(region, line.next);
      if (IsBlank(region, more)) break;
      line.content_end = more.content_end;
      line.next = more.next;
    }
    std::string_view text = region.substr(line.begin, line.content_end - line.begin);
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
      return Error(label + ": header line without ':': '" + Printable(text) + "'");
    }
    std::string_view name = Trim(text.substr(0, colon));
    if (!IsMimeToken(name)) return Error(label + ": bad header name '" + Printable(name) + "'");
    if (part->headers.size() >= kMaxPartHeaders) {
      return Error(label + ": more than " + std::to_string(kMaxPartHeaders) + " headers");
    }
    part->headers.push_back(
        sip::Header{sip::LookupHeader(name), name, Trim(text.substr(colon + 1))});
    pos = line.next;
  }
  if (!terminated && !part->headers.empty()) {
    warnings->push_back(label + ": no empty line after the part headers (empty body assumed)");
  }
  part->body = terminated ? region.substr(pos) : std::string_view();

  std::optional<std::string_view> content_length;
  for (const sip::Header& h : part->headers) {
    if (h.id == sip::HeaderId::kContentType && part->content_type.empty()) {
      part->content_type = h.value;
    } else if (h.id == sip::HeaderId::kContentDisposition && part->content_disposition.empty()) {
      part->content_disposition = h.value;
    } else if (h.id == sip::HeaderId::kContentLength && !content_length) {
      content_length = h.value;
    }
  }
  if (!part->content_type.empty()) {
    std::string_view type = MediaType(part->content_type);
    const size_t slash = type.find('/');
    if (slash == std::string_view::npos || !IsMimeToken(type.substr(0, slash)) ||
        !IsMimeToken(type.substr(slash + 1))) {
      warnings->push_back(label + ": malformed Content-Type '" + Printable(part->content_type) +
                          "'");
    }
  }
  if (content_length) {
    size_t declared = 0;
    const char* first = content_length->data();
    const char* last = first + content_length->size();
    auto [p, ec] = std::from_chars(first, last, declared);
    if (ec != std::errc() || p != last) {
      warnings->push_back(label + ": unparsable Content-Length '" + Printable(*content_length) +
                          "' ignored");
    } else if (declared != part->body.size()) {
      warnings->push_back(label + ": Content-Length " + std::to_string(declared) +
                          " disagrees with the boundary (" + std::to_string(part->body.size()) +
                          " bytes); trusting the boundary");
    }
  }
  return Status::Ok();
}

Result<std::string_view> Boundary(std::string_view content_type) {
  std::string_view type = MediaType(content_type);
  const size_t slash = type.find('/');
  if (slash == std::string_view::npos || !EqualsIgnoreCase(type.substr(0, slash), "multipart")) {
    return Error("Content-Type '" + Printable(type) + "' is not multipart/*");
  }
  std::optional<std::string_view> boundary = ContentTypeParam(content_type, "boundary");
  if (!boundary) return Error("no boundary parameter in '" + Printable(content_type) + "'");
  if (boundary->empty()) return Error("empty boundary");
  if (boundary->size() > kMaxBoundaryLength) {
    return Error("boundary longer than " + std::to_string(kMaxBoundaryLength) + " characters");
  }
  for (char c : *boundary) {
    if (!IsBoundaryChar(c))
      return Error("invalid character in boundary '" + Printable(*boundary) + "'");
  }
  if (boundary->back() == ' ') return Error("boundary ends with a space");
  return *boundary;
}

}  // namespace

std::optional<std::string_view> ContentTypeParam(std::string_view value, std::string_view name) {
  size_t pos = value.find(';');
  while (pos != std::string_view::npos && pos < value.size()) {
    ++pos;  // past ';'
    while (pos < value.size() && IsWsp(value[pos])) ++pos;
    const size_t eq = value.find_first_of("=;", pos);
    if (eq == std::string_view::npos || value[eq] == ';') {  // a parameter without value
      pos = eq;
      continue;
    }
    std::string_view key = Trim(value.substr(pos, eq - pos));
    size_t v = eq + 1;
    while (v < value.size() && IsWsp(value[v])) ++v;
    std::string_view found;
    size_t after = v;
    if (v < value.size() && value[v] == '"') {
      size_t q = v + 1;
      while (q < value.size() && value[q] != '"') q += (value[q] == '\\') ? 2 : 1;
      if (q >= value.size()) return std::nullopt;  // unterminated quoted-string
      found = value.substr(v + 1, q - v - 1);
      after = q + 1;
    } else {
      after = value.find(';', v);
      found = Trim(value.substr(v, after == std::string_view::npos ? after : after - v));
    }
    if (EqualsIgnoreCase(key, name)) return found;
    pos = value.find(';', after);
  }
  return std::nullopt;
}

bool MediaTypeIs(std::string_view value, std::string_view type_subtype) {
  return EqualsIgnoreCase(MediaType(value), type_subtype);
}

bool IsRecordingMetadata(std::string_view content_type) {
  return MediaTypeIs(content_type, "application/rs-metadata+xml") ||
         MediaTypeIs(content_type, "application/rs-metadata");
}

Result<MultipartResult> SplitMultipart(std::string_view content_type_header_value,
                                       std::string_view body) {
  CV_ASSIGN_OR_RETURN(std::string_view boundary, Boundary(content_type_header_value));
  if (body.empty()) return Error("empty body");

  MultipartResult result;
  bool closed = false;
  bool seen_delimiter = false;
  size_t part_begin = 0;  // valid once seen_delimiter
  size_t pos = 0;
  while (pos < body.size()) {
    const Line line = LineAt(body, pos);
    bool indented = false;
    const Delimiter d = Classify(body.substr(line.begin, line.content_end - line.begin), boundary,
                                 !seen_delimiter, &indented);
    if (d != Delimiter::kNone) {
      if (!seen_delimiter) {
        if (indented) result.warnings.push_back("whitespace before the first boundary delimiter");
        if (d == Delimiter::kClose) return Error("closing delimiter before any body part");
        seen_delimiter = true;
      } else {
        if (result.parts.size() >= kMaxBodyParts) {
          return Error("more than " + std::to_string(kMaxBodyParts) + " body parts");
        }
        BodyPart part;
        CV_RETURN_IF_ERROR(ParsePart(body, part_begin, PartEnd(body, part_begin, line.begin),
                                     result.parts.size(), &part, &result.warnings));
        result.parts.push_back(std::move(part));
      }
      part_begin = line.next;
      if (d == Delimiter::kClose) {
        closed = true;
        if (!Trim(body.substr(line.next)).empty()) {
          result.warnings.push_back("text after the closing boundary delimiter ignored");
        }
        break;
      }
    }
    pos = line.next;
  }
  if (!seen_delimiter) {
    return Error("boundary '" + Printable(boundary) + "' not found in the body");
  }
  if (!closed) {
    if (result.parts.size() >= kMaxBodyParts) {
      return Error("more than " + std::to_string(kMaxBodyParts) + " body parts");
    }
    result.warnings.push_back("missing closing boundary delimiter");
    BodyPart part;
    CV_RETURN_IF_ERROR(
        ParsePart(body, part_begin, body.size(), result.parts.size(), &part, &result.warnings));
    result.parts.push_back(std::move(part));
  }
  return result;
}

}  // namespace callvault::siprec

// The SIP message parser and stream framer of sip/message.h (RFC 3261 §7, §18.3, §25).
//
// One pass over the header section records (name, value) views; the headers the stack needs
// are then interpreted. The first error is kept and parsing goes on where it safely can, so a
// request with a bad CSeq still yields the Via/From/To/Call-ID needed to answer 400.
#include "sip/message.h"

#include <charconv>
#include <cstring>

#include "sip/internal/text.h"

namespace callvault::sip {

using internal::IsLws;
using internal::TrimLws;

namespace {

// RFC 3261 §25.1 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
struct TokenTable {
  bool ok[256] = {};
  TokenTable() {
    for (int c = '0'; c <= '9'; ++c) ok[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) ok[c] = ok[c - 32] = true;
    for (char c : std::string_view("-.!%*_+`'~")) ok[static_cast<unsigned char>(c)] = true;
  }
};
const TokenTable kToken;

inline bool IsTokenChar(char c) { return kToken.ok[static_cast<unsigned char>(c)]; }

// True when `value` holds a NUL that is not the escaped octet of a quoted-pair inside a
// quoted-string: RFC 3261 §25.1 lets a quoted-pair escape any octet but CR and LF, NUL included
// ("\<NUL>" in a display name is valid), and allows NUL nowhere else.
bool HasBareNul(std::string_view value) {
  if (memchr(value.data(), '\0', value.size()) == nullptr) return false;
  bool quoted = false;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\0') return true;
    if (!quoted) {
      quoted = c == '"';
    } else if (c == '"') {
      quoted = false;
    } else if (c == '\\' && i + 1 < value.size() && value[i + 1] != '\r' && value[i + 1] != '\n') {
      ++i;  // the escaped octet
    }
  }
  return false;
}

// The first empty element of an address-list header value (Via, Contact, From, To), outside
// quoted-strings and <>: an empty list item (",,", a leading or trailing ',') or an empty
// parameter (";;", a trailing ';'). nullptr when there is none. RFC 3261 §25.1 has no empty
// elements in these grammars (via-parm *(COMMA via-parm), *(SEMI via-params)); RFC 4475
// §3.1.2.1 calls such a request invalid.
const char* EmptyElement(std::string_view value) {
  char opened_by = 0;    // the separator that began the current element; 0 = start of value
  bool content = false;  // anything but whitespace since then
  bool quoted = false;
  int angle = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      ++angle;
    } else if (c == '>') {
      if (angle > 0) --angle;
    } else if (angle == 0 && (c == ',' || c == ';')) {
      if (!content) return opened_by == ';' || c == ';' ? "empty parameter" : "empty list item";
      opened_by = c;
      content = false;
      continue;
    } else if (IsLws(c)) {
      continue;
    }
    content = true;
  }
  if (!content && opened_by == ';') return "empty parameter";
  if (!content && opened_by == ',') return "empty list item";
  return nullptr;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

std::optional<uint64_t> ParseDecimal(std::string_view s, uint64_t max) {
  s = TrimLws(s);
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

std::string Quote(std::string_view s) {
  std::string out(s.substr(0, 40));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out;
}

// The end of the line starting at `from`: `*content_end` excludes the CR/LF, the return value
// is the start of the next line (data.size() when the data ends without a line break).
size_t LineEnd(std::string_view data, size_t from, size_t* content_end) {
  const char* base = data.data();
  const void* nl = memchr(base + from, '\n', data.size() - from);
  if (nl == nullptr) {
    *content_end = data.size();
    return data.size();
  }
  size_t i = static_cast<const char*>(nl) - base;
  *content_end = (i > from && data[i - 1] == '\r') ? i - 1 : i;
  return i + 1;
}

class Parser {
 public:
  Parser(std::string_view data, const ParseOptions& o, Message* m)
      : data_(data), options_(o), m_(*m) {}

  Status Run() {
    size_t pos = 0;
    while (pos < data_.size() && (data_[pos] == '\r' || data_[pos] == '\n')) ++pos;  // §7.5
    if (pos == data_.size()) return InvalidArgumentError("empty message");
    size_t line_end;
    size_t next = LineEnd(data_, pos, &line_end);
    if (!StartLine(data_.substr(pos, line_end - pos))) return error_;
    size_t body_start = 0;
    const bool framed = Headers(next, &body_start);
    Interpret();  // also after a header error: what parsed may be enough to answer 400/513
    if (!framed) return error_;
    Body(body_start);
    return error_;
  }

 private:
  void Fail(Status s) {
    if (error_.ok()) error_ = std::move(s);
  }

  bool StartLine(std::string_view line) {
    for (char c : line) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        error_ = InvalidArgumentError("start line holds control characters");
        return false;
      }
    }
    if (line.size() >= 8 && line.substr(0, 4) == "SIP/") {  // Status-Line
      if (line.substr(0, 8) != "SIP/2.0 ") {
        error_ = UnimplementedError("SIP version not supported: " + Quote(line.substr(0, 8)));
        return false;
      }
      std::string_view rest = line.substr(8);
      auto code = ParseDecimal(rest.substr(0, 3), 699);
      if (rest.size() < 3 || !code || *code < 100 || (rest.size() > 3 && rest[3] != ' ')) {
        error_ = InvalidArgumentError("bad status code in status line");
        return false;
      }
      m_.is_request = false;
      m_.status_code = static_cast<int>(*code);
      m_.reason = rest.size() > 4 ? rest.substr(4) : std::string_view();
      return true;
    }
    // Request-Line: Method SP Request-URI SP SIP-Version (runs of spaces tolerated).
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || !IsToken(line.substr(0, sp1))) {
      error_ = InvalidArgumentError("start line is not a SIP request or status line: '" +
                                    Quote(line) + "'");
      return false;
    }
    size_t u = line.find_first_not_of(' ', sp1);
    size_t sp2 = u == std::string_view::npos ? u : line.find(' ', u);
    if (sp2 == std::string_view::npos) {
      error_ = InvalidArgumentError("request line has no SIP version");
      return false;
    }
    size_t v = line.find_first_not_of(' ', sp2);
    std::string_view version = v == std::string_view::npos ? "" : TrimLws(line.substr(v));
    m_.is_request = true;
    m_.method_text = line.substr(0, sp1);
    m_.method = ParseMethod(m_.method_text);
    m_.request_uri = line.substr(u, sp2 - u);
    if (version.size() < 4 || !EqualsIgnoreCase(version.substr(0, 4), "SIP/")) {
      error_ = InvalidArgumentError("request line has no SIP version");
      return false;
    }
    if (version != "SIP/2.0") {
      Fail(UnimplementedError("SIP version not supported: " + Quote(version)));
    }
    if (m_.request_uri.find(':') == std::string_view::npos) {
      Fail(InvalidArgumentError("Request-URI has no scheme"));
    }
    return true;
  }

  bool Headers(size_t pos, size_t* body_start) {
    m_.headers.reserve(24);
    while (true) {
      if (pos >= data_.size()) {
        error_ = InvalidArgumentError("headers not terminated by an empty line");
        return false;
      }
      if (pos > options_.max_header_bytes) {
        error_ = ResourceExhaustedError("headers exceed " +
                                        std::to_string(options_.max_header_bytes) + " bytes");
        return false;
      }
      size_t line_end;
      size_t next = LineEnd(data_, pos, &line_end);
      if (line_end == pos) {  // the empty line
        *body_start = next;
        return true;
      }
      // Folded continuation lines (RFC 3261 §7.3.1) extend the value.
      while (next < data_.size() && (data_[next] == ' ' || data_[next] == '\t')) {
        next = LineEnd(data_, next, &line_end);
      }
      if (m_.headers.size() >= options_.max_headers) {
        error_ = ResourceExhaustedError("more than " + std::to_string(options_.max_headers) +
                                        " headers");
        return false;
      }
      HeaderLine(data_.substr(pos, line_end - pos));
      pos = next;
    }
  }

  void HeaderLine(std::string_view line) {
    if (line[0] == ' ' || line[0] == '\t') {
      Fail(InvalidArgumentError("continuation line before the first header"));
      return;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      Fail(InvalidArgumentError("header line without ':': '" + Quote(line) + "'"));
      return;
    }
    std::string_view name = TrimLws(line.substr(0, colon));
    if (!IsToken(name)) {
      Fail(InvalidArgumentError("bad header name: '" + Quote(name) + "'"));
      return;
    }
    if (HasBareNul(line.substr(colon + 1))) {
      Fail(InvalidArgumentError("NUL byte in header " + std::string(name)));
      return;
    }
    m_.headers.push_back(Header{LookupHeader(name), name, TrimLws(line.substr(colon + 1))});
  }

  // Sets *slot to the value of the only header with `id`; more than one is an error.
  void Single(const Header& h, std::string_view* slot, bool* seen) {
    if (*seen) {
      Fail(InvalidArgumentError("more than one " + std::string(HeaderName(h.id)) + " header"));
      return;
    }
    *seen = true;
    *slot = h.value;
  }

  // Via, Contact, From and To carry addresses: an empty item or parameter there is an error
  // (other list headers stay liberal: ForEachListItem skips empty items).
  void NoEmptyElement(const Header& h) {
    if (const char* what = EmptyElement(h.value)) {
      Fail(InvalidArgumentError("bad " + std::string(HeaderName(h.id)) + ": " + what));
    }
  }

  void Interpret() {
    std::string_view call_id, cseq, from, to, via, max_forwards, content_length;
    bool has_call_id = false, has_max_forwards = false, has_content_length = false;
    for (const Header& h : m_.headers) {
      switch (h.id) {
        case HeaderId::kCallId:
          Single(h, &call_id, &has_call_id);
          break;
        case HeaderId::kCSeq:
          Single(h, &cseq, &m_.has_cseq);
          break;
        case HeaderId::kFrom:
          Single(h, &from, &m_.has_from);
          NoEmptyElement(h);
          break;
        case HeaderId::kTo:
          Single(h, &to, &m_.has_to);
          NoEmptyElement(h);
          break;
        case HeaderId::kMaxForwards:
          Single(h, &max_forwards, &has_max_forwards);
          break;
        case HeaderId::kVia:
          if (!m_.has_via) via = h.value;
          m_.has_via = true;
          NoEmptyElement(h);
          break;
        case HeaderId::kContact:
          NoEmptyElement(h);
          break;
        case HeaderId::kContentLength:
          if (has_content_length && TrimLws(h.value) != content_length) {
            Fail(InvalidArgumentError("Content-Length headers disagree"));
          }
          has_content_length = true;
          content_length = TrimLws(h.value);
          break;
        default:
          break;
      }
    }
    if (!m_.has_via) Fail(InvalidArgumentError("missing Via header"));
    if (!m_.has_from) Fail(InvalidArgumentError("missing From header"));
    if (!m_.has_to) Fail(InvalidArgumentError("missing To header"));
    if (!has_call_id) Fail(InvalidArgumentError("missing Call-ID header"));
    if (!m_.has_cseq) Fail(InvalidArgumentError("missing CSeq header"));

    if (has_call_id) {
      if (call_id.empty() || call_id.find_first_of(" \t\r\n") != std::string_view::npos) {
        Fail(InvalidArgumentError("bad Call-ID"));
      } else {
        m_.call_id = call_id;
      }
    }
    if (m_.has_cseq) CSeqValue(cseq);
    if (m_.has_via) {
      std::string_view top;
      ForEachListItem(via, [&](std::string_view item) {
        if (top.empty()) top = item;
      });
      auto v = ParseVia(top);
      if (v.ok()) {
        m_.top_via = *v;
      } else {
        Fail(v.status().Annotate("bad Via"));
      }
    }
    if (m_.has_from) {
      auto f = ParseNameAddr(from);
      if (f.ok())
        m_.from = *f;
      else
        Fail(f.status().Annotate("bad From"));
    }
    if (m_.has_to) {
      auto t = ParseNameAddr(to);
      if (t.ok())
        m_.to = *t;
      else
        Fail(t.status().Annotate("bad To"));
    }
    if (m_.is_request && !m_.cseq.method_text.empty() && m_.cseq.method_text != m_.method_text) {
      if ((m_.method == Method::kAck || m_.method == Method::kBye) &&
          m_.cseq.method == Method::kInvite) {
        m_.cseq_method_mismatch = true;
      } else {
        Fail(InvalidArgumentError("CSeq method " + Quote(m_.cseq.method_text) +
                                  " does not match request method " + Quote(m_.method_text)));
      }
    }
    if (has_max_forwards) {
      auto mf = ParseDecimal(max_forwards, 255);
      if (mf)
        m_.max_forwards = static_cast<int>(*mf);
      else
        Fail(InvalidArgumentError("bad Max-Forwards"));
    }
    if (has_content_length) {
      auto cl = ParseDecimal(content_length, uint64_t{1} << 32);
      if (cl)
        m_.content_length = static_cast<size_t>(*cl);
      else
        Fail(InvalidArgumentError("bad Content-Length"));
    }
  }

  void CSeqValue(std::string_view value) {
    value = TrimLws(value);
    size_t sp = value.find_first_of(" \t");
    auto n = ParseDecimal(value.substr(0, sp), (uint64_t{1} << 31) - 1);  // §8.1.1.5
    std::string_view method =
        sp == std::string_view::npos ? std::string_view() : TrimLws(value.substr(sp));
    if (!n || !IsToken(method)) {
      Fail(InvalidArgumentError("bad CSeq: '" + Quote(value) + "'"));
      return;
    }
    m_.cseq.number = static_cast<uint32_t>(*n);
    m_.cseq.method_text = method;
    m_.cseq.method = ParseMethod(method);
  }

  void Body(size_t body_start) {
    std::string_view rest = data_.substr(std::min(body_start, data_.size()));
    if (!m_.content_length) {
      if (!options_.datagram) Fail(InvalidArgumentError("no Content-Length on a stream transport"));
      m_.body = rest;
      return;
    }
    const size_t cl = *m_.content_length;
    if (cl > options_.max_body_bytes) {
      Fail(ResourceExhaustedError("Content-Length " + std::to_string(cl) + " exceeds " +
                                  std::to_string(options_.max_body_bytes) + " bytes"));
      return;
    }
    if (cl > rest.size()) {
      Fail(InvalidArgumentError("Content-Length " + std::to_string(cl) + " larger than the body (" +
                                std::to_string(rest.size()) + " bytes)"));
      m_.body = rest;
      return;
    }
    if (cl < rest.size() && !options_.datagram) {
      Fail(InvalidArgumentError("Content-Length smaller than the framed message"));
    }
    m_.body = rest.substr(0, cl);  // datagram: bytes past Content-Length are ignored (§18.3)
  }

  std::string_view data_;
  const ParseOptions& options_;
  Message& m_;
  Status error_;
};

}  // namespace

ParseResult Parse(std::string_view data, const ParseOptions& options) {
  ParseResult r;
  Parser p(data, options, &r.message);
  r.status = p.Run();
  return r;
}

Frame FrameStream(std::string_view s, const ParseOptions& options) {
  Frame f;
  if (s.empty()) return f;
  // RFC 5626 §3.5.1 keep-alives: CRLFCRLF ping, CRLF pong (and stray line breaks).
  if (s[0] == '\r' || s[0] == '\n') {
    if (s.size() >= 4 && s.substr(0, 4) == "\r\n\r\n") return Frame{Frame::kKeepAlive, 4, {}};
    if (s[0] == '\n') return Frame{Frame::kKeepAlive, 1, {}};
    if (s.size() < 2) return f;
    if (s[1] != '\n') return Frame{Frame::kKeepAlive, 1, {}};
    if (s.size() == 3 && s[2] == '\r') return f;  // maybe a ping still arriving
    return Frame{Frame::kKeepAlive, 2, {}};
  }
  // The end of the header section: the first empty line (CRLF or bare LF).
  size_t body_start = 0;
  size_t pos = 0;
  const size_t limit = std::min(s.size(), options.max_header_bytes + 4);
  while (pos < limit) {
    const void* nl = memchr(s.data() + pos, '\n', limit - pos);
    if (nl == nullptr) break;
    size_t i = static_cast<const char*>(nl) - s.data();
    if (i + 1 < s.size() && s[i + 1] == '\n') {
      body_start = i + 2;
      break;
    }
    if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
      body_start = i + 3;
      break;
    }
    pos = i + 1;
  }
  if (body_start == 0) {
    if (s.size() > options.max_header_bytes) {
      f.kind = Frame::kError;
      f.error = ResourceExhaustedError("headers exceed " +
                                       std::to_string(options.max_header_bytes) + " bytes");
    }
    return f;  // kNeedMore
  }
  // Content-Length (or its compact form "l") decides where the message ends.
  std::optional<uint64_t> cl;
  for (size_t p = 0; p < body_start;) {
    size_t line_end;
    size_t next = LineEnd(s, p, &line_end);
    std::string_view line = s.substr(p, line_end - p);
    p = next;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // Parse() reports it
    std::string_view name = TrimLws(line.substr(0, colon));
    if (!EqualsIgnoreCase(name, "Content-Length") && !EqualsIgnoreCase(name, "l")) continue;
    auto v = ParseDecimal(line.substr(colon + 1), uint64_t{1} << 32);
    if (!v || (cl && *cl != *v)) {
      f.kind = Frame::kError;
      f.error = InvalidArgumentError("bad Content-Length on a stream transport");
      return f;
    }
    cl = v;
  }
  if (!cl) {
    f.kind = Frame::kError;
    f.error = InvalidArgumentError("no Content-Length on a stream transport (RFC 3261 §18.3)");
    return f;
  }
  if (*cl > options.max_body_bytes) {
    f.kind = Frame::kError;
    f.error = ResourceExhaustedError("Content-Length " + std::to_string(*cl) + " exceeds " +
                                     std::to_string(options.max_body_bytes) + " bytes");
    return f;
  }
  if (s.size() - body_start < *cl) return f;  // kNeedMore
  f.kind = Frame::kMessage;
  f.length = body_start + static_cast<size_t>(*cl);
  return f;
}

std::optional<std::string_view> Message::Find(HeaderId id) const {
  for (const Header& h : headers) {
    if (h.id == id) return h.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> Message::Find(std::string_view name) const {
  const HeaderId id = LookupHeader(name);
  if (id != HeaderId::kOther) return Find(id);
  for (const Header& h : headers) {
    if (h.id == HeaderId::kOther && EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

bool Message::HasOptionTag(HeaderId id, std::string_view tag) const {
  bool found = false;
  ForEachValue(id, [&](std::string_view item) {
    if (EqualsIgnoreCase(item, tag)) found = true;
  });
  return found;
}

std::vector<Via> Message::AllVias() const {
  std::vector<Via> out;
  ForEachValue(HeaderId::kVia, [&](std::string_view item) {
    auto v = ParseVia(item);
    if (v.ok()) out.push_back(*v);
  });
  return out;
}

bool Message::CanBeAnswered() const {
  return is_request && method != Method::kAck && has_via && has_from && has_to &&
         !call_id.empty() && has_cseq;
}

}  // namespace callvault::sip

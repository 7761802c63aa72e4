// URI, name-addr and Via parsing of sip/message.h (RFC 3261 §19.1, §20.10, §20.42, §25.1).
// Everything returns views into the input text.
#include <charconv>

#include "sip/internal/text.h"
#include "sip/message.h"

namespace callvault::sip {

using internal::IsLws;
using internal::TrimLws;

namespace internal {

std::optional<std::string_view> FindParam(std::string_view params, std::string_view name) {
  // params = *( ";" pname [ "=" pvalue ] ), pvalue may be a quoted-string.
  size_t i = 0;
  while (i < params.size()) {
    if (params[i] != ';') {
      ++i;
      continue;
    }
    size_t start = ++i;
    bool quoted = false;
    while (i < params.size() && (quoted || params[i] != ';')) {
      if (params[i] == '"') quoted = !quoted;
      if (quoted && params[i] == '\\') ++i;
      ++i;
    }
    std::string_view p = params.substr(start, std::min(i, params.size()) - start);
    size_t eq = p.find('=');
    std::string_view pname = TrimLws(p.substr(0, eq));
    if (EqualsIgnoreCase(pname, name)) {
      return eq == std::string_view::npos ? std::string_view() : TrimLws(p.substr(eq + 1));
    }
  }
  return std::nullopt;
}

std::optional<uint16_t> ParsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

// host [":" port] at the front of `s`; stops at ';', '?', '>', whitespace, ',' or end.
// Returns the number of bytes consumed, 0 on error.
size_t ParseHostPort(std::string_view s, std::string_view* host, uint16_t* port) {
  size_t i = 0;
  if (!s.empty() && s[0] == '[') {  // IPv6 reference
    size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) return 0;
    *host = s.substr(1, close - 1);
    i = close + 1;
  } else {
    while (i < s.size() && s[i] != ':' && s[i] != ';' && s[i] != '?' && s[i] != '>' &&
           !IsLws(s[i]) && s[i] != ',') {
      ++i;
    }
    *host = s.substr(0, i);
    if (host->empty()) return 0;
  }
  *port = 0;
  if (i < s.size() && s[i] == ':') {
    size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    auto p = ParsePort(s.substr(start, i - start));
    if (!p || *p == 0) return 0;
    *port = *p;
  }
  return i;
}

}  // namespace internal

using internal::FindParam;

std::optional<std::string_view> Uri::Param(std::string_view name) const {
  return FindParam(params, name);
}
std::optional<std::string_view> NameAddr::Param(std::string_view name) const {
  return FindParam(params, name);
}
std::optional<std::string_view> Via::Param(std::string_view name) const {
  return FindParam(params, name);
}

Result<Uri> ParseUri(std::string_view text) {
  text = TrimLws(text);
  Uri u;
  u.text = text;
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgumentError("URI without scheme: '" + std::string(text.substr(0, 64)) + "'");
  }
  u.scheme = text.substr(0, colon);
  for (char c : u.scheme) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) {
      return InvalidArgumentError("URI scheme has invalid characters");
    }
  }
  std::string_view rest = text.substr(colon + 1);
  if (!EqualsIgnoreCase(u.scheme, "sip") && !EqualsIgnoreCase(u.scheme, "sips")) {
    u.params = {};  // tel:, urn:, http: ... kept whole
    if (rest.empty()) return InvalidArgumentError("URI has nothing after the scheme");
    u.user = rest.substr(0, rest.find_first_of(";?"));
    if (size_t semi = rest.find(';'); semi != std::string_view::npos) {
      u.params = rest.substr(semi, rest.find('?', semi) - semi);
    }
    return u;
  }
  // userinfo: everything before the last '@' that comes before any '?' (user may hold ';').
  size_t q = rest.find('?');
  size_t at = rest.substr(0, q).rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    u.user = userinfo.substr(0, userinfo.find(':'));  // password dropped
    rest.remove_prefix(at + 1);
  }
  size_t n = internal::ParseHostPort(rest, &u.host, &u.port);
  if (n == 0) return InvalidArgumentError("SIP URI has a bad host or port");
  rest.remove_prefix(n);
  if (!rest.empty() && rest[0] == ';') {
    size_t end = rest.find('?');
    u.params = rest.substr(0, end);
    rest.remove_prefix(u.params.size());
  }
  if (!rest.empty() && rest[0] == '?') {
    u.headers = rest.substr(1);
    rest = {};
  }
  if (!rest.empty()) return InvalidArgumentError("SIP URI has trailing characters");
  return u;
}

Result<NameAddr> ParseNameAddr(std::string_view text) {
  text = TrimLws(text);
  NameAddr na;
  std::string_view uri_text;
  size_t i = 0;
  if (!text.empty() && text[0] == '"') {  // quoted display name
    i = 1;
    while (i < text.size() && text[i] != '"') {
      if (text[i] == '\\') ++i;
      ++i;
    }
    if (i >= text.size()) return InvalidArgumentError("unterminated quoted display name");
    na.display_name = text.substr(1, i - 1);
    ++i;
  }
  size_t lt = text.find('<', i);
  if (lt != std::string_view::npos) {
    if (na.display_name.empty()) na.display_name = TrimLws(text.substr(i, lt - i));
    size_t gt = text.find('>', lt);
    if (gt == std::string_view::npos) return InvalidArgumentError("'<' without '>'");
    uri_text = text.substr(lt + 1, gt - lt - 1);
    na.params = TrimLws(text.substr(gt + 1));
  } else {
    if (i != 0) return InvalidArgumentError("display name without <URI>");
    // addr-spec: parameters after the URI belong to the header (RFC 3261 §20.10), so the URI
    // ends at the first ';' after its host part.
    size_t at = text.find('@');
    size_t semi = text.find(';', at == std::string_view::npos ? 0 : at);
    uri_text = text.substr(0, semi);
    if (semi != std::string_view::npos) na.params = text.substr(semi);
  }
  if (!na.params.empty() && na.params[0] != ';') {
    return InvalidArgumentError("unexpected text after the URI");
  }
  CV_ASSIGN_OR_RETURN(na.uri, ParseUri(uri_text));
  if (auto tag = FindParam(na.params, "tag")) na.tag = *tag;
  return na;
}

Result<Via> ParseVia(std::string_view text) {
  text = TrimLws(text);
  Via v;
  v.text = text;
  // sent-protocol = protocol-name LWS? "/" LWS? protocol-version LWS? "/" LWS? transport
  size_t slash1 = text.find('/');
  if (slash1 == std::string_view::npos) return InvalidArgumentError("Via without SIP/2.0/");
  size_t slash2 = text.find('/', slash1 + 1);
  if (slash2 == std::string_view::npos) return InvalidArgumentError("Via without transport");
  std::string_view name = TrimLws(text.substr(0, slash1));
  std::string_view version = TrimLws(text.substr(slash1 + 1, slash2 - slash1 - 1));
  if (!EqualsIgnoreCase(name, "SIP") || version != "2.0") {
    return InvalidArgumentError("Via protocol is not SIP/2.0");
  }
  v.protocol = text.substr(0, slash2);
  size_t t = slash2 + 1;
  while (t < text.size() && IsLws(text[t])) ++t;
  size_t te = t;
  while (te < text.size() && !IsLws(text[te])) ++te;
  v.transport = text.substr(t, te - t);
  if (v.transport.empty()) return InvalidArgumentError("Via without transport");
  size_t h = te;
  while (h < text.size() && IsLws(text[h])) ++h;
  if (h == te) return InvalidArgumentError("Via without space before sent-by");
  std::string_view rest = text.substr(h);
  size_t n = internal::ParseHostPort(rest, &v.host, &v.port);
  if (n == 0) return InvalidArgumentError("Via has a bad sent-by host or port");
  rest = TrimLws(rest.substr(n));
  if (!rest.empty() && rest[0] != ';') return InvalidArgumentError("Via has text after sent-by");
  v.params = rest;
  // One pass over the parameters for the three the stack needs.
  for (size_t i = 0; i < rest.size();) {
    size_t end = rest.find(';', i + 1);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view p = rest.substr(i + 1, end - i - 1);
    i = end;
    size_t eq = p.find('=');
    std::string_view name = TrimLws(p.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? "" : TrimLws(p.substr(eq + 1));
    if (EqualsIgnoreCase(name, "branch")) {
      if (value.empty()) return InvalidArgumentError("Via branch is empty");
      if (v.branch.empty()) v.branch = value;
    } else if (EqualsIgnoreCase(name, "received")) {
      v.received = value;
    } else if (EqualsIgnoreCase(name, "rport")) {
      v.has_rport = true;
      if (!value.empty()) {
        auto port = internal::ParsePort(value);
        if (!port) return InvalidArgumentError("Via rport is not a port");
        v.rport_value = *port;
      }
    }
  }
  return v;
}

}  // namespace callvault::sip

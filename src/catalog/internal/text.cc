#include "catalog/internal/text.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "base/strings.h"

namespace callvault::catalog::internal {
namespace {

bool IsTokenByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

std::string CleanText(std::string_view text) {
  bool plain = true;
  for (unsigned char c : text) {
    if (c == 0 || c >= 0x80) {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(text);
  // nlohmann's writer is the one that also writes the change bodies: replacing as it does keeps
  // the text a peer reads from a body equal to the text hashed here.
  const std::string quoted = nlohmann::json(std::string(text))
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out = nlohmann::json::parse(quoted).get<std::string>();
  std::string clean;
  clean.reserve(out.size());
  for (char c : out) {
    if (c == '\0') {
      clean += "\xEF\xBF\xBD";
    } else {
      clean += c;
    }
  }
  return clean;
}

NameAddr ParseNameAddr(std::string_view s) {
  NameAddr out;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  const size_t lt = s.find('<');
  if (lt != std::string_view::npos) {
    const size_t gt = s.find('>', lt);
    out.uri = std::string(s.substr(lt + 1, gt == std::string_view::npos ? gt : gt - lt - 1));
    std::string_view name = s.substr(0, lt);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
      std::string unquoted;
      for (size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '\\' && i + 1 < name.size()) ++i;
        unquoted.push_back(name[i]);
      }
      out.display_name = std::move(unquoted);
    } else {
      out.display_name = std::string(name);
    }
    return out;
  }
  // addr-spec: header parameters (;tag=…) follow the URI; URI parameters cannot be told apart
  // without <>, so everything from the first ';' is dropped (RFC 3261 §20.10).
  const size_t semi = s.find(';');
  std::string_view uri = s.substr(0, semi);
  while (!uri.empty() && (uri.back() == ' ' || uri.back() == '\t')) uri.remove_suffix(1);
  out.uri = std::string(uri);
  return out;
}

std::string AorUser(std::string_view aor) {
  while (!aor.empty() && aor.front() == ' ') aor.remove_prefix(1);
  if (StartsWithIgnoreCase(aor, "tel:")) {
    std::string_view rest = aor.substr(4);
    return std::string(rest.substr(0, rest.find_first_of(";?")));
  }
  std::string_view rest;
  if (StartsWithIgnoreCase(aor, "sip:")) {
    rest = aor.substr(4);
  } else if (StartsWithIgnoreCase(aor, "sips:")) {
    rest = aor.substr(5);
  } else {
    return "";
  }
  const size_t at = rest.find('@');
  if (at == std::string_view::npos) return "";
  std::string_view user = rest.substr(0, at);
  user = user.substr(0, user.find_first_of(";:"));  // user parameters, password
  return std::string(user);
}

std::vector<std::string> SearchTokens(std::string_view text) {
  std::vector<std::string> tokens;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsTokenByte(static_cast<unsigned char>(text[i]))) ++i;
    const size_t start = i;
    while (i < text.size() && IsTokenByte(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start) continue;
    std::string token;
    for (size_t k = start; k < i && token.size() < 64; ++k) token.push_back(AsciiLower(text[k]));
    // Do not end inside a UTF-8 sequence when cut.
    while (!token.empty() && (static_cast<unsigned char>(token.back()) & 0xC0) == 0xC0) {
      token.pop_back();
    }
    if (!token.empty()) tokens.push_back(std::move(token));
  }
  return tokens;
}

std::string XmlText(std::string_view xml) {
  std::string out;
  size_t i = 0;
  while (i < xml.size()) {
    if (xml[i] != '<') {
      out.push_back(xml[i++]);
      continue;
    }
    // Inside markup: keep only quoted attribute values.
    out.push_back(' ');
    ++i;
    while (i < xml.size() && xml[i] != '>') {
      if (xml[i] == '"' || xml[i] == '\'') {
        const char q = xml[i++];
        while (i < xml.size() && xml[i] != q) out.push_back(xml[i++]);
        out.push_back(' ');
      }
      if (i < xml.size()) ++i;
    }
    if (i < xml.size()) ++i;
    out.push_back(' ');
  }
  return out;
}

std::string BuildSearchText(const std::vector<std::string_view>& parts) {
  std::unordered_set<std::string> seen;
  std::string out;
  for (std::string_view part : parts) {
    const bool xml = part.find('<') != std::string_view::npos;
    const std::string text = xml ? XmlText(part) : std::string(part);
    for (std::string& token : SearchTokens(text)) {
      if (out.size() + token.size() + 1 > kMaxSearchTextBytes) return out;
      if (!seen.insert(token).second) continue;
      if (!out.empty()) out.push_back(' ');
      out += token;
    }
  }
  return out;
}

std::string ContainsPattern(std::string_view s) {
  std::string out = "%";
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

std::string ContainsText(const std::vector<std::string_view>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string_view v = values[i];
    // A value inside another one (a number inside its AOR, a repeated name) adds nothing.
    bool redundant = v.empty();
    for (size_t k = 0; k < values.size() && !redundant; ++k) {
      if (k == i || values[k].find(v) == std::string_view::npos) continue;
      redundant = values[k].size() > v.size() || k < i;  // of equal values, the first stays
    }
    if (redundant) continue;
    if (!out.empty()) out.push_back('\n');
    out.append(v);
  }
  return out;
}

bool TrigramIndexable(std::string_view needle) {
  size_t chars = 0;
  for (size_t i = 0; i < needle.size();) {
    const auto c = static_cast<unsigned char>(needle[i]);
    size_t len = 0;
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
    } else {
      return false;
    }
    if (i + len > needle.size()) return false;
    if (len > 1) {  // no overlong forms, surrogates or code points above U+10FFFF
      const auto c1 = static_cast<unsigned char>(needle[i + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
          (c == 0xF4 && c1 > 0x8F)) {
        return false;
      }
    }
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(needle[i + k]) & 0xC0) != 0x80) return false;
    }
    if (c == 0) return false;  // NUL would end the string in SQLite's tokenizer input
    i += len;
    ++chars;
  }
  return chars >= 3;
}

std::string Fts5Phrase(std::string_view needle) {
  std::string out = "\"";
  for (char c : needle) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace callvault::catalog::internal

// Private to siprec/metadata*: small helpers over pugixml nodes. pugixml is not namespace-aware,
// so element and attribute names are compared on their local part (after the last ':'),
// case-insensitively.
//
// Called by: internal/metadata_tree.cc. Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cctype>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"

namespace callvault::siprec::internal {

inline std::string_view Local(const char* name) {
  std::string_view n(name);
  const size_t colon = n.rfind(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

inline bool Is(const pugi::xml_node& n, std::string_view local) {
  return n.type() == pugi::node_element && EqualsIgnoreCase(Local(n.name()), local);
}

inline std::string_view Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct StringWriter : pugi::xml_writer {
  std::string* out;
  explicit StringWriter(std::string* o) : out(o) {}
  void write(const void* data, size_t size) override {
    out->append(static_cast<const char*>(data), size);
  }
};

inline std::string Raw(const pugi::xml_node& n) {
  std::string out;
  StringWriter w(&out);
  n.print(w, "", pugi::format_raw | pugi::format_no_declaration);
  return out;
}

inline void AddUnique(std::vector<std::string>* v, std::string s) {
  if (s.empty() || std::find(v->begin(), v->end(), s) != v->end()) return;
  v->push_back(std::move(s));
}

}  // namespace callvault::siprec::internal

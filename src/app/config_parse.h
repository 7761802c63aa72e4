// Shared pieces of the config parser (config.cc and the parsers of table arrays such as
// config_tenants.cc): where a value came from, and the list of problems reported as
// "file:line:col: key: what".
//
// Called by: app/config*.cc only. Thread-safety: values; Errors is used by one parse.
#pragma once

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace callvault::app::config_parse {

// Where a value came from: a position in the file, or a command-line flag.
struct Origin {
  uint32_t line = 0, column = 0;  // 0 = not from the file
  std::string flag;               // "--log-level" when given on the command line
};

class Errors {
 public:
  explicit Errors(std::string_view source) : source_(source) {}

  // "file:line:col", the flag, or the file name alone.
  std::string Where(const Origin& at) const {
    if (!at.flag.empty()) return at.flag;
    if (at.line > 0) return fmt::format("{}:{}:{}", source_, at.line, at.column);
    return source_;
  }
  void Add(const Origin& at, std::string_view key, std::string_view what) {
    const std::string where = Where(at);
    lines_.push_back(key.empty() ? fmt::format("{}: {}", where, what)
                                 : fmt::format("{}: {}: {}", where, key, what));
  }
  bool empty() const { return lines_.empty(); }
  std::string Join() const {
    std::string out;
    for (const auto& l : lines_) out += (out.empty() ? "" : "\n") + l;
    return out;
  }

 private:
  std::string source_;
  std::vector<std::string> lines_;
};

inline Origin OriginOf(const toml::source_region& r) {
  return Origin{r.begin.line, r.begin.column, {}};
}

inline std::string_view TomlTypeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

}  // namespace callvault::app::config_parse

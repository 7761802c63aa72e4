// The table of every configuration key (config_schema.cc): the single source of its type,
// default, allowed range, description and reloadability. config.cc parses and validates with
// it; RenderConfigReference() turns it into docs/configuration.md.
//
// Called by: app/config*.cc and tests. Thread-safety: the table is immutable after first use.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"

namespace callvault::app {

enum class ConfigType : uint8_t { kBool, kInt, kString, kStringList };

std::string_view ConfigTypeName(
    ConfigType type);  // "boolean", "integer", "string", "array of strings"

struct ConfigSection {
  std::string_view name;         // "sip"
  std::string_view description;  // Markdown paragraph for docs/configuration.md
};

struct ConfigKey {
  std::string_view section;  // "sip"
  std::string_view name;     // "min_se_s"
  ConfigType type;
  ConfigValue default_value;  // what an absent key means
  std::string_view description;
  bool reloadable = false;  // applied by SIGHUP without a restart
  // kInt: inclusive range, and a note shown in the range error ("RFC 4028").
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  std::string_view range_note;
  // kString: the allowed values (empty = any).
  std::vector<std::string_view> choices;
  // Shown instead of the default value in the docs when the default is computed.
  std::string_view default_doc;
  // Further check of a value of the right type and range: "" or what is wrong ("must be ...").
  std::string (*check)(const ConfigValue&) = nullptr;
  // Stores / reads the value in the typed Config.
  void (*set)(Config&, const ConfigValue&) = nullptr;
  ConfigValue (*get)(const Config&) = nullptr;

  std::string FullName() const;  // "sip.min_se_s"
};

const std::vector<ConfigSection>& ConfigSections();
const std::vector<ConfigKey>& ConfigKeys();  // grouped by section, in ConfigSections() order
const ConfigKey* FindConfigKey(std::string_view full_name);

// Typed access to a ConfigValue for the table's check/set/get functions.
// REQUIRES: the value has the key's declared type (the parser checked it).
inline int64_t Int(const ConfigValue& v) { return std::get<int64_t>(v); }
inline const std::string& Str(const ConfigValue& v) { return std::get<std::string>(v); }
inline bool Bool(const ConfigValue& v) { return std::get<bool>(v); }
template <typename Rep, typename Period>
ConfigValue Count(std::chrono::duration<Rep, Period> d) {
  return static_cast<int64_t>(d.count());
}

// A value in TOML syntax: true, 30, "text", ["a", "b"].
std::string ConfigValueToToml(const ConfigValue& v);

}  // namespace callvault::app

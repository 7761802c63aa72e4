// docs/configuration.md, rendered from the key table (`callvault config-reference`).
#include <fmt/format.h>

#include "app/config.h"
#include "app/config_schema.h"

namespace callvault::app {
namespace {

std::string DefaultCell(const ConfigKey& key) {
  if (!key.default_doc.empty()) return std::string(key.default_doc);
  if (const auto* s = std::get_if<std::string>(&key.default_value); s && s->empty()) {
    return "empty";
  }
  return fmt::format("`{}`", ConfigValueToToml(key.default_value));
}

std::string TypeCell(const ConfigKey& key) {
  std::string out(ConfigTypeName(key.type));
  if (key.type == ConfigType::kInt) {
    bool has_min = key.min != std::numeric_limits<int64_t>::min();
    bool has_max = key.max != std::numeric_limits<int64_t>::max();
    if (has_min && has_max)
      out += fmt::format(", {}–{}", key.min, key.max);
    else if (has_min)
      out += fmt::format(", ≥ {}", key.min);
    else if (has_max)
      out += fmt::format(", ≤ {}", key.max);
  }
  if (!key.choices.empty()) {
    std::vector<std::string> quoted;
    for (auto c : key.choices) quoted.push_back(fmt::format("`{}`", c));
    out += ": " + fmt::format("{}", fmt::join(quoted, ", "));
  }
  return out;
}

}  // namespace

std::string RenderConfigReference() {
  std::string out;
  auto add = [&out](std::string_view s) {
    out += s;
    out += '\n';
  };
  add("# Configuration reference");
  add("");
  add("<!-- Generated from src/app/config_schema.cc by `callvault config-reference`; do not edit.");
  add("     After changing a key: build/<preset>/src/app/callvault config-reference > "
      "docs/configuration.md -->");
  add("");
  add("callvault reads one TOML file: `callvault serve -c FILE`. Every key is optional and has "
      "the default shown below; `callvault serve` without `-c` runs on these defaults (an "
      "all-in-one node with its data in `./data`). `callvault check-config FILE` runs exactly "
      "the validation `serve` runs and prints `OK` or every problem as "
      "`FILE:LINE:COLUMN: KEY: what is wrong`. Unknown sections and keys are errors, so a "
      "typo never goes unnoticed.");
  add("");
  add("`serve --data-dir DIR` and `--log-level LEVEL` override `node.data_dir` and `log.level`.");
  add("");
  add("**Reload**: on SIGHUP the server re-reads the file and validates it. If it is invalid, "
      "the error is logged and the running configuration stays. If it is valid, the keys "
      "marked *reloadable* take effect at once; changes to the other keys are logged as "
      "needing a restart and are not applied.");
  for (const auto& section : ConfigSections()) {
    add("");
    add(fmt::format("## [{}]", section.name));
    add("");
    add(section.description);
    add("");
    add("| Key | Type | Default | Reloadable | Description |");
    add("|-----|------|---------|------------|-------------|");
    for (const auto& key : ConfigKeys()) {
      if (key.section != section.name) continue;
      add(fmt::format("| `{}` | {} | {} | {} | {} |", key.name, TypeCell(key), DefaultCell(key),
                      key.reloadable ? "yes" : "no", key.description));
    }
  }
  add("");
  add("## Example: every key at its default");
  add("");
  add("```toml");
  for (const auto& section : ConfigSections()) {
    if (&section != &ConfigSections().front()) add("");
    add(fmt::format("[{}]", section.name));
    for (const auto& key : ConfigKeys()) {
      if (key.section != section.name) continue;
      std::string line = fmt::format("{} = {}", key.name, ConfigValueToToml(key.default_value));
      if (!key.default_doc.empty()) {
        std::string doc(key.default_doc);
        std::erase(doc, '`');
        line += fmt::format("  # empty = {}", doc);
      }
      add(line);
    }
  }
  add("```");
  return out;
}

}  // namespace callvault::app

// What is rendered from the key table and the command line besides docs/configuration.md:
// the packaged /etc/callvault/callvault.toml (every key at its default, commented) and the man
// pages callvault.toml(5) and callvault(8). `callvault config-reference --format toml|man5|man8`
// prints them; scripts/package.sh puts them into the .deb, so the file, the pages and the doc
// cannot drift apart.
//
// Called by: app/main.cc, app/manual_test.cc. Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace callvault::app {

// The config file with every key commented out at its default, each under its description.
// `active` (full key name → TOML value) are written uncommented instead: the package's own
// settings (node.data_dir = "/var/lib/callvault").
std::string RenderConfigSample(const std::map<std::string, std::string>& active);

// callvault.toml(5) in roff: every section and key with type, default and description.
std::string RenderConfigManPage(std::string_view version);

// callvault(8) in roff: every subcommand of `app` with its options, signals, files, exit codes.
std::string RenderCommandManPage(const CLI::App& app, std::string_view version);

// Text for roff: escapes backslashes, `-`, leading '.' and '\'', turns `code` into bold, **x**
// into bold and the typographic characters of the descriptions into roff glyphs.
std::string RoffText(std::string_view markdown);

}  // namespace callvault::app

#include "app/manual.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <sstream>

#include "app/config_schema.h"

namespace callvault::app {
namespace {

TEST(RoffTextTest, EscapesAndFormats) {
  EXPECT_EQ(RoffText("`a-b` c\\d"), "\\fBa\\-b\\fR c\\ed");
  EXPECT_EQ(RoffText(".x"), "\\&.x");
  EXPECT_EQ(RoffText("1–2 ≥ 3 … **b**"), "1\\(en2 \\(>= 3 ... \\fBb\\fR");
  EXPECT_EQ(RoffText("`open"), "\\fBopen\\fR");
}

TEST(ConfigSampleTest, EveryKeyIsThereCommentedOutAtItsDefault) {
  std::string sample = RenderConfigSample({});
  for (const auto& key : ConfigKeys()) {
    std::string line = "\n#" + std::string(key.name) + " = " + ConfigValueToToml(key.default_value);
    EXPECT_NE(sample.find(line), std::string::npos) << key.FullName();
  }
  for (const auto& section : ConfigSections()) {
    EXPECT_NE(sample.find("\n[" + std::string(section.name) + "]\n"), std::string::npos);
  }
  // No uncommented key: the file means exactly the embedded defaults.
  std::istringstream in(sample);
  for (std::string line; std::getline(in, line);) {
    EXPECT_TRUE(line.empty() || line[0] == '#' || line[0] == '[') << line;
  }
}

TEST(ConfigSampleTest, ActiveKeysAreUncommented) {
  std::string sample = RenderConfigSample({{"node.data_dir", "\"/var/lib/callvault\""}});
  EXPECT_NE(sample.find("\ndata_dir = \"/var/lib/callvault\"\n"), std::string::npos);
  EXPECT_EQ(sample.find("\n#data_dir = "), std::string::npos);
}

TEST(ConfigManPageTest, NamesEveryKey) {
  std::string page = RenderConfigManPage("1.2.3");
  EXPECT_EQ(page.find(".TH callvault.toml 5 \"\" \"callvault 1.2.3\""), page.find(".TH"));
  for (const auto& key : ConfigKeys()) {
    EXPECT_NE(page.find(".B " + RoffText(key.FullName()) + "\n"), std::string::npos)
        << key.FullName();
  }
}

TEST(CommandManPageTest, NamesEverySubcommandAndOption) {
  CLI::App app("callvault: test");
  CLI::App* serve = app.add_subcommand("serve", "Run it");
  std::string config;
  serve->add_option("-c,--config", config, "TOML config file");
  CLI::App* user = app.add_subcommand("user", "Users");
  CLI::App* add = user->add_subcommand("add", "Add a user");
  std::string name;
  add->add_option("--name", name, "User name");
  std::string page = RenderCommandManPage(app, "1.2.3");
  EXPECT_NE(page.find(".B callvault serve\n"), std::string::npos) << page;
  EXPECT_NE(page.find(".B \\-c,\\-\\-config\n"), std::string::npos) << page;
  EXPECT_NE(page.find(".B callvault user add\n"), std::string::npos) << page;
  EXPECT_NE(page.find(".B \\-\\-name\n"), std::string::npos) << page;
}

}  // namespace
}  // namespace callvault::app

// The route table (routes.h), which HttpServer registers, and openapi.json describe the same
// operations: every route is documented and every documented operation is served.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "http/routes.h"

namespace callvault::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ::tolower);
  return out;
}

nlohmann::json Document() {
  nlohmann::json doc = nlohmann::json::parse(OpenApiDocument(), nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << "openapi.json is not valid JSON";
  return doc;
}

TEST(OpenApiTest, IsAnOpenApi3Document) {
  nlohmann::json doc = Document();
  EXPECT_TRUE(doc.value("openapi", "").starts_with("3.0"));
  EXPECT_TRUE(doc.contains("info"));
  EXPECT_TRUE(doc["paths"].is_object());
  EXPECT_TRUE(doc["components"]["schemas"].contains("Error"));
}

TEST(OpenApiTest, EveryRouteIsDocumented) {
  nlohmann::json doc = Document();
  for (const Route& r : Routes()) {
    std::string path(r.path);
    ASSERT_TRUE(doc["paths"].contains(path)) << path << " is not in openapi.json";
    EXPECT_TRUE(doc["paths"][path].contains(Lower(r.method)))
        << r.method << " " << path << " is not in openapi.json";
  }
}

TEST(OpenApiTest, EveryDocumentedOperationIsServed) {
  static const std::set<std::string> kMethods = {"get",   "put",  "post",    "delete",
                                                 "patch", "head", "options", "trace"};
  nlohmann::json doc = Document();
  int operations = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (!kMethods.count(method)) continue;
      ++operations;
      bool served = std::any_of(Routes().begin(), Routes().end(), [&](const Route& r) {
        return r.path == path && Lower(r.method) == method;
      });
      EXPECT_TRUE(served) << method << " " << path << " is documented but not served";
      EXPECT_TRUE(op.contains("responses")) << method << " " << path;
    }
  }
  EXPECT_EQ(operations, static_cast<int>(Routes().size()));
}

TEST(OpenApiTest, PathParametersAreDeclared) {
  nlohmann::json doc = Document();
  std::regex param(R"(\{([a-z_]+)\})");
  for (const Route& r : Routes()) {
    std::string path(r.path);
    const nlohmann::json& op = doc["paths"][path][Lower(r.method)];
    for (auto it = std::sregex_iterator(path.begin(), path.end(), param);
         it != std::sregex_iterator(); ++it) {
      std::string name = (*it)[1];
      bool declared = false;
      for (const nlohmann::json& p : op.value("parameters", nlohmann::json::array())) {
        declared = declared || (p.value("in", "") == "path" && p.value("name", "") == name);
      }
      EXPECT_TRUE(declared) << r.method << " " << path << " does not declare {" << name << "}";
    }
  }
}

TEST(OpenApiTest, RouteRegexMatchesItsTemplateOnly) {
  EXPECT_TRUE(std::regex_match("/api/v1/calls/abc-1/tags/vip",
                               std::regex(RouteRegex("/api/v1/calls/{id}/tags/{tag}"))));
  EXPECT_FALSE(std::regex_match("/api/v1/calls/a/b/tags/vip",
                                std::regex(RouteRegex("/api/v1/calls/{id}/tags/{tag}"))));
  EXPECT_FALSE(
      std::regex_match("/api/v1/openapiXjson", std::regex(RouteRegex("/api/v1/openapi.json"))));
  // No two routes share method and path.
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const Route& r : Routes()) EXPECT_TRUE(seen.insert({r.method, r.path}).second) << r.path;
}

}  // namespace
}  // namespace callvault::http

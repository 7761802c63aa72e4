#include "recording/name_template.h"

#include <cctype>
#include <cstdio>

#include "base/time_format.h"

namespace callvault::recording {
namespace {

constexpr size_t kMaxValueBytes = 64;

bool SafeChar(unsigned char c) {
  return std::isalnum(c) || c == '+' || c == '.' || c == '_' || c == '@' || c == '-';
}

Result<std::string> Expand(std::string_view tpl, const NameFields* fields) {
  std::string out;
  char date[48] = "1970/01/01", tod[48] = "000000";
  if (fields != nullptr) {
    const UtcTime t = ToUtcTime(fields->start_ns / 1000000000);
    std::snprintf(date, sizeof date, "%04lld/%02d/%02d", static_cast<long long>(t.year), t.month,
                  t.day);
    std::snprintf(tod, sizeof tod, "%02d%02d%02d", t.hour, t.minute, t.second);
  }
  for (size_t i = 0; i < tpl.size(); ++i) {
    const char c = tpl[i];
    if (c != '{') {
      if (c == '}' || static_cast<unsigned char>(c) < 0x20 || c == '\\')
        return InvalidArgumentError("name template: unexpected character at " + std::to_string(i));
      out.push_back(c);
      continue;
    }
    const size_t close = tpl.find('}', i);
    if (close == std::string_view::npos)
      return InvalidArgumentError("name template: unclosed '{' at " + std::to_string(i));
    const std::string_view key = tpl.substr(i + 1, close - i - 1);
    i = close;
    if (key == "date") {
      out += date;
      continue;
    }
    if (key == "time") {
      out += tod;
      continue;
    }
    const std::string* value = nullptr;
    if (fields != nullptr) {
      if (key == "call_id")
        value = &fields->call_id;
      else if (key == "caller")
        value = &fields->caller;
      else if (key == "callee")
        value = &fields->callee;
      else if (key == "tenant")
        value = &fields->tenant;
      else if (key == "node")
        value = &fields->node;
    }
    if (key != "call_id" && key != "caller" && key != "callee" && key != "tenant" && key != "node")
      return InvalidArgumentError("name template: unknown placeholder {" + std::string(key) + "}");
    out += SanitizeNameValue(value ? *value : "x");
  }
  // Every component must be a real name.
  size_t start = 0;
  while (start <= out.size()) {
    size_t slash = out.find('/', start);
    if (slash == std::string::npos) slash = out.size();
    const std::string_view comp = std::string_view(out).substr(start, slash - start);
    if (comp.empty() || comp == "." || comp == "..")
      return InvalidArgumentError("name template: empty, '.' or '..' path component in \"" +
                                  std::string(tpl) + "\"");
    start = slash + 1;
  }
  return out;
}

}  // namespace

std::string SanitizeNameValue(std::string_view value) {
  std::string out;
  for (char ch : value) {
    if (out.size() >= kMaxValueBytes) break;
    const unsigned char c = static_cast<unsigned char>(ch);
    if (out.empty() && c == '.') continue;
    out.push_back(SafeChar(c) ? ch : '_');
  }
  return out.empty() ? "unknown" : out;
}

std::string UserOfUri(std::string_view uri) {
  std::string_view s = uri;
  if (const size_t lt = s.find('<'); lt != std::string_view::npos) {
    s.remove_prefix(lt + 1);
    if (const size_t gt = s.find('>'); gt != std::string_view::npos) s = s.substr(0, gt);
  }
  for (std::string_view scheme : {"sips:", "sip:", "tel:"}) {
    if (s.size() >= scheme.size()) {
      bool match = true;
      for (size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != scheme[i]) match = false;
      if (match) {
        s.remove_prefix(scheme.size());
        break;
      }
    }
  }
  const size_t end = s.find_first_of("@;>? ");
  return std::string(s.substr(0, end));
}

Status ValidateNameTemplate(std::string_view name_template) {
  if (name_template.empty()) return InvalidArgumentError("name template: empty");
  if (name_template.front() == '/') return InvalidArgumentError("name template: must be relative");
  return Expand(name_template, nullptr).status();
}

Result<std::string> ExpandNameTemplate(std::string_view name_template, const NameFields& fields) {
  if (name_template.empty() || name_template.front() == '/')
    return InvalidArgumentError("name template: empty or absolute");
  return Expand(name_template, &fields);
}

}  // namespace callvault::recording

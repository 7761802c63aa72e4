// See sipp_scenario.h. The values substituted for keywords are fixed and documentation-range
// (RFC 5737) so the produced messages are reproducible.
#include "sipp_scenario.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace callvault::corpus {

namespace {

constexpr int kPid = 4242;
constexpr int kCallNumber = 1;
constexpr int kMediaPort = 6000;
constexpr std::string_view kLocalIp = "192.0.2.20";
constexpr std::string_view kRemoteIp = "192.0.2.10";

// The request sipp "just received" when a scenario answers with [last_Via:] etc.
const std::vector<std::pair<std::string, std::string>>& SyntheticRequestHeaders() {
  static const auto* headers = new std::vector<std::pair<std::string, std::string>>{
      {"Via", "SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-synthetic-1"},
      {"From", "<sip:src@192.0.2.10>;tag=synthetic-from"},
      {"To", "<sip:srs@192.0.2.20>"},
      {"Call-ID", "synthetic-call@192.0.2.10"},
      {"CSeq", "1 INVITE"},
      {"Contact", "<sip:src@192.0.2.10:5060;transport=tcp>;+sip.src"},
      {"Record-Route", "<sip:192.0.2.30;lr>"},
  };
  return *headers;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Value of `name="x"` inside a keyword such as `field0 file="users.csv" line=2`.
std::string KeywordParam(std::string_view keyword, std::string_view name) {
  size_t p = keyword.find(name);
  if (p == std::string_view::npos) return "";
  p += name.size();
  if (p < keyword.size() && keyword[p] == '"') {
    size_t q = keyword.find('"', p + 1);
    return std::string(keyword.substr(p + 1, q == std::string_view::npos ? q : q - p - 1));
  }
  size_t q = keyword.find(' ', p);
  return std::string(keyword.substr(p, q == std::string_view::npos ? q : q - p));
}

// Field `field` of the first data line of a sipp injection file (first line = mode such as
// "SEQUENTIAL,PRINTF=99", '#' comments, ';'-separated fields; PRINTF patterns get line 0).
std::string InjectionField(const std::string& dir, const std::string& file, int field) {
  const std::string fallback = "cv-field" + std::to_string(field);
  if (dir.empty() || file.empty()) return fallback;
  std::ifstream in(dir + "/" + file);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (first) {  // the mode line
      first = false;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, ';');) fields.push_back(f);
    if (field < 0 || static_cast<size_t>(field) >= fields.size()) return fallback;
    std::string value = fields[field];
    // PRINTF=N files hold a printf pattern (%02d) filled with the line number: line 0 here.
    size_t pct = value.find('%');
    if (pct != std::string::npos) {
      size_t d = value.find('d', pct);
      if (d != std::string::npos) {
        const int width = std::atoi(value.c_str() + pct + 1);
        std::string number = std::to_string(0);
        if (static_cast<int>(number.size()) < width) number.insert(0, width - number.size(), '0');
        value.replace(pct, d - pct + 1, number);
      }
    }
    return value;
  }
  return fallback;
}

}  // namespace

std::vector<std::string> ExtractSends(std::string_view xml) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < xml.size()) {
    const size_t lt = xml.find('<', pos);
    if (lt == std::string_view::npos) break;
    std::string_view rest = xml.substr(lt);
    if (rest.starts_with("<!--")) {
      size_t end = xml.find("-->", lt + 4);
      pos = end == std::string_view::npos ? xml.size() : end + 3;
      continue;
    }
    if (rest.starts_with("<![CDATA[")) {  // CDATA of another element (e.g. <sendCmd>)
      size_t end = xml.find("]]>", lt + 9);
      pos = end == std::string_view::npos ? xml.size() : end + 3;
      continue;
    }
    const bool is_send =
        rest.starts_with("<send") && rest.size() > 5 &&
        (rest[5] == '>' || rest[5] == ' ' || rest[5] == '\t' || rest[5] == '\n' || rest[5] == '\r');
    const size_t tag_end = xml.find('>', lt);
    if (tag_end == std::string_view::npos) break;
    if (!is_send || xml[tag_end - 1] == '/') {
      pos = tag_end + 1;
      continue;
    }
    size_t content = tag_end + 1;
    const size_t cdata = xml.find("<![CDATA[", content);
    const size_t close = xml.find("</send>", content);
    if (cdata != std::string_view::npos && (close == std::string_view::npos || cdata < close)) {
      const size_t cdata_end = xml.find("]]>", cdata + 9);
      if (cdata_end == std::string_view::npos) break;
      out.emplace_back(xml.substr(cdata + 9, cdata_end - cdata - 9));
      const size_t after = xml.find("</send>", cdata_end);
      pos = after == std::string_view::npos ? xml.size() : after + 7;
    } else {
      if (close == std::string_view::npos) break;
      out.emplace_back(xml.substr(content, close - content));
      pos = close + 7;
    }
  }
  return out;
}

std::string CleanCdata(std::string_view cdata) {
  size_t b = 0;
  while (b < cdata.size() && (cdata[b] == ' ' || cdata[b] == '\t' || cdata[b] == '\n')) ++b;
  size_t e = cdata.size();
  while (e > b && (cdata[e - 1] == ' ' || cdata[e - 1] == '\t' || cdata[e - 1] == '\n')) --e;
  std::string msg(cdata.substr(b, e - b));
  if (msg.find("\n\n") == std::string::npos) msg += "\n\n";
  // sipp's four passes, in its order: spaces after '\n', spaces before '\n', then tabs.
  auto strip = [&msg](char ws, bool after) {
    std::string out;
    out.reserve(msg.size());
    for (size_t i = 0; i < msg.size(); ++i) {
      if (after) {
        out += msg[i];
        if (msg[i] == '\n') {
          while (i + 1 < msg.size() && msg[i + 1] == ws) ++i;
        }
      } else if (msg[i] == ws) {
        size_t j = i;
        while (j < msg.size() && msg[j] == ws) ++j;
        if (j < msg.size() && msg[j] == '\n') {
          i = j - 1;  // drop the run
        } else {
          out.append(msg, i, j - i);
          i = j - 1;
        }
      } else {
        out += msg[i];
      }
    }
    msg = std::move(out);
  };
  strip(' ', true);
  strip(' ', false);
  strip('\t', true);
  strip('\t', false);
  return msg;
}

Result<std::string> ExpandSippMessage(std::string_view src, const SippContext& context) {
  std::string out;
  size_t len_marker = std::string::npos;
  int len_offset = 0;
  bool suppress_crlf = false;
  for (size_t i = 0; i < src.size();) {
    const char c = src[i];
    if (c == '\\' && i + 1 < src.size() && src[i + 1] == 'x') {  // \x5B hex escapes
      std::string hex(src.substr(i + 2, 2));
      out += static_cast<char>(std::strtol(hex.c_str(), nullptr, 16));
      i += 4;
      continue;
    }
    if (c == '\n') {
      if (!suppress_crlf) out += "\r\n";
      suppress_crlf = false;
      ++i;
      continue;
    }
    suppress_crlf = false;
    if (c != '[') {
      out += c;
      ++i;
      continue;
    }
    // A keyword: up to the next ']' outside double quotes.
    size_t end = i + 1;
    while (end < src.size() && src[end] != ']') {
      if (src[end] == '"') end = src.find('"', end + 1);
      if (end == std::string_view::npos) break;
      ++end;
    }
    if (end == std::string_view::npos || end >= src.size()) {
      return InvalidArgumentError("unterminated [keyword] in scenario");
    }
    std::string keyword(src.substr(i + 1, end - i - 1));
    i = end + 1;
    int offset = 0;
    if (!keyword.starts_with("authentication") && !keyword.starts_with("tdmmap")) {
      size_t sign = keyword.find('+');
      if (sign == std::string::npos) sign = keyword.find('-');
      if (sign != std::string::npos && sign + 1 < keyword.size() &&
          std::isdigit(static_cast<unsigned char>(keyword[sign + 1]))) {
        offset = std::atoi(keyword.c_str() + sign);
        keyword.resize(sign);
      }
    }
    const std::string name = keyword.substr(0, keyword.find(' '));
    const bool at_line_start = out.empty() || out.back() == '\n';
    std::string value;
    if (name == "remote_ip" || name == "remote_host") {
      value = kRemoteIp;
    } else if (name == "remote_port") {
      value = std::to_string(5060 + offset);
    } else if (name == "local_ip" || name == "media_ip" || name == "server_ip") {
      value = kLocalIp;
    } else if (name == "local_port") {
      value = std::to_string(5062 + offset);
    } else if (name == "transport") {
      value = "TCP";
    } else if (name == "local_ip_type" || name == "media_ip_type") {
      value = "4";
    } else if (name == "media_port" || name == "auto_media_port") {
      value = std::to_string(kMediaPort + offset);
    } else if (name == "call_number") {
      value = std::to_string(kCallNumber);
    } else if (name == "call_id") {
      value =
          std::to_string(kCallNumber) + "-" + std::to_string(kPid) + "@" + std::string(kLocalIp);
    } else if (name == "cseq") {
      value = std::to_string(1 + offset);
    } else if (name == "pid") {
      value = std::to_string(kPid);
    } else if (name == "service") {
      value = "service";
    } else if (name == "branch") {
      value = "z9hG4bK-" + std::to_string(kPid) + "-" + std::to_string(kCallNumber) + "-" +
              std::to_string(context.message_index + offset);
    } else if (name == "peer_tag_param") {
      value = ";tag=peer-" + std::to_string(kPid);
    } else if (name == "routes") {
      value = "";
    } else if (name == "next_url" || name == "last_Request_URI") {
      value = "sip:srs@" + std::string(kRemoteIp) + ":5060";
    } else if (name == "last_cseq_number") {
      value = std::to_string(1 + offset);
    } else if (name == "len") {
      len_marker = out.size();
      len_offset = offset;
      value = "     ";
    } else if (name.starts_with("field")) {
      value = InjectionField(context.inject_dir, KeywordParam(keyword, "file="),
                             std::atoi(name.c_str() + 5));
    } else if (name.starts_with("$")) {
      value = "cv-var-";
      for (char ch : name.substr(1))
        value += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '-';
    } else if (name.starts_with("last_")) {
      std::string header = name.substr(5);
      if (!header.empty() && header.back() == ':') header.pop_back();
      for (const auto& [h, v] : SyntheticRequestHeaders()) {
        if (IEquals(h, header)) value += (value.empty() ? "" : "\r\n") + h + ": " + v;
      }
    } else {
      return InvalidArgumentError("unsupported sipp keyword [" + keyword + "]");
    }
    out += value;
    // sipp drops the line break after a keyword that expanded to nothing on its own line.
    if (value.empty() && at_line_start) suppress_crlf = true;
  }
  if (len_marker != std::string::npos) {
    const size_t body = out.find("\r\n\r\n");
    const long length =
        body == std::string::npos ? 0 : static_cast<long>(out.size() - body - 4) + len_offset;
    char digits[32];
    std::snprintf(digits, sizeof(digits), "%5ld", length > 0 ? length : 0L);
    out.replace(len_marker, 5, digits);
  }
  return out;
}

}  // namespace callvault::corpus

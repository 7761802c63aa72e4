// Vendor sample corpus: the SDP of every `.sip` sample in CALLVAULT_SAMPLES_DIR (read in place,
// never copied; ../shared/siprec-samples/SOURCES.md) is parsed and answered. Body-only samples
// are split with siprec::SplitMultipart using the boundary of their first delimiter line; full
// messages with the Content-Type header of the message. Skipped when the directory is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "siprec/internal/sdp_text.h"
#include "siprec/multipart.h"
#include "siprec/sdp.h"
#include "siprec/sdp_answer.h"

namespace callvault::siprec {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first line starting with "--" (after leading spaces): "--<boundary>".
std::string BoundaryOf(std::string_view body) {
  std::istringstream in{std::string(body)};
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string_view t = internal::TrimSpace(line);
    if (t.substr(0, 2) == "--") return std::string(t.substr(2));
  }
  return "";
}

// The SDP of a sample: "" when it has none (CUCM delayed offer INVITE).
std::string SdpOf(const fs::path& path, std::string* error) {
  const std::string text = ReadFile(path);
  std::string content_type;
  std::string_view body = text;
  if (path.filename().string().find("body") == std::string::npos) {
    // A full message: headers up to the first empty line.
    size_t pos = 0;
    while (pos < text.size()) {
      size_t eol = text.find('\n', pos);
      if (eol == std::string::npos) eol = text.size();
      std::string_view line(text.data() + pos, eol - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos = eol + 1;
      if (line.empty()) break;
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view name = internal::TrimSpace(line.substr(0, colon));
      if (EqualsIgnoreCase(name, "Content-Type") || EqualsIgnoreCase(name, "c")) {
        content_type = std::string(internal::TrimSpace(line.substr(colon + 1)));
      }
    }
    body = pos < text.size() ? std::string_view(text).substr(pos) : std::string_view();
    if (MediaTypeIs(content_type, "application/sdp")) return std::string(body);
    if (content_type.empty()) return "";
  } else {
    content_type = "multipart/mixed;boundary=\"" + BoundaryOf(body) + "\"";
  }
  auto parts = SplitMultipart(content_type, body);
  if (!parts.ok()) {
    *error = parts.status().ToString();
    return "";
  }
  for (const BodyPart& p : parts->parts) {
    if (MediaTypeIs(p.content_type, "application/sdp")) return std::string(p.body);
  }
  *error = "no application/sdp part";
  return "";
}

TEST(SdpSamplesTest, EverySampleParsesAndIsAnswered) {
  const fs::path dir = CALLVAULT_SAMPLES_DIR;
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no samples at " << dir;
  size_t answered = 0;
  size_t body_only = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".sip") continue;
    SCOPED_TRACE(entry.path().filename().string());
    std::string error;
    const std::string sdp = SdpOf(entry.path(), &error);
    ASSERT_TRUE(error.empty()) << error;
    if (sdp.empty()) continue;  // CUCM BiB INVITE: delayed offer
    auto offer = ParseSdp(sdp);
    ASSERT_TRUE(offer.ok()) << offer.status().ToString();
    ASSERT_FALSE(offer->media.empty());
    AnswerOptions o;
    o.local_ipv4 = "198.51.100.10";
    o.session_id = "42";
    o.session_version = 1;
    for (size_t i = 0; i < offer->media.size(); ++i) {
      o.ports.push_back(static_cast<uint16_t>(40000 + 2 * i));
    }
    o.can_decode = [](const codec::CodecSpec& c) {
      return EncodingIs(c.name, "PCMU") || EncodingIs(c.name, "PCMA") || EncodingIs(c.name, "G722");
    };
    auto answer = BuildRecorderAnswer(*offer, o);
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    // Every SRC in the corpus offers G.711 on every stream: all are accepted.
    EXPECT_EQ(answer->accepted_count(), offer->media.size()) << answer->text;
    for (size_t i = 0; i < offer->media.size(); ++i) {
      EXPECT_EQ(answer->media[i].label, offer->media[i].label);
    }
    auto again = ParseSdp(answer->text);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->media.size(), offer->media.size());
    std::cout << "  " << entry.path().filename().string() << ": " << offer->media.size()
              << " m-lines, " << offer->warnings.size() << " warnings"
              << (offer->warnings.empty() ? "" : " (" + offer->warnings[0] + ")") << "\n";
    ++answered;
    if (entry.path().filename().string().find("body") != std::string::npos) ++body_only;
  }
  EXPECT_GE(body_only, 10u);
  EXPECT_GE(answered, 15u);
}

}  // namespace
}  // namespace callvault::siprec

// Metadata parser against (1) every metadata part of the real samples, read in place from
// CALLVAULT_SAMPLES_DIR (never copied into the repository), and (2) a corpus of hostile or broken
// documents, each with the problem text it must produce.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "siprec/metadata.h"
#include "siprec/multipart.h"

namespace callvault::siprec {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string_view TrimWs(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string_view> Lines(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const size_t nl = s.find('\n');
    out.push_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         }) != hay.end();
}

// Metadata parts of a .sip sample: a full message (headers, blank line, body) or a bare body.
// The boundary is taken from the first delimiter line, which works for both.
std::vector<std::string> MetadataOfSip(std::string_view file) {
  std::string_view body = file;
  if (file.starts_with("INVITE ") || file.starts_with("ACK ")) {
    size_t end = file.find("\r\n\r\n");
    size_t skip = 4;
    if (end == std::string_view::npos) {
      end = file.find("\n\n");
      skip = 2;
    }
    if (end == std::string_view::npos) return {};
    body = file.substr(end + skip);
  }
  std::string boundary;
  for (std::string_view line : Lines(body)) {
    const std::string_view t = TrimWs(line);
    if (t.starts_with("--") && t.size() > 2) {
      boundary = std::string(t.substr(2));
      break;
    }
  }
  if (boundary.empty()) return {};
  auto split = SplitMultipart("multipart/mixed;boundary=\"" + boundary + "\"", body);
  if (!split.ok()) return {};
  std::vector<std::string> out;
  for (const BodyPart& part : split->parts) {
    if (IsRecordingMetadata(part.content_type) ||
        ContainsNoCase(part.content_disposition, "recording-session"))
      out.emplace_back(part.body);
  }
  return out;
}

// Metadata parts of a sipp scenario: after each `Content-Type: …rs-metadata…` line, skip the
// remaining part headers up to the blank line, then take the lines up to the next delimiter
// (`--…`) or the end of the CDATA (`]]>`). Leading whitespace is stripped from every line, as
// sipp does; sipp's `[fieldN file=…]` injection is replaced by a fixed value, as sipp would.
std::vector<std::string> MetadataOfSipp(std::string_view file) {
  std::vector<std::string> out;
  const auto lines = Lines(file);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view t = TrimWs(lines[i]);
    if (!ContainsNoCase(t, "content-type") || !ContainsNoCase(t, "rs-metadata")) continue;
    size_t j = i + 1;
    while (j < lines.size() && !TrimWs(lines[j]).empty()) ++j;
    std::string xml;
    for (++j; j < lines.size(); ++j) {
      const std::string_view l = TrimWs(lines[j]);
      if (l.starts_with("--") || l.starts_with("]]>")) break;
      xml += std::string(l) + "\n";
    }
    for (size_t f = xml.find("[field"); f != std::string::npos; f = xml.find("[field", f)) {
      const size_t close = xml.find(']', f);
      if (close == std::string::npos) break;
      xml.replace(f, close - f + 1, "1000");
    }
    out.push_back(std::move(xml));
    i = j;
  }
  return out;
}

std::string Summary(const RecordingMetadata& md) {
  std::string s = std::string(MetadataNamespaceName(md.namespace_kind)) + "/" +
                  std::string(DataModeName(md.data_mode)) +
                  " p=" + std::to_string(md.participants.size()) +
                  " s=" + std::to_string(md.streams.size()) + " assoc=";
  for (const auto& p : md.participants)
    s += std::string(AssociationSourceName(p.association)) + ",";
  s += md.well_formed ? " wf" : " NOT-WF";
  for (const auto& p : md.problems) s += " [" + p.substr(0, 90) + "]";
  return s;
}

TEST(MetadataCorpusTest, EverySampleInPlace) {
  const fs::path dir = CALLVAULT_SAMPLES_DIR;
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no samples at " << dir;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto ext = e.path().extension();
    if (ext == ".sip" || ext == ".xml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  size_t parsed = 0;
  for (const fs::path& path : files) {
    const std::string content = ReadFile(path);
    const auto parts =
        path.extension() == ".sip" ? MetadataOfSip(content) : MetadataOfSipp(content);
    std::string line = path.filename().string() + ": " + std::to_string(parts.size()) + " part(s)";
    RecordingMetadata state;
    for (const std::string& xml : parts) {
      const RecordingMetadata md = ParseMetadata(xml);
      ++parsed;
      line += " | " + Summary(md);
      if (xml.find("<participant ") != std::string::npos ||
          xml.find("<tns:participant ") != std::string::npos) {
        EXPECT_FALSE(md.participants.empty()) << path << "\n"
                                              << ::testing::PrintToString(md.problems);
        for (const auto& p : md.participants) EXPECT_FALSE(p.id.empty()) << path;
      } else {
        EXPECT_TRUE(md.HasProblem("no XML elements")) << path;  // the mangled BroadWorks body
      }
      state = Merge(state, md);
      const auto map = MapParticipantsToStreams(state, {"1", "2"});
      EXPECT_EQ(map.empty(), false);
      EXPECT_NO_THROW((void)ToJson(state).dump());
    }
    std::cout << "[metadata sample] " << line << "\n";
  }
  EXPECT_GE(parsed, 40u);
}

TEST(MetadataCorpusTest, GenesysSampleIsRepaired) {
  const fs::path path =
      fs::path(CALLVAULT_SAMPLES_DIR) / "oracle-sbc-genesys-4mline-invite-2024.sip";
  if (!fs::exists(path)) GTEST_SKIP() << "no " << path;
  const auto parts = MetadataOfSip(ReadFile(path));
  ASSERT_EQ(parts.size(), 1u);
  const auto md = ParseMetadata(parts[0]);
  EXPECT_FALSE(md.well_formed);
  EXPECT_TRUE(md.HasProblem("repaired: escaped a stray '<'"));
  EXPECT_EQ(md.participants.size(), 2u);
  EXPECT_EQ(md.streams.size(), 4u);
  EXPECT_EQ(md.participants[1].send.size(), 2u);
}

struct Broken {
  std::string name;
  std::string xml;
  std::string problem;    // a substring some problem line must contain
  int participants = -1;  // expected count, -1 = not checked
};

std::string Nested(size_t depth) {
  std::string x = "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">";
  for (size_t i = 0; i < depth; ++i) x += "<a>";
  for (size_t i = 0; i < depth; ++i) x += "</a>";
  return x + "</recording>";
}

std::vector<Broken> BrokenCorpus() {
  const std::string ns = "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">";
  const std::string p = R"(<participant participant_id="a"><nameID aor="sip:a@x"/></participant>)";
  std::string many = ns;
  for (int i = 0; i < 6000; ++i) many += "<x/>";
  many += "</recording>";
  std::string noid = ns;
  for (int i = 0; i < 100; ++i) noid += "<participant/>";
  noid += "</recording>";
  std::vector<Broken> c = {
      {"empty", "", "empty metadata: no XML elements", 0},
      {"whitespace", " \r\n\t ", "empty metadata", 0},
      {"text only", "completeSRCselective", "no XML elements", 0},
      {"root only", ns + "</recording>", "no XML elements inside <recording>", 0},
      {"unclosed tags", ns + R"(<participant participant_id="a"><nameID aor="sip:a@x">)",
       "not well-formed XML at line 1", 1},
      {"mismatched end tag", ns + p + "<stream stream_id=\"s\"></participant></recording>",
       "Start-end tags mismatch", 1},
      {"wrong root", "<foo xmlns=\"urn:ietf:params:xml:ns:recording:1\">" + p + "</foo>",
       "unexpected root element <foo>", 1},
      {"two roots", ns + p + "</recording><recording/>", "more than one top-level element", 1},
      {"no namespace", "<recording>" + p + "</recording>", "no namespace declared", 1},
      {"other namespace", "<recording xmlns=\"urn:example\">" + p + "</recording>",
       "unknown namespace 'urn:example'", 1},
      {"billion laughs",
       "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
       "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
       "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
       "<!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">]>" +
           ns +
           R"(<participant participant_id="a"><nameID aor="sip:a@x"><name>&lol9;</name></nameID></participant></recording>)",
       "DOCTYPE/ENTITY declaration ignored", 1},
      {"external entity",
       "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" + ns +
           R"(<participant participant_id="a"><nameID aor="&x;"/></participant></recording>)",
       "entities are not expanded", 1},
      {"100k nested elements", Nested(100000), "nested deeper than 64 levels", 0},
      {"6k sibling elements", many, "more than 5000 XML elements", 0},
      {"invalid UTF-8", ns + "<participant participant_id=\"\xC3\x28\"/></recording>",
       "invalid UTF-8 at line 1 column 84 (offset 83)", 1},
      {"NUL byte", ns + p + std::string("\0", 1) + "</recording>", "NUL byte at", 1},
      {"over 1 MB", ns + std::string(kMaxMetadataBytes, ' ') + "</recording>",
       "metadata larger than 1048576 bytes", 0},
      {"huge attribute",
       ns + "<participant participant_id=\"a\"><nameID aor=\"" + std::string(100000, 'x') +
           "\"/></participant></recording>",
       "longer than 8192 bytes: truncated", 1},
      {"duplicate participant ids", ns + p + p + "</recording>",
       "duplicate participant id 'a': later one ignored", 1},
      {"duplicate stream ids",
       ns + p + "<stream stream_id=\"s\"/><stream stream_id=\"s\"/></recording>",
       "duplicate stream id 's'", 1},
      {"assoc for unknown participant",
       ns + p +
           "<stream stream_id=\"s\"/><participantstreamassoc participant_id=\"ghost\">"
           "<send>s</send></participantstreamassoc></recording>",
       "participantstreamassoc for undeclared participant 'ghost'", 2},
      {"send on unknown stream",
       ns + "<participant participant_id=\"a\"><send>nope</send></participant></recording>",
       "participant 'a' sends on unknown stream 'nope'", 1},
      {"stream in unknown session",
       ns + "<session session_id=\"s1\"/>" + p +
           "<stream stream_id=\"x\" session_id=\"s2\"/></recording>",
       "stream 'x' references unknown session 's2'", 1},
      {"unknown dataMode", ns + "<dataMode>sometimes</dataMode>" + p + "</recording>",
       "unknown dataMode 'sometimes'", 1},
      {"unknown stream mode",
       ns + p + "<stream stream_id=\"s\"><mode>stereo</mode></stream></recording>",
       "unknown mode 'stereo'", 1},
      {"participant without id", ns + "<participant/></recording>", "participant without id", 1},
      {"stray CDATA-like tag (Genesys GVP)",
       ns + p + "<extensiondata><uri><!{CDATA{<sip:r@x;m=1>}}></uri></extensiondata></recording>",
       "repaired: escaped a stray '<' at line 1 column", 1},
      {"attribute without quotes", ns + "<participant participant_id=a/></recording>",
       "Error parsing element attribute", -1},
      {"too many problems", noid, "more problems omitted", 100},
      {"no participants", ns + "<stream stream_id=\"s\"/></recording>", "no participants", 0},
  };
  return c;
}

TEST(MetadataCorpusTest, BrokenDocumentsNameTheirProblem) {
  const auto corpus = BrokenCorpus();
  EXPECT_GE(corpus.size(), 20u);
  for (const Broken& b : corpus) {
    SCOPED_TRACE(b.name);
    const RecordingMetadata md = ParseMetadata(b.xml);
    EXPECT_TRUE(md.HasProblem(b.problem)) << ::testing::PrintToString(md.problems);
    if (b.participants >= 0) {
      EXPECT_EQ(md.participants.size(), static_cast<size_t>(b.participants));
    }
    EXPECT_LE(md.problems.size(), kMaxMetadataProblems + 1);
    const RecordingMetadata merged = Merge(md, md);
    std::string dumped;
    EXPECT_NO_THROW(dumped = ToJson(merged).dump());
    EXPECT_EQ(dumped.find("lollollol"), std::string::npos);  // never expanded
    EXPECT_EQ(dumped.find("root:x:0:0"), std::string::npos);
    EXPECT_LE(md.raw.size(), kMaxMetadataBytes + 100);
  }
}

TEST(MetadataCorpusTest, OversizedInputKeepsATruncatedRaw) {
  const std::string big(kMaxMetadataBytes + 1, 'x');
  const auto md = ParseMetadata(big);
  EXPECT_FALSE(md.well_formed);
  EXPECT_EQ(md.raw.substr(0, kRawKeptWhenTooLarge), big.substr(0, kRawKeptWhenTooLarge));
  EXPECT_THAT(md.raw, ::testing::HasSubstr("[callvault: truncated, 1048577 bytes in total]"));
}

TEST(MetadataCorpusTest, EntitiesStayLiteral) {
  const auto md = ParseMetadata(
      "<!DOCTYPE r [<!ENTITY e \"EXPANDED\">]><recording xmlns=\"urn:ietf:params:xml:ns:"
      "recording:1\"><participant participant_id=\"a\"><name>&e;&amp;</name></participant>"
      "</recording>");
  ASSERT_EQ(md.participants.size(), 1u);
  EXPECT_EQ(md.participants[0].name, "&e;&");
  EXPECT_TRUE(md.well_formed);
}

}  // namespace
}  // namespace callvault::siprec

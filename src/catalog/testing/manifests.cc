#include "catalog/testing/manifests.h"

#include <cstdio>
#include <utility>

#include "base/status.h"
#include "base/time_format.h"

namespace callvault::catalog::testing {
namespace {

using nlohmann::json;

json StrOrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

std::string Base64(const std::string& s) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < s.size(); i += 3) {
    uint32_t v = uint8_t(s[i]) << 16;
    if (i + 1 < s.size()) v |= uint8_t(s[i + 1]) << 8;
    if (i + 2 < s.size()) v |= uint8_t(s[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < s.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < s.size() ? kAlphabet[v & 63] : '=');
  }
  return out;
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string TestCallId(int64_t ms, uint64_t n) {
  const uint64_t ts = static_cast<uint64_t>(ms) & 0xFFFFFFFFFFFFull;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-7%03llx-%04llx-%012llx",
                static_cast<unsigned long long>(ts >> 16),
                static_cast<unsigned long long>(ts & 0xFFFF),
                static_cast<unsigned long long>((n >> 48) & 0xFFF),
                static_cast<unsigned long long>(0x8000 | ((n >> 36) & 0xFFF)),
                static_cast<unsigned long long>(n & 0xFFFFFFFFFull));
  return buf;
}

std::string MetadataXml(const std::vector<TestParticipant>& participants,
                        const std::string& session_id) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">\n"
      "  <datamode>complete</datamode>\n"
      "  <session session_id=\"" +
      XmlEscape(session_id) +
      "\">\n"
      "    <sipSessionID>ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2"
      "</sipSessionID>\n"
      "  </session>\n";
  for (size_t i = 0; i < participants.size(); ++i) {
    const TestParticipant& p = participants[i];
    const std::string id = Base64("p" + std::to_string(i));
    xml += "  <participant participant_id=\"" + id + "\">\n    <nameID aor=\"" + XmlEscape(p.aor) +
           "\">\n      <name xml:lang=\"en\">" + XmlEscape(p.name) +
           "</name>\n    </nameID>\n  </participant>\n";
  }
  xml += "</recording>\n";
  return xml;
}

json MakeManifestJson(const ManifestSpec& spec) {
  const std::string call_id = spec.call_id.empty() ? TestCallId(spec.started_ms, 0) : spec.call_id;
  const int64_t answered = spec.started_ms + spec.answer_delay_ms;
  const int64_t ended = answered + spec.duration_ms;
  const int64_t finalized = spec.finalized_ms != 0 ? spec.finalized_ms : ended + 840;
  const bool opus = spec.audio_format == "opus";
  const int64_t bytes = opus ? spec.duration_ms * 3 : 44 + spec.duration_ms * 32;

  json participants = json::array();
  for (size_t i = 0; i < spec.participants.size(); ++i) {
    const TestParticipant& p = spec.participants[i];
    participants.push_back({{"id", Base64("p" + std::to_string(i))},
                            {"name", StrOrNull(p.name)},
                            {"aor", StrOrNull(p.aor)},
                            {"channel", p.channel ? json(*p.channel) : json(nullptr)},
                            {"association", "participantstreamassoc"}});
  }
  json streams = json::array();
  for (int i = 0; i < 2; ++i) {
    const int64_t packets = spec.duration_ms / 20;
    streams.push_back({{"id", "s" + std::to_string(i)},
                       {"label", std::to_string(i + 1)},
                       {"index", i},
                       {"channel", i},
                       {"mixed", false},
                       {"codec", "PCMA"},
                       {"payload_type", 8},
                       {"clock_rate", 8000},
                       {"srtp", false},
                       {"ssrcs", {i == 0 ? "0x1a2b3c4d" : "0x5e6f7a8b"}},
                       {"packets", packets},
                       {"bytes", packets * 172},
                       {"lost", i},
                       {"duplicates", 0},
                       {"reordered", 0},
                       {"late", 0},
                       {"bad", 0},
                       {"auth_failed", 0},
                       {"unknown_payload", 0},
                       {"receiver_drops", 0},
                       {"ignored_bytes", 0},
                       {"gaps", json::array()},
                       {"dtmf", json::array()},
                       {"paused", json::array()}});
  }
  const std::vector<std::string> raws =
      spec.metadata_raw
          ? *spec.metadata_raw
          : std::vector<std::string>{MetadataXml(spec.participants, spec.siprec_session_id)};
  json metadata = json::array();
  for (const std::string& raw : raws) {
    metadata.push_back({{"at", FormatRfc3339Ms(spec.started_ms)},
                        {"source", "INVITE"},
                        {"content_type", "application/rs-metadata+xml"},
                        {"raw", raw},
                        {"well_formed", true},
                        {"problems", json::array()}});
  }
  const std::string started = FormatRfc3339Ms(spec.started_ms);
  const std::string short_id = call_id.substr(0, 8);
  return json{{"format", "callvault-manifest"},
              {"version", 1},
              {"call_id", call_id},
              {"node_id", spec.node_id},
              {"state", spec.state},
              {"end_reason", spec.end_reason},
              {"sip_call_id", spec.sip_call_id.empty() ? call_id + "@10.0.0.1" : spec.sip_call_id},
              {"siprec_session_id", spec.siprec_session_id},
              {"tenant", StrOrNull(spec.tenant)},
              {"times",
               {{"started", started},
                {"answered", FormatRfc3339Ms(answered)},
                {"ended", FormatRfc3339Ms(ended)},
                {"duration_ms", spec.duration_ms},
                {"finalized", FormatRfc3339Ms(finalized)}}},
              {"src",
               {{"address", "10.0.0.1:5060"},
                {"transport", "UDP"},
                {"user_agent", "TestSBC/1.0"},
                {"from", spec.from},
                {"to", spec.to},
                {"request_uri", "sip:recorder@10.0.0.2"},
                {"headers", json::object()}}},
              {"audio",
               {{"file", started.substr(0, 4) + "/" + started.substr(5, 2) + "/" +
                             started.substr(8, 2) + "/" + short_id + (opus ? ".opus" : ".wav")},
                {"format", spec.audio_format},
                {"encoding", opus ? "opus" : "pcm_s16le"},
                {"sample_rate", 8000},
                {"channels", 2},
                {"started", FormatRfc3339Ms(answered)},
                {"duration_ms", spec.duration_ms},
                {"bytes", bytes},
                {"sha256", std::string(64, 'a')}}},
              {"participants", participants},
              {"streams", streams},
              {"metadata", metadata},
              {"warnings", json::array()}};
}

recording::Manifest MakeManifest(const ManifestSpec& spec) {
  return ToManifest(MakeManifestJson(spec));
}

recording::Manifest ToManifest(const json& document) {
  Result<recording::Manifest> m = recording::ManifestFromJson(document);
  CV_CHECK_MSG(m.ok(), m.status().ToString());
  return std::move(m).value();
}

}  // namespace callvault::catalog::testing

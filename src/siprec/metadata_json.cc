// ToJson and the stable enum names (docs/formats/manifest.md).
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "siprec/metadata.h"

namespace callvault::siprec {
namespace {

// `s` with every byte sequence that is not UTF-8 replaced by U+FFFD (nlohmann's dump() throws
// on invalid UTF-8; metadata comes from the network).
std::string Utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80                   ? 1
                 : (c >= 0xC2 && c <= 0xDF) ? 2
                 : (c >= 0xE0 && c <= 0xEF) ? 3
                 : (c >= 0xF0 && c <= 0xF4) ? 4
                                            : 0;
    bool ok = len != 0 && i + len <= s.size();
    uint32_t cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok && ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
               (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))))
      ok = false;
    if (!ok) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

nlohmann::json Strings(const std::vector<std::string>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& s : v) a.push_back(Utf8(s));
  return a;
}

nlohmann::json OrNull(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(Utf8(s));
}

nlohmann::json Extensions(const std::vector<Extension>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : v) a.push_back({{"parent", OrNull(e.parent)}, {"xml", Utf8(e.xml)}});
  return a;
}

}  // namespace

nlohmann::json ToJson(const RecordingMetadata& md) {
  nlohmann::json j;
  j["well_formed"] = md.well_formed;
  j["problems"] = Strings(md.problems);
  j["namespace"] = std::string(MetadataNamespaceName(md.namespace_kind));
  j["root"] = OrNull(md.root_name);
  j["data_mode"] = OrNull(std::string(DataModeName(md.data_mode)));
  j["recording_id"] = OrNull(md.recording_id);

  nlohmann::json sessions = nlohmann::json::array();
  for (const auto& s : md.sessions) {
    sessions.push_back({{"id", Utf8(s.id)},
                        {"sip_session_ids", Strings(s.sip_session_ids)},
                        {"group_refs", Strings(s.group_refs)},
                        {"start_time", OrNull(s.start_time)},
                        {"stop_time", OrNull(s.stop_time)},
                        {"associate_time", OrNull(s.associate_time)},
                        {"disassociate_time", OrNull(s.disassociate_time)},
                        {"extensions", Extensions(s.extensions)},
                        {"unknown", Strings(s.unknown)}});
  }
  j["sessions"] = std::move(sessions);

  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : md.groups) {
    groups.push_back({{"id", Utf8(g.id)},
                      {"associate_time", OrNull(g.associate_time)},
                      {"disassociate_time", OrNull(g.disassociate_time)},
                      {"vendor", Strings(g.vendor)}});
  }
  j["groups"] = std::move(groups);

  nlohmann::json participants = nlohmann::json::array();
  for (const auto& p : md.participants) {
    participants.push_back(
        {{"id", Utf8(p.id)},
         {"name", OrNull(p.name)},
         {"aor", p.aors.empty() ? nlohmann::json(nullptr) : nlohmann::json(Utf8(p.aors[0]))},
         {"aors", Strings(p.aors)},
         {"session_ids", Strings(p.session_ids)},
         {"send", Strings(p.send)},
         {"recv", Strings(p.recv)},
         {"association", std::string(AssociationSourceName(p.association))},
         {"guessed", p.association == AssociationSource::kDocumentOrder},
         {"declared", p.declared},
         {"active", p.active()},
         {"associate_time", OrNull(p.associate_time)},
         {"disassociate_time", OrNull(p.disassociate_time)},
         {"extensions", Extensions(p.extensions)},
         {"unknown", Strings(p.unknown)}});
  }
  j["participants"] = std::move(participants);

  nlohmann::json streams = nlohmann::json::array();
  for (const auto& s : md.streams) {
    streams.push_back({{"id", Utf8(s.id)},
                       {"session_id", OrNull(s.session_id)},
                       {"label", OrNull(s.label)},
                       {"mode", OrNull(std::string(StreamModeName(s.mode)))},
                       {"associate_time", OrNull(s.associate_time)},
                       {"disassociate_time", OrNull(s.disassociate_time)},
                       {"extensions", Extensions(s.extensions)},
                       {"unknown", Strings(s.unknown)}});
  }
  j["streams"] = std::move(streams);
  j["extensions"] = Extensions(md.extensions);
  j["unknown"] = Strings(md.unknown);
  j["raw"] = Utf8(md.raw);
  return j;
}

std::string_view MetadataNamespaceName(MetadataNamespace kind) {
  switch (kind) {
    case MetadataNamespace::kNone:
      return "none";
    case MetadataNamespace::kRfc7865:
      return "rfc7865";
    case MetadataNamespace::kDraftRecording:
      return "draft";
    case MetadataNamespace::kSiprecDraft:
      return "siprec";
    case MetadataNamespace::kOther:
      return "other";
  }
  return "other";
}

std::string_view DataModeName(DataMode mode) {
  switch (mode) {
    case DataMode::kComplete:
      return "complete";
    case DataMode::kPartial:
      return "partial";
    case DataMode::kUnspecified:
      return "";
  }
  return "";
}

std::string_view StreamModeName(StreamMode mode) {
  switch (mode) {
    case StreamMode::kSeparate:
      return "separate";
    case StreamMode::kMixed:
      return "mixed";
    case StreamMode::kUnspecified:
      return "";
  }
  return "";
}

std::string_view AssociationSourceName(AssociationSource source) {
  switch (source) {
    case AssociationSource::kNone:
      return "none";
    case AssociationSource::kParticipantStreamAssoc:
      return "participantstreamassoc";
    case AssociationSource::kParticipantSendRecv:
      return "participant_send_recv";
    case AssociationSource::kDocumentOrder:
      return "document_order";
    case AssociationSource::kSipHeaders:
      return "sip_headers";
  }
  return "none";
}

std::string_view ChannelMatchName(ChannelMatch match) {
  switch (match) {
    case ChannelMatch::kLabel:
      return "label";
    case ChannelMatch::kStreamOrder:
      return "stream_order";
    case ChannelMatch::kDocumentOrder:
      return "document_order";
  }
  return "document_order";
}

}  // namespace callvault::siprec

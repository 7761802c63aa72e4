// Cisco UCM BiB From parameters and CUBE NBR participant headers (siprec/cisco.h).
#include "siprec/cisco.h"

#include <algorithm>

#include "base/strings.h"
#include "sip/message.h"

namespace callvault::siprec {
namespace {

constexpr size_t kMaxValue = 256;  // a Cisco parameter value longer than this is cut

std::string Bounded(std::string_view v) { return std::string(v.substr(0, kMaxValue)); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string XmlAttr(std::string_view v) {
  std::string out;
  for (char c : v) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
  }
  return out;
}

std::string UriParam(const sip::Uri& uri, std::string_view name) {
  auto v = uri.Param(name);
  return v ? Bounded(*v) : std::string();
}

MetadataParticipant BibParticipant(std::string id, const BibParty& p, std::string send,
                                   std::string recv) {
  MetadataParticipant out;
  out.id = std::move(id);
  if (!p.addr.empty()) out.aors.push_back(p.addr);
  out.send.push_back(std::move(send));
  out.recv.push_back(std::move(recv));
  out.association = AssociationSource::kSipHeaders;
  out.extensions.push_back(
      {out.id, "<cisco-ucm device=\"" + XmlAttr(p.device) + "\" cluster=\"" +
                   XmlAttr(p.cluster) + "\" refci=\"" + XmlAttr(p.refci) + "\"/>"});
  return out;
}

// `<sip:a@b>;media-index="1"` or `sip:a@b;media-index="1"` → participant.
std::optional<NbrParticipant> ParseNbrItem(std::string_view item) {
  item = Trim(item);
  std::string_view uri, params;
  if (!item.empty() && item.front() == '<') {
    const size_t close = item.find('>');
    if (close == std::string_view::npos) return std::nullopt;
    uri = item.substr(1, close - 1);
    params = item.substr(close + 1);
  } else {
    // The URI's own parameters and the header's cannot be told apart without <>: Cisco
    // writes media-index last, so everything from it on is the header's.
    const size_t at = item.find(";media-index");
    uri = item.substr(0, at);
    params = at == std::string_view::npos ? std::string_view() : item.substr(at);
  }
  uri = Trim(uri);
  if (uri.empty()) return std::nullopt;
  std::optional<int> index;
  while (!params.empty()) {
    if (params.front() != ';') {
      params.remove_prefix(1);
      continue;
    }
    params.remove_prefix(1);
    const size_t end = params.find(';');
    std::string_view p = Trim(params.substr(0, end));
    params = end == std::string_view::npos ? std::string_view() : params.substr(end);
    const size_t eq = p.find('=');
    if (eq == std::string_view::npos || !EqualsIgnoreCase(Trim(p.substr(0, eq)), "media-index")) continue;
    std::string_view v = Trim(p.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    if (v.empty() || v.size() > 2 ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    index = std::stoi(std::string(v));
  }
  if (!index) return std::nullopt;
  return NbrParticipant{Bounded(uri), *index};
}

}  // namespace

std::string_view BibSideName(BibLeg::Side side) {
  return side == BibLeg::Side::kNearEnd ? "nearend" : "farend";
}

std::optional<BibLeg> ParseBibFrom(std::string_view from) {
  auto na = sip::ParseNameAddr(from);
  if (!na.ok()) return std::nullopt;
  const sip::Uri& uri = na->uri;
  BibLeg leg;
  if (uri.Param("x-nearend")) {
    leg.side = BibLeg::Side::kNearEnd;
  } else if (uri.Param("x-farend")) {
    leg.side = BibLeg::Side::kFarEnd;
  } else {
    return std::nullopt;
  }
  leg.near_end = {UriParam(uri, "x-nearendaddr"), UriParam(uri, "x-nearenddevice"),
                  UriParam(uri, "x-nearendclusterid"), UriParam(uri, "x-refci")};
  leg.far_end = {UriParam(uri, "x-farendaddr"), UriParam(uri, "x-farenddevice"),
                 UriParam(uri, "x-farendclusterid"), UriParam(uri, "x-farendrefci")};
  if (leg.near_end.refci.empty()) return std::nullopt;
  return leg;
}

RecordingMetadata BibMetadata(const BibLeg& leg) {
  RecordingMetadata md;
  md.well_formed = true;
  md.data_mode = DataMode::kComplete;
  md.root_name = "cisco-ucm-bib";
  md.raw = "x-refci=" + leg.near_end.refci + ";x-nearendaddr=" + leg.near_end.addr +
           ";x-nearenddevice=" + leg.near_end.device + ";x-farendaddr=" + leg.far_end.addr +
           ";x-farenddevice=" + leg.far_end.device;
  md.participants.push_back(BibParticipant("nearend", leg.near_end, "nearend", "farend"));
  md.participants.push_back(BibParticipant("farend", leg.far_end, "farend", "nearend"));
  for (const char* id : {"nearend", "farend"}) {
    MetadataStream s;
    s.id = id;
    s.label = id;
    s.mode = StreamMode::kSeparate;
    md.streams.push_back(std::move(s));
  }
  return md;
}

std::vector<NbrParticipant> NbrParticipants(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<NbrParticipant> out;
  for (const auto& [name, value] : headers) {
    if (!EqualsIgnoreCase(name, "X-Cisco-Recording-Participant")) continue;
    sip::ForEachListItem(value, [&](std::string_view item) {
      if (out.size() >= kMaxNbrParticipants) return;
      if (auto p = ParseNbrItem(item)) out.push_back(std::move(*p));
    });
  }
  return out;
}

RecordingMetadata NbrMetadata(const std::vector<NbrParticipant>& participants,
                              const RecordingMetadata* previous, std::string_view at) {
  RecordingMetadata md;
  md.well_formed = true;
  md.data_mode = DataMode::kComplete;
  md.root_name = "cisco-cube-nbr";
  std::vector<int> indexes;
  for (const NbrParticipant& p : participants) {
    md.raw += "X-Cisco-Recording-Participant: " + p.aor + ";media-index=\"" +
              std::to_string(p.media_index) + "\"\r\n";
    const std::string stream = "media-index-" + std::to_string(p.media_index);
    auto it = std::find_if(md.participants.begin(), md.participants.end(),
                           [&](const MetadataParticipant& q) { return q.id == p.aor; });
    if (it == md.participants.end()) {
      MetadataParticipant q;
      q.id = p.aor;
      q.aors.push_back(p.aor);
      q.association = AssociationSource::kSipHeaders;
      md.participants.push_back(std::move(q));
      it = md.participants.end() - 1;
    }
    if (std::find(it->send.begin(), it->send.end(), stream) == it->send.end())
      it->send.push_back(stream);
    if (std::find(indexes.begin(), indexes.end(), p.media_index) == indexes.end())
      indexes.push_back(p.media_index);
  }
  std::sort(indexes.begin(), indexes.end());
  for (int i : indexes) {
    MetadataStream s;
    s.id = "media-index-" + std::to_string(i);
    s.label = std::to_string(i);
    s.mode = StreamMode::kSeparate;
    md.streams.push_back(std::move(s));
  }
  // Each participant receives what the others send.
  for (MetadataParticipant& p : md.participants) {
    for (const MetadataStream& s : md.streams) {
      if (std::find(p.send.begin(), p.send.end(), s.id) == p.send.end()) p.recv.push_back(s.id);
    }
  }
  if (previous != nullptr) {
    for (const MetadataParticipant& old : previous->participants) {
      if (md.FindParticipant(old.id) != nullptr) continue;
      MetadataParticipant gone = old;
      if (gone.disassociate_time.empty()) gone.disassociate_time = std::string(at);
      md.participants.push_back(std::move(gone));
    }
  }
  return md;
}

}  // namespace callvault::siprec

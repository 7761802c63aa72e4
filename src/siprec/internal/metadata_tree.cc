// pugixml tree → RecordingMetadata (RFC 7865 §6 elements and their draft spellings).
#include "siprec/internal/metadata_tree.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "siprec/internal/metadata_xml.h"

namespace callvault::siprec::internal {

void Problems::Add(std::string line) {
  if (out_->size() < kMaxMetadataProblems) {
    out_->push_back(std::move(line));
    return;
  }
  ++omitted_;
  std::string more = "… " + std::to_string(omitted_) + " more problems omitted";
  if (omitted_ == 1) {
    out_->push_back(std::move(more));
  } else {
    out_->back() = std::move(more);
  }
}

namespace {

// Reads the model out of one document.
class Builder {
 public:
  Builder(RecordingMetadata* md, Problems* problems) : md_(md), problems_(problems) {}

  void Build(const pugi::xml_node& root);

 private:
  // A value bounded to kMaxMetadataValueBytes (a problem when cut).
  std::string Value(std::string_view v, std::string_view what) {
    if (v.size() <= kMaxMetadataValueBytes) return std::string(v);
    problems_->Add("value of " + std::string(what) + " longer than " +
                   std::to_string(kMaxMetadataValueBytes) + " bytes: truncated");
    return std::string(v.substr(0, kMaxMetadataValueBytes));
  }
  // First attribute whose local name matches one of `names` (in that order of preference).
  std::string Attr(const pugi::xml_node& n, std::initializer_list<std::string_view> names) {
    for (std::string_view want : names) {
      for (const pugi::xml_attribute& a : n.attributes()) {
        if (EqualsIgnoreCase(Local(a.name()), want))
          return Value(Trim(a.value()), std::string(Local(n.name())) + " @" + std::string(want));
      }
    }
    return {};
  }
  // Direct text (PCDATA/CDATA children) of an element, trimmed.
  std::string Text(const pugi::xml_node& n) {
    std::string t;
    for (const pugi::xml_node& c : n.children()) {
      if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) t += c.value();
    }
    return Value(Trim(t), "<" + std::string(Local(n.name())) + ">");
  }
  // Stream ids of a <send>/<recv>: its text, or its <id> children (BroadWorks).
  std::vector<std::string> Ids(const pugi::xml_node& n) {
    std::vector<std::string> ids;
    AddUnique(&ids, Text(n));
    for (const pugi::xml_node& c : n.children()) {
      if (Is(c, "id")) AddUnique(&ids, Text(c));
    }
    return ids;
  }
  Extension Ext(const pugi::xml_node& n, const std::string& owner) {
    std::string parent = Attr(n, {"parent"});
    return Extension{parent.empty() ? owner : std::move(parent), Raw(n)};
  }
  bool Partial() const { return md_->data_mode == DataMode::kPartial; }

  void Namespace(const pugi::xml_node& root);
  void Group(const pugi::xml_node& n);
  void Session(const pugi::xml_node& n);
  void Participant(const pugi::xml_node& n);
  void Stream(const pugi::xml_node& n);
  void SessionRecordingAssoc(const pugi::xml_node& n);
  void ParticipantSessionAssoc(const pugi::xml_node& n);
  void ParticipantStreamAssoc(const pugi::xml_node& n);
  MetadataParticipant* ParticipantFor(const std::string& id, std::string_view element);
  void Check();
  void GuessAssociations();

  RecordingMetadata* md_;
  Problems* problems_;
  // Index into md_->participants by id (ids are unique: duplicates are dropped).
  std::unordered_map<std::string, size_t> participant_index_;
  std::unordered_set<std::string> stream_ids_;
};

void Builder::Namespace(const pugi::xml_node& root) {
  const std::string_view name(root.name());
  const size_t colon = name.find(':');
  const std::string attr =
      colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(name.substr(0, colon));
  const pugi::xml_attribute ns = root.attribute(attr.c_str());
  const std::string_view value = Trim(ns.value());
  if (!ns) {
    md_->namespace_kind = MetadataNamespace::kNone;
    problems_->Add("no namespace declared on the root element");
  } else if (value == "urn:ietf:params:xml:ns:recording:1") {
    md_->namespace_kind = MetadataNamespace::kRfc7865;
  } else if (value == "urn:ietf:params:xml:ns:recording") {
    md_->namespace_kind = MetadataNamespace::kDraftRecording;
  } else if (value == "urn:ietf:params:xml:ns:siprec") {
    md_->namespace_kind = MetadataNamespace::kSiprecDraft;
  } else {
    md_->namespace_kind = MetadataNamespace::kOther;
    problems_->Add("unknown namespace '" + Value(value, "xmlns") + "'");
  }
}

void Builder::Group(const pugi::xml_node& n) {
  MetadataGroup g;
  g.id = Attr(n, {"group_id", "id"});
  for (const pugi::xml_node& c : n.children()) {
    if (c.type() != pugi::node_element) continue;
    if (Is(c, "associate-time")) {
      g.associate_time = Text(c);
    } else if (Is(c, "disassociate-time")) {
      g.disassociate_time = Text(c);
    } else {
      g.vendor.push_back(Raw(c));
    }
  }
  md_->groups.push_back(std::move(g));
}

void Builder::Session(const pugi::xml_node& n) {
  MetadataSession s;
  s.id = Attr(n, {"session_id", "id"});
  AddUnique(&s.group_refs, Attr(n, {"group", "group_id"}));
  for (const pugi::xml_node& c : n.children()) {
    if (c.type() != pugi::node_element) continue;
    if (Is(c, "sipSessionID")) {
      AddUnique(&s.sip_session_ids, Text(c));
    } else if (Is(c, "group-ref")) {
      AddUnique(&s.group_refs, Text(c));
    } else if (Is(c, "start-time")) {
      s.start_time = Text(c);
    } else if (Is(c, "stop-time")) {
      s.stop_time = Text(c);
    } else if (Is(c, "associate-time")) {
      s.associate_time = Text(c);
    } else if (Is(c, "disassociate-time")) {
      s.disassociate_time = Text(c);
    } else if (Is(c, "extensiondata")) {
      s.extensions.push_back(Ext(c, s.id));
    } else {
      s.unknown.push_back(Raw(c));
    }
  }
  if (!s.id.empty() && std::any_of(md_->sessions.begin(), md_->sessions.end(),
                                   [&](const MetadataSession& o) { return o.id == s.id; })) {
    problems_->Add("duplicate session id '" + s.id + "': later one ignored");
    return;
  }
  md_->sessions.push_back(std::move(s));
}

void Builder::Participant(const pugi::xml_node& n) {
  MetadataParticipant p;
  p.id = Attr(n, {"participant_id", "id"});
  AddUnique(&p.session_ids, Attr(n, {"session", "session_id"}));
  for (const pugi::xml_node& c : n.children()) {
    if (c.type() != pugi::node_element) continue;
    if (Is(c, "nameID")) {
      AddUnique(&p.aors, Attr(c, {"aor"}));
      for (const pugi::xml_node& nc : c.children()) {
        if (Is(nc, "name") && p.name.empty()) p.name = Text(nc);
      }
    } else if (Is(c, "name")) {
      if (p.name.empty()) p.name = Text(c);
    } else if (Is(c, "aor")) {
      AddUnique(&p.aors, Text(c));
    } else if (Is(c, "send") || Is(c, "recv")) {
      for (std::string& id : Ids(c)) AddUnique(Is(c, "send") ? &p.send : &p.recv, std::move(id));
    } else if (Is(c, "associate-time")) {
      p.associate_time = Text(c);
    } else if (Is(c, "disassociate-time")) {
      p.disassociate_time = Text(c);
    } else if (Is(c, "extensiondata")) {
      p.extensions.push_back(Ext(c, p.id));
    } else {
      p.unknown.push_back(Raw(c));
    }
  }
  if (!p.send.empty() || !p.recv.empty()) p.association = AssociationSource::kParticipantSendRecv;
  if (p.id.empty()) problems_->Add("participant without id");
  if (!p.id.empty() && participant_index_.contains(p.id)) {
    problems_->Add("duplicate participant id '" + p.id + "': later one ignored");
    return;
  }
  if (!p.id.empty()) participant_index_.emplace(p.id, md_->participants.size());
  md_->participants.push_back(std::move(p));
}

void Builder::Stream(const pugi::xml_node& n) {
  MetadataStream s;
  s.id = Attr(n, {"stream_id", "id"});
  s.session_id = Attr(n, {"session_id", "session"});
  for (const pugi::xml_node& c : n.children()) {
    if (c.type() != pugi::node_element) continue;
    if (Is(c, "label")) {
      s.label = Text(c);
    } else if (Is(c, "mode")) {
      const std::string mode = Lower(Text(c));
      if (mode == "separate") {
        s.mode = StreamMode::kSeparate;
      } else if (mode == "mixed") {
        s.mode = StreamMode::kMixed;
      } else {
        problems_->Add("stream '" + s.id + "': unknown mode '" + mode + "'");
      }
    } else if (Is(c, "associate-time")) {
      s.associate_time = Text(c);
    } else if (Is(c, "disassociate-time")) {
      s.disassociate_time = Text(c);
    } else if (Is(c, "extensiondata")) {
      s.extensions.push_back(Ext(c, s.id));
    } else {
      s.unknown.push_back(Raw(c));
    }
  }
  if (s.id.empty()) problems_->Add("stream without id (label '" + s.label + "')");
  if (!s.id.empty() && !stream_ids_.insert(s.id).second) {
    problems_->Add("duplicate stream id '" + s.id + "': later one ignored");
    return;
  }
  md_->streams.push_back(std::move(s));
}

void Builder::SessionRecordingAssoc(const pugi::xml_node& n) {
  const std::string id = Attr(n, {"session_id", "session"});
  auto it = std::find_if(md_->sessions.begin(), md_->sessions.end(),
                         [&](const MetadataSession& s) { return s.id == id; });
  if (it == md_->sessions.end()) {
    if (!Partial()) problems_->Add("sessionrecordingassoc for undeclared session '" + id + "'");
    md_->sessions.push_back(MetadataSession{.id = id});
    it = md_->sessions.end() - 1;
  }
  for (const pugi::xml_node& c : n.children()) {
    if (Is(c, "associate-time")) it->associate_time = Text(c);
    if (Is(c, "disassociate-time")) it->disassociate_time = Text(c);
  }
}

MetadataParticipant* Builder::ParticipantFor(const std::string& id, std::string_view element) {
  if (auto it = participant_index_.find(id); it != participant_index_.end())
    return &md_->participants[it->second];
  if (!Partial()) {
    problems_->Add(std::string(element) + " for undeclared participant '" + id + "'");
  }
  if (!id.empty()) participant_index_.emplace(id, md_->participants.size());
  md_->participants.push_back(MetadataParticipant{.id = id, .declared = false});
  return &md_->participants.back();
}

void Builder::ParticipantSessionAssoc(const pugi::xml_node& n) {
  MetadataParticipant* p =
      ParticipantFor(Attr(n, {"participant_id", "participant"}), "participantsessionassoc");
  AddUnique(&p->session_ids, Attr(n, {"session_id", "session"}));
  for (const pugi::xml_node& c : n.children()) {
    if (Is(c, "associate-time") && p->associate_time.empty()) p->associate_time = Text(c);
    if (Is(c, "disassociate-time")) p->disassociate_time = Text(c);
  }
}

void Builder::ParticipantStreamAssoc(const pugi::xml_node& n) {
  MetadataParticipant* p =
      ParticipantFor(Attr(n, {"participant_id", "participant"}), "participantstreamassoc");
  bool ended = false;
  for (const pugi::xml_node& c : n.children()) {
    if (Is(c, "disassociate-time")) ended = true;
  }
  for (const pugi::xml_node& c : n.children()) {
    if (!Is(c, "send") && !Is(c, "recv")) continue;
    for (std::string& id : Ids(c)) {
      if (ended) {
        AddUnique(&p->disassociated_streams, std::move(id));
        continue;
      }
      AddUnique(Is(c, "send") ? &p->send : &p->recv, std::move(id));
      p->association = AssociationSource::kParticipantStreamAssoc;
    }
  }
}

void Builder::Check() {
  if (Partial()) return;  // a partial update may refer to what earlier snapshots declared
  if (md_->participants.empty()) problems_->Add("no participants");
  for (const auto& p : md_->participants) {
    for (const auto& s : p.send) {
      if (!stream_ids_.contains(s))
        problems_->Add("participant '" + p.id + "' sends on unknown stream '" + s + "'");
    }
    for (const auto& s : p.recv) {
      if (!stream_ids_.contains(s))
        problems_->Add("participant '" + p.id + "' receives unknown stream '" + s + "'");
    }
  }
  for (const auto& s : md_->streams) {
    if (s.session_id.empty() || md_->sessions.empty()) continue;
    if (std::none_of(md_->sessions.begin(), md_->sessions.end(),
                     [&](const MetadataSession& x) { return x.id == s.session_id; }))
      problems_->Add("stream '" + s.id + "' references unknown session '" + s.session_id + "'");
  }
}

// Nothing links participants and streams (OpenSIPS, CUBE on hold): i-th ↔ i-th, all on a
// single stream. Flagged in problems and in each participant's association.
void Builder::GuessAssociations() {
  if (Partial()) return;
  std::vector<MetadataParticipant*> people;
  for (auto& p : md_->participants) {
    if (!p.send.empty() || !p.recv.empty()) return;  // something is linked: no guessing
    if (p.active()) people.push_back(&p);
  }
  std::vector<const MetadataStream*> streams;
  for (const auto& s : md_->streams) {
    if (!s.id.empty()) streams.push_back(&s);
  }
  if (people.empty() || streams.empty()) return;
  for (size_t i = 0; i < people.size(); ++i) {
    if (streams.size() == 1) {
      people[i]->send.push_back(streams[0]->id);
    } else if (i < streams.size()) {
      people[i]->send.push_back(streams[i]->id);
    } else {
      continue;
    }
    people[i]->association = AssociationSource::kDocumentOrder;
  }
  problems_->Add("participant/stream association guessed from document order");
}

void Builder::Build(const pugi::xml_node& root) {
  md_->root_name = Value(Local(root.name()), "root name");
  if (!EqualsIgnoreCase(md_->root_name, "recording") &&
      !EqualsIgnoreCase(md_->root_name, "recording_metadata")) {
    problems_->Add("unexpected root element <" + md_->root_name +
                   "> (expected <recording> or <recording_metadata>)");
  }
  Namespace(root);
  md_->recording_id = Attr(root, {"id"});
  if (!root.find_child([](const pugi::xml_node& c) { return c.type() == pugi::node_element; })) {
    problems_->Add("no XML elements inside <" + md_->root_name + ">");
    return;
  }
  // Pass 1: the elements themselves (dataMode first, so that checks know the mode).
  for (const pugi::xml_node& c : root.children()) {
    if (!Is(c, "datamode")) continue;
    const std::string mode = Lower(Text(c));
    if (mode == "complete") {
      md_->data_mode = DataMode::kComplete;
    } else if (mode == "partial") {
      md_->data_mode = DataMode::kPartial;
    } else {
      problems_->Add("unknown dataMode '" + mode + "'");
    }
  }
  for (const pugi::xml_node& c : root.children()) {
    if (c.type() != pugi::node_element || Is(c, "datamode")) continue;
    if (Is(c, "recording")) {  // BroadWorks <recording id=…><requestor/><type/></recording>
      if (md_->recording_id.empty()) md_->recording_id = Attr(c, {"id"});
    } else if (Is(c, "group")) {
      Group(c);
    } else if (Is(c, "session")) {
      Session(c);
    } else if (Is(c, "participant")) {
      Participant(c);
    } else if (Is(c, "stream")) {
      Stream(c);
    } else if (Is(c, "extensiondata")) {
      md_->extensions.push_back(Ext(c, ""));
    } else if (!Is(c, "sessionrecordingassoc") && !Is(c, "participantsessionassoc") &&
               !Is(c, "participantstreamassoc")) {
      md_->unknown.push_back(Raw(c));
    }
  }
  // Pass 2: associations, which may precede what they refer to.
  for (const pugi::xml_node& c : root.children()) {
    if (Is(c, "sessionrecordingassoc")) SessionRecordingAssoc(c);
    if (Is(c, "participantsessionassoc")) ParticipantSessionAssoc(c);
    if (Is(c, "participantstreamassoc")) ParticipantStreamAssoc(c);
  }
  Check();
  GuessAssociations();
}

}  // namespace

void BuildModel(const pugi::xml_document& doc, RecordingMetadata* md, Problems* problems) {
  const pugi::xml_node root = doc.document_element();
  if (!root) {
    problems->Add("no XML elements");
    return;
  }
  Builder(md, problems).Build(root);
}

}  // namespace callvault::siprec::internal

// Merge (snapshots of one call) and MapParticipantsToStreams (participants → SDP m-lines).
#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "siprec/metadata.h"

namespace callvault::siprec {
namespace {

void AddUnique(std::vector<std::string>* v, const std::string& s) {
  if (s.empty() || std::find(v->begin(), v->end(), s) != v->end()) return;
  v->push_back(s);
}

void Set(std::string* field, const std::string& update) {
  if (!update.empty()) *field = update;
}

void AddExtensions(std::vector<Extension>* to, const std::vector<Extension>& from) {
  for (const auto& e : from) {
    if (std::none_of(to->begin(), to->end(),
                     [&](const Extension& x) { return x.xml == e.xml && x.parent == e.parent; }))
      to->push_back(e);
  }
}

void MergeSession(MetadataSession* to, const MetadataSession& from) {
  for (const auto& s : from.sip_session_ids) AddUnique(&to->sip_session_ids, s);
  for (const auto& g : from.group_refs) AddUnique(&to->group_refs, g);
  Set(&to->start_time, from.start_time);
  Set(&to->stop_time, from.stop_time);
  Set(&to->associate_time, from.associate_time);
  Set(&to->disassociate_time, from.disassociate_time);
  AddExtensions(&to->extensions, from.extensions);
  for (const auto& u : from.unknown) AddUnique(&to->unknown, u);
}

void MergeGroup(MetadataGroup* to, const MetadataGroup& from) {
  Set(&to->associate_time, from.associate_time);
  Set(&to->disassociate_time, from.disassociate_time);
  for (const auto& v : from.vendor) AddUnique(&to->vendor, v);
}

void MergeParticipant(MetadataParticipant* to, const MetadataParticipant& from) {
  for (const auto& s : from.session_ids) AddUnique(&to->session_ids, s);
  Set(&to->name, from.name);
  for (const auto& a : from.aors) AddUnique(&to->aors, a);
  // A real association replaces the links; a guess only fills a gap.
  const bool real = from.association == AssociationSource::kParticipantStreamAssoc ||
                    from.association == AssociationSource::kParticipantSendRecv ||
                    from.association == AssociationSource::kSipHeaders;
  if (real || to->association == AssociationSource::kNone) {
    if (from.association != AssociationSource::kNone) {
      to->send = from.send;
      to->recv = from.recv;
      to->association = from.association;
    }
  }
  for (const auto& gone : from.disassociated_streams) {
    std::erase(to->send, gone);
    std::erase(to->recv, gone);
    AddUnique(&to->disassociated_streams, gone);
  }
  Set(&to->associate_time, from.associate_time);
  Set(&to->disassociate_time, from.disassociate_time);
  to->declared = to->declared || from.declared;
  AddExtensions(&to->extensions, from.extensions);
  for (const auto& u : from.unknown) AddUnique(&to->unknown, u);
}

void MergeStream(MetadataStream* to, const MetadataStream& from) {
  Set(&to->session_id, from.session_id);
  Set(&to->label, from.label);
  if (from.mode != StreamMode::kUnspecified) to->mode = from.mode;
  Set(&to->associate_time, from.associate_time);
  Set(&to->disassociate_time, from.disassociate_time);
  AddExtensions(&to->extensions, from.extensions);
  for (const auto& u : from.unknown) AddUnique(&to->unknown, u);
}

// Updates `to` by id from `from`, appending what is new (elements without id cannot be matched,
// so they are appended). Linear in the sizes thanks to an index.
template <typename T, typename F>
void MergeAll(std::vector<T>* to, const std::vector<T>& from, F merge_one) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < to->size(); ++i) {
    if (!(*to)[i].id.empty()) index.emplace((*to)[i].id, i);
  }
  for (const auto& x : from) {
    if (auto it = index.find(x.id); !x.id.empty() && it != index.end()) {
      merge_one(&(*to)[it->second], x);
      continue;
    }
    if (!x.id.empty()) index.emplace(x.id, to->size());
    to->push_back(x);
  }
}

}  // namespace

RecordingMetadata Merge(const RecordingMetadata& current, const RecordingMetadata& update) {
  const bool usable =
      !update.sessions.empty() || !update.participants.empty() || !update.streams.empty();
  const bool complete = update.data_mode == DataMode::kComplete ||
                        (update.data_mode == DataMode::kUnspecified && !update.sessions.empty() &&
                         !update.participants.empty() && !update.streams.empty());
  if (usable && complete) return update;

  RecordingMetadata out = current;
  out.raw = update.raw;
  out.well_formed = update.well_formed;
  out.problems = update.problems;
  if (!usable) {
    out.problems.push_back("update carried no sessions, participants or streams: kept the state");
    return out;
  }
  if (update.namespace_kind != MetadataNamespace::kNone) out.namespace_kind = update.namespace_kind;
  Set(&out.root_name, update.root_name);
  Set(&out.recording_id, update.recording_id);
  if (update.data_mode == DataMode::kUnspecified)
    out.problems.push_back("update without dataMode and with only some elements: merged by id");
  MergeAll(&out.sessions, update.sessions, MergeSession);
  MergeAll(&out.groups, update.groups, MergeGroup);
  MergeAll(&out.participants, update.participants, MergeParticipant);
  MergeAll(&out.streams, update.streams, MergeStream);
  AddExtensions(&out.extensions, update.extensions);
  for (const auto& u : update.unknown) AddUnique(&out.unknown, u);
  return out;
}

std::vector<ParticipantChannel> MapParticipantsToStreams(
    const RecordingMetadata& metadata, const std::vector<std::string>& sdp_labels_in_mline_order) {
  const auto& labels = sdp_labels_in_mline_order;
  const auto& streams = metadata.streams;
  constexpr size_t kNone = static_cast<size_t>(-1);

  // 1. m-line ↔ stream: by label, then the unmatched streams in order for the rest.
  std::vector<size_t> stream_of(labels.size(), kNone);
  std::vector<ChannelMatch> match(labels.size(), ChannelMatch::kDocumentOrder);
  std::vector<bool> used(streams.size(), false);
  for (size_t m = 0; m < labels.size(); ++m) {
    if (labels[m].empty()) continue;
    for (size_t s = 0; s < streams.size(); ++s) {
      if (!used[s] && streams[s].label == labels[m]) {
        stream_of[m] = s;
        match[m] = ChannelMatch::kLabel;
        used[s] = true;
        break;
      }
    }
  }
  size_t next = 0;
  for (size_t m = 0; m < labels.size(); ++m) {
    if (stream_of[m] != kNone) continue;
    while (next < streams.size() && used[next]) ++next;
    if (next == streams.size()) break;
    stream_of[m] = next;
    match[m] = ChannelMatch::kStreamOrder;
    used[next] = true;
  }

  // 2. stream ↔ participants: the metadata's links; without any, document order.
  std::vector<const MetadataParticipant*> people;
  bool any_link = false;
  for (const auto& p : metadata.participants) {
    if (!p.active()) continue;
    people.push_back(&p);
    any_link = any_link || !p.send.empty();
  }

  std::vector<ParticipantChannel> out;
  for (size_t m = 0; m < labels.size(); ++m) {
    ParticipantChannel base;
    base.mline = m;
    base.sdp_label = labels[m];
    const MetadataStream* stream = stream_of[m] == kNone ? nullptr : &streams[stream_of[m]];
    base.stream_match = stream ? match[m] : ChannelMatch::kDocumentOrder;
    if (stream) base.stream_id = stream->id;

    std::vector<const MetadataParticipant*> senders;
    AssociationSource how = AssociationSource::kNone;
    if (any_link) {
      if (stream && !stream->id.empty()) {
        for (const auto* p : people) {
          if (std::find(p->send.begin(), p->send.end(), stream->id) != p->send.end())
            senders.push_back(p);
        }
      }
    } else if (labels.size() == 1) {
      senders = people;  // one m-line, nobody linked: everyone is on it
      how = AssociationSource::kDocumentOrder;
    } else if (m < people.size()) {
      senders.push_back(people[m]);
      how = AssociationSource::kDocumentOrder;
    }
    const bool mixed = senders.size() > 1 || (stream && stream->mode == StreamMode::kMixed);
    if (senders.empty()) {
      base.mixed = mixed;
      out.push_back(std::move(base));
      continue;
    }
    for (const auto* p : senders) {
      ParticipantChannel c = base;
      c.participant_id = p->id;
      c.association = how == AssociationSource::kNone ? p->association : how;
      c.mixed = mixed;
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace callvault::siprec

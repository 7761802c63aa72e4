#include "catalog/internal/call_row.h"

#include <string_view>

#include "catalog/internal/text.h"

namespace callvault::catalog::internal {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::optional<int64_t> Int(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  if (it->is_number_unsigned()) return static_cast<int64_t>(it->get<uint64_t>());
  return it->get<int64_t>();
}

// SIP may carry a NUL (a quoted-pair in a display name, RFC 3261 §25.1), which a manifest keeps
// ("\u0000"), and an active call's From/To are raw header bytes: PostgreSQL's TEXT holds
// neither NUL (libpq would cut the value there) nor invalid UTF-8 (the insert would fail, and
// the row with it), so both backends store CleanText.
void Clean(std::string& s) { s = CleanText(s); }

void CleanTexts(CallRow& row) {
  for (std::string* s :
       {&row.tenant, &row.end_reason, &row.sip_call_id, &row.siprec_session_id, &row.caller_name,
        &row.caller_aor, &row.caller_number, &row.callee_name, &row.callee_aor, &row.callee_number,
        &row.src_address, &row.from_uri, &row.to_uri, &row.audio_file, &row.search_text,
        &row.numbers_text, &row.names_text}) {
    Clean(*s);
  }
  for (ParticipantRow& p : row.participants) {
    for (std::string* s : {&p.participant_id, &p.name, &p.aor, &p.number}) Clean(*s);
  }
  for (StreamRow& s : row.streams) {
    for (std::string* t : {&s.stream_id, &s.label, &s.codec}) Clean(*t);
  }
  for (SnapshotRow& s : row.snapshots) {
    for (std::string* t : {&s.source, &s.content_type, &s.raw}) Clean(*t);
  }
}

struct Party {
  std::string name, aor, number;
  bool set = false;
};

Party PartyFromParticipant(const ParticipantRow& p) { return Party{p.name, p.aor, p.number, true}; }

Party PartyFromHeader(const std::string& header) {
  if (header.empty()) return {};
  NameAddr na = ParseNameAddr(header);
  std::string number = AorUser(na.uri);
  return Party{std::move(na.display_name), std::move(na.uri), std::move(number), true};
}

// Participants on channel 0 / 1; empty slots from the other participants in document order,
// then from the SIP From / To headers.
void DeriveParties(CallRow& row) {
  Party caller, callee;
  std::vector<bool> used(row.participants.size(), false);
  for (size_t i = 0; i < row.participants.size(); ++i) {
    const ParticipantRow& p = row.participants[i];
    if (p.channel == 0 && !caller.set) {
      caller = PartyFromParticipant(p);
      used[i] = true;
    } else if (p.channel == 1 && !callee.set) {
      callee = PartyFromParticipant(p);
      used[i] = true;
    }
  }
  for (size_t i = 0; i < row.participants.size(); ++i) {
    if (used[i]) continue;
    if (!caller.set) {
      caller = PartyFromParticipant(row.participants[i]);
    } else if (!callee.set) {
      callee = PartyFromParticipant(row.participants[i]);
    } else {
      break;
    }
  }
  if (!caller.set) caller = PartyFromHeader(row.from_uri);
  if (!callee.set) callee = PartyFromHeader(row.to_uri);
  row.caller_name = caller.name;
  row.caller_aor = caller.aor;
  row.caller_number = caller.number;
  row.callee_name = callee.name;
  row.callee_aor = callee.aor;
  row.callee_number = callee.number;
}

// An active call's participants (ActiveCall::participants, manifest-shaped JSON).
void ParseParticipants(const json& participants, CallRow& row) {
  row.participants.clear();
  if (!participants.is_array()) {
    row.participants_json = "[]";
    return;
  }
  row.participants_json = participants.dump();
  for (const json& p : participants) {
    ParticipantRow r;
    r.participant_id = Str(p, "id");
    r.name = Str(p, "name");
    r.aor = Str(p, "aor");
    r.number = AorUser(r.aor);
    r.channel = Int(p, "channel");
    row.participants.push_back(std::move(r));
  }
}

void FillSearchText(CallRow& row) {
  std::vector<std::string_view> parts = {row.call_id,     row.sip_call_id, row.siprec_session_id,
                                         row.caller_name, row.caller_aor,  row.callee_name,
                                         row.callee_aor,  row.from_uri,    row.to_uri};
  for (const ParticipantRow& p : row.participants) {
    parts.push_back(p.name);
    parts.push_back(p.aor);
  }
  for (const SnapshotRow& s : row.snapshots) parts.push_back(s.raw);
  row.search_text = BuildSearchText(parts);

  std::vector<std::string_view> numbers = {row.caller_number, row.caller_aor, row.callee_number,
                                           row.callee_aor};
  std::vector<std::string_view> names = {row.caller_name, row.callee_name};
  for (const ParticipantRow& p : row.participants) {
    numbers.push_back(p.number);
    numbers.push_back(p.aor);
    names.push_back(p.name);
  }
  row.numbers_text = ContainsText(numbers);
  row.names_text = ContainsText(names);
}

}  // namespace

Result<CallRow> RowFromManifest(const recording::Manifest& m, const std::string& label) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("ingest: " + label +
                                " is not a callvault manifest: " + std::string(why));
  };
  if (!m.document.is_object()) return bad("not read by recording::ParseManifest (no document)");
  CallRow row;
  row.call_id = m.call_id;
  if (row.call_id.empty() || row.call_id.size() > 128) return bad("no call_id");
  if (!IsFinalState(m.state)) return bad("state is not a final state (call " + m.call_id + ")");
  row.state = m.state;
  row.node_id = m.node_id;
  row.tenant = m.tenant;
  row.end_reason = m.end_reason;
  row.sip_call_id = m.sip_call_id;
  row.siprec_session_id = m.siprec_session_id;
  row.capture_mode = m.capture.mode;
  row.primary_node_id = m.capture.primary_node_id;

  row.finalized = m.times.finalized;
  row.version_ms = m.times.finalized_ms;
  row.answered_ms = m.times.answered_ms;
  row.ended_ms = m.times.ended_ms;
  row.started_ms = m.times.started_ms ? *m.times.started_ms
                   : row.answered_ms  ? *row.answered_ms
                   : row.ended_ms     ? *row.ended_ms
                                      : *row.version_ms;
  row.duration_ms = m.times.duration_ms;

  row.src_address = m.src.address;
  row.from_uri = m.src.from;
  row.to_uri = m.src.to;

  row.audio_file = m.audio.file;
  row.audio_format = m.audio.format;
  row.audio_sha256 = m.audio.sha256;
  row.audio_bytes = m.audio.bytes;

  json participants = json::array();
  for (const recording::Manifest::Participant& p : m.participants) {
    participants.push_back(p.json);
    row.participants.push_back(ParticipantRow{.participant_id = p.id,
                                              .name = p.name,
                                              .aor = p.aor,
                                              .number = AorUser(p.aor),
                                              .channel = p.channel});
  }
  row.participants_json = participants.dump();
  for (const recording::Manifest::Stream& s : m.streams) {
    row.streams.push_back(StreamRow{.stream_id = s.id,
                                    .label = s.label,
                                    .codec = s.codec,
                                    .channel = s.channel,
                                    .mixed = s.mixed,
                                    .packets = s.packets,
                                    .bytes = s.bytes,
                                    .lost = s.lost,
                                    .duplicates = s.duplicates,
                                    .reordered = s.reordered,
                                    .late = s.late,
                                    .bad = s.bad,
                                    .json = s.json.dump()});
  }
  for (const recording::Manifest::Snapshot& s : m.metadata) {
    SnapshotRow r;
    r.at_ms = s.at_ms;
    r.source = s.source;
    r.content_type = s.content_type;
    r.raw = s.raw;
    if (s.well_formed) r.well_formed = *s.well_formed ? 1 : 0;
    row.snapshots.push_back(std::move(r));
  }
  DeriveParties(row);
  FillSearchText(row);
  row.manifest_json = m.document.dump();
  CleanTexts(row);
  return row;
}

Result<CallRow> RowFromActive(const ActiveCall& call) {
  if (call.call_id.empty() || call.call_id.size() > 128) {
    return InvalidArgumentError("active call: call id is empty or longer than 128 bytes");
  }
  CallRow row;
  row.call_id = call.call_id;
  row.node_id = call.node_id;
  row.tenant = call.tenant;
  row.state = CallState::kActive;
  row.sip_call_id = call.sip_call_id;
  row.siprec_session_id = call.siprec_session_id;
  row.started_ms = call.started_ms;
  row.src_address = call.src_address;
  row.from_uri = call.from;
  row.to_uri = call.to;
  ParseParticipants(call.participants, row);
  DeriveParties(row);
  FillSearchText(row);
  CleanTexts(row);
  return row;
}

}  // namespace callvault::catalog::internal

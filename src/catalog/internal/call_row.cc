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

std::optional<int64_t> Time(const json& j, const char* key) {
  const std::string s = Str(j, key);
  return s.empty() ? std::nullopt : ParseRfc3339Ms(s);
}

const json& Member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
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

Result<CallRow> RowFromManifest(const json& m, const std::string& label) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("ingest: " + label +
                                " is not a callvault manifest: " + std::string(why));
  };
  if (!m.is_object()) return bad("not a JSON object");
  if (Str(m, "format") != "callvault-manifest") return bad("format is not callvault-manifest");
  if (Int(m, "version") != 1) return bad("version is not 1");
  CallRow row;
  row.call_id = Str(m, "call_id");
  if (row.call_id.empty() || row.call_id.size() > 128) return bad("no call_id");
  const std::string where = " (call " + row.call_id + ")";
  const std::optional<CallState> state = ParseCallState(Str(m, "state"));
  if (!state || *state == CallState::kActive) return bad("state is not a final state" + where);
  row.state = *state;
  row.node_id = Str(m, "node_id");
  row.tenant = Str(m, "tenant");
  row.end_reason = Str(m, "end_reason");
  row.sip_call_id = Str(m, "sip_call_id");
  row.siprec_session_id = Str(m, "siprec_session_id");

  const json& times = Member(m, "times");
  row.finalized = Str(times, "finalized");
  row.version_ms = ParseRfc3339Ms(row.finalized);
  if (!row.version_ms) return bad("times.finalized is not an RFC 3339 time" + where);
  row.answered_ms = Time(times, "answered");
  row.ended_ms = Time(times, "ended");
  const std::optional<int64_t> started = Time(times, "started");
  row.started_ms = started           ? *started
                   : row.answered_ms ? *row.answered_ms
                   : row.ended_ms    ? *row.ended_ms
                                     : *row.version_ms;
  row.duration_ms = Int(times, "duration_ms").value_or(0);

  const json& src = Member(m, "src");
  row.src_address = Str(src, "address");
  row.from_uri = Str(src, "from");
  row.to_uri = Str(src, "to");

  const json& audio = Member(m, "audio");
  row.audio_file = Str(audio, "file");
  row.audio_format = Str(audio, "format");
  row.audio_sha256 = Str(audio, "sha256");
  row.audio_bytes = Int(audio, "bytes").value_or(0);

  ParseParticipants(Member(m, "participants"), row);
  const json& streams = Member(m, "streams");
  if (streams.is_array()) {
    for (const json& s : streams) {
      StreamRow r;
      r.stream_id = Str(s, "id");
      r.label = Str(s, "label");
      r.codec = Str(s, "codec");
      r.channel = Int(s, "channel");
      r.mixed = s.is_object() && s.value("mixed", false) == true;
      r.packets = Int(s, "packets").value_or(0);
      r.bytes = Int(s, "bytes").value_or(0);
      r.lost = Int(s, "lost").value_or(0);
      r.duplicates = Int(s, "duplicates").value_or(0);
      r.reordered = Int(s, "reordered").value_or(0);
      r.late = Int(s, "late").value_or(0);
      r.bad = Int(s, "bad").value_or(0);
      r.json = s.dump();
      row.streams.push_back(std::move(r));
    }
  }
  const json& metadata = Member(m, "metadata");
  if (metadata.is_array()) {
    for (const json& s : metadata) {
      SnapshotRow r;
      r.at_ms = Time(s, "at");
      r.source = Str(s, "source");
      r.content_type = Str(s, "content_type");
      r.raw = Str(s, "raw");
      const json& wf = Member(s, "well_formed");
      if (wf.is_boolean()) r.well_formed = wf.get<bool>() ? 1 : 0;
      row.snapshots.push_back(std::move(r));
    }
  }
  DeriveParties(row);
  FillSearchText(row);
  row.manifest_json = m.dump();
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
  return row;
}

}  // namespace callvault::catalog::internal

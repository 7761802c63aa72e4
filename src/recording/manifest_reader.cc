#include "recording/manifest_reader.h"

#include <utility>

#include "base/time_format.h"

namespace callvault::recording {
namespace {

using nlohmann::json;

const json& Member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string Str(const json& j, const char* key) {
  const json& v = Member(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

// Any JSON number (a fraction is dropped); nullopt for everything else.
std::optional<int64_t> OptInt(const json& j, const char* key) {
  const json& v = Member(j, key);
  if (!v.is_number()) return std::nullopt;
  if (v.is_number_float()) return static_cast<int64_t>(v.get<double>());
  if (v.is_number_unsigned()) return static_cast<int64_t>(v.get<uint64_t>());
  return v.get<int64_t>();
}

int64_t Int(const json& j, const char* key) { return OptInt(j, key).value_or(0); }

bool Bool(const json& j, const char* key) {
  const json& v = Member(j, key);
  return v.is_boolean() && v.get<bool>();
}

std::optional<int64_t> Time(const json& j, const char* key) {
  const std::string s = Str(j, key);
  return s.empty() ? std::nullopt : ParseRfc3339Ms(s);
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  const json& v = Member(j, key);
  if (!v.is_array()) return out;
  for (const json& e : v)
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

// Each element of the array `key` through `read`; none when it is not an array.
template <typename T, typename Read>
std::vector<T> List(const json& j, const char* key, Read read) {
  std::vector<T> out;
  const json& v = Member(j, key);
  if (!v.is_array()) return out;
  out.reserve(v.size());
  for (const json& e : v) out.push_back(read(e));
  return out;
}

Manifest::Interval ReadInterval(const json& j) {
  return {.at_ms = Int(j, "at_ms"), .duration_ms = Int(j, "duration_ms")};
}

Manifest::Participant ReadParticipant(const json& j) {
  return {.id = Str(j, "id"),
          .name = Str(j, "name"),
          .aor = Str(j, "aor"),
          .channel = OptInt(j, "channel"),
          .association = Str(j, "association"),
          .json = j};
}

Manifest::Stream ReadStream(const json& j) {
  Manifest::Stream s;
  s.id = Str(j, "id");
  s.label = Str(j, "label");
  s.index = Int(j, "index");
  s.channel = OptInt(j, "channel");
  s.mixed = Bool(j, "mixed");
  s.codec = Str(j, "codec");
  s.payload_type = OptInt(j, "payload_type");
  s.clock_rate = OptInt(j, "clock_rate");
  s.srtp = Bool(j, "srtp");
  s.ssrcs = Strings(j, "ssrcs");
  s.ssrcs_truncated = Bool(j, "ssrcs_truncated");
  s.packets = Int(j, "packets");
  s.bytes = Int(j, "bytes");
  s.lost = Int(j, "lost");
  s.duplicates = Int(j, "duplicates");
  s.reordered = Int(j, "reordered");
  s.late = Int(j, "late");
  s.bad = Int(j, "bad");
  s.auth_failed = Int(j, "auth_failed");
  s.unknown_payload = Int(j, "unknown_payload");
  s.receiver_drops = Int(j, "receiver_drops");
  s.ignored_bytes = Int(j, "ignored_bytes");
  s.gaps = List<Manifest::Interval>(j, "gaps", ReadInterval);
  s.gaps_truncated = Bool(j, "gaps_truncated");
  s.dtmf = List<Manifest::Dtmf>(j, "dtmf", [](const json& d) {
    return Manifest::Dtmf{
        .at_ms = Int(d, "at_ms"), .digit = Str(d, "digit"), .duration_ms = Int(d, "duration_ms")};
  });
  s.paused = List<Manifest::Interval>(j, "paused", ReadInterval);
  s.json = j;
  return s;
}

Manifest::Snapshot ReadSnapshot(const json& j) {
  Manifest::Snapshot s;
  s.at_ms = Time(j, "at");
  s.source = Str(j, "source");
  s.content_type = Str(j, "content_type");
  s.raw = Str(j, "raw");
  if (const json& wf = Member(j, "well_formed"); wf.is_boolean()) s.well_formed = wf.get<bool>();
  s.problems = Strings(j, "problems");
  s.json = j;
  return s;
}

}  // namespace

Result<Manifest> ParseManifest(std::string_view text) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::exception& e) {
    return DataLossError("manifest: not JSON: " + std::string(e.what()));
  }
  return ManifestFromJson(std::move(document));
}

Result<Manifest> ManifestFromJson(json document) {
  const json& m = document;
  if (!m.is_object()) return InvalidArgumentError("manifest: not a JSON object");
  if (Str(m, "format") != kManifestFormat) {
    return InvalidArgumentError("manifest: format is " + Member(m, "format").dump() + ", not " +
                                std::string(kManifestFormat));
  }
  const json& version = Member(m, "version");
  const std::string versions = "an integer from 1 to " + std::to_string(kManifestVersion);
  if (!version.is_number_integer()) {
    return InvalidArgumentError("manifest: version is " + version.dump() + ", not " + versions);
  }
  // Parsed text holds non-negative integers as unsigned, values built in C++ as signed.
  const bool newer = version.is_number_unsigned()
                         ? version.get<uint64_t>() > uint64_t{kManifestVersion}
                         : version.get<int64_t>() > int64_t{kManifestVersion};
  if (newer) {
    return FailedPreconditionError("manifest: version " + version.dump() +
                                   " is newer than this build reads (up to " +
                                   std::to_string(kManifestVersion) + ")");
  }
  if (version.get<int64_t>() < 1) {
    return InvalidArgumentError("manifest: version is " + version.dump() + ", not " + versions);
  }
  Manifest out;
  out.version = static_cast<int>(version.get<int64_t>());
  out.call_id = Str(m, "call_id");
  if (out.call_id.empty()) return InvalidArgumentError("manifest: no call_id");
  const std::string where = " (call " + out.call_id + ")";
  const std::optional<CallState> state = ParseCallState(Str(m, "state"));
  if (!state || !IsFinalState(*state)) {
    return InvalidArgumentError("manifest: state " + Member(m, "state").dump() +
                                " is not a final state" + where);
  }
  out.state = *state;
  const json& times = Member(m, "times");
  out.times.finalized = Str(times, "finalized");
  const std::optional<int64_t> finalized = ParseRfc3339Ms(out.times.finalized);
  if (!finalized) {
    return InvalidArgumentError("manifest: times.finalized is not an RFC 3339 time" + where);
  }
  out.times.finalized_ms = *finalized;
  out.times.started_ms = Time(times, "started");
  out.times.answered_ms = Time(times, "answered");
  out.times.ended_ms = Time(times, "ended");
  out.times.duration_ms = Int(times, "duration_ms");

  out.node_id = Str(m, "node_id");
  out.end_reason = Str(m, "end_reason");
  out.sip_call_id = Str(m, "sip_call_id");
  out.siprec_session_id = Str(m, "siprec_session_id");
  out.tenant = Str(m, "tenant");

  const json& src = Member(m, "src");
  out.src.address = Str(src, "address");
  out.src.transport = Str(src, "transport");
  out.src.user_agent = Str(src, "user_agent");
  out.src.from = Str(src, "from");
  out.src.to = Str(src, "to");
  out.src.request_uri = Str(src, "request_uri");
  if (const json& headers = Member(src, "headers"); headers.is_object()) {
    for (const auto& [name, value] : headers.items())
      if (value.is_string()) out.src.headers.emplace(name, value.get<std::string>());
  }

  const json& capture = Member(m, "capture");
  if (std::string mode = Str(capture, "mode"); !mode.empty()) out.capture.mode = std::move(mode);
  out.capture.primary_node_id = Str(capture, "primary_node_id");

  const json& audio = Member(m, "audio");
  out.audio.file = Str(audio, "file");
  out.audio.format = Str(audio, "format");
  out.audio.encoding = Str(audio, "encoding");
  out.audio.sample_rate = Int(audio, "sample_rate");
  out.audio.channels = Int(audio, "channels");
  out.audio.started_ms = Time(audio, "started");
  out.audio.duration_ms = Int(audio, "duration_ms");
  out.audio.bytes = Int(audio, "bytes");
  out.audio.sha256 = Str(audio, "sha256");
  out.audio.location = Str(audio, "location");
  if (const json& enc = Member(audio, "encryption"); !enc.is_null()) {
    const std::string bad = "manifest: audio.encryption ";
    if (!enc.is_object()) return InvalidArgumentError(bad + "is not an object" + where);
    if (out.version < kEncryptedManifestVersion) {
      return InvalidArgumentError(bad + "in a version " + std::to_string(out.version) +
                                  " manifest (needs version 2)" + where);
    }
    Manifest::Audio::Encryption e{.format = Str(enc, "format"),
                                  .version = Int(enc, "version"),
                                  .algorithm = Str(enc, "algorithm"),
                                  .tenant = Str(enc, "tenant"),
                                  .key_id = Str(enc, "key_id"),
                                  .plaintext_bytes = Int(enc, "plaintext_bytes")};
    if (e.format != kEncryptedAudioFormat) {
      return InvalidArgumentError(bad + "format is " + Member(enc, "format").dump() + ", not " +
                                  std::string(kEncryptedAudioFormat) + where);
    }
    if (e.version < 1) return InvalidArgumentError(bad + "has no version" + where);
    if (e.tenant.empty() || e.key_id.empty())
      return InvalidArgumentError(bad + "needs tenant and key_id" + where);
    out.audio.encryption = std::move(e);
  }

  out.participants = List<Manifest::Participant>(m, "participants", ReadParticipant);
  out.streams = List<Manifest::Stream>(m, "streams", ReadStream);
  out.metadata = List<Manifest::Snapshot>(m, "metadata", ReadSnapshot);
  out.warnings = Strings(m, "warnings");
  out.document = std::move(document);
  return out;
}

}  // namespace callvault::recording

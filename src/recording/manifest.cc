#include "recording/manifest.h"

#include <algorithm>
#include <cstdio>

#include "base/time_format.h"
#include "crypto/encrypted_file_format.h"

namespace callvault::recording {
namespace {

int64_t Ms(int64_t ns) { return ns / 1000000; }

std::string Time(int64_t ns) { return FormatRfc3339Ms(NsToMs(ns)); }

nlohmann::json Str(const nlohmann::json& start, const char* key) {
  if (auto it = start.find(key); it != start.end() && it->is_string()) return *it;
  return nullptr;
}

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

nlohmann::json StreamJson(const ManifestStream& ms, const ManifestInputs& in) {
  const StreamInfo& info = *ms.info;
  const StreamStats& st = ms.timeline->stats;
  const int64_t origin = in.audio.origin_ns;
  nlohmann::json j;
  j["id"] = info.id;
  j["label"] = info.label;
  j["index"] = info.index;
  j["channel"] =
      !ms.in_file ? nlohmann::json(nullptr) : nlohmann::json(ms.channel < 0 ? 0 : ms.channel);
  j["mixed"] = ms.channel < 0;
  const int pt = MainPayloadType(info, st);
  if (pt >= 0) {
    const codec::CodecSpec spec = ResolvePayloadType(info, pt);
    j["codec"] = spec.name;
    j["payload_type"] = pt;
    j["clock_rate"] = spec.clock_rate;
  } else {
    j["codec"] = nullptr;
    j["payload_type"] = nullptr;
    j["clock_rate"] = nullptr;
  }
  j["srtp"] = info.srtp;
  j["ssrcs"] = nlohmann::json::array();
  for (size_t i = 0; i < st.ssrcs.size() && i < kMaxListedSsrcs; ++i)
    j["ssrcs"].push_back(Hex32(st.ssrcs[i]));
  if (st.ssrcs.size() > kMaxListedSsrcs) j["ssrcs_truncated"] = true;
  j["packets"] = st.packets;
  j["bytes"] = st.bytes;
  j["lost"] = st.lost;
  j["duplicates"] = st.duplicates;
  j["reordered"] = st.reordered;
  j["late"] = st.late;
  j["bad"] = st.bad;
  j["auth_failed"] = st.auth_failed;
  j["unknown_payload"] = st.unknown_payload;
  j["receiver_drops"] = st.gap_markers;
  j["ignored_bytes"] = ms.ignored_bytes;
  j["not_written"] = st.unwritten;
  // What the disk refused (with its reason and count) first, so the cap never hides it, then the
  // loss filled by the renderer; listed in time order.
  std::vector<nlohmann::json> gaps;
  for (size_t i = 0; i < st.unwritten_spans.size() && i <= kMaxListedGaps; ++i) {
    const UnwrittenSpan& u = st.unwritten_spans[i];
    gaps.push_back({{"at_ms", Ms(u.first_ns - origin)},
                    {"duration_ms", Ms(u.last_ns - u.first_ns)},
                    {"reason", u.reason},
                    {"packets", u.records}});
  }
  for (size_t i = 0; i < st.gaps.size() && gaps.size() <= kMaxListedGaps; ++i)  // one more: cut?
    gaps.push_back(
        {{"at_ms", Ms(st.gaps[i].start_ns - origin)}, {"duration_ms", Ms(st.gaps[i].duration_ns)}});
  const bool truncated = gaps.size() > kMaxListedGaps;
  if (truncated) gaps.resize(kMaxListedGaps);
  std::stable_sort(gaps.begin(), gaps.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["at_ms"].get<int64_t>() < b["at_ms"].get<int64_t>();
  });
  j["gaps"] = nlohmann::json::array();
  for (nlohmann::json& g : gaps) j["gaps"].push_back(std::move(g));
  if (truncated) j["gaps_truncated"] = true;
  j["dtmf"] = nlohmann::json::array();
  for (const DtmfEvent& d : st.dtmf)
    j["dtmf"].push_back({{"at_ms", Ms(d.start_ns - origin)},
                         {"digit", std::string(1, d.digit)},
                         {"duration_ms", d.duration_ms}});
  j["paused"] = nlohmann::json::array();
  for (const PausedInterval& p : in.log->paused)
    if (p.Applies(ms.info->id))
      j["paused"].push_back(
          {{"at_ms", Ms(p.start_ns - origin)}, {"duration_ms", Ms(p.end_ns - p.start_ns)}});
  return j;
}

}  // namespace

int MainPayloadType(const StreamInfo& info, const StreamStats& stats) {
  int best = -1;
  uint64_t best_count = 0;
  for (const auto& [pt, count] : stats.payload_type_packets) {
    if (ClassifyPayload(ResolvePayloadType(info, pt)) != PayloadKind::kAudio) continue;
    if (count > best_count) {
      best = pt;
      best_count = count;
    }
  }
  return best;
}

nlohmann::json BuildManifest(const ManifestInputs& in) {
  const SessionLog& log = *in.log;
  const nlohmann::json start = log.start.value_or(nlohmann::json::object());
  nlohmann::json m;
  m["format"] = kManifestFormat;
  m["version"] = in.audio.encryption ? kEncryptedManifestVersion : kPlainManifestVersion;
  m["call_id"] = in.call_id;
  m["node_id"] = in.node_id.empty() ? Str(start, "node_id") : nlohmann::json(in.node_id);
  m["state"] = CallStateName(in.state);
  m["end_reason"] = in.end_reason;
  m["sip_call_id"] = Str(start, "sip_call_id");
  if (!in.siprec_session_id.empty())
    m["siprec_session_id"] = in.siprec_session_id;
  else if (!log.siprec_session_id.empty())
    m["siprec_session_id"] = log.siprec_session_id;
  else
    m["siprec_session_id"] = Str(start, "siprec_session_id");
  m["tenant"] = in.tenant.empty() ? nlohmann::json(nullptr) : nlohmann::json(in.tenant);
  const int64_t answered = log.first_answer_ns > 0 ? log.first_answer_ns : log.start_ns;
  m["times"] = {
      {"started", log.start_ns > 0 ? nlohmann::json(Time(log.start_ns)) : nlohmann::json(nullptr)},
      {"answered", answered > 0 ? nlohmann::json(Time(answered)) : nlohmann::json(nullptr)},
      {"ended", in.ended_ns > 0 ? nlohmann::json(Time(in.ended_ns)) : nlohmann::json(nullptr)},
      {"duration_ms", answered > 0 && in.ended_ns > answered ? Ms(in.ended_ns - answered) : 0},
      {"finalized", Time(in.finalized_ns)}};
  nlohmann::json headers = nlohmann::json::object();
  if (auto it = start.find("headers"); it != start.end() && it->is_object()) headers = *it;
  m["src"] = {{"address", Str(start, "src")},
              {"transport", Str(start, "transport")},
              {"user_agent", Str(start, "user_agent")},
              {"from", Str(start, "from")},
              {"to", Str(start, "to")},
              {"request_uri", Str(start, "request_uri")},
              {"headers", headers}};
  // Active: this node answered the SRC; passive: recorded from captured traffic that another
  // node (the primary) answered.
  const nlohmann::json capture = Str(start, "capture");
  m["capture"] = {{"mode", capture.is_string() ? capture : nlohmann::json("active")}};
  if (const nlohmann::json primary = Str(start, "primary_node_id"); primary.is_string())
    m["capture"]["primary_node_id"] = primary;
  const ManifestAudio& a = in.audio;
  m["audio"] = {
      {"file", a.file},
      {"format", a.format},
      {"encoding", a.encoding},
      {"sample_rate", a.sample_rate},
      {"channels", a.channels},
      {"started", a.origin_ns > 0 ? nlohmann::json(Time(a.origin_ns)) : nlohmann::json(nullptr)},
      {"duration_ms", a.duration_ms},
      {"bytes", a.bytes},
      {"sha256", a.sha256}};
  if (a.encryption) {
    m["audio"]["encryption"] = {{"format", kEncryptedAudioFormat},
                                {"version", crypto::kEncryptedFormatVersion},
                                {"algorithm", kEncryptionAlgorithmName},
                                {"tenant", a.encryption->tenant},
                                {"key_id", a.encryption->key_id},
                                {"plaintext_bytes", a.encryption->plaintext_bytes}};
  }
  m["participants"] = in.participants.value_or(nlohmann::json::array());
  m["streams"] = nlohmann::json::array();
  for (const ManifestStream& s : in.streams) m["streams"].push_back(StreamJson(s, in));
  if (in.metadata_snapshots) {
    m["metadata"] = *in.metadata_snapshots;
  } else {
    m["metadata"] = nlohmann::json::array();
    for (const MetadataSnapshot& md : log.metadata)
      m["metadata"].push_back({{"at", md.at},
                               {"source", md.source},
                               {"content_type", md.content_type},
                               {"raw", md.raw}});
  }
  m["warnings"] = in.warnings;
  return m;
}

}  // namespace callvault::recording

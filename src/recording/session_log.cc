#include "recording/session_log.h"

#include <cctype>
#include <cstdio>
#include <map>

#include "base/time_format.h"

namespace callvault::recording {
namespace {

std::string GetString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int GetInt(const nlohmann::json& j, const char* key, int fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_number_integer()) return it->get<int>();
  if (it->is_string()) {
    try {
      return std::stoi(it->get<std::string>());
    } catch (...) {
      return fallback;
    }
  }
  return fallback;
}

void MergeStream(const nlohmann::json& j, SessionLog* log) {
  std::string id = GetString(j, "stream");
  if (id.empty()) {
    ++log->bad_lines;
    return;
  }
  StreamInfo* info = nullptr;
  for (StreamInfo& s : log->streams)
    if (s.id == id) info = &s;
  if (info == nullptr) {
    log->streams.push_back(StreamInfo{.id = id});
    info = &log->streams.back();
  }
  info->index = GetInt(j, "index", info->index);
  if (j.contains("label")) info->label = GetString(j, "label");
  info->local_port = GetInt(j, "local_port", info->local_port);
  if (j.contains("direction")) info->direction = GetString(j, "direction");
  if (auto it = j.find("srtp"); it != j.end() && it->is_boolean()) info->srtp = it->get<bool>();
  auto pts = j.find("payload_types");
  if (pts == j.end() || !pts->is_object()) return;
  for (const auto& [key, value] : pts->items()) {
    int pt = -1;
    try {
      pt = std::stoi(key);
    } catch (...) {
    }
    if (pt < 0 || pt > 127 || !value.is_object()) continue;
    codec::CodecSpec spec;
    spec.name = GetString(value, "name");
    spec.clock_rate = GetInt(value, "rate", 8000);
    spec.channels = GetInt(value, "channels", 1);
    spec.fmtp = GetString(value, "fmtp");
    if (spec.clock_rate <= 0) spec.clock_rate = 8000;
    if (spec.channels <= 0) spec.channels = 1;
    info->payload_types[pt] = std::move(spec);
  }
}

}  // namespace

SessionLog ParseSessionLog(std::string_view text) {
  SessionLog log;
  std::map<std::string, int64_t> paused_since;  // stream id ("" = call-wide) → since
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      log.torn_tail = true;  // spool.md: a last line without '\n' is ignored
      break;
    }
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty() || line == "\r") continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("t")) {
      ++log.bad_lines;
      continue;
    }
    const std::string type = GetString(j, "t");
    const int64_t at = ParseRfc3339Ns(GetString(j, "at")).value_or(0);
    if (at > log.last_event_ns) log.last_event_ns = at;
    if (type == "start") {
      if (!log.start) {
        log.start = j;
        log.start_ns = at;
      }
    } else if (type == "sdp") {
      if (log.first_answer_ns == 0 && !GetString(j, "answer").empty()) log.first_answer_ns = at;
    } else if (type == "metadata") {
      log.metadata.push_back(MetadataSnapshot{.at = GetString(j, "at"),
                                              .source = GetString(j, "source"),
                                              .content_type = GetString(j, "content_type"),
                                              .raw = GetString(j, "raw")});
    } else if (type == "stream") {
      MergeStream(j, &log);
    } else if (type == "state") {
      const std::string state = GetString(j, "state");
      const std::string stream = GetString(j, "stream");
      auto open = paused_since.find(stream);
      if (state == "paused" && open == paused_since.end()) {
        paused_since[stream] = at;
      } else if (state == "resumed" && open != paused_since.end()) {
        log.paused.push_back(PausedInterval{open->second, at, stream});
        paused_since.erase(open);
      }
    } else if (type == "participants") {
      // The latest one stands in for the `end` line's fields when the call crashed.
      if (auto p = j.find("participants"); p != j.end() && p->is_array())
        log.last_participants = *p;
      log.last_stream_channels.clear();
      if (auto sc = j.find("stream_channels"); sc != j.end() && sc->is_object())
        for (const auto& [stream, channel] : sc->items())
          if (channel.is_number_integer()) log.last_stream_channels[stream] = channel.get<int>();
      log.last_siprec_session_id = GetString(j, "siprec_session_id");
    } else if (type == "end") {
      if (!log.has_end) {
        log.has_end = true;
        log.end_reason = GetString(j, "reason");
        log.siprec_session_id = GetString(j, "siprec_session_id");
        if (auto w = j.find("warnings"); w != j.end() && w->is_array())
          for (const auto& item : *w)
            if (item.is_string()) log.end_warnings.push_back(item.get<std::string>());
        log.end_state = GetString(j, "state");
        if (auto p = j.find("participants"); p != j.end() && p->is_array())
          log.end_participants = *p;
        if (auto m = j.find("metadata"); m != j.end() && m->is_array()) log.end_metadata = *m;
        if (auto sc = j.find("stream_channels"); sc != j.end() && sc->is_object())
          for (const auto& [stream, channel] : sc->items())
            if (channel.is_number_integer()) log.end_stream_channels[stream] = channel.get<int>();
        log.end_ns = at;
      }
    }
    // Unknown types are ignored (forward compatibility).
  }
  if (!log.has_end) {  // crashed: what the last `participants` line said
    if (log.last_participants) log.end_participants = log.last_participants;
    if (log.end_stream_channels.empty()) log.end_stream_channels = log.last_stream_channels;
    if (log.siprec_session_id.empty()) log.siprec_session_id = log.last_siprec_session_id;
  }
  const int64_t end = log.has_end ? log.end_ns : log.last_event_ns;
  for (const auto& [stream, since] : paused_since)
    log.paused.push_back(PausedInterval{since, std::max(end, since), stream, /*until_end=*/true});
  return log;
}

}  // namespace callvault::recording

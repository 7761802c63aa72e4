// GET /api/v1/calls/{id}/audio: the recording, streamed from the RecordingStore with Range
// support (range.h). Encrypted recordings are decrypted by the store the server was given
// (storage::DecryptingRecordingStore): sizes and ranges here are of the plaintext.
// Played (`Content-Disposition: inline`) or, with ?download=1, downloaded (`attachment`):
// audited as call.play / call.download once per user and call per 10 minutes (not per Range
// request), before the first byte is sent — a recording is not served unaudited.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>

#include "base/log.h"
#include "http/api_util.h"
#include "http/query.h"
#include "http/range.h"
#include "http/response.h"
#include "storage/decrypting_recording_store.h"
#include "waveform/cache.h"

namespace callvault::http {
namespace {

constexpr size_t kChunk = 64 * 1024;

// The answer for a store that could not open call `id`'s audio.
void WriteOpenError(const std::string& id, const storage::RecordingRef& ref, const Status& status,
                    httplib::Response& res) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return WriteError(res, 404, "audio_not_found", "the audio file is not on this node");
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kPermissionDenied:  // the store refused our credentials
      CV_LOG_WARN("http.audio_unavailable", "call={} location=\"{}\" error=\"{}\"", id,
                  ref.location, status.ToString());
      return WriteError(res, 503, "storage_unavailable",
                        "the recording's storage cannot be read now; try again later");
    case StatusCode::kInvalidArgument:  // a path the store refuses (outside its directory)
      CV_LOG_WARN("http.audio_path", "call={} status=\"{}\"", id, status.ToString());
      return WriteError(res, 404, "audio_not_found", "the audio file is not available here");
    case StatusCode::kDataLoss:  // encrypted audio that fails its checks (counted by the store)
      CV_LOG_ERROR("http.audio_corrupt", "call={} error=\"{}\"", id, status.ToString());
      return WriteError(res, 500, "audio_corrupt",
                        "the stored recording failed its integrity check");
    case StatusCode::kFailedPrecondition:
      if (storage::IsKeyDestroyed(status)) {  // crypto-shredded: gone for good
        CV_LOG_INFO("http.audio_key_destroyed", "call={}", id);
        return WriteError(res, 410, "key_destroyed",
                          "the recording's tenant key was destroyed; it cannot be played");
      }
      CV_LOG_ERROR("http.audio_key_unavailable", "call={} error=\"{}\"", id, status.ToString());
      return WriteError(res, 500, "key_unavailable",
                        "the recording is encrypted and its key is not available on this node");
    default:
      return WriteStatusError(res, status);
  }
}

// The pre-checks of a request for a call's audio: the call is visible to the caller, ended, and
// has an audio file this node can reach; else the error is written and nullopt returned.
std::optional<catalog::CallDetail> LoadEndedCallWithAudio(Api& api, const RequestContext& ctx,
                                                          httplib::Response& res) {
  const std::string& id = ctx.params[0];
  std::optional<catalog::CallDetail> call = LoadVisibleCall(api, ctx, id, res);
  if (!call) return std::nullopt;
  if (call->summary.state == CallState::kActive) {
    WriteError(res, 409, "call_active",
               "the call is still recording; its audio exists once it has ended");
    return std::nullopt;
  }
  if (call->audio_file.empty()) {
    WriteError(res, 404, "audio_not_found", "the call has no audio file");
    return std::nullopt;
  }
  if (api.recordings == nullptr) {
    CV_LOG_WARN("http.audio_path", "call={} status=\"FailedPrecondition: no recording store\"", id);
    WriteError(res, 404, "audio_not_found", "the audio file is not available here");
    return std::nullopt;
  }
  return call;
}

// Audits the play or download of `call` by the caller unless it was audited within the
// window; false (the error written) when the entry cannot be written.
bool AuditListening(Api& api, const RequestContext& ctx, const catalog::CallDetail& call,
                    bool download, const std::string& range, httplib::Response& res) {
  const std::string action = download ? "call.download" : "call.play";
  const std::string key =
      action + "\n" + ctx.principal->user.username + "\n" + call.summary.call_id;
  const auto now = api.clock->Now();
  if (api.audit_dedupe != nullptr && !api.audit_dedupe->Claim(key, now)) return true;
  nlohmann::json detail = {{"format", call.summary.audio_format}, {"auth", ctx.principal->method}};
  if (!range.empty()) detail["range"] = range.substr(0, 128);
  Status s = ctx.TryAudit(api, action, call.summary.call_id, call.summary.tenant, detail);
  if (s.ok()) return true;
  if (api.audit_dedupe != nullptr) api.audit_dedupe->Release(key, now);
  res.set_header("Retry-After", "2");
  WriteError(res, 503, "audit_unavailable",
             "the audit log cannot be written now, so the recording is not served; try again");
  return false;
}

}  // namespace

void HandleGetAudio(Api& api, const RequestContext& ctx, const httplib::Request& req,
                    httplib::Response& res) {
  const std::string& id = ctx.params[0];
  if (Status s = CheckParamNames(req.params, {"download"}); !s.ok()) {
    return WriteError(res, 400, "invalid_parameter", s.message());
  }
  const std::string download_param = req.get_param_value("download");
  if (req.has_param("download") && download_param != "1" && download_param != "0" &&
      download_param != "true" && download_param != "false") {
    return WriteError(res, 400, "invalid_parameter", "download: 1 or 0");
  }
  const bool download = download_param == "1" || download_param == "true";
  std::optional<catalog::CallDetail> call = LoadEndedCallWithAudio(api, ctx, res);
  if (!call) return;
  const storage::RecordingRef ref = RecordingRefOf(*call);
  Result<std::unique_ptr<storage::AudioReader>> opened = api.recordings->OpenAudio(ref);
  if (!opened.ok()) {
    return WriteOpenError(id, ref, opened.status(), res);
  }
  std::shared_ptr<storage::AudioReader> file = std::move(opened).value();
  const uint64_t size = file->size();

  const bool opus = call->summary.audio_format == "opus";
  const std::string type = opus ? "audio/ogg" : "audio/wav";
  const std::string etag = file->etag();
  res.set_header("Accept-Ranges", "bytes");
  res.set_header("Content-Disposition", std::string(download ? "attachment" : "inline") +
                                            "; filename=\"" + id + (opus ? ".opus" : ".wav") +
                                            "\"");
  if (!etag.empty()) {
    res.set_header("ETag", etag);
    const std::string none_match = req.get_header_value("If-None-Match");
    if (none_match == "*" || none_match.find(etag) != std::string::npos) {
      res.status = 304;
      return;
    }
  }
  // If-Range (RFC 9110 §13.1.5): the range applies only to the representation the client has.
  std::string range_header = req.get_header_value("Range");
  if (req.has_header("If-Range") && (etag.empty() || req.get_header_value("If-Range") != etag)) {
    range_header.clear();
  }
  const RangeDecision range = ResolveRange(range_header, size);
  if (range.kind == RangeDecision::Kind::kNotSatisfiable) {
    res.set_header("Content-Range", ContentRange(range, size));
    return WriteError(
        res, 416, "range_not_satisfiable",
        "no requested range starts inside the " + std::to_string(size) + "-byte file");
  }
  // The first chunk is read before the status line is committed: a store that fails now (S3
  // down) is a 503 with a JSON error, never a 200 cut short.
  auto first = std::make_shared<std::string>();
  if (range.length > 0) {
    first->resize(std::min<uint64_t>(range.length, kChunk));
    Result<size_t> n = file->Read(range.start, first->size(), first->data());
    if (!n.ok() || *n == 0) {
      CV_LOG_WARN("http.audio_read_failed", "call={} offset={} location=\"{}\" error=\"{}\"", id,
                  range.start, ref.location, n.ok() ? "end of file" : n.status().ToString());
      if (!n.ok() && n.status().code() == StatusCode::kDataLoss) {
        return WriteError(res, 500, "audio_corrupt",
                          "the stored recording failed its integrity check");
      }
      return WriteError(res, 503, "storage_unavailable",
                        "the recording's storage cannot be read now; try again later");
    }
    first->resize(*n);
  }
  if (req.method != "HEAD" &&
      !AuditListening(api, ctx, *call, download, req.get_header_value("Range"), res)) {
    return;
  }
  if (range.kind == RangeDecision::Kind::kPartial) {
    res.status = 206;
    res.set_header("Content-Range", ContentRange(range, size));
  } else {
    res.status = 200;
  }
  if (range.length == 0) {  // an empty file: httplib's providers need a length > 0
    res.set_content("", type);
    return;
  }
  res.set_content_provider(
      range.length, type,
      [file, first, start = range.start, call_id = id](size_t offset, size_t length,
                                                       httplib::DataSink& sink) {
        if (offset < first->size()) {  // the prefetched first chunk
          return sink.write(first->data() + offset, std::min(length, first->size() - offset));
        }
        char buf[kChunk];
        Result<size_t> n = file->Read(start + offset, std::min(length, sizeof(buf)), buf);
        if (!n.ok() || *n == 0) {  // shrunk or unreadable: end the connection, never send short
          CV_LOG_WARN("http.audio_read_failed", "call={} offset={} error=\"{}\"", call_id,
                      start + offset, n.ok() ? "end of file" : n.status().ToString());
          return false;
        }
        return sink.write(buf, *n);
      });
}

}  // namespace callvault::http

namespace callvault::http {

void HandleGetWaveform(Api& api, const RequestContext& ctx, const httplib::Request& req,
                       httplib::Response& res) {
  const std::string& id = ctx.params[0];
  int points = 1000;
  if (req.has_param("points")) {
    const std::string text = req.get_param_value("points");
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v < waveform::kMinPoints || v > waveform::kMaxPoints) {
      return WriteError(res, 400, "bad_request",
                        "points must be an integer from " + std::to_string(waveform::kMinPoints) +
                            " to " + std::to_string(waveform::kMaxPoints));
    }
    points = static_cast<int>(v);
  }
  std::optional<catalog::CallDetail> call = LoadEndedCallWithAudio(api, ctx, res);
  if (!call) return;
  if (api.waveforms == nullptr) {
    return WriteError(res, 503, "waveform_unavailable", "waveforms are not computed on this node");
  }
  const storage::RecordingRef ref = RecordingRefOf(*call);
  Status open_error = Status::Ok();
  Result<std::shared_ptr<const waveform::Peaks>> peaks = api.waveforms->Get(
      call->audio_sha256, points, [&]() -> Result<std::unique_ptr<storage::AudioReader>> {
        Result<std::unique_ptr<storage::AudioReader>> r = api.recordings->OpenAudio(ref);
        if (!r.ok()) open_error = r.status();
        return r;
      });
  if (!open_error.ok()) return WriteOpenError(id, ref, open_error, res);
  if (!peaks.ok()) {
    if (peaks.status().code() == StatusCode::kUnavailable) {
      res.set_header("Retry-After", "2");
      return WriteError(res, 503, "waveform_busy", std::string(peaks.status().message()));
    }
    CV_LOG_ERROR("http.waveform_failed", "call={} location=\"{}\" error=\"{}\"", id, ref.location,
                 peaks.status().ToString());
    return WriteError(res, 500, "waveform_failed",
                      "the recording's audio could not be read to draw its waveform");
  }
  const waveform::Peaks& p = **peaks;
  auto rounded = [](const std::vector<float>& v) {
    nlohmann::json out = nlohmann::json::array();
    for (float x : v) out.push_back(std::round(static_cast<double>(x) * 10000.0) / 10000.0);
    return out;
  };
  nlohmann::json channels = nlohmann::json::array();
  for (int c = 0; c < p.channels; ++c) {
    channels.push_back({{"channel", c}, {"min", rounded(p.min[c])}, {"max", rounded(p.max[c])}});
  }
  const int64_t duration_ms = p.sample_rate > 0 ? p.frames * 1000 / p.sample_rate : 0;
  if (!call->audio_sha256.empty()) {
    res.set_header("ETag", "\"" + call->audio_sha256 + "-w" + std::to_string(points) + "\"");
  }
  WriteJson(res, 200,
            {{"call_id", id},
             {"points", p.points},
             {"sample_rate", p.sample_rate},
             {"frames", p.frames},
             {"duration_ms", duration_ms},
             {"channels", std::move(channels)}});
}

}  // namespace callvault::http

// GET /api/v1/calls/{id}/audio: the recording, streamed from the RecordingStore with Range
// support (range.h). Encrypted recordings are decrypted by the store the server was given
// (storage::DecryptingRecordingStore): sizes and ranges here are of the plaintext.
#include <algorithm>
#include <memory>
#include <string>

#include "base/log.h"
#include "http/api_util.h"
#include "http/range.h"
#include "http/response.h"
#include "storage/decrypting_recording_store.h"

namespace callvault::http {
namespace {

constexpr size_t kChunk = 64 * 1024;

}  // namespace

void HandleGetAudio(Api& api, const RequestContext& ctx, const httplib::Request& req,
                    httplib::Response& res) {
  const std::string& id = ctx.params[0];
  std::optional<catalog::CallDetail> call = LoadVisibleCall(api, ctx, id, res);
  if (!call) return;
  if (call->summary.state == CallState::kActive) {
    return WriteError(res, 409, "call_active",
                      "the call is still recording; its audio exists once it has ended");
  }
  if (call->audio_file.empty()) {
    return WriteError(res, 404, "audio_not_found", "the call has no audio file");
  }
  if (api.recordings == nullptr) {
    CV_LOG_WARN("http.audio_path", "call={} status=\"FailedPrecondition: no recording store\"", id);
    return WriteError(res, 404, "audio_not_found", "the audio file is not available here");
  }
  const storage::RecordingRef ref = RecordingRefOf(*call);
  Result<std::unique_ptr<storage::AudioReader>> opened = api.recordings->OpenAudio(ref);
  if (!opened.ok()) {
    switch (opened.status().code()) {
      case StatusCode::kNotFound:
        return WriteError(res, 404, "audio_not_found", "the audio file is not on this node");
      case StatusCode::kUnavailable:
      case StatusCode::kDeadlineExceeded:
      case StatusCode::kPermissionDenied:  // the store refused our credentials
        CV_LOG_WARN("http.audio_unavailable", "call={} location=\"{}\" error=\"{}\"", id,
                    ref.location, opened.status().ToString());
        return WriteError(res, 503, "storage_unavailable",
                          "the recording's storage cannot be read now; try again later");
      case StatusCode::kInvalidArgument:  // a path the store refuses (outside its directory)
        CV_LOG_WARN("http.audio_path", "call={} status=\"{}\"", id, opened.status().ToString());
        return WriteError(res, 404, "audio_not_found", "the audio file is not available here");
      case StatusCode::kDataLoss:  // encrypted audio that fails its checks (counted by the store)
        CV_LOG_ERROR("http.audio_corrupt", "call={} error=\"{}\"", id, opened.status().ToString());
        return WriteError(res, 500, "audio_corrupt",
                          "the stored recording failed its integrity check");
      case StatusCode::kFailedPrecondition:
        if (storage::IsKeyDestroyed(opened.status())) {  // crypto-shredded: gone for good
          CV_LOG_INFO("http.audio_key_destroyed", "call={}", id);
          return WriteError(res, 410, "key_destroyed",
                            "the recording's tenant key was destroyed; it cannot be played");
        }
        CV_LOG_ERROR("http.audio_key_unavailable", "call={} error=\"{}\"", id,
                     opened.status().ToString());
        return WriteError(res, 500, "key_unavailable",
                          "the recording is encrypted and its key is not available on this node");
      default:
        return WriteStatusError(res, opened.status());
    }
  }
  std::shared_ptr<storage::AudioReader> file = std::move(opened).value();
  const uint64_t size = file->size();

  const bool opus = call->summary.audio_format == "opus";
  const std::string type = opus ? "audio/ogg" : "audio/wav";
  const std::string etag = file->etag();
  res.set_header("Accept-Ranges", "bytes");
  res.set_header("Content-Disposition",
                 "attachment; filename=\"" + id + (opus ? ".opus" : ".wav") + "\"");
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

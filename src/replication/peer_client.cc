#include "replication/peer_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <mutex>

namespace callvault::replication {
namespace {

// `text` percent-encoded for a query parameter.
std::string Escape(const std::string& text) {
  char* escaped = curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size()));
  std::string out = escaped ? escaped : "";
  curl_free(escaped);
  return out;
}

constexpr size_t kMaxAnswer = 64 << 20;  // JSON answers (change batches) larger than this: error
// Small enough that a cut transfer re-sends little of what curl had buffered.
constexpr size_t kUploadBuffer = 64 << 10;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > kMaxAnswer) return 0;  // curl: write error
  out->append(data, size * n);
  return size * n;
}

// The body of an upload: file bytes [next, end), read in curl's buffer-sized pieces.
struct Source {
  const RandomAccessFile* file = nullptr;
  uint64_t next = 0, end = 0;
  uint64_t sent = 0;
  Status error = Status::Ok();
};

size_t OnRead(char* buf, size_t size, size_t n, void* user) {
  auto* src = static_cast<Source*>(user);
  const size_t want = static_cast<size_t>(std::min<uint64_t>(size * n, src->end - src->next));
  if (want == 0) return 0;
  Result<size_t> got = src->file->Read(src->next, want, buf);
  if (!got.ok() || *got == 0) {
    src->error = got.ok() ? DataLossError("the file ended early") : got.status();
    return CURL_READFUNC_ABORT;
  }
  src->next += *got;
  src->sent += *got;
  return *got;
}

std::string ErrorMessage(const nlohmann::json& j) {
  if (j.is_object() && j.contains("error") && j["error"].is_object())
    return j["error"].value("code", "") + ": " + j["error"].value("message", "");
  return "";
}

}  // namespace

struct PeerClient::Request {
  std::string method = "GET";
  std::string path;
  std::string body;          // POST
  Source* source = nullptr;  // PUT
  bool transfer = false;     // an audio transfer: no overall timeout, stall detection instead
  bool commit = false;       // commit_timeout instead of request_timeout
};

PeerClient::PeerClient(PeerClientOptions options) : options_(std::move(options)) { GlobalInit(); }

PeerClient::~PeerClient() {
  MutexLock lock(&mu_);
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* PeerClient::TakeHandle() {
  {
    MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void PeerClient::ReturnHandle(void* h) {
  MutexLock lock(&mu_);
  idle_.push_back(h);
}

Result<PeerClient::Response> PeerClient::Perform(Request& req) {
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (curl == nullptr) return InternalError("curl_easy_init failed");
  curl_easy_reset(curl);
  Response resp;
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string url = options_.url + req.path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_SSLCERT, options_.tls.cert_file.c_str());
  curl_easy_setopt(curl, CURLOPT_SSLKEY, options_.tls.key_file.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, options_.tls.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count() * 1000));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp.body);
  struct curl_slist* headers = nullptr;
  const std::string node = "X-Callvault-Node: " + options_.node_id;
  const std::string instance = "X-Callvault-Instance: " + options_.instance_id;
  headers = curl_slist_append(headers, node.c_str());
  headers = curl_slist_append(headers, instance.c_str());
  headers = curl_slist_append(headers, "Expect:");
  if (req.transfer) {
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options_.stall_bytes_per_s));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall_time.count()));
    if (options_.max_bytes_per_s > 0)
      curl_easy_setopt(curl, CURLOPT_MAX_SEND_SPEED_LARGE,
                       static_cast<curl_off_t>(options_.max_bytes_per_s));
  } else {
    const auto timeout = req.commit ? options_.commit_timeout : options_.request_timeout;
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count() * 1000));
  }
  if (req.method == "PUT") {
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, req.source);
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, static_cast<long>(kUploadBuffer));
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(req.source->end - req.source->next));
  } else if (req.method == "POST") {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    curl_easy_cleanup(curl);  // its connection may be in any state
    const std::string what = fmt::format("peer {} {} {}: {}", options_.peer_id, req.method,
                                         req.path, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    if (req.source && !req.source->error.ok()) return req.source->error.Annotate(what);
    if (rc == CURLE_OPERATION_TIMEDOUT && req.transfer)
      return DeadlineExceededError(what + " (stalled)");
    return UnavailableError(what);
  }
  ReturnHandle(curl);
  return resp;
}

Status PeerClient::FromResponse(const Response& r, std::string_view what, uint64_t* peer_offset) {
  if (r.status >= 200 && r.status < 300) return Status::Ok();
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  std::string detail = ErrorMessage(j);
  if (detail.empty()) detail = r.body.substr(0, 200);
  const std::string msg =
      fmt::format("peer {} {}: HTTP {} {}", options_.peer_id, what, r.status, detail);
  switch (r.status) {
    case 409:
      if (peer_offset && j.is_object() && j.contains("offset") && j["offset"].is_number_unsigned())
        *peer_offset = j["offset"].get<uint64_t>();
      return FailedPreconditionError(msg);
    case 422:
      return DataLossError(msg);
    case 507:
      return ResourceExhaustedError(msg);
    case 401:
    case 403:
      return PermissionDeniedError(msg);
    case 400:
    case 404:
    case 413:
      return InvalidArgumentError(msg);
    default:
      return UnavailableError(msg);
  }
}

Result<nlohmann::json> PeerClient::GetJson(const std::string& path_and_query) {
  Request req{.method = "GET", .path = path_and_query};
  CV_ASSIGN_OR_RETURN(Response r, Perform(req));
  CV_RETURN_IF_ERROR(FromResponse(r, "GET " + path_and_query));
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return UnavailableError(fmt::format("peer {} GET {}: the answer is not a JSON object",
                                        options_.peer_id, path_and_query));
  return j;
}

Result<nlohmann::json> PeerClient::Hello() {
  CV_ASSIGN_OR_RETURN(nlohmann::json j, GetJson(std::string(kPathPrefix) + "/hello"));
  const std::string node = j.value("node_id", "");
  if (node != options_.peer_id)
    return FailedPreconditionError(
        fmt::format("peer {} at {} says it is node \"{}\": check cluster.peers", options_.peer_id,
                    options_.url, node));
  if (!options_.instance_id.empty() && j.value("instance_id", "") == options_.instance_id)
    return FailedPreconditionError(
        fmt::format("peer {} runs on a copy of this node's data directory (same instance id)",
                    options_.peer_id));
  return j;
}

Result<CallStatus> PeerClient::Lookup(const std::string& call_id, const std::string& origin,
                                      const std::string& audio_file) {
  std::string path = fmt::format("{}/calls/{}?origin={}", kPathPrefix, call_id, origin);
  if (!audio_file.empty()) path += "&file=" + Escape(audio_file);
  CV_ASSIGN_OR_RETURN(nlohmann::json j, GetJson(path));
  CallStatus st;
  CV_ASSIGN_OR_RETURN(st.presence, ParsePresence(j.value("presence", "")));
  if (j.contains("offset") && j["offset"].is_number_unsigned())
    st.offset = j["offset"].get<uint64_t>();
  return st;
}

Status PeerClient::PutAudio(const std::string& call_id, const RandomAccessFile& file,
                            uint64_t offset, uint64_t total, uint64_t* sent,
                            uint64_t* peer_offset) {
  Source src{.file = &file, .next = offset, .end = total};
  Request req{.method = "PUT",
              .path = fmt::format("{}/calls/{}/audio?offset={}&total={}", kPathPrefix, call_id,
                                  offset, total),
              .source = &src,
              .transfer = true};
  Result<Response> r = Perform(req);
  *sent = src.sent;
  if (!r.ok()) return r.status();
  return FromResponse(*r, "PUT audio of " + call_id, peer_offset);
}

Result<PeerClient::Committed> PeerClient::Commit(const std::string& call_id,
                                                 const std::string& manifest_text,
                                                 const std::string& location) {
  std::string path = fmt::format("{}/calls/{}/commit", kPathPrefix, call_id);
  if (!location.empty()) path += "?location=" + Escape(location);
  Request req{.method = "POST",
              .path = std::move(path),
              .body = manifest_text,
              .commit = true};
  CV_ASSIGN_OR_RETURN(Response r, Perform(req));
  CV_RETURN_IF_ERROR(FromResponse(r, "commit of " + call_id));
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object())
    return UnavailableError("peer " + options_.peer_id + ": commit answer is not JSON");
  Committed c;
  CV_ASSIGN_OR_RETURN(c.presence, ParsePresence(j.value("presence", "")));
  c.audio_file = j.value("audio_file", "");
  return c;
}

}  // namespace callvault::replication

#include "replication/peer_server.h"

#include <httplib.h>
#include <openssl/ssl.h>

#include <charconv>

#include "base/log.h"
#include "base/thread_name.h"

namespace callvault::replication {
namespace {

constexpr char kJson[] = "application/json";

void Error(httplib::Response& res, int status, std::string_view code, std::string_view message,
           nlohmann::json extra = nlohmann::json::object()) {
  extra["error"] = {{"code", code}, {"message", message}};
  res.status = status;
  res.set_content(extra.dump(), kJson);
}

void Json(httplib::Response& res, const nlohmann::json& body) {
  res.status = 200;
  res.set_content(body.dump(), kJson);
}

// The HTTP answer for a receiver error.
void FromStatus(httplib::Response& res, const Status& s) {
  const std::string msg(s.message());
  auto code_of = [&](std::string_view fallback) {
    const size_t colon = msg.find(':');
    return colon != std::string::npos && colon < 32 ? msg.substr(0, colon) : std::string(fallback);
  };
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return Error(res, 400, "bad_request", msg);
    case StatusCode::kDataLoss:
      return Error(res, 422, code_of("audio_mismatch"), msg);
    case StatusCode::kResourceExhausted:
      return Error(res, 507, "insufficient_storage", msg);
    case StatusCode::kAborted:
      return Error(res, 409, "busy", msg);
    case StatusCode::kFailedPrecondition:
      return Error(res, 409, code_of("conflict"), msg);
    case StatusCode::kUnavailable:
      return Error(res, 503, "unavailable", msg);
    default:
      return Error(res, 500, "internal", msg);
  }
}

bool ParseU64(const std::string& text, uint64_t* out) {
  if (text.empty()) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

// Reads a JSON/text body through the content reader, at most `limit` bytes.
bool ReadBody(const httplib::ContentReader& reader, size_t limit, std::string* out) {
  bool ok = true;
  reader([&](const char* data, size_t n) {
    if (out->size() + n > limit) {
      ok = false;
      return false;
    }
    out->append(data, n);
    return true;
  });
  return ok;
}

}  // namespace

PeerServer::PeerServer(PeerServerOptions options, Receiver* receiver, Registry* metrics,
                       ChangesFn changes, ListCallsFn list_calls)
    : options_(std::move(options)),
      receiver_(receiver),
      changes_(std::move(changes)),
      list_calls_(std::move(list_calls)),
      peers_(options_.peers) {
  if (metrics) {
    auto f = metrics->AddCounterFamily("callvault_cluster_requests_total",
                                       "Requests on the cluster port, by route and status code.",
                                       {"route", "code"});
    if (f.ok()) requests_ = *f;
  }
}

PeerServer::~PeerServer() { Stop(); }

void PeerServer::SetPeers(std::set<std::string> peers) {
  MutexLock lock(&mu_);
  peers_ = std::move(peers);
}

std::string PeerServer::Authorize(const void* req_ptr, void* res_ptr) {
  const auto& req = *static_cast<const httplib::Request*>(req_ptr);
  auto& res = *static_cast<httplib::Response*>(res_ptr);
  if (req.has_header("Authorization")) {
    Error(res, 403, "token_refused", "API tokens are not accepted on the cluster port");
    return "";
  }
  std::vector<std::string> names = PeerCertificateNames(req.ssl);
  std::string peer;
  {
    MutexLock lock(&mu_);
    for (const std::string& n : names)
      if (peers_.count(n)) peer = n;
  }
  if (peer.empty()) {
    CV_LOG_WARN("cluster.peer_refused", "remote={} names=\"{}\" reason=\"not a configured peer\"",
                req.remote_addr, fmt::format("{}", fmt::join(names, ",")));
    Error(res, 403, "peer_unknown", "the client certificate names no configured peer");
    return "";
  }
  const std::string instance = req.get_header_value("X-Callvault-Instance");
  if (!instance.empty() && instance == options_.instance_id) {
    CV_LOG_ERROR("cluster.cloned_data_dir",
                 "peer={} instance={} reason=\"the peer runs on a copy "
                 "of this node's data directory: give it its own (delete its instance-id)\"",
                 peer, instance);
    Error(res, 403, "cloned_data_dir", "the peer's data directory is a copy of this node's");
    return "";
  }
  const std::string node = req.get_header_value("X-Callvault-Node");
  if (!node.empty() && node != peer) {
    Error(res, 403, "peer_mismatch",
          "X-Callvault-Node says " + node + " but the certificate names " + peer);
    return "";
  }
  return peer;
}

void PeerServer::Install() {
  httplib::Server& s = *server_;
  const size_t threads = static_cast<size_t>(std::max(1, options_.threads));
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_tcp_nodelay(true);
  s.set_keep_alive_timeout(options_.keep_alive_timeout_s);
  // A sender keeps its connections (3 requests per call): a TLS handshake per few calls would
  // cost more than the transfer of a small recording.
  s.set_keep_alive_max_count(100000);
  s.set_read_timeout(options_.read_timeout_s, 0);
  s.set_write_timeout(options_.write_timeout_s, 0);
  s.set_payload_max_length(static_cast<size_t>(options_.max_audio_bytes));
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      Error(res, res.status, res.status == 404 ? "not_found" : "bad_request",
            "HTTP " + std::to_string(res.status));
    }
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    Error(res, 500, "internal", "the request failed");
  });
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (requests_) {
      std::string route = req.matches.empty() ? "unmatched" : req.method + " " + req.path;
      if (req.path.find("/calls/") != std::string::npos) {
        route = req.method + (req.path.ends_with("/audio")    ? " calls/audio"
                              : req.path.ends_with("/commit") ? " calls/commit"
                                                              : " calls/status");
      }
      requests_->With({route, std::to_string(res.status)})->Inc();
    }
  });

  const std::string call = R"(/cluster/v1/calls/([0-9a-f-]{36}))";
  s.Get("/cluster/v1/hello", [this](const httplib::Request& req, httplib::Response& res) {
    if (Authorize(&req, &res).empty()) return;
    Json(res, {{"node_id", options_.node_id},
               {"instance_id", options_.instance_id},
               {"protocol", kProtocolVersion}});
  });
  s.Get(call, [this](const httplib::Request& req, httplib::Response& res) {
    if (Authorize(&req, &res).empty()) return;
    Result<CallStatus> st = receiver_->Lookup(req.matches[1].str(), req.get_param_value("origin"),
                                              req.get_param_value("file"));
    if (!st.ok()) return FromStatus(res, st.status());
    Json(res, {{"call_id", req.matches[1].str()},
               {"presence", PresenceName(st->presence)},
               {"offset", st->offset}});
  });
  s.Put(call + "/audio", [this](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) {
    const std::string peer = Authorize(&req, &res);
    if (peer.empty()) return;
    uint64_t offset = 0, total = 0;
    if (!ParseU64(req.get_param_value("offset"), &offset) ||
        !ParseU64(req.get_param_value("total"), &total))
      return Error(res, 400, "bad_request", "offset and total are required");
    const std::string id = req.matches[1].str();
    Result<std::unique_ptr<Receiver::Upload>> up = receiver_->BeginUpload(id, offset, total);
    if (!up.ok()) {
      FromStatus(res, up.status());
      if (up.status().message().starts_with("offset_mismatch")) {
        Result<CallStatus> st = receiver_->Lookup(id, "");
        Error(res, 409, "offset_mismatch", up.status().message(),
              {{"offset", st.ok() ? st->offset : 0}});
      }
      return;
    }
    Status write = Status::Ok();
    uint64_t received = 0;
    const bool complete = reader([&](const char* data, size_t n) {
      if (offset + received + n > total) {
        write = InvalidArgumentError("more bytes than total");
        return false;
      }
      write = (*up)->Append(std::string_view(data, n));
      received += n;
      return write.ok();
    });
    Status fin = (*up)->Finish();
    if (!write.ok()) return FromStatus(res, write);
    if (!fin.ok()) return FromStatus(res, fin);
    if (!complete) return Error(res, 400, "bad_request", "the upload was cut short");
    Json(res, {{"offset", (*up)->offset()}});
  });
  s.Post(call + "/commit", [this](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) {
    const std::string peer = Authorize(&req, &res);
    if (peer.empty()) return;
    std::string body;
    if (!ReadBody(reader, options_.max_json_bytes, &body))
      return Error(res, 413, "too_large", "the manifest exceeds the cluster body limit");
    Result<Receiver::CommitResult> r =
        receiver_->Commit(req.matches[1].str(), body, peer, req.get_param_value("location"));
    if (!r.ok()) return FromStatus(res, r.status());
    Json(res, {{"presence", PresenceName(r->presence)}, {"audio_file", r->audio_file}});
  });
  s.Get("/cluster/v1/changes", [this](const httplib::Request& req, httplib::Response& res) {
    if (Authorize(&req, &res).empty()) return;
    if (!changes_) return Error(res, 503, "unavailable", "no change log on this node");
    uint64_t after = 0, limit = 500;
    if (req.has_param("after") && !ParseU64(req.get_param_value("after"), &after))
      return Error(res, 400, "bad_request", "after: not a number");
    if (req.has_param("limit") && !ParseU64(req.get_param_value("limit"), &limit))
      return Error(res, 400, "bad_request", "limit: not a number");
    Result<nlohmann::json> j = changes_(static_cast<int64_t>(after),
                                        static_cast<int>(std::clamp<uint64_t>(limit, 1, 5000)));
    if (!j.ok()) return FromStatus(res, j.status());
    Json(res, *j);
  });
  s.Get("/cluster/v1/calls", [this](const httplib::Request& req, httplib::Response& res) {
    if (Authorize(&req, &res).empty()) return;
    if (!list_calls_) return Error(res, 503, "unavailable", "no call listing on this node");
    uint64_t limit = 1000;
    if (req.has_param("limit") && !ParseU64(req.get_param_value("limit"), &limit))
      return Error(res, 400, "bad_request", "limit: not a number");
    Result<nlohmann::json> j = list_calls_(req.get_param_value("after"),
                                           static_cast<int>(std::clamp<uint64_t>(limit, 1, 10000)));
    if (!j.ok()) return FromStatus(res, j.status());
    Json(res, *j);
  });
}

Status PeerServer::Start() {
  if (server_) return Status::Ok();
  CV_RETURN_IF_ERROR(ValidateTlsFiles(options_.tls).Annotate("cluster TLS"));
  Status ctx_status = Status::Ok();
  auto server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    ctx_status = ConfigureServerContext(&ctx, options_.tls);
    return ctx_status.ok();
  });
  CV_RETURN_IF_ERROR(ctx_status.Annotate("cluster TLS"));
  if (!server->is_valid())
    return InvalidArgumentError("cluster TLS: the server context is not valid");
  server_ = std::move(server);
  Install();
  // A restart (Stop, Start) binds the port it had: peers keep their URL.
  int port = options_.port != 0 ? options_.port : port_.load();
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
    if (port <= 0) return UnavailableError("cluster.listen: cannot bind " + options_.host);
  } else if (!server_->bind_to_port(options_.host, port)) {
    server_.reset();
    return UnavailableError(fmt::format("cluster.listen: cannot bind {}:{}", options_.host, port));
  }
  port_.store(port);
  listen_returned_ = false;
  thread_ = std::thread([this] {
    SetCurrentThreadName("cv-peer-server");
    server_->listen_after_bind();
    listen_returned_ = true;
  });
  CV_LOG_INFO("cluster.listening", "address={}:{} node={}", options_.host, port, options_.node_id);
  return Status::Ok();
}

void PeerServer::Stop() {
  if (!server_) return;
  // httplib's stop() does nothing until the listening thread runs (http_server.cc says why).
  while (!server_->is_running() && !listen_returned_.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace callvault::replication

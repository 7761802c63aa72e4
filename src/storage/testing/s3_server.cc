#include "storage/testing/s3_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/log.h"
#include "base/testing/free_port.h"
#include "storage/s3/client.h"

#ifndef CALLVAULT_TESTS_DIR
#error "CALLVAULT_TESTS_DIR (the repository's tests/ directory) must be defined"
#endif

namespace callvault::storage::testing {
namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(5);

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

}  // namespace

Result<S3Server::Tooling> S3Server::FindTooling() {
  const std::string tests = CALLVAULT_TESTS_DIR;
  Tooling t{.node = tests + "/node_modules/node/bin/node", .script = tests + "/s3/s3_server.mjs"};
  if (!IsExecutable(t.node) ||
      !DefaultFs()->Exists(tests + "/node_modules/@20minutes/s3rver/package.json")) {
    return FailedPreconditionError(
        "s3_server: the S3 test server's tooling is not installed (" + t.node +
        " and s3rver): run `npm ci --prefix tests` in the repository (scripts/test.sh does)");
  }
  if (!DefaultFs()->Exists(t.script)) {
    return FailedPreconditionError("s3_server: launcher " + t.script + " is missing");
  }
  return t;
}

Result<std::unique_ptr<S3Server>> S3Server::Start(const S3ServerOptions& options) {
  std::unique_ptr<S3Server> server(new S3Server());
  server->options_ = options;
  CV_ASSIGN_OR_RETURN(server->tooling_, FindTooling());
  char tmpl[] = "/tmp/cv-s3-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return IoError("s3_server: mkdtemp", errno);
  server->dir_ = tmpl;
  server->data_dir_ = server->dir_ + "/data";
  CV_RETURN_IF_ERROR(DefaultFs()->CreateDirs(server->data_dir_));
  CV_ASSIGN_OR_RETURN(server->port_, callvault::testing::FreeLoopbackPort());
  CV_RETURN_IF_ERROR(server->Launch());
  CV_LOG_INFO("s3_server.started", "endpoint={} dir={}", server->endpoint(), server->dir_);
  return server;
}

Status S3Server::Launch() {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return IoError("s3_server: pipe", errno);
  const std::string log = dir_ + "/server.log";
  std::vector<std::string> argv = {tooling_.node,
                                   "--openssl-legacy-provider",  // s3rver's DES list tokens
                                   tooling_.script,
                                   "--port",
                                   std::to_string(port_),
                                   "--dir",
                                   data_dir_,
                                   "--access-key-id",
                                   options_.access_key_id,
                                   "--secret-access-key",
                                   options_.secret_access_key,
                                   "--bucket",
                                   options_.bucket};
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(out[0]);
    close(out[1]);
    return IoError("s3_server: fork", err);
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    const int err_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err_fd >= 0) dup2(err_fd, 2);
    dup2(out[1], 1);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  pid_ = pid;
  stdout_fd_ = out[0];

  // Wait for "listening 127.0.0.1:<port>\n".
  const std::string ready = "listening 127.0.0.1:" + std::to_string(port_) + "\n";
  std::string seen;
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (seen.find(ready) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      Stop().IgnoreError();  // reporting the timeout instead
      return DeadlineExceededError("s3_server: not ready after 30 s; log:\n" + Log());
    }
    pollfd p{.fd = stdout_fd_, .events = POLLIN};
    const int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno != EINTR) return IoError("s3_server: poll", errno);
    if (r <= 0) continue;
    char buf[512];
    const ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) {
      Stop().IgnoreError();  // the server exited: reporting that instead
      return InternalError("s3_server: the server exited before it was ready; output: " + seen +
                           "\nlog:\n" + Log());
    }
    seen.append(buf, static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status S3Server::Stop() {
  if (pid_ <= 0) return Status::Ok();
  kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  pid_t done = 0;
  while ((done = waitpid(pid_, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (done == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
  return Status::Ok();
}

Status S3Server::Restart() { return pid_ > 0 ? Status::Ok() : Launch(); }

std::string S3Server::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string S3Server::Log() const {
  Result<std::string> text = DefaultFs()->ReadFile(dir_ + "/server.log");
  if (!text.ok()) return "(no log: " + text.status().ToString() + ")";
  return text->size() > 4000 ? text->substr(text->size() - 4000) : *text;
}

s3::S3Options S3Server::ClientOptions() const {
  return s3::S3Options{.endpoint = endpoint(),
                       .bucket = options_.bucket,
                       .access_key_id = options_.access_key_id,
                       .secret_access_key = options_.secret_access_key,
                       .path_style = true,
                       .connect_timeout_ms = 1000,
                       .request_timeout_ms = 30000};
}

Result<std::vector<std::string>> S3Server::ListKeys(const std::string& prefix) const {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<s3::Client> client, s3::Client::Create(ClientOptions()));
  std::vector<std::string> keys;
  std::string token;
  for (int page = 0; page < 10000; ++page) {
    CV_ASSIGN_OR_RETURN(s3::ListPage p, client->ListObjectsV2(prefix, token));
    for (const s3::ListedObject& o : p.objects) keys.push_back(o.key);
    if (!p.truncated) break;
    token = p.next_continuation_token;
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

S3Server::~S3Server() {
  Stop().IgnoreError();  // best effort: the directory goes anyway
  if (!dir_.empty()) DefaultFs()->RemoveAll(dir_).IgnoreError();
}

}  // namespace callvault::storage::testing

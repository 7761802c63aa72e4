#include "catalog/testing/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "base/fs.h"
#include "base/log.h"
#include "base/testing/free_port.h"

namespace callvault::catalog::testing {
namespace {

namespace fs = std::filesystem;

bool RunningAsRoot() { return geteuid() == 0; }

// Runs argv (as `postgres` when `as_postgres` and we are root), output appended to `log`.
// Returns the exit status or an error naming the command.
Status Run(std::vector<std::string> argv, const std::string& log, bool as_postgres) {
  if (as_postgres && RunningAsRoot()) {
    argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  }
  std::string shown;
  for (const std::string& a : argv) shown += (shown.empty() ? "" : " ") + a;
  const pid_t pid = fork();
  if (pid < 0) return IoError("pg_server: fork", errno);
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return IoError("pg_server: waitpid", errno);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  std::ifstream in(log);
  std::stringstream tail;
  tail << in.rdbuf();
  std::string text = tail.str();
  if (text.size() > 2000) text = text.substr(text.size() - 2000);
  return InternalError("pg_server: `" + shown + "` failed (status " + std::to_string(status) +
                       "); output:\n" + text);
}

}  // namespace

Result<std::string> PgServer::FindBinDir() {
  std::error_code ec;
  int best = -1;
  std::string best_dir;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    const long version = std::strtol(name.c_str(), &end, 10);
    const fs::path bin = entry.path() / "bin";
    if (end == name.c_str() || *end != '\0' || !fs::exists(bin / "initdb", ec) ||
        !fs::exists(bin / "pg_ctl", ec)) {
      continue;
    }
    if (version > best) {
      best = static_cast<int>(version);
      best_dir = bin.string();
    }
  }
  if (best < 0) {
    return FailedPreconditionError(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/<version>/bin: the "
        "catalog's PostgreSQL tests need a real server. Install it with scripts/install-deps.sh "
        "(Debian package `postgresql`).");
  }
  return best_dir;
}

Result<std::unique_ptr<PgServer>> PgServer::Start(const PgServerOptions& options) {
  std::unique_ptr<PgServer> server(new PgServer());
  server->options_ = options;
  CV_ASSIGN_OR_RETURN(server->bin_dir_, FindBinDir());
  char tmpl[] = "/tmp/cv-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return IoError("pg_server: mkdtemp", errno);
  server->dir_ = tmpl;
  server->data_dir_ = server->dir_ + "/data";
  if (RunningAsRoot()) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return FailedPreconditionError("pg_server: running as root but there is no `postgres` user");
    }
    if (chown(server->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return IoError("pg_server: chown " + server->dir_, errno);
    }
  }
  chmod(server->dir_.c_str(), 0755);
  CV_ASSIGN_OR_RETURN(server->port_, callvault::testing::FreeLoopbackPort());
  const std::string log = server->dir_ + "/commands.log";
  CV_RETURN_IF_ERROR(Run({server->bin_dir_ + "/initdb", "-D", server->data_dir_, "-U", "postgres",
                          "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"},
                         log, /*as_postgres=*/true));
  CV_RETURN_IF_ERROR(server->PgCtl("start"));
  CV_LOG_INFO("pg_server.started", "port={} dir={}", server->port_, server->dir_);
  return server;
}

Status PgServer::PgCtl(const std::string& action) {
  std::vector<std::string> argv = {bin_dir_ + "/pg_ctl", "-D", data_dir_, "-w", "-t", "60"};
  if (action == "start") {
    std::string opts = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_ +
                       " -c max_connections=200";
    if (options_.fast_unsafe) {
      opts += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off";
    }
    argv.insert(argv.end(), {"-l", dir_ + "/server.log", "-o", opts, "start"});
  } else {
    argv.insert(argv.end(), {"-m", "fast", "stop"});
  }
  CV_RETURN_IF_ERROR(Run(argv, dir_ + "/commands.log", /*as_postgres=*/true));
  running_ = action == "start";
  return Status::Ok();
}

Status PgServer::Stop() { return running_ ? PgCtl("stop") : Status::Ok(); }

Status PgServer::Restart() { return running_ ? Status::Ok() : PgCtl("start"); }

Status PgServer::CreateDatabase(const std::string& name) {
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return InvalidArgumentError("pg_server: bad database name " + name);
    }
  }
  return Run({bin_dir_ + "/psql", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres",
              "-d", "postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE " + name},
             dir_ + "/commands.log", /*as_postgres=*/false);
}

std::string PgServer::Uri(const std::string& db) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

PgServer::~PgServer() {
  if (running_) Stop().IgnoreError();  // best effort: the directory goes anyway
  if (!dir_.empty()) DefaultFs()->RemoveAll(dir_).IgnoreError();
}

}  // namespace callvault::catalog::testing

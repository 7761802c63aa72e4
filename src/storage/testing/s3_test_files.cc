#include "storage/testing/s3_test_files.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

namespace callvault::storage::testing {

std::string TestBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/cv-s3-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() { DefaultFs()->RemoveAll(path_).IgnoreError(); }

Result<std::unique_ptr<RandomAccessFile>> TempDir::WriteFile(const std::string& name,
                                                             const std::string& data) {
  const std::string path = path_ + "/" + name;
  CV_RETURN_IF_ERROR(DefaultFs()->CreateDirs(DirName(path)));
  CV_RETURN_IF_ERROR(WriteFileDurably(*DefaultFs(), path, data));
  return DefaultFs()->NewRandomAccessFile(path);
}

Result<std::string> UnsignedRequest(int port, const std::string& method,
                                    const std::string& target) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return IoError("socket", errno);
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    close(fd);
    return IoError("connect", err);
  }
  const std::string req = method + " " + target +
                          " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nConnection: close\r\n\r\n";
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    const int err = errno;
    close(fd);
    return IoError("send", err);
  }
  std::string answer;
  char buf[4096];
  for (int i = 0; i < 10000; ++i) {  // bounded: the server closes after one answer
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return answer;
}

}  // namespace callvault::storage::testing
